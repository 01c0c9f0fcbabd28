#!/bin/sh
#
# run.sh - conformance suites from ../shared/conformance/ (when present)
#
#   sh tests/conformance/run.sh [BUILD] [-v] [-k TEST-ID ...]
#
# SPF: the RFC 7208 suite (rfc7208-tests.yml) through mailvet's real SPF
# path: build/tools/spf_check against tests/e2e/dnsserver.py on loopback,
# one DNS server and one driver process per scenario (spf_suite.py).
#
# Always ends with "spf-conformance: N passed, N failed, N skipped" for
# tests/run.sh to add up. When the suite is absent from ../shared it
# prints "SKIP spf-conformance: no data: ..." (the one skip tests/run.sh
# accepts on CI); when python3-yaml or python3-dnslib is missing it prints
# a SKIP with that reason; either way one skipped, exit 0. A missing
# driver or DNS server is a failure (exit 1): they are part of the tree.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=build
case "$1" in
-*|"") ;;
*) BUILD=$1; shift ;;
esac
case "$BUILD" in
/*) ;;
*) BUILD="$ROOT/$BUILD" ;;
esac

SUITE="$ROOT/../shared/conformance/spf/rfc7208-tests.yml"
DRIVER="$BUILD/tools/spf_check"
DNS="$ROOT/tests/e2e/dnsserver.py"
PY=/usr/bin/python3

# skip WHY - the suite cannot run here: say why, count it, stop
skip() {
	echo "SKIP spf-conformance: $1"
	echo "spf-conformance: 0 passed, 0 failed, 1 skipped"
	exit 0
}

# fail_setup WHY - the suite should run but cannot: a failure
fail_setup() {
	echo "FAIL spf-conformance: $1"
	echo "spf-conformance: 0 passed, 1 failed, 0 skipped"
	exit 1
}

[ -f "$SUITE" ] || skip "no data: $SUITE absent"
$PY -c 'import yaml' 2>/dev/null ||
	skip "python3-yaml not installed (apt-get install python3-yaml)"
$PY -c 'import dnslib' 2>/dev/null ||
	skip "python3-dnslib not installed (apt-get install python3-dnslib)"
[ -x "$DRIVER" ] || fail_setup "no $DRIVER (make $BUILD/tools/spf_check)"
[ -f "$DNS" ] || fail_setup "no $DNS"
# Leak detection on for a sanitizer build unless the caller chose.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

exec $PY "$ROOT/tests/conformance/spf_suite.py" "$SUITE" "$DRIVER" "$DNS" "$@"
