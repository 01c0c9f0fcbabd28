#!/bin/sh
# build.sh - build the libFuzzer targets and run each briefly over its
# corpus. Usage: sh tests/fuzz/build.sh [SECONDS] (default 60).
# Run from the repository root; needs clang. New inputs that libFuzzer
# finds go to build-fuzz/corpus-*, not into the committed corpus.
set -eu

secs=${1:-60}
out=build-fuzz
flags="-std=c11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined"
flags="$flags -fno-sanitize-recover=undefined"

command -v clang >/dev/null || { echo "build.sh: clang not found" >&2; exit 1; }
mkdir -p "$out/corpus-rules"

# fuzz_rules: the rules language (parser, printer), lib/netaddr and
# lib/editdist (the parser's "did you mean").
clang $flags -o "$out/fuzz_rules" tests/fuzz/fuzz_rules.c rules/*.c \
	lib/netaddr.c lib/editdist.c
"$out/fuzz_rules" -max_total_time="$secs" -max_len=4096 \
	-timeout=10 "$out/corpus-rules" tests/fuzz/corpus/rules
