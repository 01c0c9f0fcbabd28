"""
test_default_rules - the shipped rules/default.rules (what the demo and a
new install run) with every check on, through Postfix: a good sender is
delivered untagged, soft signals only tag, DNS trouble tempfails at RCPT,
a HELO claiming to be us is refused.
"""

import os

import harness

with open(os.path.join(harness.ROOT, "rules", "default.rules")) as f:
    RULES = f.read()

ZONES = {
    "10.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.10"],
                          "TXT": ["v=spf1 a -all"]},
    "good.example": {"TXT": ["v=spf1 ip4:192.0.2.10 -all"]},
    "20.2.0.192.in-addr.arpa": {"PTR": ["host.liar.example."]},
    "host.liar.example": {"A": ["203.0.113.9"]},
    "40.2.0.192.in-addr.arpa": {"fault": "timeout"},
}
MAILVET_CONF = {"dns_timeout_ms": 1500}
TIMEOUT = 60


def send(env, ip, helo, sender="alice@good.example"):
    return env.send(ip, helo, sender, ["bob@dest.example"])


def test_good_sender_delivered_untagged(env):
    r = send(env, "192.0.2.10", "mail.good.example")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert d.header("X-Mailvet-Warn") is None, d.text[:800]
    ar = " ".join(d.headers("Authentication-Results"))
    for want in ("iprev=pass", "spf=pass", "dkim=none", "x-helo=pass"):
        assert want in ar, (want, ar)
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "accept" and v["reason"] is None, v


def test_soft_signals_only_tag(env):
    r = send(env, "192.0.2.20", "host.liar.example",
             sender="carol@liar.example")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    warns = d.headers("X-Mailvet-Warn")
    assert any("no verified reverse DNS" in w for w in warns), warns


def test_dns_trouble_tempfails(env):
    r = send(env, "192.0.2.40", "mail.slow.example")
    assert r.rcpt and r.rcpt[0].code == 451, r
    assert "4.7.25" in r.rcpt[0].text, r


def test_helo_claiming_us_refused(env):
    r = send(env, "192.0.2.10", "mx.test.example")
    assert r.rcpt and r.rcpt[0].code == 550, r
