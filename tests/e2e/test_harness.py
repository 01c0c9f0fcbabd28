"""
test_harness - self-tests of the e2e harness that need no mailvet

The DNS server is queried directly with dnslib over 127.0.0.1 (and ::1);
the private Postfix runs with milter_default_action = accept and nothing
listening on its milter port, except where a test says otherwise: one
test turns tempfail on, one plugs in a minimal milter written here to
prove that Postfix really talks to whatever listens on milter_port, and
one drives harness.Mailvet with a stand-in daemon.
"""

import os
import socket
import socketserver
import struct
import sys
import tempfile
import threading
import time

from dnslib import DNSRecord, EDNS0, QTYPE

import harness

ZONES = {
    "good.example": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"],
                     "TXT": ["v=spf1 ip4:192.0.2.1 -all", ["seg1", "seg2"]],
                     "MX": [[10, "mx.good.example."]]},
    "1.2.0.192.in-addr.arpa.": {"PTR": ["Good.Example."]},
    "long.example": {"TXT": ["x" * 300]},
    "alias.example": {"CNAME": "good.example."},
    "fail.example": {"fault": "servfail"},
    "refused.example": {"fault": "refused"},
    "gone.example": {"A": ["192.0.2.9"], "fault": "nxdomain"},
    "slow.example": {"A": ["192.0.2.3"], "fault": "delay:400"},
    "dead.example": {"A": ["192.0.2.4"], "fault_types": {"AAAA": "timeout"}},
    "trunc.example": {"A": ["192.0.2.5"], "fault": "truncate"},
    "*.dnsbl.example": {"A": ["127.0.0.2"], "TXT": ["listed"]},
}

MAIN_CF = {"milter_default_action": "accept"}


def query(env, name, rtype, tcp=False, timeout=2.0, edns=False,
          host="127.0.0.1"):
    """query - ask the test server; the parsed reply or None on timeout"""
    q = DNSRecord.question(name, rtype)
    if edns:
        q.add_ar(EDNS0(udp_len=1232))
    if host != "127.0.0.1":
        return query6(q, env.dns.port, timeout)
    try:
        return DNSRecord.parse(q.send(host, env.dns.port, tcp=tcp,
                                      timeout=timeout))
    except socket.timeout:
        return None


def query6(q, port, timeout):
    """query6 - one UDP query to [::1]:port"""
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q.pack(), ("::1", port))
        try:
            return DNSRecord.parse(s.recv(65535))
        except socket.timeout:
            return None


def rdatas(reply, rtype=None):
    """rdatas - the answer section as strings"""
    return [str(rr.rdata) for rr in reply.rr
            if rtype is None or QTYPE[rr.rtype] == rtype]


def test_dns_a(env):
    r = query(env, "good.example", "A")
    assert r.header.rcode == 0 and r.header.aa == 1, r
    assert rdatas(r) == ["192.0.2.1"], r
    assert rdatas(query(env, "GOOD.EXAMPLE.", "AAAA")) == ["2001:db8::1"]


def test_dns_ptr_case_and_dot(env):
    r = query(env, "1.2.0.192.in-addr.arpa", "PTR")
    assert rdatas(r) == ["Good.Example."], r


def test_dns_txt_segments(env):
    r = query(env, "good.example", "TXT")
    segs = sorted(tuple(rr.rdata.data) for rr in r.rr)
    assert segs == [(b"seg1", b"seg2"), (b"v=spf1 ip4:192.0.2.1 -all",)], \
        segs
    r = query(env, "long.example", "TXT")
    assert [len(s) for s in r.rr[0].rdata.data] == [255, 45], r


def test_dns_mx_and_cname(env):
    assert rdatas(query(env, "good.example", "MX")) == \
        ["10 mx.good.example."]
    r = query(env, "alias.example", "A")
    assert rdatas(r) == ["good.example.", "192.0.2.1"], r


def test_dns_nxdomain_has_soa(env):
    r = query(env, "nothere.example", "A")
    assert r.header.rcode == 3, r
    assert not r.rr and [QTYPE[a.rtype] for a in r.auth] == ["SOA"], r


def test_dns_nodata_has_soa(env):
    r = query(env, "good.example", "PTR")
    assert r.header.rcode == 0 and not r.rr, r
    assert [QTYPE[a.rtype] for a in r.auth] == ["SOA"], r


def test_dns_faults(env):
    assert query(env, "fail.example", "A").header.rcode == 2
    assert query(env, "refused.example", "TXT").header.rcode == 5
    assert query(env, "gone.example", "A").header.rcode == 3


def test_dns_timeout_per_type(env):
    t0 = time.monotonic()
    assert query(env, "dead.example", "AAAA", timeout=0.5) is None
    assert time.monotonic() - t0 >= 0.45
    assert rdatas(query(env, "dead.example", "A")) == ["192.0.2.4"]


def test_dns_delay_does_not_block_others(env):
    got = {}

    def slow():
        t0 = time.monotonic()
        got["r"] = query(env, "slow.example", "A")
        got["t"] = time.monotonic() - t0
    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    fast = query(env, "good.example", "A")
    fast_t = time.monotonic() - t0
    th.join(5)
    assert rdatas(fast) == ["192.0.2.1"] and fast_t < 0.2, fast_t
    assert rdatas(got["r"]) == ["192.0.2.3"] and got["t"] >= 0.38, got


def test_dns_truncate_then_tcp(env):
    r = query(env, "trunc.example", "A")
    assert r.header.tc == 1 and not r.rr, r
    r = query(env, "trunc.example", "A", tcp=True)
    assert r.header.tc == 0 and rdatas(r) == ["192.0.2.5"], r


def test_dns_edns_echoed(env):
    r = query(env, "good.example", "A", edns=True)
    assert [QTYPE[a.rtype] for a in r.ar] == ["OPT"], r
    assert not query(env, "good.example", "A").ar


def test_dns_wildcard(env):
    assert rdatas(query(env, "2.0.0.127.dnsbl.example", "A")) == \
        ["127.0.0.2"]
    assert query(env, "dnsbl.example", "A").header.rcode == 3


def test_dns_query_log(env):
    env.dns.clear_queries()
    query(env, "Good.Example", "MX")
    query(env, "good.example", "MX")
    query(env, "good.example", "A")
    assert env.dns.count("good.example", "MX") == 2, env.dns.queries()
    assert env.dns.count("good.example") == 3
    assert env.dns.count("other.example") == 0


def test_dns_update_sighup(env):
    zones = dict(ZONES)
    zones["new.example"] = {"A": ["192.0.2.77"]}
    env.dns.update(zones)
    try:
        assert rdatas(query(env, "new.example", "A")) == ["192.0.2.77"]
    finally:
        env.dns.update(ZONES)
    assert query(env, "new.example", "A").header.rcode == 3


def test_dns_rate():
    """hundreds of queries per second, with a delay that overlaps"""
    dns = harness.Dns({"r.example": {"A": ["192.0.2.1"]}}, delay_ms=50,
                      ipv6=harness.ipv6_works())
    try:
        socks = []
        t0 = time.monotonic()
        for i in range(300):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(DNSRecord.question("r.example", "A").pack(),
                     ("127.0.0.1", dns.port))
            socks.append(s)
        answered = 0
        for s in socks:
            s.settimeout(max(0.1, 5 - (time.monotonic() - t0)))
            try:
                answered += bool(DNSRecord.parse(s.recv(4096)).rr)
            except socket.timeout:
                pass
            s.close()
        secs = time.monotonic() - t0
        assert answered == 300 and secs < 3, (answered, secs)
        if harness.ipv6_works():
            assert "[::1]:%d" % dns.port in dns.servers
            r = query6(DNSRecord.question("r.example", "A"), dns.port, 2)
            assert rdatas(r) == ["192.0.2.1"], r
    finally:
        dns.stop()


# ------------------------------------------------------------ Postfix


def test_postfix_ipv4_delivery(env):
    r = harness.send(env.postfix, "192.0.2.7", "client.example",
                     "alice@good.example", ["bob@rcpt.example"],
                     client_name="client.example")
    assert r.accepted and r.rcpt[0].code == 250, r
    m = env.postfix.wait_delivered(r.marker)
    assert m.received.startswith(
        "from client.example (client.example [192.0.2.7]) by "
        "mx.test.example (Postfix) with ESMTP id %s for <bob@rcpt.example>"
        % r.queue_id), m.received
    assert m.header("Message-ID") == r.message_id
    assert m.envelope["X-Rcpt-Args"][0].startswith("<bob@rcpt.example>")


def test_postfix_ipv6_delivery_unknown_name(env):
    r = harness.send(env.postfix, "2001:db8::7", "v6.example",
                     "alice@good.example", ["bob@rcpt.example"])
    assert r.accepted, r
    m = env.postfix.wait_delivered(r.marker)
    assert m.received.startswith(
        "from v6.example (unknown [IPv6:2001:db8::7])"), m.received


def test_postfix_login_and_rcpts(env):
    r = harness.send(env.postfix, "198.51.100.5", "laptop", "a@good.example",
                     ["x@rcpt.example", "y@rcpt.example"], login="alice")
    assert r.accepted and [x.code for x in r.rcpt] == [250, 250], r
    m = env.postfix.wait_delivered(r.marker)
    assert len(m.envelope["X-Rcpt-Args"]) == 2, m.envelope
    assert "sasl_method=XCLIENT, sasl_username=alice" in \
        env.postfix.log(), env.postfix.log()[-800:]


def test_postfix_dot_stuffing_and_null_sender(env):
    body = ".leading dot\n..two dots\nend\n"
    r = harness.send(env.postfix, "192.0.2.8", "h.example", "",
                     ["bob@rcpt.example"], body=body)
    assert r.accepted, r
    m = env.postfix.wait_delivered(r.marker)
    assert m.body == body, repr(m.body)
    assert m.envelope["X-Mail-Args"] == ["<>"], m.envelope


def test_postfix_raw_helo_bytes(env):
    r = harness.send(env.postfix, "192.0.2.9", b"evil\texample;x=\"y\"",
                     "a@good.example", ["bob@rcpt.example"])
    assert r.helo.code == 250 and r.accepted, r
    m = env.postfix.wait_delivered(r.marker)
    assert m.received.startswith("from evil"), m.received


def test_postfix_milter_down_tempfail(env):
    env.postfix.set(milter_default_action="tempfail")
    try:
        r = harness.send(env.postfix, "192.0.2.10", "c.example",
                         "a@good.example", ["bob@rcpt.example"])
    finally:
        env.postfix.set(milter_default_action="accept")
    assert r.first_failure(), (r, env.postfix.log()[-1500:])
    stage, reply = r.first_failure()
    assert 400 <= reply.code < 500 and not r.accepted, r
    assert "4.7.1" in reply.text, r
    time.sleep(0.5)
    assert env.postfix.find_delivered(r.marker) is None


# ------------------------------------------------------------ a milter


class FakeMilter(socketserver.ThreadingTCPServer):
    """FakeMilter - accepts everything, adds X-Fake-Milter at eom and
    records what Postfix sent (connect info and macros)"""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port):
        self.seen = []
        super().__init__(("127.0.0.1", port), FakeMilterHandler)


class FakeMilterHandler(socketserver.BaseRequestHandler):
    """FakeMilterHandler - one milter connection (protocol version 6)"""

    def packet(self):
        head = self._read(4)
        if head is None:
            return None, None
        n = struct.unpack("!I", head)[0]
        body = self._read(n)
        return (None, None) if body is None else (body[:1], body[1:])

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def reply(self, cmd, data=b""):
        self.request.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def handle(self):
        seen = {"macros": {}}
        self.server.seen.append(seen)
        while True:
            cmd, data = self.packet()
            if cmd is None or cmd == b"Q":
                return
            if cmd == b"O":
                self.reply(b"O", struct.pack("!III", 6, 0x01, 0))
            elif cmd == b"D":
                parts = data[1:].split(b"\0")
                for k, v in zip(parts[0::2], parts[1::2]):
                    seen["macros"][k.decode()] = v.decode()
            elif cmd == b"C":
                host, _, rest = data.partition(b"\0")
                seen["connect"] = (host.decode(), rest[:1].decode(),
                                   rest[3:].rstrip(b"\0").decode())
                self.reply(b"c")
            elif cmd == b"E":
                self.reply(b"h", b"X-Fake-Milter\0seen\0")
                self.reply(b"c")
            elif cmd in (b"A", b"K"):
                continue
            else:
                if cmd == b"H":
                    seen["helo"] = data.rstrip(b"\0").decode()
                self.reply(b"c")


def test_postfix_talks_to_milter_port(env):
    """whatever listens on postfix.milter_port is the milter"""
    srv = FakeMilter(env.postfix.milter_port)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        r = harness.send(env.postfix, "2001:db8::99", "v6.example",
                         "a@good.example", ["bob@rcpt.example"],
                         client_name="host.good.example", login="carol")
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.accepted, r
    m = env.postfix.wait_delivered(r.marker)
    assert m.header("X-Fake-Milter") == "seen", m.text
    seen = srv.seen[-1]
    assert seen.get("connect") == ("host.good.example", "6",
                                   "2001:db8::99"), seen
    assert seen.get("helo") == "v6.example", seen
    assert seen["macros"].get("{auth_authen}") == "carol", seen["macros"]


# ------------------------------------------------------------ Mailvet

FAKE_DAEMON = r'''
import json, signal, socket, sys, time
conf = {}
for line in open(sys.argv[-1]):
    line = line.split("#")[0].strip()
    if line:
        k, _, v = line.partition("=")
        conf[k.strip()] = v.strip().strip('"')
port = int(conf["socket"].split(":")[1].split("@")[0])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(5)
with open(conf["log_json"], "a") as f:
    f.write(json.dumps({"dns": conf["dns_servers"], "id": conf["authserv_id"],
                        "fake": conf.get("fake_mode")}) + "\n")
def term(*_):
    if conf.get("fake_mode") == "asan":
        print("==1==ERROR: AddressSanitizer: heap-use-after-free", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
signal.signal(signal.SIGHUP, lambda *_: print("reloaded", flush=True))
print("started", flush=True)
while True:
    time.sleep(1)
'''


def test_mailvet_wrapper_lifecycle(env):
    """Mailvet writes the config, waits for the port, checks the exit"""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write("#!/bin/sh\nexec %s -c '%s' \"$@\"\n"
                % (sys.executable, FAKE_DAEMON.replace("'", "'\\''")))
    os.chmod(f.name, 0o755)
    try:
        m = harness.Mailvet({"fake_mode": "ok"}, rules_text="# none\n",
                            binary=f.name, dns=env.dns, port=None)
        conf = open(m.conf_path).read()
        assert "rules = %s" % m.rules_path in conf, conf
        assert m.verdicts() == [{"dns": env.dns.servers,
                                 "id": "mx.test.example", "fake": "ok"}]
        m.reload(rules_text="# other\n", settle=0.3)
        assert "reloaded" in m.stderr(), m.stderr()
        assert m.stop() == 0
        m = harness.Mailvet({"fake_mode": "asan"}, binary=f.name,
                            dns=env.dns)
        try:
            m.stop()
        except AssertionError as e:
            assert "AddressSanitizer" in str(e), e
            m.tmp.remove()
        else:
            raise AssertionError("sanitizer report not caught")
    finally:
        os.unlink(f.name)
