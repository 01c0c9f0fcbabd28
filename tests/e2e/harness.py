"""
harness - processes and helpers for mailvet's end-to-end tests

    Dns(zones)              tests/e2e/dnsserver.py on a free loopback port
    Postfix(milter_port)    a private Postfix instance delivering to smtp-sink
    Mailvet(conf, rules)    build/mailvet on postfix.milter_port
    send(postfix, ...)      one SMTP session with XCLIENT; every reply kept
    Env                     lazy, shared Dns + Postfix + Mailvet for a file

Everything runs on 127.0.0.1 / ::1 and nothing here touches the system
resolver.  Every process started here is stopped at exit (atexit), also
when a test fails; every wait is bounded and waits for an event (a port
or socket listening, a log line, a file), never for a fixed time: a
reload returns once the daemon (or dnsserver) has logged its outcome.  Temporary directories are
removed on stop unless the environment variable KEEP is set.

Environment: MAILVET_BIN (daemon path, default build/mailvet),
MAILVET_WRAPPER (command prefix, e.g. "valgrind -q --error-exitcode=99"),
KEEP (keep temp dirs), HARNESS_VERBOSE (print what is started).
"""

import atexit
import email
import email.policy
import email.utils
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SMTP_SINK = "/usr/sbin/smtp-sink"
MYHOSTNAME = "mx.test.example"

_live = []


class Skip(Exception):
    """Skip - raised by a test (or fixture) that cannot run here"""


def _verbose(msg):
    """_verbose - trace what the harness does when HARNESS_VERBOSE is set"""
    if os.environ.get("HARNESS_VERBOSE"):
        print("harness: " + msg, file=sys.stderr, flush=True)


def _cleanup_all():
    """_cleanup_all - stop every process still alive (atexit)"""
    for obj in reversed(list(_live)):
        try:
            obj.stop(check=False)
        except Exception as e:  # noqa: BLE001 - best effort at exit
            print("harness: cleanup of %r: %s" % (obj, e), file=sys.stderr)


atexit.register(_cleanup_all)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """free_port - a TCP port that was free on loopback a moment ago"""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_works():
    """ipv6_works - whether ::1 can be bound here"""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """wait_for - poll pred() until truthy; return its value or raise"""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %gs waiting for %s"
                               % (timeout, what))
        time.sleep(interval)


def tcp_listening(port):
    """tcp_listening - whether some socket listens on TCP port (no connect)"""
    want = ":%04X" % port
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            continue
    return False


def _stop_proc(proc, timeout=10, sig=signal.SIGTERM):
    """_stop_proc - signal a child, wait, SIGKILL if needed; exit status"""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            return "killed"
    return proc.returncode


class _TempDir:
    """_TempDir - a temp dir other users (postfix) may traverse"""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def remove(self):
        """remove - delete the directory unless KEEP is set"""
        if os.environ.get("KEEP"):
            print("harness: kept %s" % self.path, file=sys.stderr)
            return
        shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- DNS


class Dns:
    """Dns - the test DNS server with zones from a dict (see dnsserver.py)"""

    def __init__(self, zones=None, delay_ms=0, ipv6=False):
        self.tmp = _TempDir("mv-dns-")
        self.zones_path = os.path.join(self.tmp.path, "zones.json")
        self.log_path = os.path.join(self.tmp.path, "queries.log")
        self.err_path = os.path.join(self.tmp.path, "stderr.log")
        self._write(zones or {})
        open(self.log_path, "w").close()
        cmd = [PYTHON, os.path.join(HERE, "dnsserver.py"),
               "--zones", self.zones_path, "--log", self.log_path]
        if delay_ms:
            cmd += ["--delay-ms", str(delay_ms)]
        if ipv6:
            cmd.append("--ipv6")
        self.ipv6 = ipv6
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True)
        _live.append(self)
        line = self._ready_line()
        self.port = int(line.split()[1])
        self.servers = "127.0.0.1:%d" % self.port
        if ipv6:
            self.servers += ",[::1]:%d" % self.port
        _verbose("dns on %s" % self.servers)

    def _ready_line(self):
        """_ready_line - read "ready PORT" with a bounded wait"""
        import select
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if r else ""
        if not line.startswith("ready "):
            self.stop(check=False)
            raise RuntimeError("dnsserver did not start: %r %s"
                               % (line, self._stderr()))
        return line

    def _stderr(self):
        try:
            with open(self.err_path) as f:
                return f.read()
        except OSError:
            return ""

    def _write(self, zones):
        """_write - the zone file, replaced atomically"""
        tmp = self.zones_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(zones, f, indent=1)
        os.rename(tmp, self.zones_path)
        self.zone_data = zones

    def update(self, zones, timeout=10):
        """update - serve new zones (rewrite + SIGHUP), wait until the
        server says it loaded them ("zones reloaded" on its stderr)"""
        before = self._reloads()
        self._write(zones)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self._reloads() > before, timeout,
                 what="dnsserver zones reloaded")
        if "reload failed" in self._stderr():
            raise RuntimeError("dnsserver reload: %s" % self._stderr())

    def _reloads(self):
        """_reloads - how many reloads the server has finished"""
        err = self._stderr()
        return err.count("zones reloaded") + err.count("reload failed")

    def queries(self):
        """queries - every (name, TYPE) asked so far, in order"""
        with open(self.log_path) as f:
            return [tuple(line.split()) for line in f if line.strip()]

    def count(self, name, rtype=None):
        """count - how often name (and type) was asked"""
        name = name.lower().rstrip(".")
        return sum(1 for n, t in self.queries()
                   if n == name and (rtype is None or t == rtype.upper()))

    def clear_queries(self):
        """clear_queries - forget the query log"""
        with open(self.log_path, "w"):
            pass

    def stop(self, check=True):
        """stop - terminate the server, remove its directory"""
        if self in _live:
            _live.remove(self)
        _stop_proc(self.proc, 5)
        self.proc.stdout.close()
        self._err.close()
        self.tmp.remove()


# ---------------------------------------------------------------- Postfix

MAIN_CF = {
    "compatibility_level": "3.6",
    "myhostname": MYHOSTNAME,
    "mydomain": "test.example",
    "myorigin": "$myhostname",
    "mydestination": "",
    "local_recipient_maps": "",
    "local_transport": "error:local delivery is disabled",
    "alias_maps": "",
    "alias_database": "",
    "inet_protocols": "all",
    "mynetworks": "127.0.0.0/8 [::1]/128",
    "smtpd_authorized_xclient_hosts": "127.0.0.0/8 [::1]/128",
    "relay_domains": "static:ALL",
    "smtpd_relay_restrictions": "reject_unauth_destination",
    "smtpd_recipient_restrictions": "",
    "smtpd_client_restrictions": "",
    "smtpd_helo_restrictions": "",
    "smtpd_sender_restrictions": "",
    "smtpd_helo_required": "no",
    "smtpd_delay_reject": "yes",
    "smtpd_peername_lookup": "no",
    "smtpd_banner": "$myhostname ESMTP test",
    "smtp_dns_support_level": "disabled",
    "lmtp_dns_support_level": "disabled",
    "smtp_host_lookup": "native",
    "smtp_connect_timeout": "5s",
    "smtp_tls_security_level": "none",
    "smtpd_tls_security_level": "none",
    "default_transport": "smtp",
    "relay_transport": "smtp",
    "milter_protocol": "6",
    "milter_default_action": "tempfail",
    "milter_connect_timeout": "10s",
    "milter_command_timeout": "10s",
    "milter_content_timeout": "10s",
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
    "maximal_queue_lifetime": "1h",
    "bounce_queue_lifetime": "1h",
    "in_flow_delay": "0",
    "biff": "no",
    "append_dot_mydomain": "no",
    "readme_directory": "no",
    "html_directory": "no",
    "mail_owner": "postfix",
    "setgid_group": "postdrop",
    "smtputf8_enable": "no",
    "notify_classes": "",
}

MASTER_CF = """\
{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def start_sink(workdir, sink_dir, port):
    """start_sink - smtp-sink on 127.0.0.1:port dumping each message into
    sink_dir (its output in workdir/sink.err); (process, that file)"""
    err = open(os.path.join(workdir, "sink.err"), "w")
    proc = subprocess.Popen(
        [SMTP_SINK, "-u", "postfix", "-h", "sink.test.example",
         "-d", os.path.join(sink_dir, "%Y%m%d%H%M%S."),
         "127.0.0.1:%d" % port, "100"],
        stdout=err, stderr=subprocess.STDOUT)
    wait_for(lambda: tcp_listening(port), 10,
             what="smtp-sink on %d" % port)
    return proc, err


def sink_messages(sink_dir):
    """sink_messages - every whole message smtp-sink dumped into sink_dir,
    oldest first, as Delivered"""
    out = []
    try:
        names = sorted(os.listdir(sink_dir))
    except OSError:
        return out
    for name in names:
        path = os.path.join(sink_dir, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if data.endswith(b"\n"):
            out.append(Delivered(path, data))
    return out


class Postfix:
    """Postfix - a private instance on a free port, delivering to smtp-sink

    milter: "inet:127.0.0.1:PORT" (default: a free port kept in
    .milter_port for Mailvet to listen on), or "" for no milter.
    main_cf: extra or overriding main.cf parameters.
    """

    def __init__(self, milter=None, main_cf=None, ipv6=None):
        if not os.path.exists(POSTFIX) or not os.path.exists(SMTP_SINK):
            raise Skip("postfix / smtp-sink not installed")
        if os.geteuid() != 0:
            raise Skip("a private Postfix needs root")
        self.tmp = _TempDir("mv-postfix-")
        d = self.tmp.path
        self.dir = d
        self.etc = os.path.join(d, "etc")
        self.queue = os.path.join(d, "queue")
        self.sink_dir = os.path.join(d, "sink")
        self.maillog = os.path.join(d, "maillog")
        for p in (self.etc, self.queue, os.path.join(d, "data"),
                  self.sink_dir):
            os.makedirs(p, exist_ok=True)
        shutil.chown(self.sink_dir, "postfix", "postfix")
        shutil.chown(os.path.join(d, "data"), "postfix", "postfix")
        self.port = free_port()
        self.sink_port = free_port()
        self.milter_port = None
        if milter is None:
            self.milter_port = free_port()
            milter = "inet:127.0.0.1:%d" % self.milter_port
        self.milter = milter
        self.ipv6 = ipv6_works() if ipv6 is None else ipv6
        self.started = False
        self.sink = None
        _live.append(self)
        self._configure(main_cf or {})
        self._start_sink()
        self._start()

    def __repr__(self):
        return "Postfix(%s)" % self.dir

    def _configure(self, extra):
        """_configure - write main.cf and master.cf into DIR/etc"""
        cf = dict(MAIN_CF)
        cf.update({
            "queue_directory": self.queue,
            "data_directory": os.path.join(self.dir, "data"),
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "syslog_name": "postfix-test",
            "inet_interfaces": "127.0.0.1" +
            (", [::1]" if self.ipv6 else ""),
            "inet_protocols": "all" if self.ipv6 else "ipv4",
            "relayhost": "[127.0.0.1]:%d" % self.sink_port,
            "smtpd_milters": self.milter,
        })
        cf.update({k: str(v) for k, v in extra.items()})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in cf.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))

    def _run(self, *args, timeout=60):
        """_run - run postfix(1) on this instance; raise on failure"""
        cmd = [POSTFIX, "-c", self.etc] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s\n%s"
                               % (" ".join(cmd), p.returncode, p.stdout,
                                  p.stderr, self.log()[-3000:]))
        return p.stdout + p.stderr

    def _start_sink(self):
        """_start_sink - smtp-sink dumping each message to DIR/sink/"""
        self.sink, self._sink_err = start_sink(self.dir, self.sink_dir,
                                               self.sink_port)

    def _start(self):
        """_start - set permissions, start master, wait for smtpd"""
        # "start" runs "postfix check", which creates the queue
        # directories with the right owners (post-install create-missing).
        self._run("start")
        self.started = True
        try:
            wait_for(lambda: tcp_listening(self.port), 15,
                     what="postfix smtpd on %d" % self.port)
        except TimeoutError as e:
            raise RuntimeError("%s\n%s" % (e, self.log()[-3000:]))
        _verbose("postfix %s on %d, sink %d, milter %s"
                 % (self.dir, self.port, self.sink_port, self.milter))

    def set(self, **params):
        """set - change main.cf parameters and wait for the reload"""
        args = [POSTCONF, "-c", self.etc, "-e"]
        args += ["%s=%s" % (k, v) for k, v in params.items()]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
        before = self.log().count("reload -- version")
        old = self._children("smtpd")
        # SIGHUP to master directly: "postfix reload" would first run the
        # slow "postfix check".
        with open(os.path.join(self.queue, "pid", "master.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGHUP)
        wait_for(lambda: self.log().count("reload -- version") > before, 10,
                 what="postfix reload")
        # An idle smtpd of the old generation could still take the next
        # connection with the old settings: wait until all have exited.
        wait_for(lambda: not (old & self._children("smtpd")), 10,
                 what="old smtpd processes to exit")

    def _children(self, comm):
        """_children - pids of master's children running program comm"""
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                master = int(f.read().strip())
        except (OSError, ValueError):
            return set()
        out = set()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.find("(") + 1:st.rfind(")")]
            fields = st[st.rfind(")") + 2:].split()
            if name == comm and int(fields[1]) == master:
                out.add(int(d))
        return out

    def log(self):
        """log - the instance's maillog so far"""
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def delivered(self):
        """delivered - every message smtp-sink received, oldest first"""
        return sink_messages(self.sink_dir)

    def find_delivered(self, marker):
        """find_delivered - the delivered message containing marker"""
        for m in self.delivered():
            if marker in m.text:
                return m
        return None

    def wait_delivered(self, marker, timeout=20):
        """wait_delivered - wait for and return the message with marker"""
        if hasattr(marker, "marker"):
            marker = marker.marker
        try:
            return wait_for(lambda: self.find_delivered(marker), timeout,
                            what="delivery of %s" % marker)
        except TimeoutError as e:
            raise AssertionError("%s; queue: %s; log tail:\n%s"
                                 % (e, self.queue_files(),
                                    self.log()[-2000:]))

    def wait_log(self, pattern, timeout=20):
        """wait_log - wait for a maillog line matching the regex; the match"""
        rx = re.compile(pattern, re.M)
        try:
            return wait_for(lambda: rx.search(self.log()), timeout,
                            what="maillog line /%s/" % pattern)
        except TimeoutError as e:
            raise AssertionError("%s; log tail:\n%s"
                                 % (e, self.log()[-2000:]))

    def postqueue(self):
        """postqueue - what "postqueue -j" (mailq) shows for this
        instance: one dict per queued message (queue_name, queue_id...)"""
        p = subprocess.run([POSTQUEUE, "-c", self.etc, "-j"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("postqueue -j failed (%d): %s"
                               % (p.returncode, p.stderr))
        return [json.loads(line) for line in p.stdout.splitlines()
                if line.strip()]

    def queue_files(self):
        """queue_files - message files still queued, per queue"""
        out = {}
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            n = 0
            for _, _, files in os.walk(os.path.join(self.queue, q)):
                n += len(files)
            if n:
                out[q] = n
        return out

    def mailq_empty(self):
        """mailq_empty - whether no message waits in any queue"""
        return not self.queue_files()

    def stop(self, check=True):
        """stop - postfix stop, kill smtp-sink, remove the directory"""
        if self in _live:
            _live.remove(self)
        if self.started:
            try:
                self._run("stop", timeout=30)
            except Exception as e:  # noqa: BLE001
                print("harness: postfix stop: %s" % e, file=sys.stderr)
                self._kill_master()
            self.started = False
        _stop_proc(self.sink, 5)
        if self.sink is not None:
            self._sink_err.close()
            self.sink = None
        self.tmp.remove()

    def _kill_master(self):
        """_kill_master - last resort: SIGKILL the master by its pid file"""
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass



def ar_split(value):
    """ar_split - an A-R value cut at ';' outside comments and quotes; a
    backslash quotes the next character inside either (RFC 5322
    quoted-pair), and a '"' inside a comment is only text"""
    parts, cur, depth, quoted = [], "", 0, False
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and (quoted or depth) and i + 1 < len(value):
            cur += value[i:i + 2]
            i += 2
            continue
        if quoted:
            quoted = ch != '"'
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth:
            pass  # a '"' or ';' inside a comment is just text
        elif ch == '"':
            quoted = True
        elif ch == ";":
            parts.append(cur.strip())
            cur = ""
            i += 1
            continue
        cur += ch
        i += 1
    parts.append(cur.strip())
    return parts


class Delivered:
    """Delivered - one message as smtp-sink dumped it

    .envelope: the X-Client-*/X-Helo-Args/X-Mail-Args/X-Rcpt-Args lines
    smtp-sink puts first; .text: the message; .msg: email.message.
    """

    def __init__(self, path, data):
        self.path = path
        raw = data.decode("utf-8", "replace").replace("\r\n", "\n")
        self.envelope = {}
        lines = raw.split("\n")
        i = 0
        while i < len(lines) and re.match(r"X-(Client|Helo|Mail|Rcpt)-",
                                          lines[i]):
            k, _, v = lines[i].partition(":")
            self.envelope.setdefault(k, []).append(v.strip())
            i += 1
        self.text = "\n".join(lines[i:])
        # smtp-sink ends each dump with an empty line of its own.
        if self.text.endswith("\n\n"):
            self.text = self.text[:-1]
        self.msg = email.message_from_string(self.text,
                                             policy=email.policy.compat32)

    def headers(self, name):
        """headers - every value of a header, top first, unfolded"""
        return [re.sub(r"\s*\n\s+", " ", v)
                for v in self.msg.get_all(name, [])]

    def header(self, name):
        """header - the topmost value of a header, or None"""
        v = self.headers(name)
        return v[0] if v else None

    @property
    def received(self):
        """received - the Received: line our Postfix added (unfolded)"""
        for v in self.headers("Received"):
            if "by " + MYHOSTNAME in v:
                return v
        return None

    @property
    def auth_results(self):
        """auth_results - the Authentication-Results values, top first"""
        return self.headers("Authentication-Results")

    @property
    def body(self):
        """body - the message body as text"""
        return self.msg.get_payload()

    def __repr__(self):
        return "Delivered(%s)" % self.path


# ---------------------------------------------------------------- SMTP


class Reply:
    """Reply - one SMTP reply: .code (int, 0 when none) and .text"""

    def __init__(self, code, text):
        self.code = code
        self.text = text

    def ok(self):
        return 200 <= self.code < 400

    def __repr__(self):
        return "%d %s" % (self.code, self.text.split("\n")[0])

    def __eq__(self, other):
        if isinstance(other, int):
            return self.code == other
        return NotImplemented


NO_REPLY = Reply(0, "(not sent)")


class Result:
    """Result - every reply of one send(): banner, ehlo, xclient, helo,
    mail, rcpt (list), data, eom, quit; marker, message_id, queue_id"""

    def __init__(self, marker):
        self.marker = marker
        self.message_id = None
        self.banner = self.ehlo = self.xclient = self.xbanner = NO_REPLY
        self.helo = self.mail = self.data = self.eom = self.quit = NO_REPLY
        self.rcpt = []
        self.client_ip = None
        self.error = None
        self.queue_id = None

    @property
    def accepted(self):
        """accepted - whether the message was queued (250 after DATA)"""
        return self.eom.code == 250

    def replies(self):
        """replies - (stage, Reply) pairs that were received"""
        out = [("banner", self.banner), ("ehlo", self.ehlo),
               ("xclient", self.xclient), ("xbanner", self.xbanner),
               ("helo", self.helo), ("mail", self.mail)]
        out += [("rcpt", r) for r in self.rcpt]
        out += [("data", self.data), ("eom", self.eom), ("quit", self.quit)]
        return [(s, r) for s, r in out if r is not NO_REPLY]

    def first_failure(self):
        """first_failure - the first (stage, Reply) >= 400, or None"""
        for s, r in self.replies():
            if r.code >= 400 or r.code == 0:
                return s, r
        return None

    def __repr__(self):
        return "Result(%s%s)" % (
            ", ".join("%s=%r" % p for p in self.replies()),
            ", error=%s" % self.error if self.error else "")


class _Conn:
    """_Conn - a line-oriented SMTP client socket with a bounded wait"""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""

    def reply(self):
        """reply - read one (multi-line) reply; Reply(0, ...) on EOF"""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return Reply(0, "connection closed " +
                                 " | ".join(lines))
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\n")
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                try:
                    code = int(line[:3])
                except ValueError:
                    code = 0
                return Reply(code, "\n".join(lines))

    def cmd(self, data):
        """cmd - send one command line (str or bytes) and read the reply"""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.sock.sendall(data + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()


def xtext(value):
    """xtext - RFC 1891 xtext encoding for an XCLIENT attribute value"""
    out = []
    for b in value.encode("utf-8"):
        if 33 <= b <= 126 and b not in (ord("+"), ord("=")):
            out.append(chr(b))
        else:
            out.append("+%02X" % b)
    return "".join(out)


def xclient_addr(ip):
    """xclient_addr - ADDR= value: IPV6:... for IPv6 addresses"""
    return "IPV6:" + ip if ":" in ip and not ip.upper().startswith("IPV6:") \
        else ip


def make_message(marker, mail_from, rcpts, headers=None, body=None):
    """make_message - a simple RFC 5322 message carrying marker"""
    msgid = "<%s@harness.test.example>" % marker
    hdrs = [("From", mail_from or "<>"), ("To", ", ".join(rcpts)),
            ("Subject", "test " + marker),
            ("Date", email.utils.formatdate(localtime=False)),
            ("Message-ID", msgid)]
    if headers is not None:
        if isinstance(headers, dict):
            headers = list(headers.items())
        names = {n.lower() for n, _ in headers}
        hdrs = [(n, v) for n, v in hdrs if n.lower() not in names] + \
            list(headers)
    if body is None:
        body = "Test message %s.\n" % marker
    text = "".join("%s: %s\n" % (n, v) for n, v in hdrs) + "\n" + body
    return text, msgid


def send(postfix, client_ip, helo, mail_from, rcpts, headers=None,
         body=None, client_name=None, reverse_name=None, login=None,
         message=None, xclient_helo=None, helo_cmd="EHLO", timeout=30,
         port=None):
    """send - one SMTP session to the private Postfix, replies recorded

    client_ip/client_name/reverse_name/login go into XCLIENT (None means
    [UNAVAILABLE]; client_ip None skips XCLIENT).  helo is sent after
    XCLIENT exactly as given (str or bytes, odd characters included).
    message: a complete message (str/bytes) instead of headers+body.
    Never raises on 4xx/5xx; a socket error lands in .error.
    """
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    marker = "mvt" + uuid.uuid4().hex[:16]
    res = Result(marker)
    res.client_ip = client_ip
    if message is None:
        message, res.message_id = make_message(marker, mail_from, rcpts,
                                               headers, body)
    try:
        c = _Conn(port or postfix.port, timeout)
    except OSError as e:
        res.error = "connect: %s" % e
        return res
    try:
        _session(c, res, client_ip, helo, mail_from, rcpts, client_name,
                 reverse_name, login, message, xclient_helo, helo_cmd)
    except OSError as e:
        res.error = "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()
    m = re.search(r"queued as ([0-9A-Za-z]+)", res.eom.text)
    res.queue_id = m.group(1) if m else None
    return res


def _session(c, res, client_ip, helo, mail_from, rcpts, client_name,
             reverse_name, login, message, xclient_helo, helo_cmd):
    """_session - the SMTP dialogue of send(); stops at a 421 or EOF"""
    res.banner = c.reply()
    if res.banner.code != 220:
        return
    res.ehlo = c.cmd("EHLO harness.test.example")
    if client_ip is not None:
        attrs = ["NAME=" + xtext(client_name or "[UNAVAILABLE]"),
                 "REVERSE_NAME=" + xtext(reverse_name or client_name or
                                         "[UNAVAILABLE]"),
                 "ADDR=" + xclient_addr(client_ip)]
        if login is not None:
            attrs.append("LOGIN=" + xtext(login))
        if xclient_helo is not None:
            attrs.append("HELO=" + xtext(xclient_helo))
        res.xclient = c.cmd("XCLIENT " + " ".join(attrs))
        if res.xclient.code != 220:
            return
    if helo is not None:
        if isinstance(helo, bytes):
            line = helo_cmd.encode() + b" " + helo
        else:
            line = "%s %s" % (helo_cmd, helo)
        res.helo = c.cmd(line)
        if res.helo.code in (0, 421):
            return
    res.mail = c.cmd("MAIL FROM:<%s>" % (mail_from or ""))
    if res.mail.code in (0, 421) or res.mail.code >= 400:
        res.quit = c.cmd("QUIT") if res.mail.code not in (0, 421) \
            else NO_REPLY
        return
    for rcpt in rcpts:
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        res.rcpt.append(r)
        if r.code in (0, 421):
            return
    if any(r.code in (250, 251) for r in res.rcpt):
        res.data = c.cmd("DATA")
        if res.data.code == 354:
            res.eom = c.cmd(_dot_stuff(message) + b".")
        if res.data.code in (0, 421) or res.eom.code in (0, 421):
            return
    res.quit = c.cmd("QUIT")


def _dot_stuff(message):
    """_dot_stuff - message bytes with CRLF lines and leading dots doubled"""
    if isinstance(message, str):
        message = message.encode("utf-8", "surrogateescape")
    lines = message.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                   for ln in lines)
    return out


# ---------------------------------------------------------------- mailvet


def _conf_value(v):
    """_conf_value - one value in mailvet.conf syntax"""
    if v is True:
        return "yes"
    if v is False:
        return "no"
    s = str(v)
    if s == "" or re.search(r"[\s#\"]", s):
        return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
    return s


def default_binary():
    """default_binary - MAILVET_BIN or build/mailvet under the repo"""
    return os.environ.get("MAILVET_BIN") or os.path.join(ROOT, "build",
                                                         "mailvet")


SANITIZER_ERRORS = ("ERROR: AddressSanitizer", "runtime error:",
                    "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                    "==ERROR SUMMARY: [1-9]")


class Mailvet:
    """Mailvet - the daemon under test, with a config written for it

    conf: options (keys of conf/conf.h) overriding the harness defaults;
    a value None drops a key.  rules_text: written to a file that the
    "rules" option names.  port: where it listens (postfix.milter_port).
    """

    def __init__(self, conf=None, rules_text=None, binary=None, port=None,
                 dns=None, postfix=None, ready_timeout=10, env=None,
                 owner=None):
        """env: extra environment variables for the daemon; owner: a user
        name that gets the temp dir (for a daemon that drops to it and
        must still write its JSON log there)"""
        self.binary = binary or default_binary()
        self.extra_env = dict(env or {})
        if not os.access(self.binary, os.X_OK):
            raise Skip("mailvet binary %s not built" % self.binary)
        if port is None and postfix is not None:
            port = postfix.milter_port
        self.port = port or free_port()
        self.tmp = _TempDir("mv-mailvet-")
        self.conf_path = os.path.join(self.tmp.path, "mailvet.conf")
        self.rules_path = os.path.join(self.tmp.path, "mailvet.rules")
        self.json_path = os.path.join(self.tmp.path, "verdicts.jsonl")
        self.err_path = os.path.join(self.tmp.path, "stderr.log")
        self.dns = dns
        self.proc = None
        self._write(conf or {}, rules_text)
        if owner is not None:
            shutil.chown(self.tmp.path, owner)
        self._start(ready_timeout)

    def __repr__(self):
        return "Mailvet(%s)" % self.tmp.path

    def _write(self, conf, rules_text):
        """_write - mailvet.conf (and the rules file) in the temp dir"""
        self.conf = {
            "socket": "inet:%d@127.0.0.1" % self.port,
            "log_json": self.json_path,
            "authserv_id": MYHOSTNAME,
        }
        if self.dns is not None:
            self.conf["dns_servers"] = self.dns.servers
        if rules_text is not None:
            with open(self.rules_path, "w") as f:
                f.write(rules_text)
            self.conf["rules"] = self.rules_path
        self.conf.update(conf)
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/e2e/harness.py\n")
            for k, v in self.conf.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, _conf_value(v)))

    def _start(self, ready_timeout):
        """_start - run the daemon in the foreground, wait for its port"""
        wrapper = shlex.split(os.environ.get("MAILVET_WRAPPER", ""))
        cmd = wrapper + [self.binary, "-f", "-c", self.conf_path]
        self._err = open(self.err_path, "w")
        env = dict(os.environ, **self.extra_env) if self.extra_env else None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._err,
                                     stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=env)
        _live.append(self)
        if wrapper:
            ready_timeout *= 3
        try:
            wait_for(lambda: self.proc.poll() is not None or
                     self.listening(), ready_timeout,
                     what="mailvet on %s" % self.conf["socket"])
        except TimeoutError as e:
            self.stop(check=False)
            raise RuntimeError("%s; stderr:\n%s" % (e, self.stderr()))
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            err = self.stderr()
            self.stop(check=False)
            raise RuntimeError("mailvet exited with %s at start; stderr:\n%s"
                               % (rc, err))
        _verbose("mailvet %s on %d" % (self.binary, self.port))

    def unix_socket(self):
        """unix_socket - the path of a unix: socket option, else None"""
        spec = self.conf["socket"]
        for prefix in ("unix:", "local:"):
            if spec.startswith(prefix):
                return spec[len(prefix):]
        return None

    def listening(self):
        """listening - whether the daemon's socket accepts connections:
        its TCP port listens, or its unix socket exists with the
        configured mode (applied right after the socket is created)"""
        path = self.unix_socket()
        if path is None:
            return tcp_listening(self.port)
        try:
            st = os.stat(path)
        except OSError:
            return False
        mode = int(str(self.conf.get("socket_mode", "0660")), 8)
        return stat.S_ISSOCK(st.st_mode) and \
            stat.S_IMODE(st.st_mode) == mode

    def stderr(self):
        """stderr - what the daemon wrote to stdout/stderr so far"""
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def verdicts(self):
        """verdicts - the JSON verdict lines logged so far, parsed"""
        out = []
        try:
            with open(self.json_path, errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out

    def wait_verdicts(self, n, timeout=10):
        """wait_verdicts - wait until at least n verdicts are logged"""
        return wait_for(lambda: len(self.verdicts()) >= n and
                        self.verdicts(), timeout,
                        what="%d verdict lines" % n)

    def verdict_for(self, result, timeout=10):
        """verdict_for - the verdict line of a send() result: the one
        naming its queue id or message id, else (refused messages have
        neither) the last one with its client_ip; waits up to timeout"""
        keys = [k for k in (result.queue_id, result.message_id,
                            result.marker) if k]

        def find():
            vs = self.verdicts()
            for v in vs:
                s = json.dumps(v)
                if any(k in s for k in keys):
                    return v
            if result.queue_id is None and result.client_ip:
                same = [v for v in vs
                        if v.get("client_ip") == result.client_ip]
                return same[-1] if same else None
            return None
        return wait_for(find, timeout, what="verdict for %s" % keys)

    RELOAD_DONE = re.compile(r"(?m)^(?:.*: )?"
                             r"(?:reloaded\b|reload failed, ).*$")

    def reload_lines(self):
        """reload_lines - every "reloaded ..." / "reload failed, ..." line
        the daemon logged so far (runtime_reload's outcome)"""
        return [m.group(0) for m in self.RELOAD_DONE.finditer(self.stderr())]

    def sighup(self, timeout=10):
        """sighup - SIGHUP, then wait for the daemon to log the reload's
        outcome; return that line (an event, not a sleep)"""
        before = len(self.reload_lines())
        self.proc.send_signal(signal.SIGHUP)
        if self.proc.args[0] != self.binary:
            timeout *= 3  # under a wrapper (valgrind)
        try:
            lines = wait_for(lambda: len(self.reload_lines()) > before and
                             self.reload_lines(), timeout,
                             what="mailvet to log the reload")
        except TimeoutError as e:
            raise AssertionError("%s (%s):\n%s"
                                 % (e, "alive" if self.proc.poll() is None
                                    else "exited %s" % self.proc.returncode,
                                    self.stderr()[-2000:]))
        if self.proc.poll() is not None:
            raise AssertionError("mailvet died on SIGHUP (%s):\n%s"
                                 % (self.proc.returncode, self.stderr()))
        return lines[before]

    def reload(self, conf=None, rules_text=None, settle=None):
        """reload - rewrite config and/or rules, SIGHUP, wait for the
        reload to be logged; return that line (settle: unused, kept for
        callers that still pass it)"""
        if conf is not None:
            keep = {k: v for k, v in self.conf.items()
                    if k in ("socket", "log_json", "dns_servers",
                             "authserv_id", "rules")}
            keep.update(conf)
            self._write(keep, rules_text)
        elif rules_text is not None:
            with open(self.rules_path, "w") as f:
                f.write(rules_text)
            if "rules" not in self.conf:
                self._write(dict(self.conf, rules=self.rules_path), None)
        return self.sighup()

    def problems(self):
        """problems - sanitizer / valgrind reports found in the output"""
        err = self.stderr()
        return [line for line in err.splitlines()
                if any(re.search(p, line) for p in SANITIZER_ERRORS)]

    def stop(self, check=True, timeout=20):
        """stop - SIGTERM and wait; with check, raise AssertionError on a
        non-zero exit or a sanitizer report"""
        if self in _live:
            _live.remove(self)
        rc = _stop_proc(self.proc, timeout)
        if hasattr(self, "_err"):
            self._err.close()
        bad = []
        if rc != 0:
            bad.append("exit status %s" % rc)
        bad += self.problems()
        if bad and check:
            # Keep the directory (config, verdicts, full stderr) to look at.
            raise AssertionError("mailvet stop: %s (kept %s)\n%s"
                                 % ("; ".join(bad[:5]), self.tmp.path,
                                    self.stderr()[-4000:]))
        self.tmp.remove()
        return rc


# ---------------------------------------------------------------- Env


class Env:
    """Env - the fixtures one test file shares, created on first use

    zones: DNS zones; main_cf: Postfix overrides; mailvet_conf and rules:
    the daemon's config.  .dns, .postfix and .mailvet start lazily;
    .restart_mailvet(conf, rules) swaps the daemon on the same port.
    """

    def __init__(self, zones=None, main_cf=None, mailvet_conf=None,
                 rules=None, binary=None, dns_delay_ms=0):
        self.zones = zones or {}
        self.main_cf = main_cf or {}
        self.mailvet_conf = mailvet_conf or {}
        self.rules = rules
        self.binary = binary
        self.dns_delay_ms = dns_delay_ms
        self._dns = self._postfix = self._mailvet = None

    @property
    def dns(self):
        if self._dns is None:
            self._dns = Dns(self.zones, delay_ms=self.dns_delay_ms)
        return self._dns

    @property
    def postfix(self):
        if self._postfix is None:
            self._postfix = Postfix(main_cf=self.main_cf)
        return self._postfix

    @property
    def mailvet(self):
        if self._mailvet is None:
            self._mailvet = Mailvet(self.mailvet_conf, self.rules,
                                    binary=self.binary, dns=self.dns,
                                    postfix=self.postfix)
        return self._mailvet

    def restart_mailvet(self, conf=None, rules=None):
        """restart_mailvet - stop (checked) and start with a new config"""
        if self._mailvet is not None:
            m, self._mailvet = self._mailvet, None
            m.stop()
        if conf is not None:
            self.mailvet_conf = conf
        if rules is not None:
            self.rules = rules
        return self.mailvet

    def send(self, client_ip, helo, mail_from, rcpts, **kw):
        """send - send() through this env's Postfix, mailvet started"""
        self.mailvet
        return send(self.postfix, client_ip, helo, mail_from, rcpts, **kw)

    def close(self):
        """close - stop everything; return mailvet's stop problem or None"""
        problem = None
        if self._mailvet is not None:
            try:
                self._mailvet.stop()
            except AssertionError as e:
                problem = str(e)
            self._mailvet = None
        for name in ("_postfix", "_dns"):
            obj = getattr(self, name)
            if obj is not None:
                obj.stop()
                setattr(self, name, None)
        return problem
