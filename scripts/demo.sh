#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# make demo: nvmf end to end in a private run directory.
#   1. nvmfd, the target, exports a 64 MiB file.
#   2. Our own host: nvmf-hostd takes the association nvmecontrol builds; the namespace is a file;
#      nvmf-devd runs FreeBSD's rule; the target is killed and comes back: the reconnect is visible.
#   3. The Linux kernel's NVMe/TCP host (Debian's kernel under qemu) uses the same target.
# NVMF_BIN and NVMF_RULES run it from installed programs and rules (the package test does);
# NVMF_DEMO_KERNEL=0 leaves out part 3.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${NVMF_BIN:-$ROOT/build/bin}
RULES=${NVMF_RULES:-$ROOT/etc/nvmf.conf}
RUN=$(mktemp -d /tmp/nvmf-demo.XXXXXX)
NQN=nqn.2026-11.org.nvmf:demo
PIDS=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
cleanup() {
	[ -S "$RUN/host/nvmf.sock" ] && "$BIN/nvmecontrol" --rundir "$RUN/host" disconnect-all > /dev/null 2>&1
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	echo "(logs kept in $RUN)"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.05; done; return 1; }

PORT=$(free_port)
DPORT=$(free_port)
say "1. the target: nvmfd exports $RUN/disk.img as $NQN on 127.0.0.1:$PORT (discovery on $DPORT)"
truncate -s 64M "$RUN/disk.img"
"$BIN/nvmfd" -d -a 127.0.0.1 -p "$PORT" -P "$DPORT" -n "$NQN" "$RUN/disk.img" 2> "$RUN/nvmfd.log" &
PIDS+=($!)
wait_port "$PORT" || { echo "nvmfd did not start:"; cat "$RUN/nvmfd.log"; exit 1; }
sed 's/^/  nvmfd: /' "$RUN/nvmfd.log"

say "2. our host: nvmf-hostd and nvmf-devd (FreeBSD's rule) in $RUN/host; nvmecontrol connects"
"$BIN/nvmf-hostd" -d --rundir "$RUN/host" 2> "$RUN/hostd.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$RUN/host/nvmf.sock" ] && break; sleep 0.05; done
"$BIN/nvmf-devd" -d --rundir "$RUN/host" -f "$RULES" 2> "$RUN/devd.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$RUN/host/devd.pipe" ] && break; sleep 0.05; done
# Every event nvmf-devd sees, as a reader of devd.pipe would.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); t0 = time.monotonic()
for line in s.makefile():
    print("  [devd.pipe +%5.1fs] %s" % (time.monotonic() - t0, line.rstrip()), flush=True)
' "$RUN/host/devd.pipe" &
PIDS+=($!)
CTL=("$BIN/nvmecontrol" --rundir "$RUN/host")
show "${CTL[@]}" discover "127.0.0.1:$DPORT"
show "${CTL[@]}" connect -r 1 -l 30 "127.0.0.1:$PORT" "$NQN"
show "${CTL[@]}" devlist
show ls -l "$RUN/host/dev"
echo 'hello from nvmf' > "$RUN/hello.txt"
show dd if="$RUN/hello.txt" of="$RUN/host/dev/nvme0ns1" bs=512 count=1 conv=sync,notrunc status=none
show dd if="$RUN/host/dev/nvme0ns1" bs=512 count=1 status=none | head -c 16; echo
echo "  ...and on the target's side, in the file itself:"
show head -c 16 "$RUN/disk.img"; echo

say "break: kill -9 the target; a read waits (held, not failed) while the rule reconnects"
kill -9 "${PIDS[0]}"
( dd if="$RUN/host/dev/nvme0ns1" bs=512 count=1 iflag=direct status=none | head -c 16 > "$RUN/held.txt"
  echo "  the held read completed: $(cat "$RUN/held.txt")" ) &
READER=$!
sleep 2.5
show "${CTL[@]}" devlist
say "heal: nvmfd comes back on the same port"
"$BIN/nvmfd" -d -a 127.0.0.1 -p "$PORT" -P "$DPORT" -n "$NQN" "$RUN/disk.img" 2>> "$RUN/nvmfd.log" &
PIDS[0]=$!
wait "$READER"
show "${CTL[@]}" devlist
echo "  nvmf-devd ran the rule's action:"
grep -E 'action (started|exited)' "$RUN/devd.log" | tail -n 4 | sed 's/^/    /'
show "${CTL[@]}" disconnect nvme0
show ls "$RUN/host/dev"

[ "${NVMF_DEMO_KERNEL:-1}" = 0 ] && exit 0
say "3. the Linux kernel's nvme-tcp host (Debian's kernel under qemu) against the same nvmfd"
cat > "$RUN/guest.sh" << GUEST
set -x
nvme discover -t tcp -a \$ADDR -s $DPORT
nvme connect -t tcp -a \$ADDR -s $PORT -n $NQN --nr-io-queues=2
sleep 1
nvme list
dd if=/dev/nvme0n1 bs=512 count=1 iflag=direct 2>/dev/null | head -c 16; echo
echo "written by the Linux kernel" | dd of=/dev/nvme0n1 bs=512 seek=1 count=1 conv=sync oflag=direct 2>/dev/null
nvme disconnect -n $NQN
echo "RESULT demo rc=0"
GUEST
NVMF_GUEST_OUT="$RUN/guest" "$ROOT/tests/linux/guest.sh" host "$PORT" "$RUN/guest.sh" |
	grep -E '^\+|nvme|Node|^/dev|hello|Discovery|subnqn|trsvcid|traddr|RESULT' | grep -v 'nvmf-guest' | head -60
echo "  ...what the kernel wrote, read from the target's file:"
show dd if="$RUN/disk.img" bs=512 skip=1 count=1 status=none | head -c 28; echo
say "nvmfd's log"
sed 's/^/  /' "$RUN/nvmfd.log"
