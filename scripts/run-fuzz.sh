#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
# run-fuzz.sh [tests/fuzz/fuzz_NAME.c ...] - builds each libFuzzer target with
# every lib/libnvmf/*.c compiled in (clang, -fsanitize=fuzzer,address,undefined),
# plus the program sources its header names ("fuzz-sources:", globs allowed,
# main.c left out),
# into build-fuzz/, then runs it for FUZZ_SECONDS (default 10; 0 runs only the
# seed corpus) starting from tests/fuzz/corpus/NAME/. New inputs go to
# build-fuzz/corpus/NAME/, crashes to build-fuzz/artifacts/. Ends with one
# line: "fuzz: N passed, M failed" (N/M = fuzzers); non-zero exit on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang}
seconds=${FUZZ_SECONDS:-10}
out=build-fuzz
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Ilib/libnvmf -pthread"
passed=0
failed=0
broken=()

if [ $# -eq 0 ]; then
	set -- tests/fuzz/fuzz_*.c
fi
if ! command -v "$CLANG" >/dev/null; then
	echo "run-fuzz: $CLANG not found (apt-get install clang libclang-rt-14-dev)"
	echo "fuzz: 0 passed, $# failed"
	exit 1
fi

# The library once, instrumented for coverage and the sanitizers (the
# fuzzer runtime itself is linked only into each target).
mkdir -p "$out/obj" "$out/artifacts"
lib_ok=1
lib_objs=()
for src in lib/libnvmf/*.c; do
	obj="$out/obj/$(basename "${src%.c}").o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find lib/libnvmf include \
	    -name '*.h' -newer "$obj" 2>/dev/null | head -n 1)" ]; then
		# shellcheck disable=SC2086
		if ! $CLANG $cflags ${san/fuzzer,/fuzzer-no-link,} -Wall -Wextra -c "$src" -o "$obj"; then
			lib_ok=0
		fi
	fi
	lib_objs+=("$obj")
done

for src in "$@"; do
	name=$(basename "${src%.c}")
	bin="$out/$name"
	# A target names the program sources, flags and libraries it needs in its
	# header: "fuzz-sources: a.c b.c", "fuzz-cflags: -Idir", "fuzz-libs: -lx".
	header() { sed -n -E "s/^ \* $1: *//p" "$src" | head -n 1; }
	read -r -a src_words <<<"$(header fuzz-sources)"
	# Words may be globs (nvmf-hostd/[a-z]*.c): a program's files as they are now,
	# never its main.c, which the target replaces.
	extra_src=()
	for w in "${src_words[@]}"; do
		for f in $w; do
			[[ $f == */main.c ]] || extra_src+=("$f")
		done
	done
	read -r -a extra_cflags <<<"$(header fuzz-cflags)"
	read -r -a extra_libs <<<"$(header fuzz-libs)"
	echo "=== $name: build"
	# shellcheck disable=SC2086
	if [ "$lib_ok" -ne 1 ] || ! $CLANG $cflags "${extra_cflags[@]}" $san -Wall -Wextra -Werror \
	    "$src" "${extra_src[@]}" "${lib_objs[@]}" -o "$bin" "${extra_libs[@]}" -lisal; then
		echo "=== $name: build failed"
		failed=$((failed + 1))
		broken+=("$name")
		continue
	fi
	mkdir -p "$out/corpus/$name"
	seeds=()
	[ -d "tests/fuzz/corpus/$name" ] && seeds+=("tests/fuzz/corpus/$name")
	if [ "$seconds" -gt 0 ]; then
		limit=(-max_total_time="$seconds")
	else
		limit=(-runs=0)
	fi
	echo "=== $name: fuzzing for ${seconds} s"
	"$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/artifacts/$name-" "$out/corpus/$name" "${seeds[@]}" \
	    2>&1 | grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' |
	    sed '/^###### Recommended dictionary/,/^###### End of recommended dictionary/d'
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		echo "=== $name: passed"
		passed=$((passed + 1))
	else
		echo "=== $name: FAILED (exit $rc); reproduce with: $bin $out/artifacts/$name-*"
		failed=$((failed + 1))
		broken+=("$name")
	fi
done

[ ${#broken[@]} -eq 0 ] || echo "failing: ${broken[*]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
