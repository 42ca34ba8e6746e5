#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# run-unit.sh BINARY... - runs cmocka unit test binaries one after another,
# shows their output, and ends with one line: "unit: N passed, M failed",
# N and M counting test cases over all binaries. Exits non-zero when any test
# failed or a binary crashed, hung (UNIT_TIMEOUT seconds, default 120) or
# exited non-zero after its tests (a sanitizer's leak report, for instance).
set -uo pipefail

export CMOCKA_MESSAGE_OUTPUT=stdout
timeout_s=${UNIT_TIMEOUT:-120}
passed=0
failed=0
broken=()

if [ $# -eq 0 ]; then
	echo "usage: $0 test-binary..." >&2
	echo "unit: 0 passed, 1 failed"
	exit 2
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

for bin in "$@"; do
	echo "=== $bin"
	if [ ! -x "$bin" ]; then
		echo "=== $bin: not found or not executable"
		failed=$((failed + 1))
		broken+=("$bin")
		continue
	fi
	timeout --kill-after=5 "$timeout_s" "$bin" >"$out" 2>&1
	rc=$?
	cat "$out"
	ran=$(grep -c '^\[ RUN      \]' "$out")
	ok=$(grep -c '^\[       OK \]' "$out")
	# cmocka names a skipped test twice (as it happens and in the summary).
	skipped=$(grep '^\[  SKIPPED \] ' "$out" | grep -v ' test(s)' | sort -u | wc -l)
	bad=$((ran - ok - skipped))
	[ "$bad" -ge 0 ] || bad=0
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		# Every test passed but the binary did not: count it once.
		bad=1
	fi
	case $rc in
	0) ;;
	124|137) echo "=== $bin: killed after ${timeout_s} s" ;;
	*) [ "$rc" -gt 128 ] && echo "=== $bin: died of signal $((rc - 128))" ;;
	esac
	echo "=== $bin: exit $rc, $ok passed, $bad failed"
	passed=$((passed + ok))
	failed=$((failed + bad))
	[ "$bad" -eq 0 ] || broken+=("$bin")
done

if [ ${#broken[@]} -gt 0 ]; then
	echo "failing: ${broken[*]}"
fi
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
