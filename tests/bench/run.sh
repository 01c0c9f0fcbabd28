#!/bin/sh
#
# run.sh - "make bench": mailvet against peers, ratios from the same run
#
#   sh tests/bench/run.sh            (after "make all"; needs root)
#
# Installs the peers when missing (opendkim, unbound, rspamd: Debian 12),
# fetches Debian's Sendmail into build/bench/sendmail/ without installing
# it (part 0's Sendmail rows; needs m4 and libwrap0), builds the load driver (mvload), the null milter and the TCP_NODELAY
# shim into build/bench/ with the project's strict flags, generates the
# clients, zones and DKIM-signed messages, then runs tests/bench/bench.py,
# which prints the report and writes build/bench/latest.md.
#
# Environment: BENCH_SCALE (message counts, default 1: about 10 minutes
# on 2 cores), BENCH_ONLY (seq,proto,postfix,latency,memory,curve),
# BENCH_PERF=1 (perf profile of mailvet under protocol load),
# BENCH_BASELINE=REV (also run that commit's daemon, same sitting),
# BENCH_POSTFIX_RUNS (rounds of part 2's null milter / mailvet, default 1).
# Everything listens on loopback only and is stopped on exit.

set -eu

B=build/bench
PY=/usr/bin/python3
CC=${CC:-cc}
WARN="-std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow
-Wstrict-prototypes -Wmissing-prototypes -Wconversion -Wvla
-Wimplicit-fallthrough -Werror -D_GNU_SOURCE -I. -O2 -g"

missing=""
for p in opendkim unbound rspamd linux-perf m4 libwrap0; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bench: installing:$missing"
	# The packages' services must not start: policy-rc.d says so.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $missing >/dev/null
fi

mkdir -p "$B"

# Sendmail for part 0 (tests/e2e/sendmail.py runs it): Debian's sendmail
# packages conflict with postfix as MTAs, so they are downloaded and
# unpacked into $B/sendmail, never installed. Without them the Sendmail
# rows are skipped, the rest of the bench runs.
sm="$B/sendmail"
if [ ! -x "$sm/usr/libexec/sendmail/sendmail" ] ||
    [ ! -f "$sm/usr/share/sendmail/cf/m4/cf.m4" ]; then
	echo "bench: fetching sendmail (apt-get download, dpkg -x) into $sm"
	rm -rf "$sm" "$sm.tmp"
	mkdir -p "$sm.tmp/debs"
	pkgs="sendmail-bin sendmail-base sendmail-cf"
	# A first try without "apt-get update": the lists may be there.
	# shellcheck disable=SC2086 # pkgs is a list of names
	if (cd "$sm.tmp/debs" &&
	    { apt-get download -q $pkgs >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null &&
	    apt-get download -q $pkgs >/dev/null 2>&1; }; }); then
		for deb in "$sm.tmp"/debs/*.deb; do
			dpkg -x "$deb" "$sm.tmp/root"
		done
		mv "$sm.tmp/root" "$sm"
	else
		echo "bench: sendmail could not be fetched: no Sendmail rows"
	fi
	rm -rf "$sm.tmp"
fi

# shellcheck disable=SC2086 # WARN is a list of flags
$CC $WARN -o "$B/mvload" tests/bench/mvload.c -lpthread
# shellcheck disable=SC2086
$CC $WARN -o "$B/nullmilter" tests/bench/nullmilter.c -lmilter -lpthread
# shellcheck disable=SC2086
$CC $WARN -Wno-pedantic -fPIC -shared -o "$B/nodelay.so" \
    tests/bench/nodelay.c -ldl

if [ ! -f "$B/data/clients.txt" ] ||
    [ tests/bench/gen.py -nt "$B/data/clients.txt" ]; then
	rm -rf "$B/data"
	$PY tests/bench/gen.py "$B/data" --clients 512 --messages 64
fi

# BENCH_BASELINE=REV: that commit's daemon runs beside the working tree's
# in the same sitting (rows "mailvet @REV"): before/after of a change.
if [ -n "${BENCH_BASELINE:-}" ]; then
	bl="$B/baseline"
	rm -rf "$bl"
	mkdir -p "$bl"
	git archive "$BENCH_BASELINE" | tar -x -C "$bl"
	make -C "$bl" -s build/mailvet >/dev/null
	BENCH_BASELINE_BIN="$(pwd)/$bl/build/mailvet"
	BENCH_BASELINE_REV=$(git rev-parse --short "$BENCH_BASELINE")
	export BENCH_BASELINE_BIN BENCH_BASELINE_REV
fi

$PY tests/bench/bench.py "$B" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' INT TERM
wait "$pid"
