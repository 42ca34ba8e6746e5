#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# tests/linux/run-target.sh - our host (nvmf-hostd + nvmecontrol) against the Linux kernel's
# nvmet-tcp TARGET: Debian's kernel booted under qemu by guest.sh, a brd RAM disk as namespace 1.
#
#   boot the target guest on a free port; nvmf-hostd in a private run directory;
#   nvmecontrol discover 127.0.0.1:PORT (the kernel's discovery log names 10.0.2.15, the guest's
#   own address, unreachable from here: so connect goes to 127.0.0.1:PORT explicitly);
#   connect -i 2; identify shows the SubNQN and the model the kernel reports (configfs
#   attr_model); devlist shows 2 I/O queues and the RAM disk's size; fio with crc32c
#   verification on DIR/dev/nvme0ns1 (4 KiB random read/write, and 4 KiB-1 MiB writes that
#   exceed nvmet's in-capsule size so that they go through R2T); disconnect; the file is gone;
#   the guest's kernel log has no nvmet error.
#
# Every check prints "PASS name" or "FAIL name (why)"; the last line is
# "linux-target: N passed, M failed"; the exit status is non-zero when something failed.  A
# machine where the kernel guest cannot run (no qemu, qemu cannot start, no kernel .deb) is a
# failure naming the cause, never a pass: the suite would have tested nothing.
# qemu and nvmf-hostd are stopped on exit.  The run directory (hostd log, fio output, guest
# console) is kept and its path printed when something failed.
#
# Environment: NVMF_HOSTD, NVMECONTROL (default build/bin/...), NVMF_LINUX_KEEP=1 keeps the run
# directory, NVMF_TARGET_FIO_RUNTIME (seconds, default 15), and guest.sh's (NVMF_GUEST_*, QEMU:
# QEMU=/nonexistent shows the failure of a machine without qemu).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HOSTD=${NVMF_HOSTD:-$ROOT/build/bin/nvmf-hostd}
CTL_BIN=${NVMECONTROL:-$ROOT/build/bin/nvmecontrol}
DEVD=${NVMF_DEVD:-$ROOT/build/bin/nvmf-devd}
GUEST=$HERE/guest.sh
NQN=nqn.2026-11.org.nvmf:linux-nvmet-target
FIO_RUNTIME=${NVMF_TARGET_FIO_RUNTIME:-15}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PASSED=0 FAILED=0 FAILS=() T0=$SECONDS RUN='' PORT='' QEMU_PID='' HOSTD_PID='' DEVD_PID=''

pass() {
	PASSED=$((PASSED + 1))
	echo "PASS $1"
}
fail() { # NAME [why]
	FAILED=$((FAILED + 1))
	FAILS+=("$1${2:+ ($2)}")
	echo "FAIL $1${2:+ ($2)}"
}
item() { # NAME CMD...: one pass/fail item from CMD's status
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

ctl() { timeout -k 5 120 "$CTL_BIN" --rundir "$RUN/run" "$@"; }

mounted() { # PATH: a mount point right now
	awk -v p="$1" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo
}

stop_hostd() { # SIGTERM, wait; sets HOSTD_RC
	HOSTD_RC=''
	[ -n "$HOSTD_PID" ] || return 0
	if kill -0 "$HOSTD_PID" 2> /dev/null; then
		kill -TERM "$HOSTD_PID"
		for _ in $(seq 150); do
			kill -0 "$HOSTD_PID" 2> /dev/null || break
			sleep 0.1
		done
		if kill -0 "$HOSTD_PID" 2> /dev/null; then
			kill -KILL "$HOSTD_PID"
			HOSTD_RC=killed
		fi
	fi
	wait "$HOSTD_PID" 2> /dev/null
	local rc=$?
	[ -n "$HOSTD_RC" ] || HOSTD_RC=$rc
	HOSTD_PID=''
	# A dead daemon leaves its FUSE mount behind.
	if [ -n "$RUN" ] && mounted "$RUN/run/dev"; then umount -l "$RUN/run/dev" 2> /dev/null; fi
}

cleanup() {
	[ -z "$DEVD_PID" ] || { kill "$DEVD_PID" 2> /dev/null; wait "$DEVD_PID" 2> /dev/null; DEVD_PID=''; }
	stop_hostd
	if [ -n "$QEMU_PID" ]; then
		"$GUEST" stop "$PORT" > /dev/null 2>&1
		kill "$QEMU_PID" 2> /dev/null
		QEMU_PID=''
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
	cleanup
	echo
	echo "=== linux-target summary ($((SECONDS - T0)) s)"
	if [ "$FAILED" -gt 0 ]; then
		printf '  failed: %s\n' "${FAILS[@]}"
		[ -z "$RUN" ] || echo "  hostd log, fio output and guest console kept in $RUN"
	elif [ -n "$RUN" ] && [ "${NVMF_LINUX_KEEP:-0}" != 1 ]; then
		rm -rf "$RUN"
	fi
	echo "linux-target: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

# A TCP port nobody on this machine uses.
free_port() {
	local p hex
	while :; do
		p=$((20000 + RANDOM % 40000))
		hex=$(printf '%04X' "$p")
		awk 'NR > 1 {print $2}' /proc/net/tcp /proc/net/tcp6 2> /dev/null | grep -qi ":$hex$" && continue
		[ ! -e "${NVMF_LINUX_CACHE:-/var/tmp/nvmf-linux}/target-$p/qemu.pid" ] || continue
		echo "$p"
		return
	done
}

# jq-like: json_eval FILE EXPR prints EXPR evaluated with d = the file's JSON (fio's output may
# start with warnings: the JSON is from the first line that opens an object).
json_eval() {
	"$PY" - "$1" "$2" << 'PY'
import json, re, sys
text = open(sys.argv[1], errors="replace").read()
m = re.search(r"^\{", text, re.M)
d = json.loads(text[m.start():]) if m else None
try:
    v = eval(sys.argv[2], {"d": d})
except Exception as e:  # noqa: BLE001
    v = "ERROR:%s" % e
print(v)
PY
}

# ------------------------------------------------------------------ preparation
echo "=== linux-target: nvmf-hostd + nvmecontrol against the Linux kernel's nvmet-tcp target"
# guest.sh ARGS: run it with its stderr shown and kept in $ERR; why: its last line, which says
# why guest.sh failed ("guest.sh: ERROR: ...").
ERR=$(mktemp)
guest_sh() { { "$GUEST" "$@" 2>&1 1>&3 3>&- | tee "$ERR" >&2; } 3>&1; return "${PIPESTATUS[0]}"; }
why() { tr -d '\r' < "$ERR" | grep -v '^ *$' | tail -n 1 | sed -E 's/^guest\.sh: (ERROR: )?//'; }
guest_sh check
rc=$?
if [ "$rc" -ne 0 ]; then
	# Without a guest nothing here runs: a failure, so that make check cannot count it a pass.
	fail qemu-starts "no Linux kernel peer, nothing tested: $(why)"
	rm -f "$ERR"
	finish
fi
if ! command -v fio > /dev/null; then
	echo "installing fio"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fio > /dev/null ||
		{ apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends fio > /dev/null; }
fi
# shellcheck disable=SC2317 # called through item
have() { command -v "$@" > /dev/null; }
item fio-installed have fio
item nvmf-hostd-built test -x "$HOSTD"
item nvmecontrol-built test -x "$CTL_BIN"
if guest_sh build; then
	pass guest-image
else
	fail guest-image "no Linux kernel peer, nothing tested: $(why)"
fi
rm -f "$ERR"
[ "$FAILED" -eq 0 ] || finish

RUN=$(mktemp -d "${TMPDIR:-/tmp}/nvmf-linux-target.XXXXXX")
PORT=$(free_port)
echo "run directory $RUN; kernel target on 127.0.0.1:$PORT, SubNQN $NQN"

# ------------------------------------------------------------------ the kernel target
echo "=== booting the nvmet-tcp target guest"
out=$(NVMF_GUEST_NQN=$NQN "$GUEST" target "$PORT" 2> "$RUN/guest-target.err")
rc=$?
QEMU_PID=$(tail -n1 <<< "$out")
sed 's/^/  | /' "$RUN/guest-target.err"
if [ "$rc" -ne 0 ] || ! [[ $QEMU_PID =~ ^[0-9]+$ ]]; then
	QEMU_PID=''
	fail target-boots "guest.sh target exit $rc: $(grep -v '^ *$' "$RUN/guest-target.err" | tail -n 1)"
	finish
fi
pass "target-boots (qemu pid $QEMU_PID)"

gexec() { NVMF_GUEST_EXEC_TIMEOUT=30 "$GUEST" exec "$PORT" -- "$@"; }
MODEL=$(gexec 'cat /sys/kernel/config/nvmet/subsystems/*/attr_model' 2> /dev/null | head -n1)
RAM_SECTORS=$(gexec 'cat /sys/block/ram0/size' 2> /dev/null | tr -dc 0-9)
if [ -n "$MODEL" ] && [ -n "$RAM_SECTORS" ]; then
	RAM_BYTES=$((RAM_SECTORS * 512))
	pass "guest-facts (model '$MODEL', RAM disk $RAM_BYTES bytes)"
else
	RAM_BYTES=0
	fail guest-facts "guest.sh exec: model '$MODEL', ram0 sectors '$RAM_SECTORS'"
fi

# ------------------------------------------------------------------ our host
mkdir -p "$RUN/run"
"$HOSTD" -d -v --rundir "$RUN/run" > "$RUN/hostd.log" 2>&1 &
HOSTD_PID=$!
for _ in $(seq 100); do
	[ -S "$RUN/run/nvmf.sock" ] && mounted "$RUN/run/dev" && break
	kill -0 "$HOSTD_PID" 2> /dev/null || break
	sleep 0.1
done
if [ -S "$RUN/run/nvmf.sock" ] && mounted "$RUN/run/dev"; then
	pass "hostd-starts (pid $HOSTD_PID)"
else
	fail hostd-starts "$(tail -n 3 "$RUN/hostd.log" | tr '\n' ' ')"
	finish
fi

ctl discover "127.0.0.1:$PORT" > "$RUN/discover.out" 2>&1
rc=$?
sed 's/^/  | /' "$RUN/discover.out"
item "discover (exit $rc)" test "$rc" -eq 0
item discover-lists-subsystem grep -Eq "Sub NQN: +$NQN\$" "$RUN/discover.out"

# FreeBSD's rule runs the reconnects later on (the port is taken away and given back).
"$DEVD" -d --rundir "$RUN/run" -f "$ROOT/etc/nvmf.conf" > "$RUN/devd.log" 2>&1 &
DEVD_PID=$!
ctl connect -i 2 -r 1 -l 60 "127.0.0.1:$PORT" "$NQN" > "$RUN/connect.out" 2>&1
rc=$?
sed 's/^/  | /' "$RUN/connect.out"
if [ "$rc" -eq 0 ]; then pass connect; else fail connect "exit $rc: $(tr '\n' ' ' < "$RUN/connect.out")"; fi

ctl devlist -o json > "$RUN/devlist.json" 2> "$RUN/devlist.err"
C='(d["controllers"] or [{}])[0]'
NS="($C.get(\"namespaces\") or [{}])[0]"
name=$(json_eval "$RUN/devlist.json" "$C.get('name')")
item "devlist-controller ($name)" test "$name" = nvme0
v=$(json_eval "$RUN/devlist.json" "$C.get('subnqn')")
item devlist-subnqn test "$v" = "$NQN"
v=$(json_eval "$RUN/devlist.json" "$C.get('io_queues')")
item "devlist-io-queues-2 ($v)" test "$v" = 2
v=$(json_eval "$RUN/devlist.json" "$C.get('model')")
item "devlist-model ($v)" test "$v" = "$MODEL"
size=$(json_eval "$RUN/devlist.json" "$NS.get('size')")
item "namespace-size-is-ram-disk ($size = $RAM_BYTES)" test "$size" = "$RAM_BYTES"
NSFILE=$RUN/run/dev/nvme0ns1
fsize=$(stat -c %s "$NSFILE" 2> /dev/null || echo none)
item "namespace-file ($fsize bytes)" test "$fsize" = "$RAM_BYTES"

ctl identify nvme0 > "$RUN/identify.out" 2>&1
rc=$?
grep -E 'Model Number|Serial Number|Firmware|Subsystem Name|Controller ID' "$RUN/identify.out" |
	sed 's/^/  | /'
item "identify (exit $rc)" test "$rc" -eq 0
item identify-shows-subnqn grep -Eq "^NVM Subsystem Name: +$NQN\$" "$RUN/identify.out"
item identify-shows-model grep -Eq "^Model Number: +$MODEL\$" "$RUN/identify.out"
ctl identify -o json nvme0 > "$RUN/identify.json" 2>&1
v=$(json_eval "$RUN/identify.json" 'd.get("subnqn")')
item identify-json-subnqn test "$v" = "$NQN"
v=$(json_eval "$RUN/identify.json" 'd.get("mn")')
item "identify-json-model ($v)" test "$v" = "$MODEL"

# ------------------------------------------------------------------ fio through the file
# Only on the FUSE file: were it missing, fio would create a plain file in the run directory.
on_fuse() { [ -f "$NSFILE" ] && mounted "$RUN/run/dev"; }

fio_item() { # NAME JSON FIO-ARGS...
	local name=$1 json=$2 rc s
	shift 2
	if ! on_fuse; then
		fail "$name" "no namespace file $NSFILE"
		return
	fi
	# In the run directory, without verify state files: nothing of fio's lands in the tree.
	(cd "$RUN" && timeout -k 5 $((FIO_RUNTIME * 4 + 60)) fio --filename="$NSFILE" --direct=1 \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --group_reporting \
		--output-format=json --output="$json" "$@") > "$json.log" 2>&1
	rc=$?
	s=$(json_eval "$json" 'd and "read %.0f IOPS %.1f MB/s, write %.0f IOPS %.1f MB/s, %d reads %d writes, job error %d" % (d["jobs"][0]["read"]["iops"], d["jobs"][0]["read"]["bw_bytes"] / 1e6, d["jobs"][0]["write"]["iops"], d["jobs"][0]["write"]["bw_bytes"] / 1e6, d["jobs"][0]["read"]["total_ios"], d["jobs"][0]["write"]["total_ios"], d["jobs"][0]["error"])')
	echo "  | fio $name: $s"
	# Verification failures and I/O errors, wherever fio reported them.
	if { cat "$json.log"; sed '/^{/,$d' "$json"; } 2> /dev/null |
		grep -Eiv 'multiple writers may overwrite' |
		grep -Eiq 'bad magic|verify.*(fail|error)|crc32c.*(wanted|fail)|io_u error|Input/output error'; then
		fail "$name" "fio reported verification or I/O errors; see $json.log"
		grep -Ei 'bad magic|verify|crc32c|io_u error|Input/output' "$json.log" | head -n 10
	elif [ "$rc" -ne 0 ]; then
		fail "$name" "fio exit $rc: $(tail -n 3 "$json.log" | tr '\n' ' ')"
	elif ! [[ $s == *"job error 0" ]]; then
		fail "$name" "$s"
	else
		pass "$name ($s)"
	fi
}

# 1a's job: 4 KiB random read/write, libaio QD16 x 4 jobs on disjoint 8 MiB regions.
fio_item fio-randrw-4k-crc32c-verify "$RUN/fio-randrw.json" --name=randrw --rw=randrw --bs=4k \
	--iodepth=16 --ioengine=libaio --numjobs=4 --size=8M --offset_increment=8M \
	--runtime="$FIO_RUNTIME"
# Writes of 4 KiB to 1 MiB past the first 32 MiB: above nvmet's in-capsule size (16 KiB) they
# go through R2T and H2CData.
fio_item fio-write-4k-1m-crc32c-verify "$RUN/fio-big.json" --name=big --rw=randwrite \
	--bsrange=4k-1m --iodepth=4 --ioengine=libaio --offset=32M --size=16M \
	--runtime="$FIO_RUNTIME"

# ------------------------------------------------------------------ namespace changes (AEN)
# nvmet announces a namespace added or removed with an Asynchronous Event; nvmf-hostd rescans and
# the file appears or goes.
CFG=/sys/kernel/config/nvmet/subsystems/$NQN
wait_for() { # SECONDS CMD...: true once CMD succeeds
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
gexec "dd if=/dev/zero of=/tmp/ns2.img bs=1M count=8 2>/dev/null && mkdir $CFG/namespaces/2 &&
	echo /tmp/ns2.img > $CFG/namespaces/2/device_path && echo 1 > $CFG/namespaces/2/buffered_io &&
	echo 1 > $CFG/namespaces/2/enable" \
	> "$RUN/ns-add.out" 2>&1
item "aen-namespace-added-file-appears" wait_for 15 test -f "$RUN/run/dev/nvme0ns2"
v=$(stat -c %s "$RUN/run/dev/nvme0ns2" 2> /dev/null || echo none)
item "aen-namespace-file-size ($v)" test "$v" = $((8 * 1048576))
gexec "echo 0 > $CFG/namespaces/2/enable && rmdir $CFG/namespaces/2" > "$RUN/ns-del.out" 2>&1
item "aen-namespace-removed-file-gone" wait_for 15 test ! -e "$RUN/run/dev/nvme0ns2"
item "aen-namespace-1-stays" test -f "$NSFILE"

# ------------------------------------------------------------------ the port goes and comes back
# Issue 4 (f): the kernel target drops our association when its port loses the subsystem; the
# rule's reconnects fail until it is back, then one succeeds; held I/O completes, data intact.
# state: nvme0's state, "none" without controllers, "devlist-failed" when devlist or its JSON
# fails (which no check below may take for the state it waits for or away from).
state() {
	local out
	out=$(ctl devlist -o json 2> /dev/null) || { echo devlist-failed; return; }
	"$PY" -c 'import json,sys; c=json.load(sys.stdin)["controllers"]; print(c[0]["state"] if c else "none")' \
		<<< "$out" 2> /dev/null || echo devlist-failed
}
# shellcheck disable=SC2317 # called through wait_for
state_is() { [ "$(state)" = "$1" ]; }
# shellcheck disable=SC2317 # called through wait_for
state_is_not() { local s; s=$(state); [ "$s" != "$1" ] && [ "$s" != devlist-failed ]; }
head -c 1048576 /dev/urandom > "$RUN/pattern"
dd if="$RUN/pattern" of="$NSFILE" bs=1M seek=48 count=1 oflag=direct conv=notrunc status=none
item port-pattern-written cmp -n 1048576 "$RUN/pattern" <(dd if="$NSFILE" bs=1M skip=48 count=1 iflag=direct status=none)
gexec "rm /sys/kernel/config/nvmet/ports/1/subsystems/$NQN" > "$RUN/port-down.out" 2>&1
item port-removed-association-lost wait_for 20 state_is_not connected
T_DOWN=$SECONDS
( dd if="$NSFILE" bs=1M skip=48 count=1 iflag=direct status=none > "$RUN/held-read" 2> "$RUN/held-read.err"; echo $? > "$RUN/held-read.rc" ) &
HELD=$!
sleep 3
item "port-down-read-held (state $(state))" test ! -s "$RUN/held-read.rc"
gexec "ln -s $CFG /sys/kernel/config/nvmet/ports/1/subsystems/$NQN" > "$RUN/port-up.out" 2>&1
item port-readded-reconnected wait_for 20 state_is connected
echo "  | reconnected $((SECONDS - T_DOWN)) s after the port went away"
wait_for 20 test -s "$RUN/held-read.rc"
item "port-held-read-completed (rc $(cat "$RUN/held-read.rc" 2> /dev/null))" test "$(cat "$RUN/held-read.rc" 2> /dev/null)" = 0
item port-held-read-data-intact cmp "$RUN/pattern" "$RUN/held-read"
item port-data-intact-after cmp -n 1048576 "$RUN/pattern" <(dd if="$NSFILE" bs=1M skip=48 count=1 iflag=direct status=none)
item port-rule-ran-reconnect grep -q "action exited with status 0.*nvmecontrol reconnect 'nvme0'" "$RUN/devd.log"
wait "$HELD" 2> /dev/null

# ------------------------------------------------------------------ disconnect
ctl disconnect nvme0 > "$RUN/disconnect.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then pass disconnect; else fail disconnect "exit $rc: $(tr '\n' ' ' < "$RUN/disconnect.out")"; fi
item disconnect-file-gone test ! -e "$NSFILE"
ctl devlist -o json > "$RUN/devlist-after.json" 2>&1
v=$(json_eval "$RUN/devlist-after.json" 'len(d["controllers"])')
item "disconnect-devlist-empty ($v controllers)" test "$v" = 0

[ -z "$DEVD_PID" ] || { kill "$DEVD_PID" 2> /dev/null; wait "$DEVD_PID" 2> /dev/null; DEVD_PID=''; }
item hostd-survived kill -0 "$HOSTD_PID"
stop_hostd
item "hostd-clean-exit (status $HOSTD_RC)" test "$HOSTD_RC" = 0
if grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "$RUN/hostd.log"; then
	fail hostd-no-sanitizer-report
fi

# ------------------------------------------------------------------ the target's view
sleep 1 # late kernel messages (a keep-alive expiry, a queue error) reach the console
"$GUEST" log "$PORT" > "$RUN/guest-console.log" 2>&1
sed -n '/nvmf-guest: READY/,$p' "$RUN/guest-console.log" | grep -E 'nvme|nvmet' | sed 's/^/  | /'
sed -n '/nvmf-guest: READY/,$p' "$RUN/guest-console.log" |
	grep -Ei 'error|fail|unexpected|invalid|warn|bug|call trace|oops|expired|timed? ?out|reset' \
		> "$RUN/guest-errors"
if [ -s "$RUN/guest-errors" ]; then
	fail guest-log-no-nvmet-errors "$(wc -l < "$RUN/guest-errors") lines"
	head -n 20 "$RUN/guest-errors" | sed 's/^/  ! /'
else
	pass guest-log-no-nvmet-errors
fi
grep -q 'creating nvm controller' "$RUN/guest-console.log"
item guest-log-shows-our-controller test $? -eq 0
item target-survived kill -0 "$QEMU_PID"

if [ "$FAILED" -gt 0 ]; then
	echo "=== nvmf-hostd log (tail)"
	tail -n 30 "$RUN/hostd.log"
fi
finish
