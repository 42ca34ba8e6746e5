# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# nvmf - userspace NVMe over Fabrics (NVMe/TCP) for Linux.
#
#   make            build the library and programs into build/
#   make check      install test dependencies (apt-get), build, run every test
#   make demo       nvmfd serving the Linux kernel's NVMe/TCP host (under qemu)
#   make install    PREFIX=/usr/local DESTDIR= (make uninstall takes it away)

CC       ?= cc
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
VERSION  := 1.5.0
SOVERSION := 1
BUILD    ?= build
OPT      ?= -O2 -g
CFLAGS   += -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -D_GNU_SOURCE -Iinclude -Ilib/libnvmf -Ilib/util -pthread
LDLIBS   += -lisal -pthread

LIB_SRCS   := $(wildcard lib/libnvmf/*.c)
UTIL_SRCS := $(wildcard lib/util/*.c)
NVMFD_SRCS := $(wildcard nvmfd/*.c)
CTL_SRCS   := $(wildcard nvmecontrol/*.c)
HOSTD_SRCS := $(wildcard nvmf-hostd/*.c)
DEVD_SRCS  := $(wildcard nvmf-devd/*.c)
PERF_SRCS  := $(wildcard nvmf-perf/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UTIL_OBJS := $(UTIL_SRCS:%.c=$(BUILD)/%.o)
NVMFD_OBJS := $(NVMFD_SRCS:%.c=$(BUILD)/%.o)
CTL_OBJS   := $(CTL_SRCS:%.c=$(BUILD)/%.o)
HOSTD_OBJS := $(HOSTD_SRCS:%.c=$(BUILD)/%.o)
DEVD_OBJS  := $(DEVD_SRCS:%.c=$(BUILD)/%.o)
PERF_OBJS  := $(PERF_SRCS:%.c=$(BUILD)/%.o)
LIBNVMF    := $(BUILD)/lib/libnvmf.a
LIBNVMF_SO := $(BUILD)/lib/libnvmf.so.$(VERSION)
NVME_CFLAGS := $(shell pkg-config --cflags libnvme 2>/dev/null)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)
# The daemons tell systemd when they are ready (sd_notify; a no-op without it).
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
# nvmfd's file namespaces: asynchronous I/O through io_uring.
URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
PROGRAMS   := $(BUILD)/bin/nvmfd $(if $(wildcard nvmecontrol/main.c),$(BUILD)/bin/nvmecontrol) \
              $(if $(wildcard nvmf-hostd/main.c),$(BUILD)/bin/nvmf-hostd) \
              $(if $(wildcard nvmf-devd/main.c),$(BUILD)/bin/nvmf-devd) \
              $(if $(wildcard nvmf-perf/main.c),$(BUILD)/bin/nvmf-perf)

# bash completion, written from nvmecontrol's command table at build time.
COMPLETION := $(if $(wildcard nvmecontrol/main.c),$(BUILD)/completion/nvmecontrol)
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

UNIT_SRCS  := $(wildcard tests/unit/lib/libnvmf/*.c tests/unit/lib/util/*.c tests/unit/nvmf-devd/*.c \
		tests/unit/nvmf-perf/*.c tests/unit/nvmecontrol/*.c tests/unit/nvmf-hostd/*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all deps check unit e2e linux fuzz sanitize sanitize-e2e tsan-churn soak demo bench install \
	uninstall deb clean
all: $(LIBNVMF) $(LIBNVMF_SO) $(PROGRAMS) $(COMPLETION)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# One set of objects, position-independent, for the static and the shared
# library; the shared one exports exactly what libnvmf.map lists.
$(BUILD)/lib/libnvmf/%.o: CFLAGS += -fPIC -fvisibility=default
$(LIBNVMF): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBNVMF_SO): $(LIB_OBJS) lib/libnvmf/libnvmf.map
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libnvmf.so.$(SOVERSION) \
	    -Wl,--version-script=lib/libnvmf/libnvmf.map -Wl,--no-undefined \
	    $(LIB_OBJS) -o $@ $(LDLIBS)
	ln -sf libnvmf.so.$(VERSION) $(BUILD)/lib/libnvmf.so.$(SOVERSION)
	ln -sf libnvmf.so.$(SOVERSION) $(BUILD)/lib/libnvmf.so

$(BUILD)/bin/nvmfd: $(NVMFD_OBJS) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ -ljson-c $(URING_LIBS) $(SYSTEMD_LIBS) $(LDLIBS)

# nvmecontrol finds and makes the host NQN with libnvme, as nvme-cli does,
# loaded when a command needs it (nvmecontrol/libnvme_load.h): not linked.
$(BUILD)/nvmecontrol/%.o: CFLAGS += $(NVME_CFLAGS) -DNVMF_VERSION='"$(VERSION)"'
$(BUILD)/bin/nvmecontrol: $(CTL_OBJS) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ -ljson-c $(LDLIBS)

$(BUILD)/completion/nvmecontrol: $(BUILD)/bin/nvmecontrol
	@mkdir -p $(dir $@)
	$(BUILD)/bin/nvmecontrol __bash-completion >$@.tmp && mv $@.tmp $@

$(BUILD)/nvmf-hostd/%.o: CFLAGS += $(FUSE_CFLAGS)
$(BUILD)/bin/nvmf-hostd: $(HOSTD_OBJS) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ -ljson-c $(FUSE_LIBS) $(SYSTEMD_LIBS) $(LDLIBS)

$(BUILD)/nvmf-devd/%.o: CFLAGS += -DNVMF_SYSCONFDIR='"$(SYSCONFDIR)"'
$(BUILD)/bin/nvmf-devd: $(DEVD_OBJS) $(UTIL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(SYSTEMD_LIBS) $(LDLIBS)

$(BUILD)/bin/nvmf-perf: $(PERF_OBJS) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ -ljson-c $(LDLIBS)

$(BUILD)/tests/unit/lib/util/test_fdreserve: tests/unit/lib/util/test_fdreserve.c \
		$(BUILD)/lib/util/fdreserve.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ -lcmocka $(LDLIBS)

# A program's unit tests link its objects but its main.
$(BUILD)/tests/unit/nvmf-devd/%: tests/unit/nvmf-devd/%.c $(filter-out %/main.o,$(DEVD_OBJS)) $(UTIL_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invmf-devd $^ -o $@ -lcmocka $(LDLIBS)

$(BUILD)/tests/unit/nvmf-perf/%: tests/unit/nvmf-perf/%.c $(filter-out %/main.o,$(PERF_OBJS)) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invmf-perf $^ -o $@ -ljson-c -lcmocka $(LDLIBS)

# nvmf-hostd's tests link only the objects they test (the rest wants FUSE and a loop).
$(BUILD)/tests/unit/nvmf-hostd/test_registry: tests/unit/nvmf-hostd/test_registry.c \
		$(BUILD)/nvmf-hostd/registry.o $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invmf-hostd $^ -o $@ -lcmocka $(LDLIBS)

$(BUILD)/tests/unit/nvmf-hostd/test_workers: tests/unit/nvmf-hostd/test_workers.c \
		$(BUILD)/nvmf-hostd/workers.o $(BUILD)/nvmf-hostd/clock.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Invmf-hostd $^ -o $@ -lcmocka $(LDLIBS)

$(BUILD)/tests/unit/nvmecontrol/%: tests/unit/nvmecontrol/%.c $(filter-out %/main.o,$(CTL_OBJS)) $(UTIL_OBJS) $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NVME_CFLAGS) -Invmecontrol $^ -o $@ -ljson-c -lcmocka $(LDLIBS)

# Unit tests link the library's objects directly so internals can be tested.
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBNVMF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(LIBNVMF) -lcmocka $(LDLIBS)

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

e2e: all
	@scripts/run-e2e.sh

linux: all
	@tests/linux/run.sh

fuzz:
	@scripts/run-fuzz.sh $(FUZZ_SRCS)

# The library, the programs and the unit tests once more under AddressSanitizer
# and UBSan (build-asan/); sanitize-e2e runs the end-to-end suite against those
# daemons, leaks reported when each exits; tsan-churn runs the reconnect churn
# against an nvmf-hostd built with ThreadSanitizer (build-tsan/).
ASAN_VARS = BUILD=build-asan \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDLIBS="-lisal -pthread -fsanitize=address,undefined"
sanitize:
	@$(MAKE) --no-print-directory $(ASAN_VARS) all unit

sanitize-e2e:
	@$(MAKE) --no-print-directory $(ASAN_VARS) all
	@NVMF_E2E_NAME=e2e-asan NVMFD=$(CURDIR)/build-asan/bin/nvmfd \
	    NVMF_HOSTD=$(CURDIR)/build-asan/bin/nvmf-hostd NVMF_DEVD=$(CURDIR)/build-asan/bin/nvmf-devd \
	    NVMECONTROL=$(CURDIR)/build-asan/bin/nvmecontrol NVMF_CHURN_VALGRIND=0 \
	    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 NVMF_SANITIZED=1 \
	    E2E_TIMEOUT=1500 scripts/run-e2e.sh

tsan-churn:
	@$(MAKE) --no-print-directory BUILD=build-tsan \
	    OPT="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
	    LDLIBS="-lisal -pthread -fsanitize=thread" all
	@NVMF_E2E_NAME=tsan-churn NVMF_HOSTD=$(CURDIR)/build-tsan/bin/nvmf-hostd NVMF_CHURN_VALGRIND=0 \
	    TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" \
	    scripts/run-e2e.sh tests/e2e/test_reconnect.py -k churn

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

# make soak FAULTS=N: random overlapping faults under a verifying workload
# (tests/soak/soak.py; SOAK_SEED=S repeats a run).
FAULTS ?= 50
soak: all
	@/usr/bin/python3 tests/soak/soak.py --faults $(FAULTS) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# make bench: this machine's TCP and FUSE floors, nvmf-perf and fio through the
# namespace file, the goals of issue 9 as ratios (bench/bench.py; BENCH_RUNS,
# BENCH_SECONDS, BENCH_RECONNECT=0). Results in bench/results/, not committed.
BENCH_PROGRAMS := $(BUILD)/bench/pingpong $(BUILD)/bench/nullfuse
$(BUILD)/bench/pingpong: bench/pingpong.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@
$(BUILD)/bench/nullfuse: bench/nullfuse.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUSE_CFLAGS) $< -o $@ $(FUSE_LIBS)
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGRAMS)
	@BUILD=$(BUILD) /usr/bin/python3 bench/bench.py

# Daemons and nvmecontrol in sbin (as FreeBSD's), the library shared and static
# with its header and pkg-config file, the pages, the example rules.
SBIN_PROGRAMS := $(filter %/nvmfd %/nvmf-hostd %/nvmf-devd %/nvmecontrol,$(PROGRAMS))
BIN_PROGRAMS  := $(filter-out $(SBIN_PROGRAMS),$(PROGRAMS))
UNITS := $(notdir $(basename $(wildcard etc/systemd/*.service.in)))
MAN3 := $(wildcard lib/libnvmf/*.3)
MAN5 := $(wildcard etc/*.5)
MAN8 := $(wildcard nvmfd/*.8 nvmf-hostd/*.8 nvmf-devd/*.8 nvmecontrol/*.8 nvmf-perf/*.8)
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/nvmf $(DESTDIR)$(PREFIX)/share/man/man3 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/nvmf
	install -m 755 $(SBIN_PROGRAMS) $(DESTDIR)$(PREFIX)/sbin/
	test -z "$(BIN_PROGRAMS)" || install -m 755 $(BIN_PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBNVMF) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIBNVMF_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libnvmf.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnvmf.so.$(SOVERSION)
	ln -sf libnvmf.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libnvmf.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    lib/libnvmf/libnvmf.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libnvmf.pc
	install -m 644 include/nvmf/*.h $(DESTDIR)$(PREFIX)/include/nvmf/
	install -m 644 $(MAN3) $(DESTDIR)$(PREFIX)/share/man/man3/
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 etc/nvmf.conf $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmf.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmfd $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 etc/nvmfd/example.json $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmfd/example.json
	test -z "$(COMPLETION)" || { install -d $(DESTDIR)$(COMPLETIONDIR) && \
	    install -m 644 $(COMPLETION) $(DESTDIR)$(COMPLETIONDIR)/nvmecontrol; }
	for u in $(UNITS); do \
	    sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        etc/systemd/$$u.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done

# What install put there, and nothing else (the rules file only if unchanged).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/sbin/,$(notdir $(SBIN_PROGRAMS))) \
	    $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(BIN_PROGRAMS))) \
	    $(DESTDIR)$(LIBDIR)/libnvmf.a $(DESTDIR)$(LIBDIR)/libnvmf.so \
	    $(DESTDIR)$(LIBDIR)/libnvmf.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libnvmf.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/libnvmf.pc \
	    $(addprefix $(DESTDIR)$(PREFIX)/include/nvmf/,$(notdir $(wildcard include/nvmf/*.h))) \
	    $(addprefix $(DESTDIR)$(PREFIX)/share/man/man3/,$(notdir $(MAN3))) \
	    $(addprefix $(DESTDIR)$(PREFIX)/share/man/man5/,$(notdir $(MAN5))) \
	    $(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,$(notdir $(MAN8))) \
	    $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS)) \
	    $(if $(COMPLETION),$(DESTDIR)$(COMPLETIONDIR)/nvmecontrol)
	-rmdir $(DESTDIR)$(PREFIX)/include/nvmf 2>/dev/null
	cmp -s etc/nvmfd/example.json $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmfd/example.json && \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmfd/example.json || true
	cmp -s etc/nvmf.conf $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmf.conf && \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmf.conf || true
	-rmdir $(DESTDIR)$(SYSCONFDIR)/nvmf/nvmfd $(DESTDIR)$(SYSCONFDIR)/nvmf 2>/dev/null

# The Debian packages (nvmf, libnvmf1, libnvmf-dev) from a copy of the tree,
# into build-deb/; lintian must report no error.
deb:
	rm -rf build-deb
	mkdir -p build-deb/nvmf-$(VERSION)
	tar -c --exclude='./build*' --exclude=./.git . | tar -x -C build-deb/nvmf-$(VERSION)
	cd build-deb/nvmf-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error --suppress-tags-from-file debian/lintian-suppressed build-deb/*.changes

clean:
	rm -rf build build-asan build-tsan build-fuzz build-deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
