#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# run-e2e.sh [pytest args...] - the end-to-end tests (tests/e2e): real nvmfd
# processes over real TCP on 127.0.0.1, driven by a Python NVMe/TCP host.
# Runs Debian's pytest (/usr/bin/python3; a python3 earlier on PATH may lack
# pytest), shows pytest's summary, ends with "e2e: N passed, M failed" for
# scripts/check.sh, and exits with pytest's status. "No tests collected"
# (pytest status 5) is a failure, not a pass. NVMFD=path tests another build.
set -uo pipefail
cd "$(dirname "$0")/.."

python=${E2E_PYTHON:-/usr/bin/python3}
timeout_s=${E2E_TIMEOUT:-600}

if ! "$python" -c 'import pytest' 2>/dev/null; then
	echo "run-e2e: $python has no pytest (apt-get install python3-pytest)" >&2
	echo "e2e: 0 passed, 1 failed"
	exit 2
fi
if [ ! -x "${NVMFD:-build/bin/nvmfd}" ]; then
	echo "run-e2e: ${NVMFD:-build/bin/nvmfd} is not built (make all)" >&2
	echo "e2e: 0 passed, 1 failed"
	exit 2
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# -p no:cacheprovider: no .pytest_cache in a tree others build in.
# Arguments that name tests replace the default, the whole of tests/e2e.
paths=(tests/e2e)
for a in "$@"; do
	case $a in tests/*) paths=() ;; esac
done
timeout --kill-after=10 "$timeout_s" "$python" -m pytest -q -rfEXx -p no:cacheprovider \
	"${paths[@]}" "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

summary=$(grep -E '^=*\s*[0-9]+ (passed|failed|error)|^=*\s*no tests ran|[0-9]+ (passed|failed|errors?|xfailed|skipped).* in [0-9.]+s' "$out" | tail -n 1)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(( $(count failed) + $(count 'errors?') + $(count xpassed) ))

case $rc in
0) ;;
5) echo "run-e2e: pytest collected no tests"; failed=$((failed + 1)) ;;
124|137) echo "run-e2e: timed out after ${timeout_s} s"; failed=$((failed + 1)) ;;
*) [ "$failed" -gt 0 ] || failed=1 ;;
esac
echo "${NVMF_E2E_NAME:-e2e}: $passed passed, $failed failed"
exit "$rc"
