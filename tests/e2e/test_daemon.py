"""
test_daemon - the daemon as a postmaster runs it: -n, -V, config errors
with FILE:LINE, SIGHUP reload (a broken file keeps the running config),
SIGTERM with a session open, unix socket permissions, a pid file.
"""

import grp
import os
import socket
import stat
import subprocess
import time

import harness

ROOT = harness.ROOT
# A group other than root's that exists wherever the e2e tests run.
SOCKET_GROUP = "postfix"
ZONES = {
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.1"]},
}


def binary():
    return harness.default_binary()


def run(args, text=None, tmp=None):
    """run - mailvet with args; a config text goes to a temp file"""
    path = None
    if text is not None:
        path = os.path.join(tmp, "t.conf")
        with open(path, "w") as f:
            f.write(text)
        args = args + ["-c", path]
    p = subprocess.run([binary()] + args, capture_output=True, text=True,
                       timeout=20, cwd=ROOT)
    return p, path


def test_version_and_help(env):
    p, _ = run(["-V"])
    assert p.returncode == 0 and p.stdout.startswith("mailvet "), p
    p, _ = run(["-h"])
    assert p.returncode == 0 and "usage: mailvet" in p.stdout, p
    p, _ = run(["-x"])
    assert p.returncode == 1 and "usage: mailvet" in p.stderr, p


def test_check_config_typo(env):
    tmp = harness._TempDir("mv-daemon-")
    try:
        p, path = run(["-n"], "socket = inet:8891@127.0.0.1\n"
                      "dns_timout_ms = 100\n", tmp.path)
        assert p.returncode == 1, p
        assert p.stderr.startswith("%s:2: unknown option" % path), p.stderr
        assert 'did you mean "dns_timeout_ms"' in p.stderr, p.stderr
        p, path = run(["-n"], "dns_timeout_ms = 99999999\n", tmp.path)
        assert p.returncode == 1 and ("%s:1:" % path) in p.stderr, p.stderr
        p, path = run(["-n"], "authserv_id = mx.test.example\n", tmp.path)
        assert p.returncode == 0, p.stderr
        assert "configuration OK" in p.stderr, p.stderr
    finally:
        tmp.remove()


def test_check_rules_error(env):
    tmp = harness._TempDir("mv-daemon-")
    try:
        rules = os.path.join(tmp.path, "bad.rules")
        with open(rules, "w") as f:
            f.write('rule "x" when iprev is pss then accept\n')
        p, _ = run(["-n"], "rules = %s\n" % rules, tmp.path)
        assert p.returncode == 1, p
        assert p.stderr.startswith("%s:1:" % rules), p.stderr
        assert "^" in p.stderr, p.stderr
    finally:
        tmp.remove()


def our_ar_ids(env, r):
    """our_ar_ids - the authserv-ids of the delivered message's A-Rs"""
    d = env.postfix.wait_delivered(r.marker)
    return [h.split(";", 1)[0].strip()
            for h in d.headers("Authentication-Results")]


def test_reload_broken_config_keeps_running(env):
    """A broken file changes nothing: the old authserv_id stays in use"""
    m = env.mailvet
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert r.accepted, r
    assert our_ar_ids(env, r) == ["mx.test.example"]
    with open(m.conf_path) as f:
        good = f.read()
    assert "authserv_id = mx.test.example\n" in good, good
    # A new authserv_id on line 2 would be observable; line 3 breaks
    # the file, so none of it may take effect.
    broken = good.replace("authserv_id = mx.test.example\n", "")
    lines = broken.splitlines(True)
    lines[1:1] = ["authserv_id = mx-broken.test.example\n",
                  "this is not an option\n"]
    with open(m.conf_path, "w") as f:
        f.write("".join(lines))
    try:
        outcome = m.sighup()
        assert "reload failed, keeping the running configuration: " \
            "%s:3: " % m.conf_path in outcome, outcome
        r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                     ["b@dest.example"])
        assert r.accepted, r
        assert our_ar_ids(env, r) == ["mx.test.example"], \
            "the broken file's authserv_id leaked in"
    finally:
        with open(m.conf_path, "w") as f:
            f.write(good)
        assert "reloaded" in m.sighup()


def test_reload_applies_new_config(env):
    m = env.mailvet
    outcome = m.reload(conf={"authserv_id": "mx2.test.example"})
    assert ": reloaded %s" % m.conf_path in outcome, outcome
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    d = env.postfix.wait_delivered(r.marker)
    ar = d.headers("Authentication-Results")
    assert any(h.startswith("mx2.test.example;") for h in ar), ar


def test_sigterm_with_open_session(env):
    """SIGTERM while a client sits in a session: exit 0, bounded"""
    m = harness.Mailvet({"shutdown_timeout_s": 2}, dns=env.dns,
                        port=harness.free_port())
    fds = os.path.join("/proc", str(m.proc.pid), "fd")
    before = len(os.listdir(fds))
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    # libmilter has taken the connection once the daemon holds one more
    # descriptor (the accepted socket): wait for that, not for a while.
    harness.wait_for(lambda: len(os.listdir(fds)) > before, 10,
                     what="mailvet to accept the connection")
    t0 = time.monotonic()
    rc = m.stop()
    s.close()
    assert rc == 0
    # shutdown_timeout_s bounds the wait for the session, plus slack.
    assert time.monotonic() - t0 < 2 + 5


def test_sigterm_idle_exits_promptly(env):
    """SIGTERM on an idle daemon: exit 0 within 1 s, inet and unix

    libmilter's listener used to wait 5 s at a time holding the lock its
    SIGTERM handler needs, and the DNS engine one more second.
    """
    tmp = harness._TempDir("mv-idle-")
    for conf in ({}, {"socket": "unix:" + os.path.join(tmp.path, "i.sock")}):
        sock = conf.get("socket", "inet")
        m = harness.Mailvet(conf, dns=env.dns, port=harness.free_port())
        t0 = time.monotonic()
        rc = m.stop()
        took = time.monotonic() - t0
        assert rc == 0, (sock, rc)
        assert took < 1.0, "%s: stopped after %.2fs" % (sock, took)


def test_unix_socket_mode_group_and_pid_file(env):
    """socket_mode and socket_group, both not the defaults, are applied"""
    try:
        group = grp.getgrnam(SOCKET_GROUP)
    except KeyError:
        raise harness.Skip("no group %s here" % SOCKET_GROUP)
    tmp = harness._TempDir("mv-daemon-")
    sock = os.path.join(tmp.path, "mailvet.sock")
    pid = os.path.join(tmp.path, "mailvet.pid")
    conf = os.path.join(tmp.path, "mailvet.conf")
    with open(conf, "w") as f:
        # 0620: the owner reads and writes, the group may only connect
        # (write), others nothing; the default is 0660.
        f.write("socket = unix:%s\nsocket_mode = 0620\n"
                "socket_group = %s\npid_file = %s\n"
                "dns_servers = %s\n" % (sock, SOCKET_GROUP, pid,
                                        env.dns.servers))
    p = subprocess.Popen([binary(), "-f", "-c", conf],
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        harness.wait_for(lambda: os.path.exists(pid) and
                         os.path.exists(sock) and
                         stat.S_IMODE(os.stat(sock).st_mode) == 0o620,
                         10, what="unix socket with its mode")
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o620, oct(st.st_mode)
        assert st.st_gid == group.gr_gid, (st.st_gid, group)
        assert st.st_uid == os.geteuid(), st.st_uid
        with open(pid) as f:
            assert int(f.read()) == p.pid
    finally:
        p.terminate()
        rc = p.wait(timeout=20)
        err = p.stderr.read()
        tmp_exists = os.path.exists(pid)
        tmp.remove()
    assert rc == 0, err
    assert not tmp_exists, "pid file left behind"
