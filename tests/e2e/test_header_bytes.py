"""
test_header_bytes - the headers mailvet adds, as delivered bytes.

mailvet asks Postfix for SMFIP_HDR_LEADSPC (header values with their
leading space, for DKIM). With it granted Postfix also writes the values
a filter adds exactly as given, and every header mailvet added was
delivered as "Authentication-Results:mx.test.example; ..." with no space
after the colon: a parser (email.message) hid it. These tests read the
file smtp-sink wrote, byte for byte, for every kind of header mailvet
adds: Authentication-Results and Received-SPF at the top, a rule's
add-header and the dry-run header at the end.
"""

import re

ZONES = {
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.bytes.example."]},
    "mail.bytes.example": {"A": ["192.0.2.1"],
                           "TXT": ["v=spf1 a -all"]},
    "bytes.example": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
}

RULES = r'''
rule "tag"  when iprev is pass then add-header X-Mailvet-Tag "checked %{client.ip}"
rule "test" dry-run when helo.fqdn is pass then reject 550 5.7.1 "no"
'''

MAILVET_CONF = {"dns_timeout_ms": 1500}
TIMEOUT = 60

ADDED = ("Authentication-Results", "Received-SPF", "X-Mailvet-Tag",
         "X-Mailvet-Dry-Run")


def raw_header_lines(env):
    """raw_header_lines - one message through; its header block as bytes"""
    r = env.send("192.0.2.1", "mail.bytes.example", "a@bytes.example",
                 ["rcpt@dest.example"])
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    with open(d.path, "rb") as f:
        raw = f.read().replace(b"\r\n", b"\n")
    head = raw.split(b"\n\n", 1)[0].split(b"\n")
    # smtp-sink's own envelope lines come first.
    while head and re.match(rb"X-(Client|Helo|Mail|Rcpt)-", head[0]):
        head.pop(0)
    # Then the Received: smtp-sink itself adds on receipt (with its
    # continuation lines); what Postfix delivered starts after it.
    assert head[0].startswith(b"Received: from mx.test.example "), head[:2]
    head.pop(0)
    while head and head[0][:1] in (b" ", b"\t"):
        head.pop(0)
    return head


def test_every_added_header_has_one_space_after_the_colon(env):
    head = raw_header_lines(env)
    for name in ADDED:
        lines = [ln for ln in head
                 if ln.lower().startswith(name.lower().encode() + b":")]
        assert len(lines) == 1, "%s: %r" % (name, lines)
        assert lines[0].startswith(name.encode() + b": ") and \
            not lines[0].startswith(name.encode() + b":  "), lines[0]


def test_exact_first_lines(env):
    head = raw_header_lines(env)
    assert head[0] == b"Authentication-Results: mx.test.example;", head[:3]
    assert head[1].startswith(b"\tiprev=pass policy.iprev=192.0.2.1 "
                              b"(mail.bytes.example);"), head[:3]
    spf = [ln for ln in head if ln.startswith(b"Received-SPF:")]
    assert spf[0].startswith(b"Received-SPF: pass (mx.test.example: "), spf
    tag = [ln for ln in head if ln.startswith(b"X-Mailvet-Tag:")]
    assert tag == [b"X-Mailvet-Tag: checked 192.0.2.1"], tag
    dry = [ln for ln in head if ln.startswith(b"X-Mailvet-Dry-Run:")]
    assert dry and dry[0].startswith(b"X-Mailvet-Dry-Run: would reject"), dry
