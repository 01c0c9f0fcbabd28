"""
test_actions - the promises of mailvet.rules(5) and mailvet.conf(5) that
only show at the MTA, checked through a real Postfix and DNS server as a
postmaster sees them (issue 10):

  discard                 250 to the client, Postfix logs milter-discard,
                          nothing reaches the next hop, nothing queued
  quarantine "reason"     250, the message sits in Postfix's hold queue
                          (postqueue -j), the reason in the maillog
  rule ... dry-run        delivered with X-Mailvet-Dry-Run, the verdict
                          lines say would=reject, action=accept
  on_temperror = accept   a rule that cannot decide for a DNS error lets
                          the message through, header says temperror
  IPv4-mapped client      XCLIENT ADDR=IPV6:::ffff:192.0.2.x is checked
                          and reported as the IPv4 address (Postfix
                          itself hands the milter the IPv4 form; the
                          milter's own mapping is pinned by miltertest
                          iprev.lua, IPREV-MAPPED)
  hostile PTR name        a PTR answer carrying '"', ';', '(' and a space
                          is no host name: not followed (iprev=fail, never
                          pass), and it stays inside the comment

on_internal_error = accept lives in test_internal_error.py: no input
reaches an internal error, so that file injects one.
"""

import re

from harness import ar_split

ZONES = {
    # 192.0.2.1: forward-confirmed PTR (iprev=pass).
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.1"]},
    # 192.0.2.4: the PTR lookup fails with SERVFAIL (iprev=temperror).
    "4.2.0.192.in-addr.arpa": {"fault": "servfail"},
    # 192.0.2.9: a PTR name with bytes a header must not take raw; it
    # resolves back, so iprev passes and the name reaches the header.
    "9.2.0.192.in-addr.arpa": {"PTR": ['evil";iprev=fail (x.example.']},
    'evil";iprev=fail (x.example': {"A": ["192.0.2.9"]},
    # 192.0.2.10: a PTR name with a space that does not resolve back.
    "10.2.0.192.in-addr.arpa": {"PTR": ["a b;spf=pass.example."]},
}

RULES = r'''
rule "discard"    when mailfrom is "discard@actions.example" then discard
rule "hold"       when mailfrom is "hold@actions.example"
                  then quarantine "held by %{client.ip}"
rule "would"      dry-run when mailfrom is "dry@actions.example"
                  then reject 550 5.7.1 "dry run says no"
rule "ptr probe"  when mailfrom is "ptr@actions.example" then accept
rule "fcrdns"     when iprev is fail or iprev is permerror
                  then reject 550 5.7.25 "no forward-confirmed PTR"
'''

MAILVET_CONF = {"dns_timeout_ms": 1500, "on_temperror": "accept"}
TIMEOUT = 60
RCPT = "rcpt@dest.example"


def send(env, ip, mail_from, helo="mail.good.example", **kw):
    return env.send(ip, helo, mail_from, [RCPT], **kw)


def control(env):
    """control - a message that must arrive: once it has, anything sent
    before it that was going to be delivered has had its chance too"""
    r = send(env, "192.0.2.1", "control@actions.example")
    assert r.accepted, r
    return env.postfix.wait_delivered(r.marker)


def kv_line(env, qid):
    """kv_line - the daemon's key=value verdict line for a queue id"""
    lines = [ln for ln in env.mailvet.stderr().splitlines()
             if "%s: verdict" % qid in ln]
    assert len(lines) == 1, (qid, lines, env.mailvet.stderr()[-2000:])
    return lines[0]


def test_discard_nothing_delivered(env):
    r = send(env, "192.0.2.1", "discard@actions.example")
    # The client is told the message was taken: discard is silent.
    assert r.eom.code == 250, r
    assert r.queue_id, r
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "discard" and v["rule"] == "discard", v
    env.postfix.wait_log(r"%s: milter-discard: END-OF-MESSAGE" % r.queue_id)
    control(env)
    assert env.postfix.find_delivered(r.marker) is None, \
        "a discarded message was delivered"
    queued = [m["queue_id"] for m in env.postfix.postqueue()]
    assert r.queue_id not in queued, queued
    assert "action=discard" in kv_line(env, r.queue_id)


def test_quarantine_in_hold_queue(env):
    r = send(env, "192.0.2.1", "hold@actions.example")
    assert r.eom.code == 250, r
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "quarantine" and v["rule"] == "hold", v
    # Postfix logs the hold, not the milter's reason text.
    env.postfix.wait_log(r"%s: milter-hold: END-OF-MESSAGE from "
                         r"[^\n]*: milter triggers HOLD action" % r.queue_id)
    held = [m for m in env.postfix.postqueue()
            if m["queue_id"] == r.queue_id]
    assert len(held) == 1 and held[0]["queue_name"] == "hold", \
        env.postfix.postqueue()
    assert [x["address"] for x in held[0]["recipients"]] == [RCPT], held
    control(env)
    assert env.postfix.find_delivered(r.marker) is None, \
        "a quarantined message was delivered"
    # Still held after the control message went through.
    assert any(m["queue_id"] == r.queue_id and m["queue_name"] == "hold"
               for m in env.postfix.postqueue())


def test_rule_dry_run_delivers_with_header(env):
    r = send(env, "192.0.2.1", "dry@actions.example")
    assert r.accepted, r
    assert all(x.code == 250 for x in r.rcpt), r
    d = env.postfix.wait_delivered(r.marker)
    assert d.headers("X-Mailvet-Dry-Run") == [
        'would reject (rule "would": 550 5.7.1 dry run says no)'], \
        d.text[:1200]
    v = env.mailvet.verdict_for(r)
    assert v["would"] == "reject" and v["action"] == "accept", v
    assert v["rule"] == "would", v
    line = kv_line(env, r.queue_id)
    assert " would=reject" in line and " action=accept" in line, line


def test_no_dry_run_header_without_dry_run(env):
    """control for the test above: a plain delivery carries no notice"""
    d = control(env)
    assert d.headers("X-Mailvet-Dry-Run") == [], d.text[:1200]


def test_on_temperror_accept(env):
    """SERVFAIL on the PTR: "fcrdns" cannot decide; on_temperror=accept"""
    r = send(env, "192.0.2.4", "normal@actions.example")
    assert r.accepted, r
    assert all(x.code == 250 for x in r.rcpt), r
    d = env.postfix.wait_delivered(r.marker)
    ours = [h for h in d.auth_results if h.startswith("mx.test.example;")]
    assert len(ours) == 1, d.auth_results
    assert "iprev=temperror policy.iprev=192.0.2.4 (PTR lookup: SERVFAIL)" \
        in ours[0], ours
    v = env.mailvet.verdict_for(r)
    assert v["iprev"] == "temperror" and v["action"] == "accept", v


def test_on_temperror_default_tempfails(env):
    """control: the same message with the default (tempfail) gets 4xx"""
    env.mailvet.reload(conf={"on_temperror": "tempfail",
                             "dns_timeout_ms": 1500})
    try:
        r = send(env, "192.0.2.4", "normal@actions.example")
        codes = [x.code for x in r.rcpt]
        assert codes and all(400 <= c < 500 for c in codes), r
        assert not r.accepted, r
    finally:
        env.mailvet.reload(conf=MAILVET_CONF)


def test_ipv4_mapped_client(env):
    r = send(env, "::ffff:192.0.2.1", "mapped@actions.example")
    assert r.xclient.code == 220, r
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    ours = [h for h in d.auth_results if h.startswith("mx.test.example;")]
    assert len(ours) == 1, d.auth_results
    assert "iprev=pass policy.iprev=192.0.2.1 (mail.good.example)" \
        in ours[0], ours
    assert "::ffff" not in ours[0], ours
    v = env.mailvet.verdict_for(r)
    assert v["client_ip"] == "192.0.2.1", v
    env.postfix.wait_log(r"%s: client=unknown\[192\.0\.2\.1\]" % r.queue_id)


def bare(value):
    """bare - an A-R value without its comments and quoted strings"""
    return "; ".join(re.sub(r"\s*\(.*", "", p) for p in ar_split(value))


def test_hostile_ptr_names_in_header(env):
    """PTR names from a real DNS answer that hold header syntax"""
    # What the resolver hands over is the name in presentation format
    # (RFC 1035 5.1: '"', ';', '(' backslash-escaped, a space as \032);
    # the comment escaper then doubles each backslash once more.
    cases = [("192.0.2.9", r'evil\\"\\;iprev=fail\\032\\\(x.example'),
             ("192.0.2.10", r"a\\032b\\;spf=pass.example")]
    for ip, shown in cases:
        r = send(env, ip, "ptr@actions.example", helo="helo.actions.example")
        assert r.accepted, (ip, r)
        d = env.postfix.wait_delivered(r.marker)
        ours = [h for h in d.auth_results
                if h.startswith("mx.test.example;")]
        assert len(ours) == 1, d.auth_results
        parts = ar_split(ours[0])
        methods = [p.split("=", 1)[0] for p in parts[1:]]
        # Exactly our five results, whatever the PTR name holds.
        assert methods == ["iprev", "spf", "spf", "dkim", "x-helo"], parts
        assert len(re.findall(r"(?:^|;)\s*(?:iprev|spf)=",
                              bare(ours[0]))) == 3, ours
        assert "spf=pass" not in bare(ours[0]), ours
        # Not a host name: no forward lookup of it, so never a pass.
        assert parts[1] == "iprev=fail policy.iprev=%s (%s: no PTR name " \
            "resolves back to the client)" % (ip, shown), parts[1]
        v = env.mailvet.verdict_for(r)
        assert v["iprev"] == "fail" and v["ptr"] is None, v
