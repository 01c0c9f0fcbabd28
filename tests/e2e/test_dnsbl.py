"""
test_dnsbl - DNS block and allow lists of the client IP (DNSBL) and of
domain names (RHSBL) through a real Postfix, a real DNS server process and
mailvet (issue 6).

The lists are zones of the test DNS server; mailvet weighs them the
postscreen way (dnsbl_sites below).  Checked: a listing past the rules'
threshold is rejected with the list named in the reply; a refusal code
(127.255.255.254) is logged and never a listing; a weight below the
threshold only tags the message (add-header); an allowlist's negative
weight offsets a listing; a list that never answers lets the message
through within the deadline as temperror / incomplete; an IPv6 client is
looked up by its nibble name; RHSBL works on the MAIL FROM domain and on
the HELO name.  Each case asserts the SMTP replies, the delivered
Authentication-Results (x-dnsbl= / x-rhsbl=) and the verdict JSON.
"""

import re
import time

from harness import ar_split

SENDER = "sender@clean.example"
HELO = "mail.clean.example"
RCPT = "rcpt@dest.example"
DNS_TIMEOUT_MS = 1500

V6 = "2001:db8:1::5"
V6_NIBBLES = "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2"

ZONES = {
    # 192.0.2.30: on zen (score 3): rejected.
    "30.2.0.192.zen.example": {"A": ["127.0.0.2"],
                               "TXT": ["see https://zen.example/30"]},
    # 192.0.2.31: zen refuses the query with 127.255.255.254.
    "31.2.0.192.zen.example": {"A": ["127.255.255.254"]},
    # 192.0.2.32: only on bl.example (score 2): tagged, delivered.
    "32.2.0.192.bl.example": {"A": ["127.0.0.2"]},
    # 192.0.2.33: on zen (3) and on the allowlist (-2): score 1, tagged.
    "33.2.0.192.zen.example": {"A": ["127.0.0.4"]},
    "33.2.0.192.wl.example": {"A": ["127.0.2.1"]},
    # 192.0.2.34: slow.example never answers for it.
    "34.2.0.192.slow.example": {"fault": "timeout"},
    # 192.0.2.36: on bl.example (2) and the allowlist (-2): score 0.
    "36.2.0.192.bl.example": {"A": ["127.0.0.2"]},
    "36.2.0.192.wl.example": {"A": ["127.0.0.1"]},
    # 192.0.2.35: a zen code outside the pattern [2..11]: not listed.
    "35.2.0.192.zen.example": {"A": ["127.0.0.12"]},
    # IPv6 client, by nibbles.
    V6_NIBBLES + ".zen.example": {"A": ["127.0.0.3"]},
    # Domain lists: spam.example is on dbl (score 3), the HELO names
    # bad.helo.example on dbl and grey.helo.example on grey (score 1).
    "spam.example.dbl.example": {"A": ["127.0.1.2"]},
    "bad.helo.example.dbl.example": {"A": ["127.0.1.2"]},
    "grey.helo.example.grey.example": {"A": ["127.0.1.3"]},
    "bad.helo.example": {"A": ["192.0.2.50"]},
    "grey.helo.example": {"A": ["192.0.2.51"]},
}

MAILVET_CONF = {
    "dns_timeout_ms": DNS_TIMEOUT_MS,
    "dnsbl_sites": "zen.example=127.0.0.[2..11]*3, bl.example*2, "
                   "wl.example=127.0.[0..255].[1..3]*-2, slow.example",
    "rhsbl_sites": "dbl.example=127.0.1.[2..99]*3, grey.example",
}

RULES = r'''
rule "dnsbl" when dnsbl.score >= 3
    then reject 554 5.7.1 "Client %{client.ip} listed on %{dnsbl.listed}"
rule "rhsbl" when rhsbl.score >= 3
    then reject 550 5.7.1 "Domain listed on %{rhsbl.listed}"
rule "dnsbl tag" when dnsbl.score > 0 or rhsbl.score > 0
    then add-header X-Mailvet-Lists
    "ip %{dnsbl.score} %{dnsbl.listed}; names %{rhsbl.score} %{rhsbl.listed}"
'''

TIMEOUT = 60



def ar_entry(d, method):
    """ar_entry - the one method= entry of our Authentication-Results"""
    ours = [h for h in d.auth_results if h.startswith("mx.test.example")]
    assert len(ours) == 1, "want one A-R of ours, got %r" % ours
    got = [p for p in ar_split(ours[0]) if p.startswith(method + "=")]
    assert len(got) == 1, (method, ours[0])
    return got[0]


def send(env, ip, helo=HELO, sender=SENDER):
    """send - one message from ip"""
    return env.send(ip, helo, sender, [RCPT])


def deliver(env, ip, helo=HELO, sender=SENDER):
    """deliver - send, insist on delivery; (result, delivered, verdict)"""
    r = send(env, ip, helo, sender)
    assert r.accepted, "not accepted: %r" % (r,)
    d = env.postfix.wait_delivered(r.marker)
    return r, d, env.mailvet.verdict_for(r)


def log_line(env, ip):
    """log_line - the last key=value verdict line logged for client ip"""
    lines = [ln for ln in env.mailvet.stderr().splitlines()
             if " verdict " in ln and " client=%s " % ip in ln]
    assert lines, "no verdict line for %s" % ip
    return lines[-1]


def lists(v, key="dnsbl"):
    """lists - (result, score, complete, listed) of the verdict JSON"""
    x = v[key]
    return x["result"], x["score"], x["complete"], x["listed"]


def test_listed_ip_rejected_with_list_name(env):
    r = send(env, "192.0.2.30")
    assert r.mail.code == 250, r
    assert r.rcpt and r.rcpt[0].code == 554, r
    assert r.rcpt[0].text == \
        "5.7.1 Client 192.0.2.30 listed on zen.example", r.rcpt[0]
    assert r.data.code == 0, r  # no recipient left: no DATA
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "reject" and v["rule"] == "dnsbl", v
    assert lists(v) == ("fail", 3, True, ["zen.example"]), v["dnsbl"]
    line = log_line(env, "192.0.2.30")
    assert " dnsbl=fail dnsbl_score=3 dnsbl_listed=zen.example " in line, \
        line


def test_refusal_code_is_not_a_listing(env):
    r, d, v = deliver(env, "192.0.2.31")
    assert d.header("X-Mailvet-Lists") is None, d.text[:600]
    assert lists(v) == ("temperror", 0, False, []), v["dnsbl"]
    assert v["action"] == "accept" and v["rule"] is None, v
    entry = ar_entry(d, "x-dnsbl")
    assert entry == "x-dnsbl=temperror (zen.example: bad answer " \
        "127.255.255.254: query refused)", entry
    # The refusal is logged, naming the list and the code.
    log = env.mailvet.stderr()
    assert re.search(r"dnsbl zen\.example: bad answer 127\.255\.255\.254: "
                     r"query refused", log), log[-2000:]


def test_weight_below_threshold_tags_only(env):
    r, d, v = deliver(env, "192.0.2.32")
    assert d.header("X-Mailvet-Lists") == \
        "ip 2 bl.example; names 0 none", d.text[:600]
    assert lists(v) == ("fail", 2, True, ["bl.example"]), v["dnsbl"]
    assert v["action"] == "accept", v
    entry = ar_entry(d, "x-dnsbl")
    assert entry == "x-dnsbl=fail policy.listed=bl.example " \
        "(bl.example=127.0.0.2 score 2)", entry
    assert ar_entry(d, "x-rhsbl") == \
        "x-rhsbl=pass (not listed on 2 lists)", ar_entry(d, "x-rhsbl")


def test_allowlist_offsets_listing(env):
    r, d, v = deliver(env, "192.0.2.33")
    res, score, complete, listed = lists(v)
    assert (res, score, complete) == ("fail", 1, True), v["dnsbl"]
    assert sorted(listed) == ["wl.example", "zen.example"], listed
    assert v["action"] == "accept", v
    tag = d.header("X-Mailvet-Lists")
    assert tag in ("ip 1 zen.example,wl.example; names 0 none",
                   "ip 1 wl.example,zen.example; names 0 none"), tag
    entry = ar_entry(d, "x-dnsbl")
    assert "zen.example=127.0.0.4 score 3" in entry and \
        "wl.example=127.0.2.1 score -2" in entry, entry


def test_allowlist_cancels_listing(env):
    r, d, v = deliver(env, "192.0.2.36")
    res, score, complete, listed = lists(v)
    assert (res, score, complete) == ("pass", 0, True), v["dnsbl"]
    assert sorted(listed) == ["bl.example", "wl.example"], listed
    assert d.header("X-Mailvet-Lists") is None, d.text[:600]
    assert ar_entry(d, "x-dnsbl").startswith("x-dnsbl=pass "), \
        ar_entry(d, "x-dnsbl")


def test_code_outside_pattern_not_listed(env):
    r, d, v = deliver(env, "192.0.2.35")
    assert lists(v) == ("pass", 0, True, []), v["dnsbl"]
    assert ar_entry(d, "x-dnsbl") == \
        "x-dnsbl=pass (not listed on 4 lists)", ar_entry(d, "x-dnsbl")
    assert d.header("X-Mailvet-Lists") is None, d.text[:600]


def test_silent_list_flows_within_deadline(env):
    t0 = time.monotonic()
    r = send(env, "192.0.2.34")
    took = time.monotonic() - t0
    assert r.accepted, r
    assert took < DNS_TIMEOUT_MS / 1000.0 + 1.0, "took %.2fs" % took
    d = env.postfix.wait_delivered(r.marker)
    v = env.mailvet.verdict_for(r)
    assert lists(v) == ("temperror", 0, False, []), v["dnsbl"]
    assert v["action"] == "accept" and v["rule"] is None, v
    entry = ar_entry(d, "x-dnsbl")
    assert re.match(r"x-dnsbl=temperror \(slow\.example: [^;)]+\)$",
                    entry), entry
    assert env.dns.count("34.2.0.192.slow.example", "A") >= 1
    line = log_line(env, "192.0.2.34")
    assert " dnsbl=temperror dnsbl_score=0 dnsbl_listed=- " in line, line


def test_ipv6_client_nibble_name(env):
    r = send(env, V6)
    assert r.rcpt and r.rcpt[0].code == 554, r
    assert r.rcpt[0].text == \
        "5.7.1 Client %s listed on zen.example" % V6, r.rcpt[0]
    assert env.dns.count(V6_NIBBLES + ".zen.example", "A") >= 1
    v = env.mailvet.verdict_for(r)
    assert v["client_ip"] == V6 and v["rule"] == "dnsbl", v
    assert lists(v) == ("fail", 3, True, ["zen.example"]), v["dnsbl"]


def test_rhsbl_sender_domain(env):
    r = send(env, "192.0.2.40", sender="x@spam.example")
    # Decided at MAIL FROM, delivered at RCPT TO (smtpd_delay_reject).
    assert r.mail.code == 250, r
    assert r.rcpt and r.rcpt[0].code == 550, r
    assert r.rcpt[0].text == "5.7.1 Domain listed on dbl.example", r.rcpt[0]
    assert env.dns.count("spam.example.dbl.example", "A") >= 1
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "reject" and v["rule"] == "rhsbl", v
    assert lists(v, "rhsbl") == ("fail", 3, True, ["dbl.example"]), \
        v["rhsbl"]
    assert lists(v) == ("pass", 0, True, []), v["dnsbl"]


def test_rhsbl_helo_name(env):
    r = send(env, "192.0.2.41", helo="bad.helo.example")
    assert r.helo.code == 250 and r.mail.code == 250, r
    assert r.rcpt and r.rcpt[0].code == 550, r
    assert r.rcpt[0].text == "5.7.1 Domain listed on dbl.example", r.rcpt[0]
    assert env.dns.count("bad.helo.example.dbl.example", "A") >= 1
    v = env.mailvet.verdict_for(r)
    assert v["rule"] == "rhsbl", v
    assert lists(v, "rhsbl") == ("fail", 3, True, ["dbl.example"]), \
        v["rhsbl"]
    # A lighter domain list only tags; the A-R names the target.
    r, d, v = deliver(env, "192.0.2.42", helo="grey.helo.example")
    assert lists(v, "rhsbl") == ("fail", 1, True, ["grey.example"]), \
        v["rhsbl"]
    assert d.header("X-Mailvet-Lists") == \
        "ip 0 none; names 1 grey.example", d.text[:600]
    entry = ar_entry(d, "x-rhsbl")
    assert entry == "x-rhsbl=fail policy.listed=grey.example " \
        "(grey.example=127.0.1.3 helo=grey.helo.example score 1)", entry
