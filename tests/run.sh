#!/bin/sh
#
# run.sh - every test suite against one or more build directories
#
#   sh tests/run.sh BUILD_DIR [BUILD_DIR...]      (from anywhere)
#
# For each BUILD_DIR: the unit binaries BUILD_DIR/tests/test_*, then
# tests/miltertest/run.sh, tests/conformance/run.sh and tests/e2e/run.py
# (each when present; e2e needs BUILD_DIR/mailvet).  Every runner prints
# "...: N passed, N failed" lines; they are added up into one closing
# line "N passed, N failed".  Exits 1 when a test failed, or a runner
# exited non-zero or printed no summary (a crash).  A build dir named
# *san* runs with ASAN_OPTIONS/UBSAN_OPTIONS that make any report fatal.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PY=/usr/bin/python3

if [ $# -eq 0 ]; then
	echo "usage: tests/run.sh BUILD_DIR [BUILD_DIR...]" >&2
	exit 2
fi

total_pass=0
total_fail=0
crashed=0
OUT=$(mktemp /tmp/mailvet-run.XXXXXX)
trap 'rm -f "$OUT"' EXIT
trap 'exit 130' INT TERM

# add_up - sum the "N passed, N failed" lines of $OUT into the totals
add_up() {
	set -- $(sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p;
	    s/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p' "$OUT" |
	    awk '{p += $1; f += $2; n++} END {print p + 0, f + 0, n + 0}')
	total_pass=$((total_pass + $1))
	total_fail=$((total_fail + $2))
	found=$3
}

# run_one - run a runner, show its output, count it; NAME CMD...
run_one() {
	name=$1
	shift
	echo "== $name"
	"$@" >"$OUT" 2>&1
	rc=$?
	cat "$OUT"
	add_up
	if [ "$found" -eq 0 ] && [ "$rc" -ne 0 ]; then
		echo "CRASH $name: exit $rc without a summary"
		crashed=$((crashed + 1))
	elif [ "$found" -eq 0 ]; then
		echo "NOTE $name: no summary line (exit 0)"
	elif [ "$rc" -ne 0 ] && ! grep -q '[1-9][0-9]* failed' "$OUT"; then
		echo "CRASH $name: exit $rc although nothing failed"
		crashed=$((crashed + 1))
	fi
}

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect"
VG="$VG --errors-for-leak-kinds=definite,indirect --error-exitcode=99"

for build in "$@"; do
	build=${build%/}
	case $build in
	*san*)
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		;;
	*)
		unset ASAN_OPTIONS UBSAN_OPTIONS
		;;
	esac
	if [ ! -d "$build" ]; then
		echo "CRASH $build: no such build directory"
		crashed=$((crashed + 1))
		continue
	fi
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "$t" "$t"
	done
	if [ -f tests/miltertest/run.sh ]; then
		run_one "miltertest $build" bash tests/miltertest/run.sh "$build"
	fi
	if [ -f tests/dkim/run.sh ]; then
		run_one "dkim $build" sh tests/dkim/run.sh "$build"
	fi
	if [ -f tests/conformance/run.sh ]; then
		run_one "conformance $build" bash tests/conformance/run.sh "$build"
	fi
	if [ -x "$build/mailvet" ]; then
		run_one "e2e $build" $PY tests/e2e/run.py --bin "$build/mailvet"
	else
		echo "== e2e $build: skipped (no $build/mailvet)"
	fi
	# A short e2e session under valgrind: no leak, no invalid access.
	case $build in
	*san*) ;;
	*)
		if command -v valgrind >/dev/null 2>&1 && [ -x "$build/mailvet" ]
		then
			run_one "e2e-valgrind $build" env MAILVET_WRAPPER="$VG" \
			    $PY tests/e2e/run.py -k test_core --bin "$build/mailvet"
		fi
		;;
	esac
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$crashed" -eq 0 ]
