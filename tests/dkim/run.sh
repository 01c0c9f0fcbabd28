#!/bin/sh
#
# run.sh - DKIM verification through the real module, against a test DNS
#
#   sh tests/dkim/run.sh BUILD_DIR
#
# Generates keys and signed messages (tests/dkim/gen.py, python3-dkim as
# the independent signer) into a temporary directory, serves the keys
# with tests/e2e/dnsserver.py on a free loopback port, runs
# BUILD_DIR/tools/dkim_verify over every message and compares with the
# expectations (tests/dkim/check.py). Prints one "ok"/"FAIL" line per
# case and "dkim: N passed, N failed, 0 skipped"; exits 1 when a case
# failed. A case also fails when dkim_verify exits non-zero or its stderr
# holds a sanitizer or valgrind report; a DNS server that died during the
# run is one more failure.
# Under valgrind: DKIM_WRAP="valgrind -q --error-exitcode=9 --leak-check=full"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
BUILD=${1:?usage: run.sh BUILD_DIR}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TOOL=$BUILD/tools/dkim_verify
TMP=$(mktemp -d /tmp/mailvet-dkim.XXXXXX)
DNSPID=
# What a sanitizer or valgrind prints when it found something (ERE).
REPORTS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
REPORTS="$REPORTS|WARNING: ThreadSanitizer|^==[0-9]+== "

cleanup() {
	[ -n "$DNSPID" ] && kill "$DNSPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_setup() {
	echo "FAIL dkim: $1"
	echo "dkim: 0 passed, 1 failed, 0 skipped"
	exit 1
}

[ -x "$TOOL" ] || fail_setup "$TOOL missing"
$PY "$ROOT/tests/dkim/gen.py" "$TMP" || fail_setup "fixture generation failed"
$PY "$ROOT/tests/e2e/dnsserver.py" --zones "$TMP/zones.json" --port 0 \
    --addr 127.0.0.1 --ready-file "$TMP/port" >/dev/null 2>&1 &
DNSPID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$TMP/port" ] || fail_setup "DNS server did not start"
SERVER=127.0.0.1:$(cat "$TMP/port")

mkdir "$TMP/out"
rc=0
while IFS='	' read -r name result sigs extra; do
	args=$(echo "$extra" | tr " " "\n" | sed -n "s/^args=//p" | tr "\n" " ")
	# shellcheck disable=SC2086
	$DKIM_WRAP "$TOOL" $args "$SERVER" "$TMP/$name" >"$TMP/out/$name.out" \
	    2>"$TMP/out/$name.err"
	st=$?
	if [ $st -ne 0 ] || grep -q -E "$REPORTS" "$TMP/out/$name.err"; then
		# check.py counts the case as failed: its output is gone.
		echo "dkim_verify $name: exit status $st; its stderr:"
		sed 's/^/    /' "$TMP/out/$name.err"
		rc=1
		rm -f "$TMP/out/$name.out"
	fi
done <"$TMP/expect.txt"
dns_dead=0
kill -0 "$DNSPID" 2>/dev/null || dns_dead=1
[ $dns_dead -eq 1 ] && echo "FAIL dns-server: the test DNS server died during the run"
$PY "$ROOT/tests/dkim/check.py" "$TMP/expect.txt" "$TMP/out" $dns_dead || rc=1
[ -n "$DKIM_KEEP" ] && cp -r "$TMP/out" "$DKIM_KEEP"
exit $rc
