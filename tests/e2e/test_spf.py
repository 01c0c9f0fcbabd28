"""
test_spf - SPF (RFC 7208) of MAIL FROM and HELO through a real Postfix, a
real DNS server process and mailvet (issue 4).

Every result value shows in both headers mailvet writes (Received-SPF and
Authentication-Results) and in the verdict line; the lookup limits hold
across include (10 DNS-querying terms) and void lookups (2); the null
sender is checked as postmaster@HELO; IPv6 clients match ip6:; a DNS
failure is temperror (SERVFAIL at once, a silent server within the
deadline); rules reject on "spf is fail" and tempfail on temperror.

Clients are simulated with XCLIENT; every name resolves only on the test
DNS server. The rules tests come last: they restart mailvet with rules.
"""

import re
import time

from harness import ar_split

CLIENT = "192.0.2.10"
HELO = "mail.client.example"


def _a(first, last):
    """_a - "a:" terms on names that exist but never match the client"""
    return " ".join("a:h%d.chain.example" % i for i in range(first, last))


ZONES = {
    # The client and its HELO name: iprev pass, HELO SPF pass.
    "10.2.0.192.in-addr.arpa": {"PTR": [HELO + "."]},
    HELO: {"A": [CLIENT], "TXT": ["v=spf1 a -all"]},
    # One domain per result of check_host().
    "pass.example": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
    "fail.example": {"TXT": ["v=spf1 ip4:203.0.113.0/24 -all"]},
    "softfail.example": {"TXT": ["v=spf1 ip4:203.0.113.0/24 ~all"]},
    "neutral.example": {"TXT": ["v=spf1 ?all"]},
    "none.example": {"A": ["203.0.113.1"],
                     "TXT": ["some other text, not SPF"]},
    "servfail.example": {"fault": "servfail"},
    "perm.example": {"TXT": ["v=spf1 ip4:192.0.2.300 -all"]},
    "silent.example": {"fault": "timeout"},
    # 1 + 5 + 5 DNS-querying terms across two includes: the 11th (h9)
    # is past the limit although the last record would pass the client.
    "chain.example": {"TXT": ["v=spf1 include:c1.chain.example -all"]},
    "c1.chain.example": {"TXT": ["v=spf1 %s include:c2.chain.example -all"
                                 % _a(0, 4)]},
    "c2.chain.example": {"TXT": ["v=spf1 %s ip4:%s -all"
                                 % (_a(4, 9), CLIENT)]},
    # The same shape with exactly 10 terms: pass (control).
    "chainok.example": {"TXT": ["v=spf1 include:c1ok.chain.example -all"]},
    "c1ok.chain.example": {"TXT": ["v=spf1 %s include:c2ok.chain.example"
                                   " -all" % _a(0, 4)]},
    "c2ok.chain.example": {"TXT": ["v=spf1 %s ip4:%s -all"
                                   % (_a(4, 8), CLIENT)]},
    # Void lookups: NXDOMAIN, NODATA, NXDOMAIN before the matching ip4.
    "void.example": {"TXT": ["v=spf1 a:nx1.void.example "
                             "a:nodata.void.example a:nx2.void.example "
                             "ip4:%s -all" % CLIENT]},
    "void2.example": {"TXT": ["v=spf1 a:nx1.void.example "
                              "a:nodata.void.example ip4:%s -all"
                              % CLIENT]},
    "nodata.void.example": {"MX": [[10, "mx.void.example."]]},
    # HELO identities: the null sender is postmaster@HELO.
    "helo.null.example": {"A": [CLIENT],
                          "TXT": ["v=spf1 ip4:%s -all" % CLIENT]},
    "helo.fail.example": {"A": [CLIENT],
                          "TXT": ["v=spf1 ip4:203.0.113.0/24 -all"]},
    # IPv6: ip6: mechanism.
    "v6.example": {"TXT": ["v=spf1 ip6:2001:db8:5::/48 -all"]},
}
for _i in range(10):
    ZONES["h%d.chain.example" % _i] = {"A": ["203.0.113.%d" % (100 + _i)]}

DNS_TIMEOUT_MS = 1500
MAILVET_CONF = {"dns_timeout_ms": DNS_TIMEOUT_MS}
TIMEOUT = 60

# Not RULES: run.py would start the daemon of every test with it.
SPF_RULES = r'''
rule "spf fail" when spf is fail
    then reject 550 5.7.23 "SPF of %{spf.domain} does not permit %{client.ip}"
rule "spf trouble" when spf is temperror
    then tempfail 451 4.7.24 "SPF of %{spf.domain} not checked, try later"
'''

COMMENT = {
    "pass": "domain of {s} designates {ip} as permitted sender",
    "fail": "domain of {s} does not designate {ip} as permitted sender",
    "softfail": "transitioning domain of {s} does not designate {ip} as "
                "permitted sender",
    "neutral": "{ip} is neither permitted nor denied by domain of {s}",
    "none": "domain of {s} does not provide an SPF record",
    "temperror": "temporary error in processing during lookup of {s}: {r}",
    "permerror": "permanent error in processing during lookup of {s}: {r}",
}


def received_spf(result, sender, reason, ip=CLIENT, helo=HELO,
                 identity="mailfrom", envelope=None):
    """received_spf - the exact Received-SPF value mailvet must write"""
    q_ip = '"%s"' % ip if ":" in ip else ip
    env = sender if envelope is None else envelope
    v = "%s (mx.test.example: %s) client-ip=%s; envelope-from=\"%s\"; " \
        "helo=%s; receiver=mx.test.example; identity=%s;" % (
            result, COMMENT[result].format(s=sender, ip=ip, r=reason),
            q_ip, env, helo, identity)
    if result in ("temperror", "permerror"):
        v = v[:-1] + '; problem="%s";' % reason.replace(
            "\\", "\\\\").replace('"', '\\"')
    return v


def spf_ar(result, sender, reason):
    """spf_ar - the exact spf= line of Authentication-Results"""
    line = "spf=%s smtp.mailfrom=%s" % (result, sender)
    return line if result == "pass" else "%s (%s)" % (line, reason)


def deliver(env, sender, ip=CLIENT, helo=HELO):
    """deliver - send one message; (result, delivered, verdict)"""
    r = env.send(ip, helo, sender, ["rcpt@dest.example"])
    assert r.accepted, "not accepted: %r" % (r,)
    d = env.postfix.wait_delivered(r.marker)
    v = env.mailvet.verdict_for(r)
    return r, d, v


def ar_parts(d):
    """ar_parts - our Authentication-Results split into its results"""
    values = [h for h in d.headers("Authentication-Results")
              if h.lower().startswith("mx.test.example")]
    assert len(values) == 1, "want one A-R of ours, got %r" % values
    return ar_split(values[0])


def spf_lines(d):
    """spf_lines - the spf= results of our A-R, in order"""
    return [p for p in ar_parts(d) if p.startswith("spf=")]


def check_both(d, v, result, sender, reason, domain):
    """check_both - the MAIL FROM result in both headers and the log"""
    rspf = d.headers("Received-SPF")
    assert rspf == [received_spf(result, sender, reason)], \
        "Received-SPF %r, want %r" % (rspf, received_spf(result, sender,
                                                         reason))
    lines = spf_lines(d)
    assert lines[:1] == [spf_ar(result, sender, reason)], lines
    assert v["spf"] == result and v["spf_domain"] == domain, v


CASES = [
    ("pass", "a@pass.example", "matched mechanism"),
    ("fail", "b@fail.example", "matched mechanism"),
    ("softfail", "c@softfail.example", "matched mechanism"),
    ("neutral", "d@neutral.example", "matched mechanism"),
    ("none", "e@none.example", "no SPF record"),
    ("temperror", "f@servfail.example", "DNS lookup failure"),
    ("permerror", "g@perm.example", 'invalid term: "ip4:192.0.2.300"'),
]


def test_every_result_in_both_headers(env):
    for result, sender, reason in CASES:
        r, d, v = deliver(env, sender)
        check_both(d, v, result, sender, reason, sender.split("@")[1])
        # The HELO identity is checked too, and passes this client.
        assert spf_lines(d)[1:] == ["spf=pass smtp.helo=" + HELO], \
            (result, spf_lines(d))
        assert v["spf_helo"] == "pass", v
        # Order: iprev, spf (MAIL FROM), spf (HELO), x-helo.
        methods = [p.split("=")[0] for p in ar_parts(d)[1:]]
        assert methods == ["iprev", "spf", "spf", "dkim", "x-helo"], methods


def test_include_chain_past_ten_lookups(env):
    r, d, v = deliver(env, "x@chain.example")
    check_both(d, v, "permerror", "x@chain.example",
               "more than 10 DNS-querying terms", "chain.example")
    # Control: the same chain with 10 terms passes.
    r, d, v = deliver(env, "x@chainok.example")
    check_both(d, v, "pass", "x@chainok.example", "matched mechanism",
               "chainok.example")


def test_void_lookup_limit(env):
    r, d, v = deliver(env, "x@void.example")
    check_both(d, v, "permerror", "x@void.example",
               "more than 2 void lookups", "void.example")
    # Control: two void lookups are allowed.
    r, d, v = deliver(env, "x@void2.example")
    check_both(d, v, "pass", "x@void2.example", "matched mechanism",
               "void2.example")


def test_null_sender_uses_helo(env):
    helo = "helo.null.example"
    r = env.send(CLIENT, helo, "", ["rcpt@dest.example"])
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    v = env.mailvet.verdict_for(r)
    sender = "postmaster@" + helo
    want = received_spf("pass", sender, None, helo=helo, identity="helo",
                        envelope="")
    assert d.headers("Received-SPF") == [want], \
        (d.headers("Received-SPF"), want)
    assert spf_lines(d) == ["spf=pass smtp.mailfrom=" + sender,
                            "spf=pass smtp.helo=" + helo], spf_lines(d)
    assert v["mail_from"] == "" and v["spf"] == "pass" and \
        v["spf_domain"] == helo and v["spf_helo"] == "pass", v


def test_ipv6_client_ip6_mechanism(env):
    for ip, result in (("2001:db8:5::10", "pass"),
                       ("2001:db8:6::10", "fail")):
        r, d, v = deliver(env, "six@v6.example", ip=ip)
        want = received_spf(result, "six@v6.example", None, ip=ip)
        assert d.headers("Received-SPF") == [want], \
            (d.headers("Received-SPF"), want)
        assert spf_lines(d)[0] == spf_ar(result, "six@v6.example",
                                         "matched mechanism"), spf_lines(d)
        assert v["client_ip"] == ip and v["spf"] == result, v


def test_silent_dns_is_temperror_within_deadline(env):
    t0 = time.monotonic()
    r, d, v = deliver(env, "z@silent.example")
    took = time.monotonic() - t0
    assert took < DNS_TIMEOUT_MS / 1000.0 + 1.0, "took %.2fs" % took
    assert v["spf"] == "temperror" and v["spf_domain"] == "silent.example", v
    line = spf_lines(d)[0]
    assert re.match(r"spf=temperror smtp\.mailfrom=z@silent\.example "
                    r"\([^)]+\)$", line), line
    rspf = d.header("Received-SPF")
    assert rspf.startswith("temperror (mx.test.example: temporary error "
                           "in processing during lookup of "
                           "z@silent.example: ") and \
        "identity=mailfrom; problem=" in rspf, rspf


def test_helo_result_line(env):
    helo = "helo.fail.example"
    r, d, v = deliver(env, "a@pass.example", helo=helo)
    assert spf_lines(d) == [
        "spf=pass smtp.mailfrom=a@pass.example",
        "spf=fail smtp.helo=%s (matched mechanism)" % helo], spf_lines(d)
    # Received-SPF is for MAIL FROM only.
    assert d.headers("Received-SPF") == [
        received_spf("pass", "a@pass.example", None, helo=helo)]
    assert v["spf"] == "pass" and v["spf_helo"] == "fail", v


def test_verdict_fields(env):
    r, d, v = deliver(env, "b@fail.example")
    assert (v["spf"], v["spf_domain"], v["spf_helo"]) == \
        ("fail", "fail.example", "pass"), v
    assert v["action"] == "accept", v  # no rules yet: annotate only


def test_rule_rejects_spf_fail(env):
    env.restart_mailvet(rules=SPF_RULES)
    r = env.send(CLIENT, HELO, "b@fail.example", ["rcpt@dest.example"])
    assert r.mail.code == 250, r
    assert r.rcpt and r.rcpt[0].code == 550, r
    assert r.rcpt[0].text == \
        "5.7.23 SPF of fail.example does not permit 192.0.2.10", r.rcpt[0]
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "reject" and v["rule"] == "spf fail", v
    assert v["spf"] == "fail", v
    # A passing sender goes through the same rules untouched.
    r, d, v = deliver(env, "a@pass.example")
    assert v["action"] == "accept" and v["rule"] is None, v


def test_rule_tempfails_servfail(env):
    env.restart_mailvet(rules=SPF_RULES)
    r = env.send(CLIENT, HELO, "f@servfail.example", ["rcpt@dest.example"])
    assert r.mail.code == 250, r
    assert r.rcpt and r.rcpt[0].code == 451, r
    assert r.rcpt[0].text == \
        "4.7.24 SPF of servfail.example not checked, try later", r.rcpt[0]
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "tempfail" and v["rule"] == "spf trouble", v
