#!/bin/sh
#
# run.sh - every test suite against one or more build directories
#
#   sh tests/run.sh BUILD_DIR [BUILD_DIR...]      (from anywhere)
#
# For each BUILD_DIR: the unit binaries BUILD_DIR/tests/test_*, then
# tests/miltertest/run.sh, tests/dkim/run.sh, tests/conformance/run.sh,
# tests/e2e/run.py and (not for a sanitizer build) one e2e file under
# valgrind. A build dir named *san* runs with ASAN_OPTIONS/UBSAN_OPTIONS
# that make any report fatal, leaks included.
#
# Every runner prints "SKIP WHAT: WHY" once per reason it skipped
# something, and ends with its own "NAME: N passed, N failed, N skipped".
# Those are added up into the closing line, alone on the last line:
#
#   N passed, N failed, N skipped
#
# A runner counts one more failure (and a "FAIL runner NAME: why" line)
# when it prints no summary, exits non-zero with nothing failed (or zero
# with failures), prints a sanitizer or valgrind report, or skips without
# a SKIP line. In strict mode every skip fails its runner too, except a
# skip whose reason starts with "no data:" (a suite absent from
# ../shared). Strict mode is on when running as root or with CI set (the
# CI machine, where every dependency is installed); MAILVET_TEST_STRICT=0
# or 1 overrides. Exits 1 when the closing line has a failure.
#
# RUNNERS="unit miltertest dkim conformance e2e valgrind" (the default)
# picks runners by name, for a quicker look while working on one.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PY=/usr/bin/python3

if [ $# -eq 0 ]; then
	echo "usage: tests/run.sh BUILD_DIR [BUILD_DIR...]" >&2
	exit 2
fi

if [ -n "${MAILVET_TEST_STRICT:-}" ]; then
	STRICT=$MAILVET_TEST_STRICT
	why_strict="MAILVET_TEST_STRICT=$STRICT"
elif [ "$(id -u)" -eq 0 ]; then
	STRICT=1
	why_strict="running as root"
elif [ -n "${CI:-}" ]; then
	STRICT=1
	why_strict="CI is set"
else
	STRICT=0
	why_strict="not root, CI unset"
fi
if [ "$STRICT" = 1 ]; then
	echo "run.sh: strict ($why_strict): only suites whose data is absent" \
	    "from ../shared may skip"
fi

# What a sanitizer or valgrind prints when it found something (ERE).
REPORTS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
REPORTS="$REPORTS|WARNING: ThreadSanitizer|^==[0-9]+== "
# A runner's summary line.
SUMMARY='^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'

total_pass=0
total_fail=0
total_skip=0
OUT=$(mktemp /tmp/mailvet-run.XXXXXX)
trap 'rm -f "$OUT"' EXIT
trap 'exit 130' INT TERM

# runner_fail NAME WHY... - a failure of the runner itself, counted once
runner_fail() {
	name_=$1
	shift
	echo "FAIL runner $name_: $*"
	total_fail=$((total_fail + 1))
}

# judge NAME RC - add up $OUT's summary; fail the runner where it lies
judge() {
	summary=$(grep -E "$SUMMARY" "$OUT" | tail -1)
	if [ -z "$summary" ]; then
		runner_fail "$1" "no \"N passed, N failed, N skipped\" line (exit $2)"
		p=0 f=0 s=0
	else
		read -r p f s <<-EOF
		$(echo "$summary" | sed 's/^[^:]*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/')
		EOF
		if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
			runner_fail "$1" "exit $2 although nothing failed"
		elif [ "$2" -eq 0 ] && [ "$f" -ne 0 ]; then
			runner_fail "$1" "exit 0 although $f failed"
		fi
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	if grep -q -E "$REPORTS" "$OUT"; then
		runner_fail "$1" "sanitizer or valgrind report in its output:"
		grep -E "$REPORTS" "$OUT" | head -5 | sed 's/^/    /'
	fi
	[ "$s" -eq 0 ] && return
	if ! grep -q '^SKIP ' "$OUT"; then
		runner_fail "$1" "$s skipped without a SKIP line naming why"
	elif [ "$STRICT" = 1 ] && grep '^SKIP ' "$OUT" | grep -q -v ': no data: '
	then
		runner_fail "$1" "$s skipped, strict ($why_strict): only" \
		    "absent ../shared data may skip"
	fi
}

# run_one NAME CMD... - run a runner, show its output, judge it
run_one() {
	name=$1
	shift
	echo "== $name"
	"$@" >"$OUT" 2>&1
	rc=$?
	cat "$OUT"
	judge "$name" "$rc"
}

# skip_one NAME WHY - a runner that cannot run here, counted as one skip
skip_one() {
	echo "== $1"
	printf 'SKIP %s: %s\n%s: 0 passed, 0 failed, 1 skipped\n' "$1" "$2" \
	    "$1" >"$OUT"
	cat "$OUT"
	judge "$1" 0
}

RUNNERS=${RUNNERS:-unit miltertest dkim conformance e2e valgrind}

# wanted NAME - is runner NAME among $RUNNERS
wanted() {
	case " $RUNNERS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
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
		runner_fail "$build" "no such build directory"
		continue
	fi
	if wanted unit; then
		for t in "$build"/tests/test_*; do
			[ -x "$t" ] || continue
			run_one "$t" "$t"
		done
	fi
	wanted miltertest &&
	    run_one "miltertest $build" bash tests/miltertest/run.sh "$build"
	wanted dkim && run_one "dkim $build" sh tests/dkim/run.sh "$build"
	wanted conformance &&
	    run_one "conformance $build" sh tests/conformance/run.sh "$build"
	if ! wanted e2e && ! wanted valgrind; then
		continue
	elif [ ! -x "$build/mailvet" ]; then
		runner_fail "e2e $build" "no $build/mailvet"
		continue
	fi
	wanted e2e &&
	    run_one "e2e $build" $PY tests/e2e/run.py --bin "$build/mailvet"
	# A short e2e session under valgrind: no leak, no invalid access.
	case $build in
	*san*) ;;
	*)
		if ! wanted valgrind; then
			:
		elif command -v valgrind >/dev/null 2>&1; then
			run_one "e2e-valgrind $build" env MAILVET_WRAPPER="$VG" \
			    $PY tests/e2e/run.py -k test_core --bin "$build/mailvet"
		else
			skip_one "e2e-valgrind" "valgrind not installed"
		fi
		;;
	esac
done

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
