"""
test_daemon - the daemon as a postmaster runs it: -n, -V, config errors
with FILE:LINE, SIGHUP reload (a broken file keeps the running config),
SIGTERM with a session open, unix socket permissions, a pid file.
"""

import os
import socket
import stat
import subprocess
import time

import harness

ROOT = harness.ROOT
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


def test_reload_broken_config_keeps_running(env):
    m = env.mailvet
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert r.accepted, r
    with open(m.conf_path, "a") as f:
        f.write("this is not an option\n")
    m.proc.send_signal(__import__("signal").SIGHUP)
    time.sleep(0.5)
    assert m.proc.poll() is None, "mailvet died on a broken reload"
    assert "reload failed, keeping the running configuration" in \
        m.stderr(), m.stderr()
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert r.accepted, r
    env.postfix.wait_delivered(r.marker)


def test_reload_applies_new_config(env):
    m = env.mailvet
    m.reload(conf={"authserv_id": "mx2.test.example"})
    assert "reloaded" in m.stderr(), m.stderr()
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    d = env.postfix.wait_delivered(r.marker)
    ar = d.headers("Authentication-Results")
    assert any(h.startswith("mx2.test.example;") for h in ar), ar


def test_sigterm_with_open_session(env):
    """SIGTERM while a client sits in a session: exit 0, bounded"""
    m = harness.Mailvet({"shutdown_timeout_s": 2}, dns=env.dns,
                        port=harness.free_port())
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    time.sleep(0.2)
    t0 = time.monotonic()
    rc = m.stop()
    s.close()
    assert rc == 0
    assert time.monotonic() - t0 < 10


def test_unix_socket_mode_and_pid_file(env):
    tmp = harness._TempDir("mv-daemon-")
    sock = os.path.join(tmp.path, "mailvet.sock")
    pid = os.path.join(tmp.path, "mailvet.pid")
    conf = os.path.join(tmp.path, "mailvet.conf")
    with open(conf, "w") as f:
        f.write("socket = unix:%s\nsocket_mode = 0660\npid_file = %s\n"
                "dns_servers = %s\n" % (sock, pid, env.dns.servers))
    p = subprocess.Popen([binary(), "-f", "-c", conf],
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        harness.wait_for(lambda: os.path.exists(sock) and
                         os.path.exists(pid), 10, what="unix socket")
        mode = stat.S_IMODE(os.stat(sock).st_mode)
        assert mode == 0o660, oct(mode)
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
