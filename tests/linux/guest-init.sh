#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# /init of the nvmf Linux test guest (busybox sh, PID 1).
#
# guest.sh appends a small per-run archive to the cached initramfs holding /guest.env (MODE and
# its settings) and, in host mode, /scenario.sh.  Console (ttyS0) carries the kernel log and all
# output; ttyS1 is the host-mode result channel or the target-mode command agent.  Nothing here
# depends on the kernel command line, so values never need kernel-cmdline quoting.

/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /etc/nvme

say() { echo "nvmf-guest: $*"; }
fail() { say "FAIL $*"; }

MODE=none PORT=4420 NQN='' HOSTNQN='' HOSTID='' NS_MB=64 ALLOW_HOST=''
# shellcheck disable=SC1091 # written by guest.sh into the per-run archive
[ -r /guest.env ] && . /guest.env
say "mode=$MODE kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)s"

# Module loading by name through modules.dep (depmod ran at build time).  The generic CRC
# implementations are loaded first: TCG's qemu64 CPU has neither SSE4.2 nor PCLMUL, and the
# kernel's on-demand crypto module requests need aliases that busybox modprobe may not resolve.
load() {
	for m in "$@"; do
		modprobe "$m" || fail "modprobe $m"
	done
}
load crc32c_generic crct10dif_generic virtio_pci virtio_net

# qemu user networking: the guest is 10.0.2.15, this machine's 127.0.0.1 is 10.0.2.2.
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
if ! { ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2; }; then
	fail "network setup"
fi

host_mode() {
	load nvme-tcp
	[ -n "$HOSTID" ] || HOSTID=$(cat /proc/sys/kernel/random/uuid)
	[ -n "$HOSTNQN" ] || HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:$HOSTID
	echo "$HOSTNQN" > /etc/nvme/hostnqn
	echo "$HOSTID" > /etc/nvme/hostid
	# From here on every kernel message (nvme's connect/disconnect lines) reaches the console.
	echo 7 > /proc/sys/kernel/printk
	say "READY host hostnqn=$HOSTNQN target=10.0.2.2:$PORT"
	# The scenario's output goes to the console and, unmixed with kernel messages, to ttyS1
	# where guest.sh reads the RESULT lines from.
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	(
		cd /tmp || exit 1
		export PORT NQN HOSTNQN HOSTID ADDR=10.0.2.2
		sh /scenario.sh < /dev/null
		echo "RESULT scenario-exit rc=$?"
	) 2>&1 | tee /dev/ttyS1
	sync
	echo "DONE" | tee /dev/ttyS1
	poweroff -f
}

# Serial command agent on ttyS1.  Request: "TOKEN BASE64(command)"; reply, one line:
# "@@ TOKEN RC BASE64(output)".  Base64 both ways keeps tty line discipline out of the data.
agent() {
	stty -F /dev/ttyS1 raw -echo
	exec 3<> /dev/ttyS1
	while :; do
		IFS=' ' read -r tok cmd <&3 || { sleep 1; continue; }
		[ -n "$cmd" ] || continue
		echo "$cmd" | base64 -d > /tmp/agent.cmd
		sh /tmp/agent.cmd > /tmp/agent.out 2>&1 < /dev/null
		rc=$?
		printf '@@ %s %s %s\n' "$tok" "$rc" "$(base64 /tmp/agent.out | tr -d '\n')" >&3
	done
}

target_mode() {
	load nvmet-tcp
	modprobe brd rd_nr=1 rd_size=$((NS_MB * 1024)) max_part=0 || fail "modprobe brd"
	mount -t configfs none /sys/kernel/config || fail "mount configfs"
	C=/sys/kernel/config/nvmet
	S=$C/subsystems/$NQN
	mkdir "$S" || fail "subsystem $NQN"
	if [ -n "$ALLOW_HOST" ]; then
		mkdir "$C/hosts/$ALLOW_HOST"
		echo 0 > "$S/attr_allow_any_host"
		ln -s "$C/hosts/$ALLOW_HOST" "$S/allowed_hosts/$ALLOW_HOST" || fail "allowed host"
	else
		echo 1 > "$S/attr_allow_any_host"
	fi
	mkdir "$S/namespaces/1"
	echo /dev/ram0 > "$S/namespaces/1/device_path"
	echo 1 > "$S/namespaces/1/enable" || fail "namespace 1"
	# Port 1 is what tests remove and re-add through the agent (guest.sh exec).
	P=$C/ports/1
	mkdir "$P"
	echo tcp > "$P/addr_trtype"
	echo ipv4 > "$P/addr_adrfam"
	echo 0.0.0.0 > "$P/addr_traddr"
	echo "$PORT" > "$P/addr_trsvcid"
	ln -s "$S" "$P/subsystems/$NQN" || fail "port $PORT"
	echo 7 > /proc/sys/kernel/printk
	say "READY target nqn=$NQN port=$PORT ns1=/dev/ram0 ${NS_MB}MiB"
	agent
}

case $MODE in
host) host_mode ;;
target) target_mode ;;
*) fail "unknown mode '$MODE'" ;;
esac
sync
poweroff -f
