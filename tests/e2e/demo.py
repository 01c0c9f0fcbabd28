#!/usr/bin/python3
"""
demo - mailvet between a private Postfix and a test DNS server, on loopback

Usage: /usr/bin/python3 tests/e2e/demo.py [--bin PATH] [--rules FILE]

Starts tests/e2e/dnsserver.py with a handful of demo senders, a private
Postfix (smtp-sink behind it) and mailvet (build/mailvet with
rules/default.rules when present), sends one message per sender through
XCLIENT and prints, for each: the client, the SMTP outcome, the
Authentication-Results header that was delivered and the verdict line.
Everything is stopped at the end.  Exit status 1 if the demo could not
run.
"""

import argparse
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def rev(ip):
    """rev - the in-addr.arpa / ip6.arpa name of an address"""
    return ipaddress.ip_address(ip).reverse_pointer


SENDERS = [
    # (label, client ip, helo, mail from)
    ("good sender (PTR and A agree)", "192.0.2.10",
     "mail.good.example", "alice@good.example"),
    ("no PTR record", "192.0.2.20", "mail.noptr.example",
     "bob@noptr.example"),
    ("PTR name does not resolve back", "192.0.2.30",
     "host.mismatch.example", "carol@mismatch.example"),
    ("IPv6 sender", "2001:db8::25", "mail.v6.example", "dave@v6.example"),
    ("DNS times out", "192.0.2.40", "mail.slow.example",
     "erin@slow.example"),
]

ZONES = {
    rev("192.0.2.10"): {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.10"]},
    "good.example": {"TXT": ["v=spf1 ip4:192.0.2.10 -all"]},
    "mail.noptr.example": {"A": ["192.0.2.20"]},
    "noptr.example": {"TXT": ["v=spf1 ip4:192.0.2.20 -all"]},
    rev("192.0.2.30"): {"PTR": ["host.mismatch.example."]},
    "host.mismatch.example": {"A": ["198.51.100.99"]},
    "mismatch.example": {"TXT": ["v=spf1 -all"]},
    rev("2001:db8::25"): {"PTR": ["mail.v6.example."]},
    "mail.v6.example": {"AAAA": ["2001:db8::25"]},
    "v6.example": {"TXT": ["v=spf1 ip6:2001:db8::/64 -all"]},
    rev("192.0.2.40"): {"fault": "timeout"},
    "mail.slow.example": {"fault": "timeout"},
    "slow.example": {"fault": "timeout"},
}


def outcome(r):
    """outcome - the SMTP result in one line"""
    if r.error:
        return "error: " + r.error
    fail = r.first_failure()
    if fail is None:
        return "accepted (%s)" % r.eom.text.split("\n")[0]
    stage, reply = fail
    return "%s at %s: %s" % ("tempfail" if reply.code < 500 else "rejected",
                              stage.upper(), reply)


def show(label, ip, r, postfix, mailvet):
    """show - the four lines printed for one sender"""
    print("== %s" % label)
    print("   client:  %s" % ip)
    print("   smtp:    %s" % outcome(r))
    if r.accepted:
        try:
            m = postfix.wait_delivered(r.marker, 15)
            for h in m.auth_results or ["(no Authentication-Results)"]:
                print("   header:  Authentication-Results: %s" % h)
            for h in m.headers("X-Mailvet-Warn"):
                print("   header:  X-Mailvet-Warn: %s" % h)
        except AssertionError:
            print("   header:  (not delivered within 15s)")
    try:
        v = mailvet.verdict_for(r, timeout=3)
    except TimeoutError:
        v = None
    print("   verdict: %s" % (json.dumps(v, sort_keys=True) if v else
                              "(none logged)"))


def main():
    """main - start everything, send one message per sender, stop"""
    ap = argparse.ArgumentParser(description="mailvet demo on loopback")
    ap.add_argument("--bin", default=harness.default_binary())
    default_rules = os.path.join(harness.ROOT, "rules", "default.rules")
    ap.add_argument("--rules", default=default_rules
                    if os.path.exists(default_rules) else None)
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        print("demo: %s not built (run make first)" % args.bin)
        return 1
    rules = open(args.rules).read() if args.rules else None
    dns = postfix = mailvet = None
    try:
        dns = harness.Dns(ZONES)
        postfix = harness.Postfix()
        mailvet = harness.Mailvet({"dns_timeout_ms": 2000}, rules,
                                  binary=args.bin, dns=dns, postfix=postfix)
        print("demo: DNS %s, Postfix 127.0.0.1:%d, mailvet %s, rules %s\n"
              % (dns.servers, postfix.port, mailvet.conf["socket"],
                 args.rules or "(none: annotate only)"))
        for label, ip, helo, sender in SENDERS:
            r = harness.send(postfix, ip, helo, sender,
                             ["postmaster@rcpt.example"])
            show(label, ip, r, postfix, mailvet)
        print()
        mailvet.stop()
        mailvet = None
        return 0
    except harness.Skip as e:
        print("demo: skipped: %s" % e)
        return 1
    except Exception as e:  # noqa: BLE001 - say what broke, then clean
        print("demo: failed: %s" % e)
        return 1
    finally:
        for obj in (mailvet, postfix, dns):
            if obj is not None:
                obj.stop(check=False)


if __name__ == "__main__":
    sys.exit(main())
