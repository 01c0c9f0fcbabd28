"""
test_rules - the rules file deciding through a real Postfix (issue 3):
custom reject code and text at RCPT TO, tempfail on temperror, add-header,
accept for listed networks (IPv4 and IPv6), authenticated accept, dry run,
SIGHUP reload while an SMTP session stays open, broken reload.
"""

import socket


ZONES = {
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.1"]},
    "4.2.0.192.in-addr.arpa": {"fault": "servfail"},
    "2.2.0.192.in-addr.arpa": {"PTR": ["liar.example."]},
    "liar.example": {"A": ["203.0.113.99"]},
}

RULES = r'''
list partners = 198.51.100.0/24, 2001:db8:beef::/48
rule "partners"     when client.ip in $partners then accept
rule "authenticated" when not auth is none then accept
rule "HELO is us"   when helo.claims_local is pass
                    then reject 550 5.7.1 "HELO claims to be us"
rule "no rDNS"      when iprev is permerror
                    then reject 550 5.7.25 "No reverse DNS for %{client.ip}"
rule "DNS trouble"  when iprev is temperror
                    then tempfail 451 4.7.25 "Temporary DNS failure"
rule "liar"         when iprev is fail
                    then add-header X-Mailvet-Warn "PTR of %{client.ip} does not resolve back"
'''

MAILVET_CONF = {"dns_timeout_ms": 1500}
TIMEOUT = 60


def send(env, ip, **kw):
    return env.send(ip, "mail.good.example", "sender@good.example",
                    ["rcpt@dest.example"], **kw)


def test_reject_at_rcpt_with_custom_code(env):
    r = send(env, "192.0.2.3")
    assert r.mail.code == 250, r
    assert r.rcpt[0].code == 550, r
    assert "5.7.25 No reverse DNS for 192.0.2.3" in r.rcpt[0].text, r
    v = env.mailvet.wait_verdicts(1) and [
        x for x in env.mailvet.verdicts() if x["client_ip"] == "192.0.2.3"]
    assert v and v[-1]["action"] == "reject" and v[-1]["rule"] == "no rDNS", \
        v


def test_tempfail_on_temperror(env):
    r = send(env, "192.0.2.4")
    assert r.rcpt[0].code == 451, r
    assert "4.7.25 Temporary DNS failure" in r.rcpt[0].text, r


def test_add_header_and_deliver(env):
    r = send(env, "192.0.2.2")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert d.header("X-Mailvet-Warn") == \
        "PTR of 192.0.2.2 does not resolve back", d.text[:800]
    assert "iprev=fail" in " ".join(d.headers("Authentication-Results"))


def test_partner_networks_accepted(env):
    for ip in ("198.51.100.9", "2001:db8:beef::9"):
        # No PTR: "no rDNS" would reject, but the partner rule comes first.
        r = send(env, ip)
        assert r.accepted, (ip, r)
        v = env.mailvet.verdict_for(r)
        assert v["rule"] == "partners" and v["action"] == "accept", v


def test_authenticated_accepted(env):
    r = send(env, "192.0.2.3", login="alice")
    assert r.accepted, r
    v = env.mailvet.verdict_for(r)
    assert v["rule"] == "authenticated", v


def test_good_sender_delivered(env):
    r = send(env, "192.0.2.1")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert d.header("X-Mailvet-Warn") is None


def smtp_line(f, s, line):
    s.sendall(line.encode() + b"\r\n")
    reply = ""
    while True:
        l = f.readline().decode()
        reply += l
        if len(l) < 4 or l[3] != "-":
            return reply


def test_reload_while_session_open(env):
    """The next message on the same SMTP connection sees the new rules"""
    m = env.mailvet
    s = socket.create_connection(("127.0.0.1", env.postfix.port), timeout=20)
    f = s.makefile("rb")
    try:
        f.readline()
        smtp_line(f, s, "EHLO client.example")
        smtp_line(f, s, "XCLIENT NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE]"
                  " ADDR=192.0.2.3")
        smtp_line(f, s, "EHLO mail.good.example")
        smtp_line(f, s, "MAIL FROM:<a@good.example>")
        first = smtp_line(f, s, "RCPT TO:<b@dest.example>")
        assert first.startswith("550"), first
        smtp_line(f, s, "RSET")
        outcome = m.reload(rules_text=RULES.replace(
            "then reject 550 5.7.25", "then reject 554 5.7.26"))
        assert ": reloaded " in outcome, outcome
        smtp_line(f, s, "MAIL FROM:<a@good.example>")
        second = smtp_line(f, s, "RCPT TO:<b@dest.example>")
        assert second.startswith("554 5.7.26"), second
        smtp_line(f, s, "QUIT")
    finally:
        s.close()
    m.reload(rules_text=RULES)


def test_broken_reload_keeps_rules(env):
    m = env.mailvet
    outcome = m.reload(
        rules_text='rule "x" when iprev is nonsense then accept\n')
    assert "reload failed, keeping the running rules: %s:1:" % m.rules_path \
        in outcome, outcome
    r = send(env, "192.0.2.3")
    assert r.rcpt[0].code == 550, r
    m.reload(rules_text=RULES)


def test_dry_run_delivers(env):
    m = env.restart_mailvet(conf=dict(MAILVET_CONF, dry_run="yes"))
    r = send(env, "192.0.2.3")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    dr = d.header("X-Mailvet-Dry-Run")
    assert dr and dr.startswith('would reject (rule "no rDNS"'), d.text[:800]
    v = m.verdict_for(r)
    assert v["would"] == "reject" and v["action"] == "accept", v
    env.restart_mailvet(conf=MAILVET_CONF)
