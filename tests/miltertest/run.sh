#!/bin/bash
#
# run.sh - mailvet's protocol tests: miltertest scenarios, no MTA
#
# Usage: tests/miltertest/run.sh [BUILD_DIR]     (default: build)
#
# Builds nothing. Starts the test DNS server (tests/e2e/dnsserver.py with
# zones.json) and one BUILD_DIR/mailvet per config template (*.conf here,
# @PORT@ @DNSPORT@ @JSON@ @DIR@ filled in) on free loopback ports, then
# runs every scenario (*.lua but lib.lua) under miltertest with a time
# limit. A scenario says which daemon it talks to with a "-- daemon: NAME"
# line (default: main) and may carry, in its leading comments:
#
#   -- expect-verdict: {JSON}   the daemon's log_json must hold a line for
#                               that queue_id with these fields (nested
#                               objects compare as subsets)
#   -- expect-wire: LINE        what the daemon sent back, decoded from an
#                               strace of miltertest's socket reads; the
#                               LINEs must appear in this order
#
# A scenario's run (miltertest's exit status, its verdict lines) counts as
# one test, its expect-wire lines as another ("NAME/wire"). Without strace
# the wire checks are skipped and counted as skipped (one SKIP line names
# them and the reason), never as passed.
#
# After the scenarios every daemon is stopped with SIGTERM and must exit
# 0 on its own, and its stderr must hold no sanitizer or valgrind report
# (REPORTS below: AddressSanitizer, LeakSanitizer, UBSan's "runtime
# error:", ThreadSanitizer, valgrind's "==PID==" lines). The test DNS
# server must still be running at the end. Leak detection is on unless
# ASAN_OPTIONS says otherwise (BUILD_DIR=build-san, made with SAN=1).
#
# Prints PASS / FAIL / SKIP lines and ends with
# "miltertest: N passed, N failed, N skipped"; exits 1 on any failure.
# KEEP=1 keeps the work directory (logs, transcripts) for a look
# afterwards.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-build}
case $BUILD in
/*) BIN=$BUILD/mailvet ;;
*) BIN=$ROOT/$BUILD/mailvet ;;
esac
PY=/usr/bin/python3
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-30}

# What a sanitizer or valgrind prints when it found something (ERE).
REPORTS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
REPORTS="$REPORTS|WARNING: ThreadSanitizer|^==[0-9]+== "

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mailvet-miltertest.XXXXXX")
PIDS=()
passed=0
failed=0
skipped=0
NOWIRE=()

# cleanup - stop what this script started, by process id
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "miltertest: work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; passed=$((passed + 1)); }

fail() {
	echo "FAIL $1"
	shift
	for line in "$@"; do
		[ -n "$line" ] && printf '%s\n' "$line" | sed 's/^/    /'
	done
	failed=$((failed + 1))
}

# finish - the skip line, the summary line and the exit status
finish() {
	if [ ${#NOWIRE[@]} -gt 0 ]; then
		echo "SKIP ${NOWIRE[*]}: strace not installed (apt-get install strace)"
		skipped=$((skipped + ${#NOWIRE[@]}))
	fi
	echo "miltertest: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# free_port - a loopback TCP port nobody listens on right now
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listen PORT - up to 10 s for a listener on 127.0.0.1:PORT
wait_listen() {
	"$PY" - "$1" <<'EOF'
import socket, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# write_checker - the Python that checks verdict lines and wire transcripts
write_checker() {
	cat >"$WORK/check.py" <<'EOF'
"""check.py verdict SCRIPT JSONFILE | wire SCRIPT STRACE PORT OUT"""
import json, re, sys, time

def expectations(script, key):
    pre = "-- " + key + ":"
    with open(script, encoding="utf-8") as f:
        return [l[len(pre):].strip() for l in f if l.startswith(pre)]

def subset(want, got):
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            k in got and subset(v, got[k]) for k, v in want.items())
    return want == got

def verdict(script, path):
    wants = [json.loads(w) for w in expectations(script, "expect-verdict")]
    problems = []
    # Refusals at RCPT are logged when the connection closes, which the
    # daemon sees a moment after miltertest has gone: poll briefly.
    deadline = time.time() + 3
    while True:
        lines = []
        try:
            with open(path, encoding="utf-8") as f:
                lines = [l for l in f if l.strip()]
        except FileNotFoundError:
            pass
        objs, problems = [], []
        for n, l in enumerate(lines, 1):
            try:
                objs.append(json.loads(l))
            except ValueError as e:
                problems.append("log_json line %d is not JSON: %s" % (n, e))
        for w in wants:
            mine = [o for o in objs if o.get("queue_id") == w["queue_id"]]
            if len(mine) != 1:
                problems.append("%d verdict lines for %s, want 1" %
                                (len(mine), w["queue_id"]))
            elif not subset(w, mine[0]):
                diff = {k: mine[0].get(k) for k in w
                        if not subset(w[k], mine[0].get(k))}
                problems.append("verdict %s: want %s, got %s" % (
                    w["queue_id"],
                    json.dumps({k: w[k] for k in diff}), json.dumps(diff)))
        if not problems or time.time() > deadline:
            break
        time.sleep(0.1)
    for p in problems:
        print(p)
    return 1 if problems else 0

SIMPLE = {"c": "continue", "a": "accept", "r": "reject", "t": "tempfail",
          "d": "discard", "p": "progress", "s": "skip"}

def decode(cmd, data):
    """decode - one filter reply as a transcript line"""
    if cmd in SIMPLE:
        return SIMPLE[cmd]
    if cmd == "y":
        return "reply " + data.rstrip(b"\0").decode("latin-1")
    if cmd in ("i", "m"):
        idx = int.from_bytes(data[:4], "big")
        name, value = data[4:].split(b"\0")[:2]
        return "%s %d %s %s" % ("insheader" if cmd == "i" else "chgheader",
                                idx, name.decode("latin-1"),
                                json.dumps(value.decode("latin-1")))
    if cmd == "h":
        name, value = data.split(b"\0")[:2]
        return "addheader %s %s" % (name.decode("latin-1"),
                                    json.dumps(value.decode("latin-1")))
    if cmd == "O":
        return "optneg"
    return "cmd %s %s" % (cmd, json.dumps(data.decode("latin-1")))

def transcript(trace, port):
    """transcript - the daemon's replies, from strace of miltertest"""
    conn_re = re.compile(r'^connect\((\d+), .*htons\(%d\).*\)\s+=\s+0' % port)
    read_re = re.compile(r'^read\((\d+), "((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, \d+\)\s+=\s+\d+')
    close_re = re.compile(r'^close\((\d+)\)')
    streams, out, live = {}, [], {}
    with open(trace, encoding="latin-1") as f:
        for line in f:
            m = conn_re.match(line)
            if m:
                live[m.group(1)] = len(streams)
                streams[len(streams)] = bytearray()
                continue
            m = close_re.match(line)
            if m:
                live.pop(m.group(1), None)
                continue
            m = read_re.match(line)
            if m and m.group(1) in live:
                hexs = m.group(2).replace("\\x", "")
                streams[live[m.group(1)]] += bytes.fromhex(hexs)
    for sid in sorted(streams):
        buf = bytes(streams[sid])
        while len(buf) >= 5:
            n = int.from_bytes(buf[:4], "big")
            cmd, data = chr(buf[4]), buf[5:4 + n]
            out.append(decode(cmd, data))
            buf = buf[4 + n:]
    return out

def wire(script, trace, port, outpath):
    lines = transcript(trace, int(port))
    with open(outpath, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    pos = 0
    for want in expectations(script, "expect-wire"):
        while pos < len(lines) and lines[pos] != want:
            pos += 1
        if pos == len(lines):
            print("not on the wire (in this order): " + want)
            return 1
        pos += 1
    return 0

if sys.argv[1] == "verdict":
    sys.exit(verdict(sys.argv[2], sys.argv[3]))
sys.exit(wire(*sys.argv[2:6]))
EOF
}

# start_dns - the test DNS server on a free port; sets DNSPORT
start_dns() {
	"$PY" "$ROOT/tests/e2e/dnsserver.py" --zones "$HERE/zones.json" \
	    --port 0 --addr 127.0.0.1 --ready-file "$WORK/dns.port" \
	    >"$WORK/dns.out" 2>&1 &
	DNSPID=$!
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -s "$WORK/dns.port" ] && break
		sleep 0.05
	done
	DNSPORT=$(cat "$WORK/dns.port" 2>/dev/null)
	[ -n "$DNSPORT" ]
}

declare -A DPORT DPID DEAD

# start_daemon NAME - BUILD/mailvet with NAME.conf on a free port
start_daemon() {
	local name=$1 port conf=$WORK/$1.conf
	port=$(free_port)
	sed -e "s|@PORT@|$port|g" -e "s|@DNSPORT@|$DNSPORT|g" \
	    -e "s|@JSON@|$WORK/$name.json|g" -e "s|@DIR@|$HERE|g" \
	    "$HERE/$name.conf" >"$conf"
	"$BIN" -f -c "$conf" 2>"$WORK/$name.err" &
	DPID[$name]=$!
	PIDS+=($!)
	DPORT[$name]=$port
	wait_listen "$port"
}

# run_script FILE - one scenario: its run, then its wire check if any
run_script() {
	local lua=$1 name daemon out rc msgs=() wire=0
	name=$(basename "$lua" .lua)
	daemon=$(sed -n 's/^-- daemon: *\([a-z0-9_-]*\).*/\1/p' "$lua" | head -1)
	daemon=${daemon:-main}
	grep -q '^-- expect-wire:' "$lua" && wire=1
	if [ -z "${DPORT[$daemon]:-}" ]; then
		fail "$name" "no daemon \"$daemon\" (missing $daemon.conf?)"
		[ $wire -eq 1 ] && fail "$name/wire" "not run"
		return
	fi
	out=$WORK/$name.out
	local cmd=(miltertest -D "port=${DPORT[$daemon]}" -D "libdir=$HERE"
		   -s "$lua")
	if [ $wire -eq 1 ] && [ -n "$STRACE" ]; then
		cmd=("$STRACE" -e trace=connect,read,close -s 65536 -xx
		     -o "$WORK/$name.strace" "${cmd[@]}")
	fi
	timeout "$SCRIPT_TIMEOUT" "${cmd[@]}" >"$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		[ $rc -eq 124 ] && msgs+=("timed out after ${SCRIPT_TIMEOUT}s")
		msgs+=("exit status $rc" "$(grep -v '^all checks passed' "$out")")
	fi
	if ! res=$("$PY" "$WORK/check.py" verdict "$lua" \
	    "$WORK/$daemon.json" 2>&1); then
		msgs+=("$res")
	fi
	if [ ${#msgs[@]} -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "${msgs[@]}"
	fi
	[ $wire -eq 1 ] && wire_check "$lua" "$name" "$daemon" $rc
}

# wire_check LUA NAME DAEMON RC - the expect-wire lines of one scenario
wire_check() {
	local res
	if [ -z "$STRACE" ]; then
		NOWIRE+=("$2/wire")
	elif [ "$4" -ne 0 ]; then
		fail "$2/wire" "not checked: the scenario exited $4"
	elif res=$("$PY" "$WORK/check.py" wire "$1" "$WORK/$2.strace" \
	    "${DPORT[$3]}" "$WORK/$2.wire" 2>&1); then
		pass "$2/wire"
	else
		fail "$2/wire" "$res" "transcript: $WORK/$2.wire (KEEP=1 keeps it)"
	fi
}

# term_daemon NAME - SIGTERM if still alive; remember if it was not
term_daemon() {
	if kill -0 "${DPID[$1]}" 2>/dev/null; then
		kill -TERM "${DPID[$1]}"
	else
		DEAD[$1]=1
	fi
}

# stop_daemon NAME - wait for its exit, then judge its status and stderr
stop_daemon() {
	local name=$1 pid=${DPID[$1]} err=$WORK/$1.err msgs=() rc
	if [ -n "${DEAD[$name]:-}" ]; then
		msgs+=("mailvet ($name) died during the run")
	else
		for _ in $(seq 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			msgs+=("no exit 15 s after SIGTERM")
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	[ $rc -ne 0 ] && msgs+=("exit status $rc (want 0 after SIGTERM)")
	if grep -q -E "$REPORTS" "$err"; then
		msgs+=("sanitizer or valgrind report in its stderr ($err):"
		       "$(grep -E -A12 "$REPORTS" "$err" |
			   grep -v '^mailvet: info:' | head -40)")
	fi
	if [ ${#msgs[@]} -eq 0 ]; then
		pass "daemon-$name"
	else
		fail "daemon-$name" "${msgs[@]}"
	fi
}

# stop_dns - the test DNS server must have lived to the end
stop_dns() {
	if kill -0 "$DNSPID" 2>/dev/null; then
		pass "dns-server"
	else
		fail "dns-server" "the test DNS server died during the run" \
		    "$(tail -20 "$WORK/dns.out")"
	fi
}

missing=()
[ -x "$BIN" ] || missing+=("$BIN not built (make $BUILD/mailvet)")
command -v miltertest >/dev/null || missing+=("miltertest not installed")
[ -x "$PY" ] || missing+=("$PY not found")
if [ ${#missing[@]} -gt 0 ]; then
	fail setup "${missing[@]}"
	finish
fi
STRACE=$(command -v strace || true)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

write_checker
if ! start_dns; then
	fail setup "the test DNS server did not start" "$(cat "$WORK/dns.out")"
	finish
fi
for conf in "$HERE"/*.conf; do
	name=$(basename "$conf" .conf)
	if ! start_daemon "$name"; then
		fail "daemon-$name" "mailvet did not listen" \
		    "$(cat "$WORK/$name.err")"
		unset "DPORT[$name]"
	fi
done
for lua in "$HERE"/*.lua; do
	[ "$(basename "$lua")" = lib.lua ] && continue
	run_script "$lua"
done
for name in "${!DPID[@]}"; do
	term_daemon "$name"
done
for name in "${!DPID[@]}"; do
	[ -n "${DPORT[$name]:-}" ] && stop_daemon "$name"
done
stop_dns
finish
