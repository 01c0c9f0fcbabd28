"""
sendmail - a private Sendmail instance for the tests and the benchmark

    Sendmail(milter="inet:127.0.0.1:PORT")   one milter (F=T), or "" for none
    find_root()                              where Sendmail's files are

Sendmail is not installed system-wide (Debian's sendmail packages conflict
with postfix, which the tests need): tests/bench/run.sh fetches Debian's
sendmail-bin, sendmail-base and sendmail-cf with "apt-get download" and
unpacks them with "dpkg -x" into build/bench/sendmail/.  find_root() looks
there, under $SENDMAIL_ROOT, and at / (a system install).  Running it also
needs m4 (the cf is generated from sendmail-cf's macros), libwrap0 (the
binary links it), unshare and mount, and root.  When any is missing the
constructor raises harness.Skip saying which.

What the instance is, all in a private temp directory:
  - sendmail -bD (foreground daemon) on 127.0.0.1:.port only, no MSA port,
    queue in DIR/queue, pid file DIR/sendmail.pid, stderr in DIR/stderr.log
    (no syslog here: /dev/log may be absent);
  - every message relayed to an smtp-sink on 127.0.0.1:.sink_port
    (SMART_HOST relay:[127.0.0.1], the port in the relay mailer's args),
    as harness.Postfix does; .delivered() reads what it received;
  - no DNS at all: the cf's service switch says "hosts files" and
    nocanonify/accept_unresolvable_domains keep the rules from asking, and
    because Sendmail looks up its own host name (also AAAA) through libc
    before it reads the cf, it runs in a private mount namespace (unshare
    -m) where /etc/nsswitch.conf says "hosts: files", /etc/hosts names the
    host as mx.test.example on 127.0.0.1 and ::1, and /etc/resolv.conf
    points at 127.0.0.9 (nothing listens there): nothing it does can reach
    a resolver outside the loopback;
  - open relay for the loopback clients (promiscuous_relay: it listens on
    127.0.0.1 only and relays only to the sink), no ident lookups, no
    AUTH, load average limits out of the way, sendmail-cf's default milter
    macros (see MILTER_MACROS).

stop() ends the daemon, its children (found by their working directory,
the private queue) and the sink, and removes the directory unless KEEP is
set.  Clients reach it from 127.0.0.1: Sendmail has no XCLIENT.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import harness  # noqa: E402

BIN = "usr/libexec/sendmail/sendmail"
CF_DIR = "usr/share/sendmail/cf"
HOSTNAME = harness.MYHOSTNAME
NO_RESOLVER = "127.0.0.9"      # loopback, nothing listens on its port 53

# sendmail-cf's defaults (cf/m4/cfhead.m4), spelt out so that the
# instance does not change with them: they carry i, j, _, {daemon_name},
# {mail_addr}, {rcpt_addr}, {auth_authen}, {tls_version}.  Sendmail sends
# each stage's MACRO packet, even an empty one, in a write of its own
# before the command (Nagle on): a stage listed here costs a delayed ACK
# with a filter that does not ACK at once.
MILTER_MACROS = {
    "CONNECT": "j, _, {daemon_name}, {if_name}, {if_addr}",
    "HELO": "{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, "
            "{cert_issuer}",
    "ENVFROM": "i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, "
               "{mail_mailer}, {mail_host}, {mail_addr}",
    "ENVRCPT": "{rcpt_mailer}, {rcpt_host}, {rcpt_addr}",
    "EOM": "{msg_id}",
}

MC = """divert(-1)
define(`_CF_DIR_', `%(cfdir)s/')
define(`MAIL_SETTINGS_DIR', `%(etc)s/')
divert(0)dnl
include(`%(cfdir)s/m4/cf.m4')dnl
VERSIONID(`mailvet tests/e2e/sendmail.py')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `%(host)s')dnl
define(`QUEUE_DIR', `%(queue)s')dnl
define(`confPID_FILE', `%(dir)s/sendmail.pid')dnl
define(`STATUS_FILE', `%(etc)s/statistics')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confSERVICE_SWITCH_FILE', `%(etc)s/service.switch')dnl
define(`confHOSTS_FILE', `%(etc)s/hosts')dnl
define(`confDONT_PROBE_INTERFACES', `true')dnl
define(`confTO_IDENT', `0s')dnl
define(`confQUEUE_LA', `500')dnl
define(`confREFUSE_LA', `500')dnl
define(`confDELAY_LA', `0')dnl
define(`confAUTH_MECHANISMS', `')dnl
define(`SMART_HOST', `relay:[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h %(sink)d')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h %(sink)d')dnl
define(`SMTP_MAILER_ARGS', `TCP $h %(sink)d')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
FEATURE(`promiscuous_relay')dnl
DAEMON_OPTIONS(`Port=%(port)d, Addr=127.0.0.1, Name=MTA, Family=inet')dnl
undefine(`ALIAS_FILE')dnl
%(macros)s%(milter)sMAILER(`local')dnl
MAILER(`smtp')dnl
"""

# The shell run by unshare -m: private name service files, then Sendmail.
NS_SH = ('mount --bind "$1" /etc/hosts && '
         'mount --bind "$2" /etc/nsswitch.conf && '
         'mount --bind "$3" /etc/resolv.conf && '
         'shift 3 && exec "$@"')


def find_root():
    """find_root - a directory holding Sendmail's binary and cf, or None"""
    cands = [os.environ.get("SENDMAIL_ROOT", ""),
             os.path.join(harness.ROOT, "build", "bench", "sendmail"), "/"]
    for d in cands:
        if d and os.access(os.path.join(d, BIN), os.X_OK) and \
                os.path.isfile(os.path.join(d, CF_DIR, "m4", "cf.m4")):
            return d
    return None


def version(root=None):
    """version - "Sendmail 8.x.y" from sendmail-cf's version.m4, or None

    Not asked from the binary: run outside the namespace, Sendmail would
    look up its host name through the system resolver.
    """
    root = root or find_root()
    try:
        with open(os.path.join(root, CF_DIR, "m4", "version.m4")) as f:
            for line in f:
                if line.startswith("DZ"):
                    return "Sendmail " + line[2:].split("`")[0].strip()
    except (OSError, TypeError):
        pass
    return None


def milter_spec(milter):
    """milter_spec - Sendmail's S= form of "inet:HOST:PORT" (or as is)"""
    if milter.startswith("inet:") and "@" not in milter:
        host, _, port = milter[5:].rpartition(":")
        return "inet:%s@%s" % (port, host)
    return milter


class Sendmail:
    """Sendmail - a private Sendmail on a free port, relaying to smtp-sink

    milter: "inet:127.0.0.1:PORT" (or Sendmail's "inet:PORT@127.0.0.1"),
    "" for none; it is INPUT_MAIL_FILTER(`mv', `S=..., F=T,
    T=S:10s;R:10s;E:30m').  mc_extra: more lines for the .mc file.
    """

    def __init__(self, milter="", mc_extra=""):
        self.root = find_root()
        if self.root is None:
            raise harness.Skip("sendmail not unpacked: sh tests/bench/run.sh"
                               " fetches it into build/bench/sendmail")
        if os.geteuid() != 0:
            raise harness.Skip("a private Sendmail needs root")
        for tool in ("m4", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise harness.Skip("%s not installed" % tool)
        if not os.path.exists(harness.SMTP_SINK):
            raise harness.Skip("smtp-sink not installed")
        self.bin = os.path.join(self.root, BIN)
        self.milter = milter
        self.tmp = harness._TempDir("mv-sendmail-")
        d = self.dir = self.tmp.path
        self.etc = os.path.join(d, "etc")
        self.queue = os.path.join(d, "queue")
        self.sink_dir = os.path.join(d, "sink")
        self.cf = os.path.join(self.etc, "sendmail.cf")
        self.err_path = os.path.join(d, "stderr.log")
        for p in (self.etc, self.queue, self.sink_dir):
            os.makedirs(p)
        os.chmod(self.queue, 0o700)
        shutil.chown(self.sink_dir, "postfix", "postfix")
        self.port = harness.free_port()
        self.sink_port = harness.free_port()
        self.proc = None
        self.sink = None
        harness._live.append(self)
        try:
            self._configure(mc_extra)
            self._start_sink()
            self._start()
        except BaseException:
            self.stop(check=False)
            raise

    def __repr__(self):
        return "Sendmail(%s)" % self.dir

    def _configure(self, mc_extra):
        """_configure - name service files, the .mc, m4 to sendmail.cf"""
        names = "%s %s localhost" % (HOSTNAME, socket.gethostname())
        files = {"hosts": "127.0.0.1 %s\n::1 %s\n" % (names, names),
                 "nsswitch.conf": "hosts: files\n",
                 "resolv.conf": "nameserver %s\noptions attempts:1 "
                                "timeout:1\n" % NO_RESOLVER,
                 "service.switch": "hosts files\naliases files\n"}
        for name, text in files.items():
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(text)
        macros = "".join("define(`confMILTER_MACROS_%s', `%s')dnl\n"
                         % kv for kv in MILTER_MACROS.items())
        milter = ""
        if self.milter:
            milter = ("INPUT_MAIL_FILTER(`mv', `S=%s, F=T, "
                      "T=S:10s;R:10s;E:30m')dnl\n"
                      % milter_spec(self.milter))
        mc = MC % {"cfdir": os.path.join(self.root, CF_DIR),
                   "etc": self.etc, "dir": self.dir, "queue": self.queue,
                   "host": HOSTNAME, "sink": self.sink_port,
                   "port": self.port, "macros": macros,
                   "milter": milter + mc_extra}
        mc_path = os.path.join(self.etc, "sendmail.mc")
        with open(mc_path, "w") as f:
            f.write(mc)
        p = subprocess.run(["m4", mc_path], capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0 or "\nMrelay" not in p.stdout:
            raise RuntimeError("m4 %s failed: %s" % (mc_path, p.stderr))
        with open(self.cf, "w") as f:
            f.write(p.stdout)

    def _start_sink(self):
        """_start_sink - smtp-sink dumping each message to DIR/sink/"""
        self.sink, self._sink_err = harness.start_sink(
            self.dir, self.sink_dir, self.sink_port)

    def _start(self):
        """_start - sendmail -bD in its own mount namespace and session"""
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               NS_SH, "sh"]
        cmd += [os.path.join(self.etc, n)
                for n in ("hosts", "nsswitch.conf", "resolv.conf")]
        cmd += [self.bin, "-C", self.cf, "-bD", "-L", "sm-mailvet-test"]
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._err,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=self.dir)
        try:
            harness.wait_for(lambda: self.proc.poll() is not None or
                             harness.tcp_listening(self.port), 15,
                             what="sendmail on %d" % self.port)
        except TimeoutError as e:
            raise RuntimeError("%s; stderr:\n%s" % (e, self.stderr()))
        if self.proc.poll() is not None:
            raise RuntimeError("sendmail exited with %s at start; "
                               "stderr:\n%s"
                               % (self.proc.returncode, self.stderr()))
        harness._verbose("sendmail %s on %d, sink %d, milter %s"
                         % (self.dir, self.port, self.sink_port,
                            self.milter))

    def stderr(self):
        """stderr - what sendmail (and unshare) wrote so far"""
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def version(self):
        """version - "Sendmail 8.x.y" of this instance (see version())"""
        return version(self.root)

    def delivered(self):
        """delivered - every message smtp-sink received, oldest first"""
        return harness.sink_messages(self.sink_dir)

    def queue_files(self):
        """queue_files - names of the files left in the private queue"""
        try:
            return sorted(os.listdir(self.queue))
        except OSError:
            return []

    def _ours(self):
        """_ours - pids of the processes working in our queue directory

        The daemon's children (one per SMTP session, one per background
        delivery) rename themselves and may leave its session, but all
        chdir to the queue directory, which is unique to this instance.
        """
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/cwd" % d) == self.queue:
                    out.append(int(d))
            except OSError:
                continue
        return out

    def stop(self, check=True):
        """stop - SIGTERM the daemon, then its leftovers; stop the sink"""
        if self in harness._live:
            harness._live.remove(self)
        rc = None
        if self.proc is not None:
            rc = harness._stop_proc(self.proc, 10)
            deadline = time.monotonic() + 5
            left = self._ours()
            while left and time.monotonic() < deadline:
                time.sleep(0.1)
                left = self._ours()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self._err.close()
            self.proc = None
        if self.sink is not None:
            harness._stop_proc(self.sink, 5)
            self._sink_err.close()
            self.sink = None
        self.tmp.remove()
        if check and rc not in (0, -signal.SIGTERM, None):
            raise AssertionError("sendmail exited with %s" % rc)

