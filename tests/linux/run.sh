#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# tests/linux/run.sh - `make linux`: the Linux kernel's NVMe/TCP host (Debian's kernel under qemu,
# see guest.sh) against our nvmfd, with every PDU on the wire decoded by tshark.
#
# Four nvmfd processes on 127.0.0.1, in a private run directory:
#   plain   discovery + one subsystem (the default options)
#   dgst    one subsystem, the default options too: the host asks for header and data digests
#           and nvmfd grants them as Linux nvmet does (no -g -G; issue 7)
#   acl     from a JSON config (-c): one subsystem that allows one other host NQN only
#   strict  one subsystem, --strict: the kernel, a conforming host, must pass it, and this
#           nvmfd must log no "deviation" (served) and no "refused" line
#   restart from a JSON config on a backing file: killed with -9 and started again, then
#           reloaded with SIGHUP (a namespace added), while the guest writes and verifies
#           (issue 10); run.sh's conductor does what the guest's "PHASE" lines ask
# One guest boot runs host-scenario.sh against all five (TCG boots are the slow part).  dumpcap
# records the loopback traffic on these ports meanwhile; afterwards tshark must find no malformed
# PDU and no expert error with the digest checks on, must see the PDU types that prove the data
# path ran, and digests exactly on the dgst port.  Every check is one pass/fail item; the last
# line is "linux: N passed, M failed", the exit status non-zero when M > 0.  A machine where the
# kernel guest cannot run (no qemu, qemu cannot start, no kernel .deb) is a failure naming the
# cause, never a pass: the suite would have tested nothing.
#
# Environment: NVMFD (default build/bin/nvmfd), NVMF_LINUX_TIMEOUT (guest, default 300 s),
# NVMF_LINUX_KEEP=1 keeps the run directory (kept anyway when something failed), and guest.sh's
# (QEMU=/nonexistent shows the failure of a machine without qemu).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NVMFD=${NVMFD:-$ROOT/build/bin/nvmfd}
GUEST=$HERE/guest.sh

IO_NQN=nqn.2026-11.org.nvmf:linux-plain
DGST_NQN=nqn.2026-11.org.nvmf:linux-digests
ACL_NQN=nqn.2026-11.org.nvmf:allowed-only
STRICT_NQN=nqn.2026-11.org.nvmf:linux-strict
RESTART_NQN=nqn.2026-11.org.nvmf:linux-restart
ACL_HOSTID=00000000-0000-4000-8000-000000000001
ACL_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:$ACL_HOSTID
# The guest's own identity, which the acl subsystem does not allow.
export NVMF_GUEST_HOSTID=6e766d66-0000-4000-8000-0000000000aa
export NVMF_GUEST_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:$NVMF_GUEST_HOSTID

# What host-scenario.sh reports, in order; a name missing from the guest's output fails.
EXPECTED=(discover discover-lists-subsystem connect queue-count-3 namespace)
EXPECTED+=(io-1m-{write,read,cmp} io-4k-{write,read,cmp} io-1m-intact disconnect disconnect-gone)
EXPECTED+=(dgst-connect dgst-queue-count-3 dgst-namespace)
EXPECTED+=(dgst-1m-{write,read,cmp} dgst-4k-{write,read,cmp} dgst-1m-intact dgst-disconnect dgst-disconnect-gone)
EXPECTED+=(acl-denied-connect-fails acl-denied-no-controller acl-allowed-connect)
EXPECTED+=(acl-4k-{write,read,cmp} acl-disconnect)
EXPECTED+=(strict-connect strict-namespace strict-4k-{write,read,cmp} strict-disconnect strict-disconnect-gone)
EXPECTED+=(restart-connect restart-namespace restart-writer-runs)
EXPECTED+=(restart-kill-controller-leaves-live restart-kill-reconnected restart-kill-io-resumes)
EXPECTED+=(restart-hup-namespace-2-appears restart-hup-still-live restart-hup-io-goes-on)
EXPECTED+=(restart-writer-no-error restart-every-acked-block-reads-back restart-disconnect)
EXPECTED+=(scenario-exit)
NVMFDS=(plain dgst acl strict)

PASSED=0 FAILED=0 FAILS=() PIDS=() T0=$SECONDS RUN=''

pass() {
	PASSED=$((PASSED + 1))
	echo "PASS  $1"
}
fail() { # NAME [why]
	FAILED=$((FAILED + 1))
	FAILS+=("$1${2:+ ($2)}")
	echo "FAIL  $1${2:+ ($2)}"
}
item() { # NAME CMD...: one pass/fail item from CMD's status
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null; done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
	cleanup
	echo
	echo "=== linux summary ($((SECONDS - T0)) s)"
	if [ "$FAILED" -gt 0 ]; then
		printf '  failed: %s\n' "${FAILS[@]}"
		[ -z "$RUN" ] || echo "  logs, capture and console kept in $RUN"
	elif [ -n "$RUN" ] && [ "${NVMF_LINUX_KEEP:-0}" != 1 ]; then
		rm -rf "$RUN"
	fi
	echo "linux: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

# A TCP port nobody on this machine uses, different from the ones already picked.
PICKED=' '
free_port() {
	local p hex
	while :; do
		p=$((20000 + RANDOM % 40000))
		hex=$(printf '%04X' "$p")
		case $PICKED in *" $p "*) continue ;; esac
		awk 'NR > 1 {print $2}' /proc/net/tcp /proc/net/tcp6 2> /dev/null | grep -qi ":$hex$" && continue
		PICKED+="$p "
		echo "$p"
		return
	done
}

listening() { # PORT
	awk 'NR > 1 && $4 == "0A" {print $2}' /proc/net/tcp /proc/net/tcp6 2> /dev/null |
		grep -qi ":$(printf '%04X' "$1")$"
}

# start_nvmfd NAME PORT... -- ARGS...: nvmfd -d ARGS in the background; passes once it listens
# on every PORT.  Sets PID_<NAME>.
start_nvmfd() {
	local name=$1 ports=() pid p i
	shift
	while [ "$1" != -- ]; do ports+=("$1"); shift; done
	shift
	mkdir -p "$RUN/$name"
	(cd "$RUN/$name" && NVMF_RUNDIR=$RUN/$name exec "$NVMFD" -d "$@") > "$RUN/nvmfd-$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	printf -v "PID_$name" %s "$pid"
	for p in "${ports[@]}"; do
		for ((i = 0; i < 100; i++)); do
			listening "$p" && break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.1
		done
		if ! listening "$p"; then
			fail "nvmfd-$name-starts" "not listening on $p; log: $(tail -n 3 "$RUN/nvmfd-$name.log" | tr '\n' ' ')"
			return 1
		fi
	done
	pass "nvmfd-$name-starts (pid $pid: nvmfd -d $*)"
}

# ------------------------------------------------------------------ preparation
echo "=== linux: the Linux kernel NVMe/TCP host against nvmfd"
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
if ! command -v tshark > /dev/null || ! command -v dumpcap > /dev/null; then
	echo "installing tshark"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark; }
fi
# shellcheck disable=SC2317 # called through item
have() { command -v "$@" > /dev/null; }
item tshark-installed have tshark dumpcap
if guest_sh build; then
	pass guest-image
else
	fail guest-image "no Linux kernel peer, nothing tested: $(why)"
fi
rm -f "$ERR"
item nvmfd-built test -x "$NVMFD"
[ "$FAILED" -eq 0 ] || finish

RUN=$(mktemp -d "${TMPDIR:-/tmp}/nvmf-linux.XXXXXX")
DISC_PORT=$(free_port) IO_PORT=$(free_port) DGST_PORT=$(free_port) ACL_PORT=$(free_port)
STRICT_PORT=$(free_port) RESTART_PORT=$(free_port)
# The capture leaves out the restart port: a kill -9 may cut a PDU short there on purpose.
PORTS=("$DISC_PORT" "$IO_PORT" "$DGST_PORT" "$ACL_PORT" "$STRICT_PORT")
echo "run directory $RUN; ports: discovery $DISC_PORT, plain $IO_PORT, digests $DGST_PORT," \
	"acl $ACL_PORT, strict $STRICT_PORT, restart $RESTART_PORT"

cat > "$RUN/acl.json" << EOF
{
  "listen": [{"address": "127.0.0.1", "port": $ACL_PORT}],
  "subsystems": [{
    "nqn": "$ACL_NQN",
    "allowed_hosts": ["$ACL_HOSTNQN"],
    "namespaces": [{"device": "ramdisk:32M"}]
  }]
}
EOF

# restart.json: one namespace on a file; restart-hup.json, what SIGHUP loads: a second one.
truncate -s 16M "$RUN/restart.img"
restart_config() { # EXTRA_NAMESPACE
	cat << EOF
{
  "listen": [{"address": "127.0.0.1", "port": $RESTART_PORT}],
  "subsystems": [{
    "nqn": "$RESTART_NQN",
    "namespaces": [{"device": "$RUN/restart.img", "nsid": 1}${1:-}]
  }]
}
EOF
}
restart_config > "$RUN/restart.json"
restart_config ', {"device": "ramdisk:8M", "nsid": 2}' > "$RUN/restart-hup.json"

# Capture before any nvmfd listens, so that every byte of every connection is in the file.
CAP=$RUN/nvmf.pcapng
filter="tcp and ($(printf 'port %s or ' "${PORTS[@]}" | sed 's/ or $//'))"
dumpcap -i lo -f "$filter" -w "$CAP" > "$RUN/dumpcap.log" 2>&1 &
CAP_PID=$!
PIDS+=("$CAP_PID")
for ((i = 0; i < 100; i++)); do
	grep -q 'Capturing on' "$RUN/dumpcap.log" && break
	kill -0 "$CAP_PID" 2> /dev/null || break
	sleep 0.1
done
item capture-started grep -q 'Capturing on' "$RUN/dumpcap.log"

start_nvmfd plain "$DISC_PORT" "$IO_PORT" -- -a 127.0.0.1 -P "$DISC_PORT" -p "$IO_PORT" -n "$IO_NQN" ramdisk:64M
# No -g -G: nvmfd grants the digests the host asks for by default, as nvmet and SPDK do.
start_nvmfd dgst "$DGST_PORT" -- -a 127.0.0.1 -P 0 -p "$DGST_PORT" -n "$DGST_NQN" ramdisk:64M
start_nvmfd acl "$ACL_PORT" -- -c "$RUN/acl.json"
start_nvmfd strict "$STRICT_PORT" -- --strict -a 127.0.0.1 -P 0 -p "$STRICT_PORT" -n "$STRICT_NQN" ramdisk:64M
start_nvmfd restart "$RESTART_PORT" -- -c "$RUN/restart.json"
[ "$FAILED" -eq 0 ] || finish

# The conductor: does on this machine what the guest's "PHASE" lines (on its result channel)
# ask: "kill" kills the restart nvmfd with -9 and starts it again on the same file and
# configuration; "hup" puts restart-hup.json in place and sends SIGHUP.  What it did goes to
# conductor.log, the new nvmfd's pid to restart2.pid and its log to nvmfd-restart2.log.
conductor() {
	local raw=$RUN/guest/results.raw seen=0 lines n line pid i
	while [ ! -e "$RUN/conductor.stop" ]; do
		mapfile -t lines < <(tr -d '\r' < "$raw" 2> /dev/null)
		n=${#lines[@]}
		# A last line without its newline yet is read next time round.
		[ "$n" -gt 0 ] && [ -n "$(tail -c 1 "$raw")" ] && n=$((n - 1))
		while [ "$seen" -lt "$n" ]; do
			line=${lines[$seen]}
			seen=$((seen + 1))
			case $line in
			"PHASE kill")
				echo "$(date +%T.%N) PHASE kill: kill -9 $PID_restart"
				kill -9 "$PID_restart"
				for ((i = 0; i < 50; i++)); do listening "$RESTART_PORT" || break; sleep 0.1; done
				sleep 1
				(cd "$RUN/restart" && exec "$NVMFD" -d -c "$RUN/restart.json") \
					> "$RUN/nvmfd-restart2.log" 2>&1 &
				pid=$!
				echo "$pid" > "$RUN/restart2.pid"
				for ((i = 0; i < 100; i++)); do listening "$RESTART_PORT" && break; sleep 0.1; done
				if listening "$RESTART_PORT"; then
					echo "$(date +%T.%N) restarted: pid $pid listening again"
				else
					echo "$(date +%T.%N) restarted nvmfd (pid $pid) does not listen"
				fi
				;;
			"PHASE hup")
				pid=$(cat "$RUN/restart2.pid" 2> /dev/null)
				cp "$RUN/restart-hup.json" "$RUN/restart.json"
				kill -HUP "$pid" && echo "$(date +%T.%N) PHASE hup: SIGHUP sent to $pid"
				;;
			esac
		done
		sleep 0.2
	done
}
conductor > "$RUN/conductor.log" 2>&1 &
CONDUCTOR_PID=$!

# ------------------------------------------------------------------ the guest
{
	echo "DISC_PORT=$DISC_PORT IO_PORT=$IO_PORT IO_NQN=$IO_NQN"
	echo "DGST_PORT=$DGST_PORT DGST_NQN=$DGST_NQN"
	echo "ACL_PORT=$ACL_PORT ACL_NQN=$ACL_NQN ACL_HOSTNQN=$ACL_HOSTNQN ACL_HOSTID=$ACL_HOSTID"
	echo "STRICT_PORT=$STRICT_PORT STRICT_NQN=$STRICT_NQN"
	echo "RESTART_PORT=$RESTART_PORT RESTART_NQN=$RESTART_NQN"
	cat "$HERE/host-scenario.sh"
} > "$RUN/scenario.sh"
echo "=== booting the kernel host guest (console follows)"
NVMF_GUEST_OUT=$RUN/guest NVMF_GUEST_TIMEOUT=${NVMF_LINUX_TIMEOUT:-300} \
	"$GUEST" host "$IO_PORT" "$RUN/scenario.sh" 2>&1 | sed -u 's/^/  | /'
touch "$RUN/conductor.stop"
wait "$CONDUCTOR_PID"
[ ! -s "$RUN/restart2.pid" ] || PIDS+=("$(cat "$RUN/restart2.pid")")
echo "=== results"
RESULTS=$RUN/guest/results.log
item guest-finished grep -qx DONE "$RESULTS"
for name in "${EXPECTED[@]}"; do
	line=$(grep -m1 "^RESULT $name rc=" "$RESULTS" 2> /dev/null)
	if [ -z "$line" ]; then
		fail "$name" "no result from the guest"
	elif [ "${line##* }" = rc=0 ]; then
		pass "$name"
	else
		fail "$name" "${line##* }"
	fi
done
# Checks the scenario only makes on some kernels (digests in sysfs).
grep '^RESULT ' "$RESULTS" 2> /dev/null | while read -r _ name rc; do
	case " ${EXPECTED[*]} " in *" $name "*) continue ;; esac
	echo "$name $rc"
done > "$RUN/extra-results"
while read -r name rc; do
	if [ "$rc" = rc=0 ]; then pass "$name"; else fail "$name" "$rc"; fi
done < "$RUN/extra-results"

for name in "${NVMFDS[@]}"; do
	pid_var=PID_$name
	item "nvmfd-$name-survived" kill -0 "${!pid_var}"
done

# The restart nvmfd: killed, started again, reloaded without ending the kernel's association.
sed 's/^/  conductor: /' "$RUN/conductor.log"
item restart-conductor-killed grep -q 'PHASE kill: kill -9' "$RUN/conductor.log"
item restart-conductor-restarted grep -q 'listening again' "$RUN/conductor.log"
item restart-conductor-hup grep -q 'SIGHUP sent' "$RUN/conductor.log"
item nvmfd-restart2-survived kill -0 "$(cat "$RUN/restart2.pid" 2> /dev/null || echo none)"
n=$(grep -c "connected to $RESTART_NQN, controller .* queue 0" "$RUN/nvmfd-restart2.log" 2> /dev/null)
item "nvmfd-restart2-log-kernel-reconnected (${n:-0} admin queues)" test "${n:-0}" -gt 0
line=$(grep 'reload: ' "$RUN/nvmfd-restart2.log" 2> /dev/null | tail -n 1)
echo "  reload: ${line:-none}"
item nvmfd-restart2-log-reload-added-namespace grep -q \
	'reload: .*namespaces 1 added, 0 removed, 0 changed; 0 associations ended' "$RUN/nvmfd-restart2.log"
grep -iE 'deviation|refused|not granted' "$RUN/nvmfd-restart.log" "$RUN/nvmfd-restart2.log" 2> /dev/null | sed 's/^/  ! /'

# ------------------------------------------------------------------ nvmfd's view
# What nvmfd served against the spec ("deviation") or refused, in any of the four logs: shown.
for name in "${NVMFDS[@]}"; do
	grep -iE 'deviation|refused|not granted' "$RUN/nvmfd-$name.log" | sed "s/^/  ! nvmfd-$name: /"
done
# The digests asked for were granted: the admin queue's "connected" line names both.
n=$(grep -c "host .* connected to $DGST_NQN.*header digest, data digest" "$RUN/nvmfd-dgst.log")
item "nvmfd-dgst-log-digests-granted ($n connections)" test "$n" -gt 0
n=$(grep -ciE 'not granted' "$RUN/nvmfd-dgst.log")
item "nvmfd-dgst-log-none-withheld ($n lines)" test "$n" -eq 0
# The kernel host conforms: --strict served it with nothing to overlook and nothing to refuse.
n=$(grep -c "connected to $STRICT_NQN" "$RUN/nvmfd-strict.log")
item "nvmfd-strict-log-connected ($n connections)" test "$n" -gt 0
n=$(grep -ci deviation "$RUN/nvmfd-strict.log")
item "nvmfd-strict-log-no-deviation ($n lines)" test "$n" -eq 0
n=$(grep -ci refused "$RUN/nvmfd-strict.log")
item "nvmfd-strict-log-no-refused ($n lines)" test "$n" -eq 0

# ------------------------------------------------------------------ the wire
kill -INT "$CAP_PID"
wait "$CAP_PID"
echo "=== tshark on $CAP"
# tshark over the capture with every port decoded as NVMe/TCP and both digests checked; its
# warning about running as root is dropped from stderr, which must otherwise stay empty.
tsh() {
	local decode=() p
	for p in "${PORTS[@]}"; do decode+=(-d "tcp.port==$p,nvme-tcp"); done
	{ tshark -r "$CAP" -n -o nvme-tcp.check_hdgst:TRUE -o nvme-tcp.check_ddgst:TRUE "${decode[@]}" "$@" \
		2>&1 >&3 | grep -v '^Running as user' >&2; } 3>&1
}
tsh -T fields -e nvme-tcp.type > "$RUN/pdu-types" 2> "$RUN/tshark.err"
item tshark-reads-capture test ! -s "$RUN/tshark.err"
declare -A COUNT=()
for t in $(tr ',' ' ' < "$RUN/pdu-types"); do COUNT[$t]=$((${COUNT[$t]:-0} + 1)); done
NAMES=([0]=ICReq [1]=ICResp [2]=H2CTermReq [3]=C2HTermReq [4]=CapsuleCmd [5]=CapsuleResp
	[6]=H2CData [7]=C2HData [9]=R2T)
summary=''
for t in 0 1 2 3 4 5 6 7 9; do summary+=" ${NAMES[$t]}=${COUNT[$t]:-0}"; done
echo "NVMe/TCP PDUs in the capture:$summary"
for t in 0 1 4 5 7; do
	item "wire-has-${NAMES[$t]} (${COUNT[$t]:-0})" test "${COUNT[$t]:-0}" -gt 0
done
item "wire-has-H2CData-or-R2T ($((${COUNT[6]:-0} + ${COUNT[9]:-0})))" test $((${COUNT[6]:-0} + ${COUNT[9]:-0})) -gt 0
item "wire-no-TermReq ($((${COUNT[2]:-0} + ${COUNT[3]:-0})))" test $((${COUNT[2]:-0} + ${COUNT[3]:-0})) -eq 0

# Malformed packets and expert infos of severity error.  Wireshark 4.0 reports a wrong digest
# only as digest status Bad (0), not as an expert error: that is matched explicitly.
BAD='_ws.malformed || _ws.expert.severity == error || nvme-tcp.hdgst.status == 0 || nvme-tcp.ddgst.status == 0'
tsh -Y "$BAD" > "$RUN/bad-frames" 2>&1
bad=$(grep -c . "$RUN/bad-frames")
if [ "$bad" -eq 0 ]; then
	pass "wire-no-malformed-expert-error-or-bad-digest"
else
	fail "wire-no-malformed-expert-error-or-bad-digest" "$bad frames"
	head -n 20 "$RUN/bad-frames"
	tsh -q -z expert,error | head -n 40
fi

# The digest connections must really carry digests, and tshark must have verified them good
# (status 1), so the check above cannot pass because nothing was checked.  A flag field is
# present whether set or not, hence "== 1"; a frame may hold several PDUs (C2HData + CapsuleResp).
count() { tsh -Y "$1" | grep -c .; }
n=$(count "tcp.port==$DGST_PORT && nvme-tcp.hdgst.status == 1")
item "wire-dgst-header-digests-verified ($n PDUs)" test "$n" -gt 0
n=$(count "tcp.port==$DGST_PORT && nvme-tcp.ddgst.status == 1")
item "wire-dgst-data-digests-verified ($n PDUs)" test "$n" -gt 0
# Per PDU, not per frame (a frame's C2HData with DDGSTF and CapsuleResp without match a frame
# filter for "data PDU without DDGSTF"): "TYPE FLAGS HLEN PLEN" for each PDU on port $1.
pdus() {
	tsh -Y "tcp.port==$1 && nvme-tcp" -T fields -e nvme-tcp.type -e nvme-tcp.flags \
		-e nvme-tcp.hlen -e nvme-tcp.plen | awk -F'\t' '
		function num(x,  v, i) { # "0x07" (mawk has no strtonum)
			x = tolower(substr(x, 3)); v = 0
			for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v
		}
		{
			n = split($1, t, ","); split($2, f, ","); split($3, h, ","); split($4, p, ",")
			for (i = 1; i <= n; i++) print t[i], num(f[i]), h[i], p[i]
		}'
}
pdus "$DGST_PORT" > "$RUN/pdus-dgst"
# After ICReq/ICResp every PDU has HDGSTF; every one that carries data (CapsuleCmd with
# in-capsule data, H2CData, C2HData: PLEN beyond header and header digest) has DDGSTF.
n=$(awk '$1 >= 2 {n++} END {print n + 0}' "$RUN/pdus-dgst")
m=$(awk '$1 >= 2 && int($2 / 1) % 2 == 0 {n++} END {print n + 0}' "$RUN/pdus-dgst")
item "wire-dgst-every-pdu-has-header-digest ($n PDUs, $m without)" test "$n" -gt 0 -a "$m" -eq 0
n=$(awk '($1 == 4 || $1 == 6 || $1 == 7) && $4 > $3 + 4 {n++} END {print n + 0}' "$RUN/pdus-dgst")
m=$(awk '($1 == 4 || $1 == 6 || $1 == 7) && $4 > $3 + 4 && int($2 / 2) % 2 == 0 {n++} END {print n + 0}' "$RUN/pdus-dgst")
item "wire-dgst-every-data-pdu-has-data-digest ($n PDUs, $m without)" test "$n" -gt 0 -a "$m" -eq 0
# ICResp grants what ICReq asked for: DGST 3 (header and data) on every connection.
n=$(count "tcp.port==$DGST_PORT && nvme-tcp.type == 1 && nvme-tcp.icresp.digest == 3")
m=$(count "tcp.port==$DGST_PORT && nvme-tcp.type == 1")
item "wire-dgst-icresp-grants-both ($n of $m ICResp)" test "$n" -gt 0 -a "$n" -eq "$m"
n=$(count "tcp.port==$IO_PORT && (nvme-tcp.flags.pdu.hdgst == 1 || nvme-tcp.flags.pdu.ddgst == 1)")
item "wire-plain-no-digests ($n with)" test "$n" -eq 0
n=$(count "tcp.port==$STRICT_PORT && (nvme-tcp.flags.pdu.hdgst == 1 || nvme-tcp.flags.pdu.ddgst == 1)")
m=$(count "tcp.port==$STRICT_PORT && nvme-tcp.type >= 4")
item "wire-strict-pdus-no-digests ($m PDUs, $n with)" test "$m" -gt 0 -a "$n" -eq 0

if [ "$FAILED" -gt 0 ]; then
	echo "=== kernel NVMe messages of the guest"
	grep -E '^\[ *[0-9]+\.[0-9]+\] nvme' "$RUN/guest/console.log" 2> /dev/null | tail -n 40
	for name in "${NVMFDS[@]}" restart restart2; do
		echo "=== nvmfd-$name log (tail)"
		tail -n 20 "$RUN/nvmfd-$name.log"
	done
fi
finish
