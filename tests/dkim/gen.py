#!/usr/bin/python3
"""
gen.py - DKIM test fixtures for mailvet, made fresh at test time

Usage:
    gen.py DIR

Writes into DIR: zones.json (keys for tests/e2e/dnsserver.py, faults
included), one message file per case (*.eml, CRLF line ends), and
expect.txt with one line per case:

    FILE<TAB>RESULT<TAB>SIG-RESULTS<TAB>EXTRA

RESULT is the message-wide dkim result, SIG-RESULTS the per-signature
results in header order joined by ',' ("-" for none), EXTRA a space-
separated list of checks for check.py (reason~TEXT, domains=LIST,
authres~TEXT, maxms=N, args=...).

Keys are generated here with python3-cryptography and messages are signed
by python3-dkim (an independent signer): no key is committed.
"""

import base64
import json
import os
import sys
import time

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

DOMAIN = b"example.test"


def rsa_key(bits):
    """rsa_key - (private PEM, p= text) of a new RSA key"""
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = k.private_bytes(serialization.Encoding.PEM,
                          serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    der = k.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(der).decode()


def ed_key():
    """ed_key - (private seed base64, p= text) of a new Ed25519 key"""
    k = ed25519.Ed25519PrivateKey.generate()
    seed = k.private_bytes(serialization.Encoding.Raw,
                           serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return base64.b64encode(seed), base64.b64encode(pub).decode()


def message(subject=b"Test message", body=None):
    """message - a plain CRLF message"""
    if body is None:
        body = b"Hello,\r\n\r\nThis is a DKIM test message.\r\n"
    return (b"From: Alice <alice@example.test>\r\n"
            b"To: bob@receiver.test\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Date: Mon, 06 Jan 2025 10:00:00 +0000\r\n"
            b"Message-ID: <dkim-test@example.test>\r\n"
            b"\r\n" + body)


def sign(msg, sel, key, alg=b"rsa-sha256", canon=(b"relaxed", b"relaxed"),
         domain=DOMAIN, length=False):
    """sign - msg with one more DKIM-Signature on top"""
    sig = dkim.sign(msg, sel, domain, key, signature_algorithm=alg,
                    canonicalize=canon, length=length,
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"])
    return sig + msg


def sign_times(msg, sel, key, t, x=None):
    """sign_times - sign with a chosen t= and an optional x="""
    orig = dkim.DKIM.gen_header

    def gen_header(self, fields, *args, **kw):
        fields = [(k, str(t).encode()) if k == b"t" else (k, v)
                  for k, v in fields]
        if x is not None:
            fields.insert(-1, (b"x", str(x).encode()))
        return orig(self, fields, *args, **kw)

    dkim.DKIM.gen_header = gen_header
    try:
        return sign(msg, sel, key)
    finally:
        dkim.DKIM.gen_header = orig


def raw_sig(value):
    """raw_sig - a hand-written DKIM-Signature header line"""
    return b"DKIM-Signature: " + value + b"\r\n"


def zone_txt(p, k="rsa"):
    """zone_txt - a key record as 255-byte segments"""
    return {"TXT": [["v=DKIM1; k=%s; p=" % k + p[i:i + 200]
                     if i == 0 else p[i:i + 200]
                     for i in range(0, len(p), 200)]]}


def main():
    out = sys.argv[1]
    rsa_pem, rsa_p = rsa_key(2048)
    other_pem, _ = rsa_key(2048)
    small_pem, small_p = rsa_key(512)
    ed_seed, ed_p = ed_key()
    zones = {
        "rsa._domainkey.example.test": zone_txt(rsa_p),
        "ed._domainkey.example.test": zone_txt(ed_p, "ed25519"),
        "small._domainkey.example.test": zone_txt(small_p),
        "revoked._domainkey.example.test": {"TXT": ["v=DKIM1; k=rsa; p="]},
        "nodata._domainkey.example.test": {"A": ["192.0.2.1"]},
        "fail._domainkey.example.test": {"fault": "servfail"},
        "slow._domainkey.example.test": {"fault": "timeout"},
        "example.test": {"A": ["192.0.2.1"]},
    }
    cases = []

    def case(name, data, result, sigs, extra=""):
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(data)
        cases.append("\t".join([name + ".eml", result, sigs, extra]))

    base = message()
    good = sign(base, b"rsa", rsa_pem)
    case("rsa_pass", good, "pass", "pass",
         "domains=example.test authres~header.d=example.test"
         " authres~header.s=rsa authres~header.a=rsa-sha256")
    case("rsa_simple", sign(base, b"rsa", rsa_pem,
                            canon=(b"simple", b"simple")), "pass", "pass")
    case("ed25519_pass", sign(base, b"ed", ed_seed, alg=b"ed25519-sha256"),
         "pass", "pass", "authres~header.a=ed25519-sha256")
    case("body_changed", good.replace(b"DKIM test", b"DKIM fest"),
         "fail", "fail", "reason~body")
    case("header_changed", good.replace(b"Subject: Test message",
                                        b"Subject: Test massage"),
         "fail", "fail", "reason~signature")
    case("key_nxdomain", sign(base, b"missing", rsa_pem), "permerror",
         "permerror", "reason~no_key")
    case("key_nodata", sign(base, b"nodata", rsa_pem), "permerror",
         "permerror", "reason~no_key")
    case("key_servfail", sign(base, b"fail", rsa_pem), "temperror",
         "temperror")
    case("key_timeout", sign(base, b"slow", rsa_pem), "temperror",
         "temperror", "maxms=2600")
    case("key_deadline", sign(base, b"slow", rsa_pem), "temperror",
         "temperror", "args=-t200 maxms=600 reason~timed_out")
    case("expired", sign_times(base, b"rsa", rsa_pem, 1000000000,
                               1000000100), "neutral", "neutral",
         "reason~expired")
    case("future", sign_times(base, b"rsa", rsa_pem,
                              int(time.time()) + 864000), "neutral",
         "neutral", "reason~future")
    case("key_revoked", sign(base, b"revoked", rsa_pem), "permerror",
         "permerror", "reason~revoked")
    case("key_small", sign(base, b"small", small_pem), "policy", "policy",
         "reason~512")
    two = sign(sign(base, b"rsa", other_pem), b"ed", ed_seed,
               alg=b"ed25519-sha256")
    case("two_sigs", two, "pass", "pass,fail", "domains=example.test")
    case("unsigned", base, "none", "-", "authres=dkim=none")
    big = b"".join(b"line %07d of a large signed message body .....\r\n"
                   % i for i in range(4 * 1024 * 1024 // 50))
    case("big_4mb", sign(message(body=big), b"rsa", rsa_pem), "pass",
         "pass")
    case("length_tag", sign(base, b"rsa", rsa_pem, length=True)
         + b"appended after signing\r\n", "pass", "pass", "reason~l=")
    bad = [
        b"v=1; a=rsa-sha256; d=example.test; d=example.test; s=rsa; "
        b"h=from; bh=AAAA; b=AAAA",
        b"v=1; a=rsa-sha256; s=rsa; h=from; bh=AAAA; b=AAAA",
        b"v=1; a=rsa-sha256; d=example.test; s=rsa; h=from; bh=AAAA; "
        b"b=AA*A",
        b"v=1; a=rsa-sha256; d=example.test; s=rsa; h=from; bh=AAAA; b="
        + b"A" * 9000,
        b"v=1; a=rsa-sha256; d=example.test; s=rsa; h=from; bh=AAAA; "
        b"b=AAAA; l=99999999999999999999999",
        b"v=1; a=rsa-sha1; d=example.test; s=rsa; h=from; bh=AAAA; b=AAAA",
        b"garbage without tags",
    ]
    malformed = good
    for v in bad:
        malformed = raw_sig(v) + malformed
    case("malformed", malformed, "pass",
         ",".join(["permerror"] * len(bad) + ["pass"]),
         "reason~duplicate reason~missing reason~base64 reason~too_long"
         " reason~l= reason~rsa-sha1 args=-n20")
    case("max_sigs", sign(sign(good, b"rsa", rsa_pem), b"rsa", rsa_pem),
         "pass", "pass,pass", "args=-n2")
    case("escaping", raw_sig(b"v=1; a=rsa-sha256; d=ex\"am)ple.test; "
                             b"s=a(b; h=from; bh=AAAA; b=AAAA") + good,
         "pass", "permerror,pass",
         'reason~bad_d=_domain authres~header.d="ex\\"am)ple.test"')
    with open(os.path.join(out, "zones.json"), "w") as f:
        json.dump(zones, f, indent=1)
    with open(os.path.join(out, "expect.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
