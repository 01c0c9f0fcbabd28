"""
test_privileges - "user" and "socket_group" as a postmaster deploys them
(issue 10): mailvet starts as root, listens on a unix socket that the
postfix group may use, drops to an unprivileged user, and Postfix (whose
smtpd runs as user postfix) still reaches it.

Checked: /proc/PID/status of the running daemon (every uid and gid is the
user's, no supplementary group of root's), the socket's mode, owner and
group, a message through Postfix over that socket, the JSON verdict file
created by the dropped user, a SIGHUP reload after the drop, and as a
control that without the group bit Postfix cannot connect.
"""

import grp
import os
import pwd
import re
import stat

import harness

USER = "nobody"
GROUP = "postfix"

ZONES = {
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.1"]},
}

TIMEOUT = 90
_state = {}


def setup(env):
    """setup - a Postfix whose milter is a unix socket in a fresh dir"""
    if os.geteuid() != 0:
        raise harness.Skip("dropping privileges needs root")
    try:
        _state["pw"] = pwd.getpwnam(USER)
        _state["gr"] = grp.getgrnam(GROUP)
    except KeyError as e:
        raise harness.Skip("no %s here" % e)
    _state["dir"] = harness._TempDir("mv-priv-")
    _state["sock"] = os.path.join(_state["dir"].path, "mailvet.sock")
    env._postfix = harness.Postfix(milter="unix:" + _state["sock"])


def teardown(env):
    _state["dir"].remove()


def start(env, mode):
    """start - mailvet on the unix socket, dropping to USER"""
    if env._mailvet is not None:
        env._mailvet.stop()
        env._mailvet = None
    conf = {"socket": "unix:" + _state["sock"], "socket_mode": mode,
            "socket_group": GROUP, "user": USER}
    env._mailvet = harness.Mailvet(conf, dns=env.dns, owner=USER)
    return env._mailvet


def proc_status(pid):
    """proc_status - /proc/PID/status as {field: [values]}"""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def test_runs_as_user_after_start(env):
    m = start(env, "0660")
    pw = _state["pw"]
    st = proc_status(m.proc.pid)
    # Real, effective, saved and filesystem ids: all the user's.
    assert st["Uid"] == [str(pw.pw_uid)] * 4, st["Uid"]
    assert st["Gid"] == [str(pw.pw_gid)] * 4, st["Gid"]
    groups = {int(g) for g in st.get("Groups", [])}
    assert 0 not in groups, groups
    assert groups <= {g.gr_gid for g in grp.getgrall()
                      if USER in g.gr_mem} | {pw.pw_gid}, groups
    assert st["CapEff"] == ["0000000000000000"], st["CapEff"]


def test_socket_mode_owner_group(env):
    m = env.mailvet
    st = os.stat(_state["sock"])
    assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert st.st_gid == _state["gr"].gr_gid, (st.st_gid, _state["gr"])
    # Made before the drop, by root: the dropped daemon cannot chmod it.
    assert st.st_uid == 0, st.st_uid
    assert m.proc.poll() is None


def test_postfix_reaches_dropped_daemon(env):
    m = env.mailvet
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    ours = [h for h in d.auth_results if h.startswith("mx.test.example;")]
    assert len(ours) == 1 and "iprev=pass policy.iprev=192.0.2.1" in \
        ours[0], d.auth_results
    v = m.verdict_for(r)
    assert v["action"] == "accept", v
    # The JSON log is opened lazily, after the drop: the user owns it.
    assert os.stat(m.json_path).st_uid == _state["pw"].pw_uid


def test_reload_after_drop(env):
    m = env.mailvet
    conf = dict(m.conf, authserv_id="mx2.test.example")
    outcome = m.reload(conf=conf)
    assert ": reloaded " in outcome, outcome
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert any(h.startswith("mx2.test.example;") for h in d.auth_results), \
        d.auth_results
    assert proc_status(m.proc.pid)["Uid"][0] == str(_state["pw"].pw_uid)


def test_without_group_bit_postfix_is_refused(env):
    """control: with mode 0600 the socket's group (postfix) loses its
    access, so the message above went through thanks to socket_group and
    not to some privilege of Postfix: now Postfix applies its
    milter_default_action (tempfail) and nothing is delivered"""
    start(env, "0600")
    assert stat.S_IMODE(os.stat(_state["sock"]).st_mode) == 0o600
    r = env.send("192.0.2.1", "mail.good.example", "a@good.example",
                 ["b@dest.example"])
    assert not r.accepted, r
    fail = r.first_failure()
    assert fail is not None and 400 <= fail[1].code < 500, r
    env.postfix.wait_log(r"connect to Milter service unix:%s: "
                         r"Permission denied" % re.escape(_state["sock"]))
