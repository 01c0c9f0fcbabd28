#!/bin/sh
#
# run.sh - conformance suites from ../shared/conformance/ (when present)
#
#   sh tests/conformance/run.sh [BUILD] [-v] [-k TEST-ID ...]
#
# SPF: the RFC 7208 suite (rfc7208-tests.yml) through mailvet's real SPF
# path: build/tools/spf_check against tests/e2e/dnsserver.py on loopback,
# one DNS server and one driver process per scenario. Skips (exit 0) with
# a message when the suite, the driver, python3-yaml or dnslib is missing.
# Prints "spf-conformance: N passed, N failed" for tests/run.sh to add up.

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

skip() {
	echo "spf rfc7208: skipped ($1)"
	exit 0
}

[ -f "$SUITE" ] || skip "no $SUITE"
[ -x "$DRIVER" ] || skip "no $DRIVER (make $BUILD/tools/spf_check)"
[ -f "$DNS" ] || skip "no $DNS"
$PY -c 'import yaml' 2>/dev/null ||
	skip "python3-yaml missing (apt-get install -y python3-yaml)"
$PY -c 'import dnslib' 2>/dev/null || skip "python3-dnslib missing"

exec $PY "$ROOT/tests/conformance/spf_suite.py" "$SUITE" "$DRIVER" "$DNS" "$@"
