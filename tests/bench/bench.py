#!/usr/bin/python3
"""
bench - mailvet's benchmarks against peers, ratios from the same run

    bench.py BENCHDIR        (run.sh calls it; BENCHDIR holds mvload etc.)

Environment: BENCH_SCALE (float, default 1: message counts scale with it),
BENCH_PERF=1 (perf profile of mailvet under protocol load), BENCH_ONLY
(comma list of parts: seq,proto,postfix,latency,memory,curve),
BENCH_BASELINE_BIN and BENCH_BASELINE_REV (set by run.sh from
BENCH_BASELINE=REV: an older daemon measured beside this one in parts 0-3,
rows "mailvet @REV"), BENCH_POSTFIX_RUNS (rounds of part 2, default 1).

Starts, all on loopback: unbound on 127.0.0.153:53 serving the generated
zones (opendkim's resolver cannot take a port), the test DNS server of
tests/e2e with --delay-ms 50 for the latency part, private Postfix
instances (tests/e2e/harness.py), mailvet, opendkim (verify mode), the
null milter and a private rspamd (Debian's stock rules, its proxy worker
in milter mode scanning itself, DNS to unbound only, no redis, modules
that reach the network off: see RSPAMD_OFF).  Every process is stopped at
exit.  Prints a markdown report
and writes it to BENCHDIR/latest.md (raw numbers: BENCHDIR/latest.json).
"""

import atexit
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402
import sendmail  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
ONLY = [p for p in os.environ.get("BENCH_ONLY", "").split(",") if p]
DNS_ADDR = "127.0.0.153"
CONC = 16
_procs = []
R = {}          # raw results
OUT = []        # report lines


def n_of(base, floor=50):
    """n_of - a message count scaled by BENCH_SCALE"""
    return max(int(base * SCALE), floor)


def say(line=""):
    """say - one report line, printed as it comes"""
    OUT.append(line)
    print(line, flush=True)


def spawn(cmd, log, env=None):
    """spawn - start a helper process, stopped at exit"""
    f = open(log, "w")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    _procs.append(p)
    return p


def stop(p):
    """stop - stop one helper process by its pid, and its orphans"""
    if p in _procs:
        _procs.remove(p)
    kids = children(p.pid) if p.poll() is None else []
    harness._stop_proc(p, 10)
    # rspamd's workers outlive a main process that had to be killed.
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def proc_stat(pid):
    """proc_stat - the fields of /proc/PID/stat after the name, or None"""
    try:
        with open("/proc/%s/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    return st[st.rfind(")") + 2:].split()


def children(pid):
    """children - pids of the live children of pid"""
    out = []
    for d in os.listdir("/proc"):
        st = proc_stat(d) if d.isdigit() else None
        if st is not None and int(st[1]) == pid and st[0] != "Z":
            out.append(int(d))
    return out


def _stop_all():
    """_stop_all - stop every helper still running (atexit)"""
    for p in list(_procs):
        stop(p)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))


def wait_port(port, what, proc=None):
    """wait_port - wait until something listens on TCP port"""
    harness.wait_for(lambda: harness.tcp_listening(port) or
                     (proc is not None and proc.poll() is not None), 15,
                     what=what)
    if proc is not None and proc.poll() is not None:
        raise RuntimeError("%s exited with %s" % (what, proc.returncode))


def tree_cpu(pid):
    """tree_cpu - CPU ticks used by pid and its children"""
    total = 0
    for p in [pid] + children(pid):
        st = proc_stat(p)
        if st is not None:
            total += int(st[11]) + int(st[12])
    return total


def settle(pid, timeout):
    """settle - wait until a process tree is idle for a second"""
    deadline = time.monotonic() + timeout
    last = tree_cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = tree_cpu(pid)
        if now - last <= 2:
            return
        last = now
    sys.stderr.write("bench: pid %d still busy after %ds\n"
                     % (pid, timeout))


def rss_kib(pid):
    """rss_kib - resident set of a process in KiB"""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Bench:
    """Bench - generated data, DNS, binaries and the parts of the run"""

    def __init__(self, bdir):
        self.bdir = bdir
        self.work = os.path.join(bdir, "work")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.data = os.path.join(bdir, "data")
        self.mvload = os.path.join(bdir, "mvload")
        self.nodelay = os.path.join(bdir, "nodelay.so")
        # A private copy: others may rebuild build/mailvet meanwhile.
        self.mailvet_bin = os.path.join(self.work, "mailvet")
        shutil.copy2(os.path.join(ROOT, "build", "mailvet"),
                     self.mailvet_bin)
        self.baseline_bin = None
        self.baseline_rev = os.environ.get("BENCH_BASELINE_REV", "")
        if os.environ.get("BENCH_BASELINE_BIN"):
            self.baseline_bin = os.path.join(self.work, "mailvet-baseline")
            shutil.copy2(os.environ["BENCH_BASELINE_BIN"], self.baseline_bin)
        self.clients = os.path.join(self.data, "clients.txt")
        mdir = os.path.join(self.data, "msg")
        self.msgs = sorted(os.path.join(mdir, f) for f in os.listdir(mdir))
        self.unbound = None
        self.extra_conf = self._detect_conf()

    def _detect_conf(self):
        """_detect_conf - the optional checks this mailvet build knows"""
        extra = {}
        want = {"dnsbl_sites": "zen.bench.example=127.0.0.[2..11]",
                "rhsbl_sites": "dbl.bench.example"}
        for k, v in want.items():
            path = os.path.join(self.work, "probe.conf")
            with open(path, "w") as f:
                f.write("%s = %s\n" % (k, v))
            p = subprocess.run([self.mailvet_bin, "-n", "-c", path],
                               capture_output=True, text=True)
            if p.returncode == 0:
                extra[k] = v
        return extra

    def mailvet_conf(self, **kw):
        """mailvet_conf - the benchmark's mailvet options"""
        conf = {"dns_servers": DNS_ADDR, "log_json": None}
        conf.update(self.extra_conf)
        conf.update(kw)
        return conf

    def start_unbound(self):
        """start_unbound - unbound on DNS_ADDR:53 with the zones"""
        conf = os.path.join(self.work, "unbound.conf")
        with open(conf, "w") as f:
            f.write(UNBOUND_CONF % {"addr": DNS_ADDR, "dir": self.work,
                                    "zones": os.path.join(self.data,
                                                          "zones.unbound")})
        self.unbound = spawn(["unbound", "-d", "-c", conf],
                             os.path.join(self.work, "unbound.log"))
        time.sleep(0.5)
        if self.unbound.poll() is not None:
            raise RuntimeError("unbound did not start: see %s/unbound.log"
                               % self.work)

    def load(self, mode, port, n, conc=CONC, msgs=None, extra=()):
        """load - run mvload; its summary as a dict of numbers"""
        cmd = [self.mvload, "-m", mode, "-a", "127.0.0.1:%d" % port,
               "-C", self.clients, "-c", str(conc), "-n", str(n)]
        cmd += list(extra) + (msgs or self.msgs)
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=900)
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() \
            else ""
        res = {k: float(v) for k, v in
               (kv.split("=") for kv in line.split() if "=" in kv)}
        if not res or res.get("err", 0) > 0 or p.returncode != 0:
            sys.stderr.write("bench: mvload %s: %s %s\n"
                             % (" ".join(cmd[:12]), line, p.stderr[-800:]))
        res.setdefault("rate", 0.0)
        return res

    def mailvet(self, port, **conf):
        """mailvet - start the daemon on port with the bench options"""
        return harness.Mailvet(self.mailvet_conf(**conf), port=port,
                               binary=self.mailvet_bin)

    def baseline(self, port, **conf):
        """baseline - the BENCH_BASELINE daemon on port (same options)"""
        return harness.Mailvet(self.mailvet_conf(**conf), port=port,
                               binary=self.baseline_bin)

    def mailvets(self):
        """mailvets - (row name, start function) of mailvet and baseline"""
        rows = [("mailvet", self.mailvet)]
        if self.baseline_bin:
            rows.append(("mailvet @" + self.baseline_rev, self.baseline))
        return rows

    def opendkim(self, port, nodelay):
        """opendkim - opendkim in verify mode on port (shim optional)"""
        d = os.path.join(self.work, "opendkim-%d" % port)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "opendkim.conf")
        with open(conf, "w") as f:
            f.write(OPENDKIM_CONF % {"port": port, "dns": DNS_ADDR,
                                     "dir": d})
        env = dict(os.environ)
        if nodelay:
            env["LD_PRELOAD"] = self.nodelay
        p = spawn(["opendkim", "-f", "-x", conf],
                  os.path.join(d, "log"), env=env)
        wait_port(port, "opendkim on %d" % port, p)
        return p

    def rspamd(self, port):
        """rspamd - a private rspamd, proxy worker as milter on port"""
        d = os.path.join(self.work, "rspamd-%d" % port)
        etc = os.path.join(d, "etc")
        for sub in ("local.d", "override.d"):
            os.makedirs(os.path.join(etc, sub), exist_ok=True)
        # The hyperscan cache outlives work/: compiling it takes a while.
        hs = os.path.join(self.bdir, "rspamd-hs")
        own = [os.path.join(d, x) for x in ("db", "run", "log")] + [hs]
        for x in own:
            os.makedirs(x, exist_ok=True)
            shutil.chown(x, "_rspamd", "_rspamd")
        files = {"local.d/options.inc": RSPAMD_OPTIONS,
                 "override.d/worker-proxy.inc": RSPAMD_PROXY,
                 "override.d/worker-normal.inc": "enabled = false;\n",
                 "override.d/worker-controller.inc": "enabled = false;\n",
                 "override.d/logging.inc": RSPAMD_LOGGING,
                 "local.d/milter_headers.conf": RSPAMD_HEADERS}
        for m in RSPAMD_OFF:
            files["local.d/%s.conf" % m] = "enabled = false;\n"
        for name, text in files.items():
            with open(os.path.join(etc, name), "w") as f:
                f.write(text % {"dns": DNS_ADDR, "port": port, "dir": d,
                                "hs": hs, "count": os.cpu_count() or 1})
        cmd = ["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd",
               "-c", "/etc/rspamd/rspamd.conf",
               "-p", os.path.join(d, "run", "rspamd.pid")]
        for k, sub in (("LOCAL_CONFDIR", "etc"), ("DBDIR", "db"),
                       ("RUNDIR", "run"), ("LOGDIR", "log")):
            cmd += ["--var", "%s=%s" % (k, os.path.join(d, sub))]
        p = spawn(cmd, os.path.join(d, "stdout.log"))
        harness.wait_for(lambda: harness.tcp_listening(port) or
                         p.poll() is not None, 60,
                         what="rspamd on %d" % port)
        if p.poll() is not None:
            raise RuntimeError("rspamd exited with %s: see %s"
                               % (p.returncode, d))
        settle(p.pid, 180)      # hs_helper compiles on a cold cache
        return p

    def nullmilter(self, port):
        """nullmilter - the null milter on port"""
        p = spawn([os.path.join(self.bdir, "nullmilter"),
                   "inet:%d@127.0.0.1" % port],
                  os.path.join(self.work, "nullmilter.log"))
        wait_port(port, "nullmilter on %d" % port, p)
        return p


UNBOUND_CONF = """server:
    interface: %(addr)s
    port: 53
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "%(dir)s"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    local-zone: "." static
    include: "%(zones)s"
remote-control:
    control-enable: no
"""

# rspamd: Debian's stock configuration (/etc/rspamd) with a private
# LOCAL_CONFDIR, DBDIR, RUNDIR and LOGDIR.  One proxy worker per core
# scans in-process (self_scan), the normal and controller workers are off.
# DNS goes to unbound only (which answers nothing outside the bench zones),
# so SPF, DKIM, DMARC, RBL and SURBL lookups stay on loopback.  Off: every
# module that needs redis or reaches the network by other means.
RSPAMD_OFF = ("fuzzy_check", "phishing", "neural", "ratelimit", "greylist",
              "replies", "reputation", "history_redis", "url_redirector",
              "asn", "emails", "dcc", "spamassassin", "metadata_exporter",
              "clickhouse", "elastic", "external_services", "antivirus",
              "multimap", "mx_check", "p0f", "bimi", "rspamd_update")

RSPAMD_OPTIONS = """dns {
    nameserver = ["%(dns)s:53"];
    timeout = 1s;
    retransmits = 2;
}
hs_cache_dir = "%(hs)s";
local_addrs = [];
"""

RSPAMD_PROXY = """milter = yes;
timeout = 120s;
bind_socket = "127.0.0.1:%(port)d";
count = %(count)d;
upstream "local" {
    default = yes;
    self_scan = yes;
}
spam_header = "X-Spam";
"""

RSPAMD_LOGGING = """type = "file";
filename = "%(dir)s/log/rspamd.log";
level = "notice";
"""

RSPAMD_HEADERS = """use = ["x-spamd-result", "x-spam-status",
       "authentication-results"];
"""

OPENDKIM_CONF = """Mode v
Socket inet:%(port)d@127.0.0.1
Nameservers %(dns)s
Background no
Syslog no
PidFile %(dir)s/opendkim.pid
AuthservID mx.test.example
AlwaysAddARHeader yes
UserID root
"""


def part_proto(b):
    """part_proto - 1. protocol driver: mailvet vs opendkim"""
    say("## 1. Milter protocol, %d DKIM-signed messages, %d sessions"
        % (n_of(3000), CONC))
    say()
    say("| filter | msg/s | p50 ms | p99 ms | mailvet / filter |")
    say("|---|---:|---:|---:|---:|")
    port = harness.free_port()
    rows = []
    m = b.mailvet(port)
    b.load("milter", port, 300)                     # warm the cache
    if os.environ.get("BENCH_PERF"):
        perf = subprocess.Popen(
            ["perf", "record", "-F", "499", "-g", "-o",
             os.path.join(b.bdir, "perf-mailvet.data"), "-p",
             str(m.proc.pid), "--", "sleep", "6"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _procs.append(perf)
    rows.append(("mailvet", b.load("milter", port, n_of(3000))))
    m.stop(check=False)
    if b.baseline_bin:
        port = harness.free_port()
        m = b.baseline(port)
        b.load("milter", port, 300)
        rows.append(("mailvet @" + b.baseline_rev,
                     b.load("milter", port, n_of(3000))))
        m.stop(check=False)
    for name, nd in (("opendkim (as shipped)", False),
                     ("opendkim + TCP_NODELAY shim", True)):
        port = harness.free_port()
        p = b.opendkim(port, nd)
        b.load("milter", port, 100)
        rows.append((name, b.load("milter", port, n_of(3000))))
        stop(p)
    port = harness.free_port()
    p = b.rspamd(port)
    b.load("milter", port, 100)
    rows.append(("rspamd (milter mode)", b.load("milter", port,
                                                n_of(3000))))
    stop(p)
    mv = rows[0][1]["rate"]
    for name, r in rows:
        say("| %s | %.0f | %.1f | %.1f | %.2f |"
            % (name, r["rate"], r.get("p50_ms", 0), r.get("p99_ms", 0),
               mv / r["rate"] if r["rate"] else 0))
    R["proto"] = dict(rows)
    say()


def postfix_run(b, milter_port, start):
    """postfix_run - Postfix with smtpd_milters at milter_port; msg/s"""
    milter = "inet:127.0.0.1:%d" % milter_port if milter_port else ""
    pf = harness.Postfix(milter=milter, main_cf={
        "smtpd_milters": milter, "default_process_limit": 200})
    try:
        proc = start() if start else None
        b.load("smtp", pf.port, 100)
        res = b.load("smtp", pf.port, n_of(1500))
        if proc is not None:
            if isinstance(proc, harness.Mailvet):
                proc.stop(check=False)
            else:
                stop(proc)
        return res
    finally:
        pf.stop()


def part_postfix(b):
    """part_postfix - 2. through Postfix with XCLIENT

    BENCH_POSTFIX_RUNS rounds of no milter, null milter and mailvet (and
    the baseline), the peers once; each round's mailvet / null milter.
    """
    runs = int(os.environ.get("BENCH_POSTFIX_RUNS", "1"))
    say("## 2. Through Postfix (XCLIENT), %d messages, %d sessions"
        % (n_of(1500), CONC))
    say()
    rows, ratios = [], []
    ours = [("null milter", lambda port: b.nullmilter(port))]
    ours += [(name, lambda port, fn=fn: fn(port)) for name, fn in b.mailvets()]
    peers = [("opendkim (as shipped)", lambda port: b.opendkim(port, False)),
             ("opendkim + TCP_NODELAY shim",
              lambda port: b.opendkim(port, True)),
             ("rspamd (milter mode)", lambda port: b.rspamd(port))]
    for rnd in range(runs):
        tag = " (run %d)" % (rnd + 1) if runs > 1 else ""
        got = [("no milter" + tag, postfix_run(b, None, None))]
        for name, fn in ours + (peers if rnd == 0 else []):
            port = harness.free_port()
            got.append((name + tag,
                        postfix_run(b, port, lambda: fn(port))))
        d = dict(got)
        null = d["null milter" + tag]["rate"]
        ratios.append(d["mailvet" + tag]["rate"] / null if null else 0)
        for name, r in got:
            rows.append((name, r, d["no milter" + tag]["rate"], null))
    say("| path | msg/s | p50 ms | p99 ms | / no milter | / null milter |")
    say("|---|---:|---:|---:|---:|---:|")
    for name, r, none, null in rows:
        say("| %s | %.0f | %.1f | %.1f | %.2f | %.2f |"
            % (name, r["rate"], r.get("p50_ms", 0), r.get("p99_ms", 0),
               r["rate"] / none if none else 0,
               r["rate"] / null if null else 0))
    say()
    say("mailvet / null milter, each run: %s"
        % ", ".join("%.3f" % x for x in ratios))
    R["postfix"] = {name: r for name, r, _, _ in rows}
    R["postfix_ratios"] = ratios
    say()


def seq_postfix(b, start):
    """seq_postfix - one message at a time through Postfix; mvload dict"""
    port = harness.free_port() if start else None
    milter = "inet:127.0.0.1:%d" % port if port else ""
    pf = harness.Postfix(milter=milter, main_cf={"smtpd_milters": milter})
    proc = None
    try:
        proc = start(port) if start else None
        b.load("smtp", pf.port, 20, conc=1)             # warm caches
        return b.load("smtp", pf.port, max(60, n_of(100)), conc=1)
    finally:
        if isinstance(proc, harness.Mailvet):
            proc.stop(check=False)
        elif proc is not None:
            stop(proc)
        pf.stop()


def seq_proto(b, start):
    """seq_proto - one session at a time on the milter protocol"""
    port = harness.free_port()
    proc = start(port)
    try:
        b.load("milter", port, 50, conc=1)
        return b.load("milter", port, max(60, n_of(300)), conc=1)
    finally:
        if isinstance(proc, harness.Mailvet):
            proc.stop(check=False)
        else:
            stop(proc)


# Sendmail has no XCLIENT: its client is mvload at 127.0.0.1, which
# mailvet trusts by default; this makes it run its checks for these rows.
SENDMAIL_MAILVET = {"trusted_networks": "192.0.2.255/32"}


def seq_sendmail(b, start):
    """seq_sendmail - one message at a time through a private Sendmail

    (tests/e2e/sendmail.py: F=T, sendmail-cf's default macros); mvload
    -X, no XCLIENT.  Raises harness.Skip when Sendmail is not there.
    """
    port = harness.free_port() if start else None
    sm = sendmail.Sendmail(milter="inet:127.0.0.1:%d" % port if port
                           else "")
    proc = None
    try:
        proc = start(port) if start else None
        b.load("smtp", sm.port, 20, conc=1, extra=["-X"])
        return b.load("smtp", sm.port, max(60, n_of(100)), conc=1,
                      extra=["-X"])
    finally:
        if isinstance(proc, harness.Mailvet):
            proc.stop(check=False)
        elif proc is not None:
            stop(proc)
        sm.stop(check=False)


def sendmail_rows(b):
    """sendmail_rows - part 0's Sendmail rows, or ([], why they are not)"""
    rows = []
    try:
        rows.append(("Sendmail, no milter", seq_sendmail(b, None)))
    except harness.Skip as e:
        return [], "Sendmail rows skipped: %s." % e
    rows.append(("Sendmail, null milter", seq_sendmail(b, b.nullmilter)))
    rows += [("Sendmail, " + name,
              seq_sendmail(b, lambda port, fn=fn: fn(port,
                                                     **SENDMAIL_MAILVET)))
             for name, fn in b.mailvets()]
    return rows, ("%s (Debian's, unpacked in %s), F=T, sendmail-cf's "
                  "default milter macros, no XCLIENT: the client is "
                  "127.0.0.1, mailvet with trusted_networks = %s."
                  % (sendmail.version(), sendmail.find_root(),
                     SENDMAIL_MAILVET["trusted_networks"]))


def part_seq(b):
    """part_seq - 0. one transaction at a time: latency, not throughput

    A saturated run hides a fixed pause per message in the queueing (a
    40 ms delayed-ACK stall went unseen that way), so this part sends one
    message at a time, warm cache, through Postfix, through Sendmail
    (tests/e2e/sendmail.py; skipped with a note when it is not there) and
    on the protocol driver, and states medians and p90 side by side with
    the null milter.
    """
    say("## 0. One message at a time (warm cache), median and p90")
    say()
    say("| path | messages | p50 ms | p90 ms | p99 ms | p50 - null milter |")
    say("|---|---:|---:|---:|---:|---:|")
    rows = [("Postfix, no milter", seq_postfix(b, None)),
            ("Postfix, null milter", seq_postfix(b, b.nullmilter))]
    rows += [("Postfix, " + name, seq_postfix(b, fn))
             for name, fn in b.mailvets()]
    sm_rows, sm_note = sendmail_rows(b)
    rows += sm_rows
    rows.append(("protocol driver, null milter", seq_proto(b, b.nullmilter)))
    rows += [("protocol driver, " + name, seq_proto(b, fn))
             for name, fn in b.mailvets()]
    null = {"Postfix": rows[1][1],
            "protocol driver": dict(rows)["protocol driver, null milter"],
            "Sendmail": dict(rows).get("Sendmail, null milter")}
    for name, r in rows:
        ref = null[name.split(",")[0]]
        say("| %s | %d | %.2f | %.2f | %.2f | %+.2f |"
            % (name, r.get("msgs", 0), r.get("p50_ms", 0),
               r.get("p90_ms", 0), r.get("p99_ms", 0),
               r.get("p50_ms", 0) - ref.get("p50_ms", 0)))
    R["seq"] = dict(rows)
    say()
    say(sm_note)
    # Through Sendmail the null milter is no floor: Sendmail writes each
    # stage's MACRO packet before the command, Nagle on, and plain
    # libmilter delays its ACK of it (about 40 ms at connect, HELO, MAIL,
    # RCPT and end of message), so mailvet is also set against no milter.
    if sm_rows:
        none = dict(rows)["Sendmail, no milter"]["p50_ms"]
        say("Through Sendmail, p50 - no milter: %s."
            % ", ".join("%s %+.2f ms" % (name[len("Sendmail, "):],
                                         r["p50_ms"] - none)
                        for name, r in sm_rows[1:]))
    say()


def latency_run(b, dns, n, binary):
    """latency_run - n sequential transactions, cache off; (res, queries)"""
    port = harness.free_port()
    pf = harness.Postfix(milter="inet:127.0.0.1:%d" % port,
                         main_cf={"smtpd_milters":
                                  "inet:127.0.0.1:%d" % port})
    try:
        m = harness.Mailvet(b.mailvet_conf(dns_servers=dns.servers,
                                           dns_cache_size=0),
                            port=port, binary=binary)
        dns.clear_queries()
        res = b.load("smtp", pf.port, n, conc=1)
        nq = len(dns.queries())
        m.stop(check=False)
    finally:
        pf.stop()
    return res, nq


def part_latency(b):
    """part_latency - 3. added transaction time with 50 ms DNS"""
    n = n_of(60, 20)
    say("## 3. Latency with every DNS answer delayed 50 ms "
        "(%d sequential transactions, mailvet cache off)" % n)
    say()
    zones = json.load(open(os.path.join(b.data, "zones.json")))
    dns = harness.Dns(zones, delay_ms=50)
    rows = []
    try:
        pf = harness.Postfix(milter="", main_cf={"smtpd_milters": ""})
        try:
            base = b.load("smtp", pf.port, n, conc=1)
        finally:
            pf.stop()
        mv, nq = latency_run(b, dns, n, b.mailvet_bin)
        rows.append(("mailvet", mv))
        if b.baseline_bin:
            old, _ = latency_run(b, dns, n, b.baseline_bin)
            rows.append(("mailvet @" + b.baseline_rev, old))
    finally:
        dns.stop()
    q = nq / max(mv["msgs"], 1)
    say("| | p50 ms | p99 ms | added p50 | added p99 |")
    say("|---|---:|---:|---:|---:|")
    say("| no milter | %.1f | %.1f | | |" % (base["p50_ms"], base["p99_ms"]))
    for name, r in rows:
        add50 = r["p50_ms"] - base["p50_ms"]
        add99 = r["p99_ms"] - base["p99_ms"]
        say("| %s | %.1f | %.1f | %.1f ms (%.2f RTT) | %.1f ms (%.2f RTT) |"
            % (name, r["p50_ms"], r["p99_ms"], add50, add50 / 50, add99,
               add99 / 50))
    say()
    say("DNS queries per message: %.1f; if issued one after another they "
        "would add %.0f ms (%.1f RTT). mailvet has no sequential "
        "configuration, so this sum is the comparison." % (q, q * 50, q))
    R["latency"] = {"base": base, "queries_per_msg": q}
    R["latency"].update(dict(rows))
    say()


def part_memory(b):
    """part_memory - 4. RSS idle sessions and across many messages"""
    n = n_of(100000, 1000)
    say("## 4. Memory (mailvet RSS)")
    say()
    port = harness.free_port()
    m = b.mailvet(port)
    pid = m.proc.pid
    try:
        base = rss_kib(pid)
        p = subprocess.Popen([b.mvload, "-m", "milter", "-a",
                              "127.0.0.1:%d" % port, "-C", b.clients,
                              "-I", "500"] + b.msgs[:1],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        ready = p.stdout.readline().strip()
        time.sleep(1.0)
        idle = rss_kib(pid)
        p.stdin.close()
        p.wait(60)
        per = (idle - base) / 500.0
        say("| measure | value |")
        say("|---|---:|")
        say("| RSS at start | %d KiB |" % base)
        say("| RSS with 500 idle sessions (%s) | %d KiB |" % (ready, idle))
        say("| per idle session | %.1f KiB |" % per)
        b.load("milter", port, 3000)
        before = rss_kib(pid)
        r = b.load("milter", port, n)
        after = rss_kib(pid)
        say("| RSS after 3,000 messages (warm) | %d KiB |" % before)
        say("| RSS after %d more messages (%.0f msg/s) | %d KiB (%+.1f%%) |"
            % (n, r["rate"], after, 100.0 * (after - before) / before))
        R["memory"] = {"start": base, "idle500": idle, "per_idle": per,
                       "before": before, "after": after, "n": n}
    finally:
        m.stop(check=False)
    say()


def part_curve(b):
    """part_curve - 5. msg/s by concurrency, time by message size"""
    say("## 5. Cost curve (milter protocol, mailvet)")
    say()
    port = harness.free_port()
    m = b.mailvet(port)
    try:
        b.load("milter", port, 500)
        say("| sessions | msg/s | p50 ms | p99 ms |")
        say("|---:|---:|---:|---:|")
        R["conc"] = {}
        for c in (1, 8, 64, 256):
            r = b.load("milter", port, n_of(2000 if c > 1 else 1000),
                       conc=c)
            R["conc"][c] = r
            say("| %d | %.0f | %.1f | %.1f |"
                % (c, r["rate"], r["p50_ms"], r["p99_ms"]))
        say()
        say("| message | bytes | messages | ms / message | us / KiB |")
        say("|---|---:|---:|---:|---:|")
        R["size"] = {}
        for label, n in (("4k", 400), ("64k", 200), ("512k", 60),
                         ("4m", 12)):
            path = os.path.join(b.data, "size", label + ".eml")
            size = os.path.getsize(path)
            r = b.load("milter", port, n_of(n, 10), conc=1, msgs=[path])
            ms = r["secs"] * 1000.0 / r["msgs"]
            R["size"][label] = dict(r, bytes=size, ms=ms)
            say("| %s | %d | %d | %.2f | %.2f |"
                % (label, size, r["msgs"], ms, ms * 1000.0 /
                   (size / 1024.0)))
    finally:
        m.stop(check=False)
    say()


def versions(b):
    """versions - the software under test"""
    def out(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=20)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "n/a"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        ("date", datetime.datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("machine", "%d cores, %s, %s %s" % (os.cpu_count(), cpu,
                                             platform.system(),
                                             platform.release())),
        ("mailvet", out(["git", "-C", ROOT, "describe", "--always",
                         "--dirty"])),
        ("mailvet checks on", "iprev, HELO, SPF (HELO + MAIL FROM), DKIM" +
         "".join(", %s=%s" % kv for kv in b.extra_conf.items())),
        ("opendkim", out(["opendkim", "-V"])),
        ("postfix", out(["postconf", "-d", "-h", "mail_version"])),
        ("unbound", out(["unbound", "-V"])),
        ("rspamd", out(["rspamd", "--version"])),
        ("BENCH_SCALE", str(SCALE)),
    ]


def main():
    """main - every part, the report"""
    bdir = os.path.abspath(sys.argv[1])
    b = Bench(bdir)
    say("# mailvet benchmark")
    say()
    for k, v in versions(b):
        say("- %s: %s" % (k, v))
    say()
    b.start_unbound()
    parts = (("seq", part_seq), ("proto", part_proto),
             ("postfix", part_postfix),
             ("latency", part_latency), ("memory", part_memory),
             ("curve", part_curve))
    for name, fn in parts:
        if ONLY and name not in ONLY:
            continue
        t0 = time.monotonic()
        try:
            fn(b)
        except Exception as e:  # noqa: BLE001 - report, go on
            say("part %s failed: %s: %s" % (name, type(e).__name__, e))
            say()
        sys.stderr.write("bench: part %s took %.0fs\n"
                         % (name, time.monotonic() - t0))
    with open(os.path.join(bdir, "latest.md"), "w") as f:
        f.write("\n".join(OUT) + "\n")
    with open(os.path.join(bdir, "latest.json"), "w") as f:
        json.dump(R, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
