"""
test_dkim - DKIM verification (RFC 6376, RFC 8463) through a real Postfix,
a real DNS server process and mailvet (issue 5).

Keys are made at import time and messages are signed by python3-dkim with
the helpers of tests/dkim/gen.py (an independent signer; no key is
committed).  The public keys and the faults (SERVFAIL, NXDOMAIN, silence,
revoked, 512-bit) are served by the test DNS server.  Each case checks
the dkim= entries of the delivered Authentication-Results header (one per
signature, with header.d/i/s/a/b), the SMTP replies and the verdict JSON.
The rules test comes last: it restarts mailvet with a rule that
tempfails at end of data on "dkim is temperror".
"""

import os
import re
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "dkim"))

import gen  # noqa: E402  tests/dkim/gen.py: keys, messages, signing
from harness import ar_split  # noqa: E402

CLIENT = "192.0.2.60"
HELO = "mail.example.test"
SENDER = "alice@example.test"
RCPT = "bob@receiver.test"
DNS_TIMEOUT_MS = 1500

RSA_PEM, RSA_P = gen.rsa_key(2048)
OTHER_PEM, _ = gen.rsa_key(2048)
SMALL_PEM, SMALL_P = gen.rsa_key(512)
ED_SEED, ED_P = gen.ed_key()

ZONES = {
    # The client: iprev and HELO pass, so only DKIM varies between cases.
    "60.2.0.192.in-addr.arpa": {"PTR": [HELO + "."]},
    HELO: {"A": [CLIENT]},
    "example.test": {"A": ["192.0.2.1"],
                     "TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
    "rsa._domainkey.example.test": gen.zone_txt(RSA_P),
    "ed._domainkey.example.test": gen.zone_txt(ED_P, "ed25519"),
    "small._domainkey.example.test": gen.zone_txt(SMALL_P),
    "revoked._domainkey.example.test": {"TXT": ["v=DKIM1; k=rsa; p="]},
    "fail._domainkey.example.test": {"fault": "servfail"},
    "slow._domainkey.example.test": {"fault": "timeout"},
    # missing._domainkey.example.test is not listed: NXDOMAIN.
}

MAILVET_CONF = {"dns_timeout_ms": DNS_TIMEOUT_MS}
TIMEOUT = 90

# Not RULES: run.py would start every test's daemon with it.
DKIM_RULES = r'''
rule "dkim trouble" when dkim is temperror
    then tempfail 451 4.7.5
        "DKIM: %{dkim.signatures} signature(s), no key yet, try later"
'''


def fresh(body=None):
    """fresh - (token, unsigned message) with token in the Subject"""
    token = "dkim" + uuid.uuid4().hex[:16]
    return token, gen.message(subject=b"Test message " + token.encode(),
                              body=body)


def signed(sel, key=RSA_PEM, alg=b"rsa-sha256", body=None):
    """signed - (token, message signed by example.test with selector sel)"""
    token, msg = fresh(body)
    return token, gen.sign(msg, sel, key, alg=alg)


def b8(msg, index=0):
    """b8 - the first 8 characters of b= of the index-th DKIM-Signature"""
    sigs = re.findall(rb"^DKIM-Signature:(.*?)\r\n(?! |\t)",
                      msg, re.M | re.S)
    value = re.sub(rb"\s+", b"", sigs[index]).decode()
    m = re.search(r"(?:^|;)b=([^;]*)", value)
    return m.group(1)[:8]



def dkim_entries(d):
    """dkim_entries - the dkim= results of our one A-R header, in order"""
    ours = [h for h in d.auth_results if h.startswith("mx.test.example")]
    assert len(ours) == 1, "want one A-R of ours, got %r" % ours
    return [p for p in ar_split(ours[0]) if p.startswith("dkim=")]


def pvalue(v):
    """pvalue - an A-R property value: a MIME token or a quoted string"""
    if re.search(r'[()<>@,;:\\"/\[\]?=\s]', v):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
    return v


def entry(result, selector, alg="rsa-sha256", b=None):
    """entry - regex for one dkim= entry of example.test"""
    rx = re.escape("dkim=" + result)
    rx += r"(?: \((?:[^()\\]|\\.)*\))?"  # the reason, escaped
    rx += re.escape(" header.d=example.test header.i=%s header.s=%s "
                    "header.a=%s" % (pvalue("@example.test"), selector, alg))
    rx += re.escape(" header.b=" + pvalue(b)) if b else r" header\.b=\S+"
    return rx + "$"


def deliver(env, token, msg):
    """deliver - send one pre-made message; (result, delivered, verdict)"""
    r = env.send(CLIENT, HELO, SENDER, [RCPT], message=msg)
    assert r.mail.code == 250 and r.rcpt[0].code == 250, r
    assert r.data.code == 354, r
    assert r.accepted, "not accepted: %r" % (r,)
    d = env.postfix.wait_delivered(token)
    v = env.mailvet.verdict_for(r)
    return r, d, v


def check_one(env, token, msg, result, selector, alg="rsa-sha256"):
    """check_one - one signature: its A-R entry and the verdict"""
    r, d, v = deliver(env, token, msg)
    got = dkim_entries(d)
    want = entry(result, selector, alg, b8(msg))
    assert len(got) == 1 and re.match(want, got[0]), (got, want)
    assert v["dkim"] == result, v
    assert v["action"] == "accept", v
    return got[0], v


def test_rsa_pass(env):
    token, msg = signed(b"rsa")
    line, v = check_one(env, token, msg, "pass", "rsa")
    assert "(" not in line, line  # a plain pass carries no comment


def test_simple_canon_odd_header_spacing_pass(env):
    """simple/simple signs headers byte for byte: mailvet must hand
    libopendkim the exact header text, spacing after the colon included
    (it negotiates SMFIP_HDR_LEADSPC with Postfix for that)."""
    token, msg = fresh()
    msg = msg.replace(b"Subject: ", b"Subject:").replace(b"To: ",
                                                         b"To:   ")
    msg = gen.sign(msg, b"rsa", RSA_PEM, canon=(b"simple", b"simple"))
    check_one(env, token, msg, "pass", "rsa")


def test_ed25519_pass(env):
    token, msg = signed(b"ed", ED_SEED, b"ed25519-sha256")
    check_one(env, token, msg, "pass", "ed", "ed25519-sha256")


def test_body_changed_fails(env):
    token, msg = signed(b"rsa")
    msg = msg.replace(b"DKIM test", b"DKIM fest")
    line, _ = check_one(env, token, msg, "fail", "rsa")
    assert "body" in line, line


def test_signed_header_changed_fails(env):
    token, msg = signed(b"rsa")
    msg = msg.replace(b"Subject: Test message", b"Subject: Test massage")
    line, _ = check_one(env, token, msg, "fail", "rsa")
    assert "signature" in line, line


def test_key_nxdomain_permerror(env):
    token, msg = signed(b"missing")
    line, _ = check_one(env, token, msg, "permerror", "missing")
    assert "no_key" in line or "no key" in line, line


def test_key_servfail_temperror(env):
    token, msg = signed(b"fail")
    check_one(env, token, msg, "temperror", "fail")


def test_key_silent_temperror_within_deadline(env):
    token, msg = signed(b"slow")
    t0 = time.monotonic()
    r = env.send(CLIENT, HELO, SENDER, [RCPT], message=msg)
    took = time.monotonic() - t0
    assert r.accepted, r
    assert took < DNS_TIMEOUT_MS / 1000.0 + 1.0, "took %.2fs" % took
    # It did wait for the key (c-ares may give up on its last try a
    # little before the deadline), not fail at once.
    assert took >= DNS_TIMEOUT_MS / 1000.0 / 2, "took %.2fs" % took
    d = env.postfix.wait_delivered(token)
    got = dkim_entries(d)
    assert len(got) == 1 and re.match(entry("temperror", "slow",
                                            b=b8(msg)), got[0]), got
    v = env.mailvet.verdict_for(r)
    assert v["dkim"] == "temperror", v
    assert env.dns.count("slow._domainkey.example.test", "TXT") >= 1


def test_revoked_key_permerror(env):
    token, msg = signed(b"revoked")
    line, _ = check_one(env, token, msg, "permerror", "revoked")
    assert "revoked" in line, line


def test_512_bit_key_policy(env):
    token, msg = signed(b"small", SMALL_PEM)
    line, _ = check_one(env, token, msg, "policy", "small")
    assert "512" in line, line


def test_two_signatures_two_entries(env):
    # Outer: ed25519, good. Inner: signed with a key that is not the one
    # published for "rsa": fail.  Entries come in header order.
    token, msg = fresh()
    msg = gen.sign(gen.sign(msg, b"rsa", OTHER_PEM), b"ed", ED_SEED,
                   alg=b"ed25519-sha256")
    r, d, v = deliver(env, token, msg)
    got = dkim_entries(d)
    assert len(got) == 2, got
    assert re.match(entry("pass", "ed", "ed25519-sha256", b8(msg, 0)),
                    got[0]), got
    assert re.match(entry("fail", "rsa", "rsa-sha256", b8(msg, 1)),
                    got[1]), got
    assert v["dkim"] == "pass", v  # the best of the two


def test_unsigned_is_none(env):
    token, msg = fresh()
    r, d, v = deliver(env, token, msg)
    assert dkim_entries(d) == ["dkim=none"], dkim_entries(d)
    assert v["dkim"] == "none", v


def test_4mb_signed_message_passes(env):
    big = b"".join(b"line %07d of a large signed message body .....\r\n"
                   % i for i in range(4 * 1024 * 1024 // 50))
    token, msg = signed(b"rsa", body=big)
    assert len(msg) > 4 * 1000 * 1000
    r, d, v = deliver(env, token, msg)
    got = dkim_entries(d)
    assert len(got) == 1 and re.match(entry("pass", "rsa", b=b8(msg)),
                                      got[0]), got
    assert v["dkim"] == "pass", v
    assert len(d.text) > 4 * 1000 * 1000, len(d.text)


def test_rule_tempfails_dkim_temperror(env):
    env.restart_mailvet(rules=DKIM_RULES)
    token, msg = signed(b"fail")
    r = env.send(CLIENT, HELO, SENDER, [RCPT], message=msg)
    assert r.rcpt[0].code == 250 and r.data.code == 354, r
    assert r.eom.code == 451, r
    assert r.eom.text == \
        "4.7.5 DKIM: 1 signature(s), no key yet, try later", r.eom
    v = env.mailvet.verdict_for(r)
    assert v["action"] == "tempfail" and v["rule"] == "dkim trouble", v
    assert v["dkim"] == "temperror", v
    # A passing message goes through the same rules.
    token, msg = signed(b"rsa")
    r, d, v = deliver(env, token, msg)
    assert v["dkim"] == "pass" and v["rule"] is None, v
