#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# tests/linux/guest.sh - the Linux kernel as an NVMe/TCP test peer: boots Debian's kernel under
# qemu (TCG) with a busybox initramfs, as a kernel nvme-tcp HOST or a kernel nvmet-tcp TARGET.
#
#   guest.sh build               fetch the kernel, build the initramfs (every mode does this first)
#   guest.sh check               exit 0 if qemu can start here, 77 if it cannot (the reason is the
#                                last line on stderr: "guest.sh: ...")
#   guest.sh host PORT SCRIPT    boot a host guest that runs SCRIPT with busybox sh; SCRIPT sees
#                                PORT, ADDR (10.0.2.2, this machine's 127.0.0.1), NQN, HOSTNQN and
#                                HOSTID and prints "RESULT <name> rc=<n>" lines.  Console goes to
#                                stdout and $OUT/console.log.  Exit 0 only if the guest finished
#                                (DONE) and every RESULT line has rc=0.
#   guest.sh target PORT         boot a nvmet-tcp target guest in the background on 127.0.0.1:PORT
#                                (brd RAM disk as namespace 1, configfs port 1); waits until it
#                                answers an ICReq, prints the qemu pid as the last line
#   guest.sh exec PORT -- CMD..  run CMD (sh) in that target guest; prints its output, exits with
#                                its status (e.g. rm /sys/kernel/config/nvmet/ports/1/subsystems/*)
#   guest.sh log PORT            the target guest's console (kernel log)
#   guest.sh stop PORT           stop the target guest of PORT
#
# Environment:
#   NVMF_LINUX_CACHE=/var/tmp/nvmf-linux  kernel .deb, initramfs, target guests' state
#   NVMF_GUEST_TIMEOUT=300   host: seconds before qemu is killed; target: seconds to get ready
#   NVMF_GUEST_OUT=          host: directory for console.log, results.log (default $CACHE/host-PORT)
#   NVMF_GUEST_NQN=          target: subsystem NQN; host: passed to SCRIPT as NQN
#   NVMF_GUEST_HOSTID=       host ID (UUID) of the host guest
#   NVMF_GUEST_HOSTNQN=      host NQN of the host guest (default nqn.2014-08.org.nvmexpress:uuid:ID)
#   NVMF_GUEST_ALLOW_HOST=   target: allow only this host NQN (default: any host)
#   NVMF_GUEST_NS_MB=64      target: size of the namespace in MiB
#   NVMF_GUEST_MEM=512 NVMF_GUEST_SMP=2   guest memory (MiB) and vCPUs
#   NVMF_GUEST_ACCEL=tcg     tcg | kvm
#   QEMU=qemu-system-x86_64  the qemu binary (a name on PATH or a path); when set, nothing is
#                            installed for it (QEMU=/nonexistent: what a machine without qemu does)
#   NVMF_KERNEL_DEB=         a linux-image .deb to use instead of Debian's current one
#   NVMF_GUEST_REBUILD=1     rebuild the initramfs even if nothing changed
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${NVMF_LINUX_CACHE:-/var/tmp/nvmf-linux}
TIMEOUT=${NVMF_GUEST_TIMEOUT:-300}
HOSTID=${NVMF_GUEST_HOSTID:-6e766d66-0000-4000-8000-000000000001}
HOSTNQN=${NVMF_GUEST_HOSTNQN:-nqn.2014-08.org.nvmexpress:uuid:$HOSTID}
NQN=${NVMF_GUEST_NQN:-nqn.2026-11.org.nvmf:linux-nvmet}
INIT=$HERE/guest-init.sh
QEMU_BIN=${QEMU:-qemu-system-x86_64}
# Everything either mode loads, with dependencies resolved from modules.dep at build time.
MODULES="crc32c_generic crct10dif_generic virtio_pci virtio_net nvme-tcp configfs nvmet nvmet-tcp brd"

log() { echo "guest.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

apt_install() {
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$@" >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2; }
}

# Commands this script runs on this machine, and the Debian package providing each.
ensure_tools() {
	local pair missing=()
	local qemu=qemu-system-x86_64:qemu-system-x86
	[ -z "${QEMU:-}" ] || qemu='' # given by the caller: not ours to install
	for pair in $qemu nvme:nvme-cli cpio:cpio depmod:kmod \
		xz:xz-utils gzip:gzip flock:util-linux "$@"; do
		command -v "${pair%%:*}" > /dev/null || missing+=("${pair#*:}")
	done
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}" || die "cannot install ${missing[*]}"
}

# A .deb in $CACHE/debs, downloaded (not installed) on first use; fails if it cannot be had.
fetch_deb() {
	local pkg=$1 f
	mkdir -p "$CACHE/debs"
	f=$(find "$CACHE/debs" -name "${pkg}_*.deb" | head -n1)
	if [ -z "$f" ]; then
		(cd "$CACHE/debs" && { apt-get download "$pkg" >&2 ||
			{ apt-get update >&2 && apt-get download "$pkg" >&2; }; }) || return 1
		f=$(find "$CACHE/debs" -name "${pkg}_*.deb" | head -n1)
	fi
	[ -n "$f" ] && echo "$f"
}

kernel_deb() {
	local pkg
	if [ -n "${NVMF_KERNEL_DEB:-}" ]; then
		[ -f "$NVMF_KERNEL_DEB" ] || die "kernel .deb not obtainable: NVMF_KERNEL_DEB=$NVMF_KERNEL_DEB is no file"
		readlink -f "$NVMF_KERNEL_DEB"
		return
	fi
	# linux-image-amd64 is a meta package; the real kernel is what it depends on.
	pkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		apt-get update >&2
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$pkg" ] || die "kernel .deb not obtainable: apt-cache finds no kernel package linux-image-amd64 depends on"
	fetch_deb "$pkg" || die "kernel .deb not obtainable: apt-get download $pkg failed"
	# Debian moved on: the previous kernel's 70 MB need not stay in the cache.
	find "$CACHE/debs" -name 'linux-image-*.deb' ! -name "${pkg}_*" -delete
}

# Sets VMLINUZ and INITRD, (re)building them when the kernel, this script, the init script,
# nvme-cli or busybox changed.  Serialised with flock: tests may boot guests side by side.
build() {
	ensure_tools
	mkdir -p "$CACHE"
	exec 9> "$CACHE/.build.lock"
	flock 9
	local kdeb bdeb stamp
	kdeb=$(kernel_deb)
	# the busybox package itself is dynamic; -static conflicts
	bdeb=$(fetch_deb busybox-static) || die "busybox-static .deb not obtainable: apt-get download failed"
	[ -f "$kdeb" ] || die "kernel package $kdeb not found"
	VMLINUZ=$CACHE/vmlinuz
	INITRD=$CACHE/initrd.gz
	stamp=$(cat "$HERE/guest.sh" "$INIT" /usr/sbin/nvme | sha256sum | cut -c1-16)" $(basename "$kdeb") $(basename "$bdeb")"
	if [ "${NVMF_GUEST_REBUILD:-0}" != 1 ] && [ -f "$INITRD" ] && [ -f "$VMLINUZ" ] &&
		[ "$(cat "$CACHE/initrd.stamp" 2> /dev/null)" = "$stamp" ]; then
		exec 9>&-
		return
	fi
	log "building the guest initramfs from $(basename "$kdeb")"
	local W K R kver m rel lib
	W=$(mktemp -d "$CACHE/build.XXXXXX")
	K=$W/kernel R=$W/root
	dpkg -x "$kdeb" "$K"
	# A merged-/usr kernel package ships usr/lib/modules; modprobe -d wants lib/modules.
	[ -d "$K/lib/modules" ] || ln -s usr/lib "$K/lib"
	kver=$(ls "$K/lib/modules")
	depmod -b "$K" "$kver" # Debian's package leaves modules.dep to its postinst

	mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc/nvme}
	dpkg -x "$bdeb" "$W/busybox"
	cp "$W/busybox/bin/busybox" "$R/bin/busybox"
	ln -s busybox "$R/bin/sh"
	cp /usr/sbin/nvme "$R/usr/sbin/nvme"
	for lib in $(ldd /usr/sbin/nvme | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done

	for m in $MODULES; do
		modprobe -d "$K" -S "$kver" --show-depends "$m" || die "module $m not in $kver"
	done | awk '$1 == "insmod" {print $2}' | sort -u | while read -r m; do
		rel=${m#"$K"/lib/modules/"$kver"/}
		mkdir -p "$R/lib/modules/$kver/$(dirname "$rel")"
		# Decompress so busybox modprobe needs no xz/zstd support.
		case $rel in
		*.xz) xz -dc "$m" > "$R/lib/modules/$kver/${rel%.xz}" ;;
		*.gz) gzip -dc "$m" > "$R/lib/modules/$kver/${rel%.gz}" ;;
		*) cp "$m" "$R/lib/modules/$kver/$rel" ;;
		esac
	done
	for m in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$K/lib/modules/$kver/$m" ] && cp "$K/lib/modules/$kver/$m" "$R/lib/modules/$kver/"
	done
	depmod -b "$R" "$kver"
	cp "$INIT" "$R/init"
	chmod 755 "$R/init"

	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) > "$W/initrd.gz"
	# Pad to 4 bytes: the kernel only recognises an archive appended after it (the per-run
	# archive) at a 4-byte aligned offset, and skips the zero padding.
	truncate -s $((($(stat -c %s "$W/initrd.gz") + 3) / 4 * 4)) "$W/initrd.gz"
	cp "$K"/boot/vmlinuz-* "$W/vmlinuz"
	mv "$W/initrd.gz" "$INITRD"
	mv "$W/vmlinuz" "$VMLINUZ"
	echo "$stamp" > "$CACHE/initrd.stamp"
	rm -rf "$W"
	log "kernel $kver, initramfs $(du -h "$INITRD" | cut -f1)"
	exec 9>&-
}

# Single-quoted for sh, for /guest.env.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# DIR/initrd = cached initramfs + an archive with /guest.env (KEY=VALUE pairs) and, if given,
# /scenario.sh.  Usage: run_initrd DIR SCRIPT|"" KEY=VALUE...
run_initrd() {
	local dir=$1 script=$2 kv
	shift 2
	mkdir -p "$dir/extra"
	for kv in "$@"; do echo "${kv%%=*}=$(shq "${kv#*=}")"; done > "$dir/extra/guest.env"
	[ -z "$script" ] || cp "$script" "$dir/extra/scenario.sh"
	{
		cat "$INITRD"
		(cd "$dir/extra" && find . -type f | cpio -o -H newc --quiet)
	} > "$dir/initrd"
	rm -rf "$dir/extra"
}

qemu_cmd() { # INITRD: prints nothing, sets QEMU_CMD
	# shellcheck disable=SC2054 # the commas belong to qemu's option value
	local accel=(-accel tcg,thread=multi -cpu qemu64)
	[ "${NVMF_GUEST_ACCEL:-tcg}" != kvm ] || accel=(-accel kvm -cpu host)
	QEMU_CMD=("$QEMU_BIN" -nodefaults -no-user-config -display none -no-reboot
		"${accel[@]}" -m "${NVMF_GUEST_MEM:-512}" -smp "${NVMF_GUEST_SMP:-2}"
		-kernel "$VMLINUZ" -initrd "$1" -append "console=ttyS0 quiet panic=-1")
}

cmd_check() {
	local err
	if ! command -v "$QEMU_BIN" > /dev/null; then
		if [ -n "${QEMU:-}" ]; then
			log "qemu missing: QEMU=$QEMU is not an executable"
			exit 77
		fi
		apt_install qemu-system-x86 || true
		command -v "$QEMU_BIN" > /dev/null ||
			{ log "qemu missing: no $QEMU_BIN on PATH, even after apt-get install qemu-system-x86"; exit 77; }
	fi
	# Start a machine paused and quit it at once through the monitor: proves qemu runs here.
	if ! err=$(echo quit | timeout 60 "$QEMU_BIN" -nodefaults -no-user-config -display none \
		-accel tcg -m 64 -S -monitor stdio 2>&1 > /dev/null); then
		log "qemu cannot start here: $(echo "${err:-no message}" | tr '\n' ' ')"
		exit 77
	fi
}

cmd_host() {
	[ $# -eq 2 ] || die "usage: guest.sh host PORT SCRIPT"
	local port=$1 script=$2 out rc n
	[ -r "$script" ] || die "scenario script $script not readable"
	build
	out=${NVMF_GUEST_OUT:-$CACHE/host-$port}
	mkdir -p "$out"
	rm -f "$out/console.log" "$out/results.raw" "$out/results.log"
	run_initrd "$out" "$script" MODE=host PORT="$port" NQN="$NQN" HOSTNQN="$HOSTNQN" HOSTID="$HOSTID"
	qemu_cmd "$out/initrd"
	log "booting the kernel host guest (timeout ${TIMEOUT}s), console: $out/console.log"
	local t0=$SECONDS
	set +e
	timeout -k 10 "$TIMEOUT" "${QEMU_CMD[@]}" -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
		-serial stdio -serial "file:$out/results.raw" < /dev/null 2>&1 |
		sed -u 's/\r//g' | tee "$out/console.log"
	rc=${PIPESTATUS[0]}
	set -e
	rm -f "$out/initrd"
	sed 's/\r//g' "$out/results.raw" > "$out/results.log" 2> /dev/null || : > "$out/results.log"
	log "guest ran $((SECONDS - t0))s (qemu exit $rc)"
	[ "$rc" != 124 ] || log "timeout after ${TIMEOUT}s: qemu killed"
	n=$(grep -c '^RESULT ' "$out/results.log" || true)
	if ! grep -qx DONE "$out/results.log"; then
		log "FAILED: the guest did not finish (no DONE); $n RESULT lines"
		return 1
	fi
	if [ "$n" -eq 0 ] || grep '^RESULT ' "$out/results.log" | grep -qv ' rc=0$'; then
		log "FAILED: $(grep '^RESULT ' "$out/results.log" | grep -cv ' rc=0$' || true) of $n RESULT lines not rc=0"
		grep '^RESULT ' "$out/results.log" | grep -v ' rc=0$' >&2 || true
		return 1
	fi
	log "all $n RESULT lines rc=0"
}

# ------------------------------------------------------------------ target mode
target_dir() { echo "$CACHE/target-$1"; }

target_pid() { # PORT: the pid of that port's qemu, if it runs
	local d pid
	d=$(target_dir "$1")
	pid=$(cat "$d/qemu.pid" 2> /dev/null) || return 1
	# The pid file may be stale and the pid reused: it must be our qemu for this directory.
	tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF "$d/" || return 1
	echo "$pid"
}

# True when 127.0.0.1:PORT answers an NVMe/TCP ICReq with an ICResp.
icreq_ok() {
	local reply
	# shellcheck disable=SC2016 # expanded by the inner bash
	reply=$(timeout 5 bash -c '
		exec 3<> "/dev/tcp/127.0.0.1/$1" || exit 1
		# ICReq: type 0, flags 0, HLEN 128, PDO 0, PLEN 128; PFV 0, HPDA 0, no digests, MAXR2T 0.
		{ printf "\x00\x00\x80\x00\x80\x00\x00\x00"; head -c 120 /dev/zero; } >&3
		head -c 8 <&3 | od -An -tx1' _ "$1" 2> /dev/null) || return 1
	# ICResp: type 1, HLEN 128, PLEN 128.
	[ "$(echo "$reply" | tr -d ' \n')" = 0100800080000000 ]
}

cmd_target() {
	[ $# -eq 1 ] || die "usage: guest.sh target PORT"
	local port=$1 d pid t0=$SECONDS
	build
	d=$(target_dir "$port")
	if pid=$(target_pid "$port"); then die "a target guest for port $port runs already (pid $pid)"; fi
	rm -rf "$d"
	mkdir -p "$d"
	run_initrd "$d" "" MODE=target PORT="$port" NQN="$NQN" NS_MB="${NVMF_GUEST_NS_MB:-64}" \
		ALLOW_HOST="${NVMF_GUEST_ALLOW_HOST:-}"
	qemu_cmd "$d/initrd"
	"${QEMU_CMD[@]}" -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:$port" \
		-device virtio-net-pci,netdev=n0,romfile= -serial "file:$d/console.log" \
		-chardev "socket,id=agent,path=$d/agent.sock,server=on,wait=off" -serial chardev:agent \
		-pidfile "$d/qemu.pid" -daemonize > "$d/qemu.log" 2>&1 || { cat "$d/qemu.log" >&2; die "qemu failed"; }
	pid=$(cat "$d/qemu.pid")
	# Only probe after the guest says READY: slirp accepts on the host side at once, and early
	# connections reach nvmet half set up.
	until grep -q 'nvmf-guest: READY' "$d/console.log" 2> /dev/null; do
		[ -e "/proc/$pid" ] || { tail -n 30 "$d/console.log" >&2; die "target guest exited"; }
		[ $((SECONDS - t0)) -lt "$TIMEOUT" ] || { cmd_stop "$port"; die "target guest not READY in ${TIMEOUT}s"; }
		sleep 0.2
	done
	until icreq_ok "$port"; do
		[ $((SECONDS - t0)) -lt "$TIMEOUT" ] || { cmd_stop "$port"; die "no ICResp on 127.0.0.1:$port"; }
		sleep 0.2
	done
	if grep -q 'nvmf-guest: FAIL' "$d/console.log"; then grep 'nvmf-guest: FAIL' "$d/console.log" >&2; fi
	log "target ready in $((SECONDS - t0))s: 127.0.0.1:$port nqn=$NQN (console: $d/console.log)"
	echo "$pid"
}

cmd_stop() {
	local port=${1:?usage: guest.sh stop PORT} pid
	pid=$(target_pid "$port") || { log "no target guest for port $port"; return 0; }
	kill "$pid"
	for _ in $(seq 50); do
		[ -e "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -e "/proc/$pid" ] || kill -9 "$pid"
	rm -f "$(target_dir "$port")/qemu.pid"
}

cmd_exec() {
	local port=${1:?usage: guest.sh exec PORT -- CMD}
	shift
	[ "${1:-}" != -- ] || shift
	[ $# -gt 0 ] || die "usage: guest.sh exec PORT -- CMD"
	target_pid "$port" > /dev/null || die "no target guest for port $port"
	ensure_tools python3:python3
	python3 - "$(target_dir "$port")/agent.sock" "$*" "${NVMF_GUEST_EXEC_TIMEOUT:-60}" << 'PY'
# Client of the guest's serial agent (guest-init.sh): one request line, one reply line.
import base64, os, socket, sys
path, cmd, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
tok = os.urandom(6).hex()
s = socket.socket(socket.AF_UNIX)
s.settimeout(timeout)
s.connect(path)
s.sendall(b"%s %s\n" % (tok.encode(), base64.b64encode(cmd.encode())))
buf = b""
while True:
    for line in buf.split(b"\n")[:-1]:
        f = line.strip().split(b" ")
        if len(f) >= 3 and f[0] == b"@@" and f[1] == tok.encode():
            sys.stdout.buffer.write(base64.b64decode(f[3]) if len(f) > 3 else b"")
            sys.exit(int(f[2]))
    c = s.recv(65536)
    if not c:
        sys.exit("guest.sh exec: agent connection closed")
    buf += c
PY
}

case ${1:-} in
build) build ;;
check) cmd_check ;;
host) shift; cmd_host "$@" ;;
target) shift; cmd_target "$@" ;;
exec) shift; cmd_exec "$@" ;;
log) sed 's/\r//g' "$(target_dir "${2:?usage: guest.sh log PORT}")/console.log" ;;
stop) shift; cmd_stop "$@" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
