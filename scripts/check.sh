#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# make check: every test suite in turn; the tally of all of them at the end.
# Each suite prints its own "NAME: N passed, M failed" line; this sums them.
set -uo pipefail
cd "$(dirname "$0")/.."

total_pass=0 total_fail=0 failed_suites=()
log_dir=${NVMF_CHECK_LOGS:-build/check}
mkdir -p "$log_dir"

run_suite() { # name, command...
	local name=$1 out rc line p f
	shift
	out="$log_dir/$name.log"
	echo "=== $name: $*"
	local t0=$SECONDS
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/^[^:]+: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	[ -n "$line" ] || { p=0; f=1; }
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -eq 0 ] || failed_suites+=("$name")
	echo "=== $name: exit $rc, $p passed, $f failed, $((SECONDS - t0)) s"
}

run_suite deps tests/deps/check-deps.py
run_suite unit make --no-print-directory unit
run_suite sanitize make --no-print-directory sanitize
run_suite e2e make --no-print-directory e2e
run_suite e2e-asan make --no-print-directory sanitize-e2e
run_suite tsan-churn make --no-print-directory tsan-churn
run_suite soak make --no-print-directory soak FAULTS=50
run_suite fuzz make --no-print-directory fuzz
run_suite linux make --no-print-directory linux
run_suite linux-target tests/linux/run-target.sh

if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failing suites: ${failed_suites[*]} (logs in $log_dir)"
fi
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
