#!/usr/bin/python3
"""
gen - the benchmark's clients, DNS zones and DKIM-signed messages

    gen.py OUTDIR [--clients N] [--domains N] [--messages N]

Writes into OUTDIR:
    key.pem            RSA-2048 signing key (openssl genrsa)
    clients.txt        "ip client_name helo mail_from rcpt" per line
    zones.json         the zones for tests/e2e/dnsserver.py
    zones.unbound      the same zones as unbound local-data lines
    msg/NNN.eml        realistic messages of 3 to 12 KB (multipart,
                       Received chain), DKIM-signed relaxed/relaxed
    size/SIZE.eml      signed messages of 4 KB, 64 KB, 512 KB and 4 MB

Every client has a PTR name whose A record points back (iprev pass), a
HELO equal to that name with "v=spf1 a -all", a MAIL FROM domain whose
SPF goes through one include before matching, and a DKIM key.  DNS lists
(zen.bench.example, dbl.bench.example) exist and list nobody.
"""

import argparse
import os
import random
import subprocess
import sys

import dkim

RCPT = "user@rcpt.bench.example"
TTL = 3600
WORDS = ("the of and to in is for on that with as by this from at are be "
         "mail server message delivery report invoice meeting project team "
         "update review account order shipment schedule agenda quarterly "
         "budget customer support ticket release notes security patch "
         "deployment backup storage network latency throughput").split()


def client_ips(n):
    """client_ips - n addresses from the documentation ranges"""
    nets = ("198.51.100.", "203.0.113.", "192.0.2.")
    return ["%s%d" % (nets[i // 250], i % 250 + 1) for i in range(n)]


def rev(ip):
    """rev - the in-addr.arpa name of an IPv4 address"""
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def dkim_txt(keypath):
    """dkim_txt - the DKIM key record for the key's public half"""
    pub = subprocess.run(["openssl", "rsa", "-in", keypath, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def zones_for(clients, domains, keytxt):
    """zones_for - {name: {TYPE: [values]}} for every name used"""
    z = {"_spf.provider.bench.example": {"TXT": ["v=spf1 ip4:192.0.2.0/25 "
                                                 "ip4:198.51.100.0/24 "
                                                 "ip4:203.0.113.0/24 -all"]},
         "rcpt.bench.example": {"A": ["127.0.0.1"]}}
    for d in domains:
        z[d] = {"TXT": ["v=spf1 include:_spf.provider.bench.example "
                        "ip6:2001:db8::/32 -all"],
                "MX": [[10, "mx." + d]], "A": ["192.0.2.250"]}
        z["sel1._domainkey." + d] = {"TXT": [keytxt]}
        z["_dmarc." + d] = {"TXT": ["v=DMARC1; p=none"]}
    for ip, name, _helo, _frm in clients:
        z[rev(ip)] = {"PTR": [name]}
        z[name] = {"A": [ip], "TXT": ["v=spf1 a -all"]}
    for zone in z:
        z[zone]["ttl"] = TTL
    return z


def unbound_lines(zones):
    """unbound_lines - local-data lines for the same zones"""
    out = []
    for name, spec in sorted(zones.items()):
        for rtype in ("A", "AAAA", "PTR", "TXT", "MX"):
            for v in spec.get(rtype, []):
                if rtype == "TXT":
                    parts = [v[i:i + 250] for i in range(0, len(v), 250)]
                    v = " ".join('"%s"' % p for p in parts)
                elif rtype == "MX":
                    v = "%d %s." % (v[0], v[1])
                elif rtype == "PTR":
                    v = v + "."
                out.append("    local-data: '%s. %d IN %s %s'"
                           % (name, TTL, rtype, v))
    return "\n".join(out) + "\n"


def text_body(rng, size):
    """text_body - lines of words, about size bytes"""
    lines, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 13)))
        lines.append(line)
        n += len(line) + 1
    return "\n".join(lines) + "\n"


def message(rng, i, client, size):
    """message - a multipart message from client of about size bytes"""
    ip, name, _helo, frm = client
    half = max(size // 2 - 400, 200)
    plain = text_body(rng, half)
    html = "<html><body><p>" + text_body(rng, half).replace(
        "\n", "</p>\n<p>") + "</p></body></html>\n"
    b = "=_bench_%06d" % i
    hdrs = [
        "Received: from [10.1.2.%d] (desk-%d.lan [10.1.2.%d])\n\tby %s "
        "(Postfix) with ESMTPSA id 4Q%06dX\n\tfor <%s>; "
        "Mon, 3 Jun 2024 10:00:00 +0000" % (i % 250, i, i % 250, name, i,
                                            RCPT),
        "From: Sender %d <%s>" % (i, frm),
        "To: Recipient <%s>" % RCPT,
        "Subject: %s %d" % (" ".join(rng.choice(WORDS) for _ in range(6)),
                            i),
        "Date: Mon, 3 Jun 2024 10:00:%02d +0000" % (i % 60),
        "Message-ID: <bench.%d.%d@%s>" % (i, size, frm.split("@")[1]),
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative; boundary=\"%s\"" % b,
    ]
    body = ("--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n"
            "--%s\nContent-Type: text/html; charset=utf-8\n\n%s\n--%s--\n"
            % (b, plain, b, html, b))
    return ("\n".join(hdrs) + "\n\n" + body).replace("\n", "\r\n").encode()


def sign(msg, domain, key):
    """sign - msg with a DKIM-Signature for domain, relaxed/relaxed"""
    sig = dkim.sign(msg, b"sel1", domain.encode(), key,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id", b"mime-version",
                                     b"content-type"])
    return sig + msg


def write(path, data):
    """write - bytes to a file, LF line ends (mvload accepts both)"""
    with open(path, "wb") as f:
        f.write(data.replace(b"\r\n", b"\n"))


def main():
    """main - generate everything into OUTDIR"""
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--domains", type=int, default=50)
    ap.add_argument("--messages", type=int, default=64)
    a = ap.parse_args()
    rng = random.Random(7)
    os.makedirs(os.path.join(a.out, "msg"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "size"), exist_ok=True)
    keypath = os.path.join(a.out, "key.pem")
    if not os.path.exists(keypath):
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", keypath,
                        "2048"], check=True, capture_output=True)
    key = open(keypath, "rb").read()
    domains = ["sender%02d.example" % i for i in range(a.domains)]
    clients = []
    for i, ip in enumerate(client_ips(a.clients)):
        d = domains[i % len(domains)]
        name = "mail-%s.%s" % (ip.replace(".", "-"), d)
        clients.append((ip, name, name, "news%d@%s" % (i, d)))
    with open(os.path.join(a.out, "clients.txt"), "w") as f:
        for ip, name, helo, frm in clients:
            f.write("%s %s %s %s %s\n" % (ip, name, helo, frm, RCPT))
    zones = zones_for(clients, domains, dkim_txt(keypath))
    import json
    with open(os.path.join(a.out, "zones.json"), "w") as f:
        json.dump(zones, f)
    with open(os.path.join(a.out, "zones.unbound"), "w") as f:
        f.write(unbound_lines(zones))
    # Message i goes with client i (mvload pairs them modulo the counts,
    # and the client count is a multiple of the message count).
    for i in range(a.messages):
        c = clients[i]
        m = message(rng, i, c, rng.randint(3000, 12000))
        write(os.path.join(a.out, "msg", "%03d.eml" % i),
              sign(m, c[3].split("@")[1], key))
    for label, size in (("4k", 4096), ("64k", 65536), ("512k", 524288),
                        ("4m", 4194304)):
        c = clients[0]
        m = message(rng, 9000, c, size)
        write(os.path.join(a.out, "size", label + ".eml"),
              sign(m, c[3].split("@")[1], key))
    print("gen: %d clients, %d domains, %d messages in %s"
          % (len(clients), len(domains), a.messages, a.out))


if __name__ == "__main__":
    sys.exit(main())
