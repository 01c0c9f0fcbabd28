#!/usr/bin/python3
"""
dnsserver - a scriptable authoritative DNS server for mailvet's tests

Usage:
    dnsserver.py --zones FILE [--port N] [--addr 127.0.0.1] [--ipv6]
                 [--delay-ms N] [--log FILE] [--ready-file FILE]

Serves the names of a JSON file over UDP and TCP on loopback.  The file
maps names to records and faults:

    {"mail.example.": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"],
                       "PTR": ["a.example."], "TXT": ["v=spf1 -all",
                       ["seg1", "seg2"]], "MX": [[10, "mx.example."]],
                       "NS": ["ns.example."], "CNAME": "x.example.",
                       "SOA": "default", "ttl": 300,
                       "fault": "servfail" | "refused" | "nxdomain" |
                                "timeout" | "truncate" | "delay:MS",
                       "fault_types": {"AAAA": "timeout"}}}

Names are case-insensitive; a trailing dot is optional.  A name "*.zone"
answers for any name below "zone" that is not listed itself.  A name
that is not listed gets NXDOMAIN, a listed name without the asked type
gets NODATA; both carry an SOA in the authority section.  "timeout"
never answers; "truncate" answers with TC set over UDP and in full over
TCP.  Queries with an EDNS OPT get one back.

Once listening it prints "ready PORT" on stdout (and writes PORT to
--ready-file).  SIGHUP re-reads the zone file and writes "zones reloaded"
(or "reload failed: WHY") to stderr, so a caller can wait for the new
zones instead of sleeping.  With --log every query
appends "name TYPE" (lower case, no trailing dot) to the file.  Every
query is served by its own thread, so delays never hold up other
queries.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

from dnslib import (CNAME, DNSHeader, DNSRecord, EDNS0, MX, NS, PTR, QTYPE,
                    RCODE, RR, SOA, TXT, A, AAAA)

DEFAULT_TTL = 300
SOA_MINIMUM = 30


def norm(name):
    """norm - a name in lower case without its trailing dot"""
    name = str(name).strip().lower()
    if name.endswith(".") and name != ".":
        name = name[:-1]
    return name


def absname(name):
    """absname - a name with its trailing dot, as dnslib wants it"""
    name = str(name).strip()
    return name if name.endswith(".") else name + "."


def txt_strings(value):
    """txt_strings - one TXT value as a list of <= 255 byte strings"""
    if isinstance(value, list):
        return [s.encode() if isinstance(s, str) else s for s in value]
    data = value.encode() if isinstance(value, str) else value
    if not data:
        return [b""]
    return [data[i:i + 255] for i in range(0, len(data), 255)]


def make_rdata(rtype, value):
    """make_rdata - dnslib rdata for one JSON value of a record type"""
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "PTR":
        return PTR(absname(value))
    if rtype == "NS":
        return NS(absname(value))
    if rtype == "CNAME":
        return CNAME(absname(value))
    if rtype == "TXT":
        return TXT(txt_strings(value))
    if rtype == "MX":
        return MX(absname(value[1]), int(value[0]))
    if rtype == "SOA":
        return soa_rdata(value)
    raise ValueError("unsupported record type %s" % rtype)


def soa_rdata(value):
    """soa_rdata - an SOA from "default" or [mname, rname, serial, ...]"""
    if value in (None, "default", True):
        return SOA("ns.test.example.", "hostmaster.test.example.",
                   (1, 3600, 600, 86400, SOA_MINIMUM))
    mname, rname = absname(value[0]), absname(value[1])
    return SOA(mname, rname, tuple(int(x) for x in value[2:7]))


class Zones:
    """Zones - the parsed zone file, swapped whole on reload"""

    RTYPES = ("A", "AAAA", "PTR", "TXT", "MX", "NS", "CNAME", "SOA")

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.names = {}
        for name, spec in raw.items():
            self.names[norm(name)] = self._parse(spec)

    def _parse(self, spec):
        """_parse - one name's spec into {type: [rdata], "ttl", faults}"""
        out = {"ttl": int(spec.get("ttl", DEFAULT_TTL)), "rr": {},
               "fault": spec.get("fault"),
               "fault_types": {k.upper(): v for k, v in
                               spec.get("fault_types", {}).items()}}
        for rtype in self.RTYPES:
            if rtype not in spec:
                continue
            values = spec[rtype]
            if rtype in ("CNAME", "SOA") and not isinstance(values, list):
                values = [values]
            elif rtype == "SOA" and values and not isinstance(values[0],
                                                               list):
                values = [values]
            out["rr"][rtype] = [make_rdata(rtype, v) for v in values]
        return out

    def lookup(self, qname):
        """lookup - the spec for a name (exact, then wildcard) or None"""
        name = norm(qname)
        if name in self.names:
            return self.names[name]
        labels = name.split(".")
        for i in range(1, len(labels)):
            wild = "*." + ".".join(labels[i:])
            if wild in self.names:
                return self.names[wild]
        return None


class Server:
    """Server - the answering logic shared by the UDP and TCP listeners"""

    def __init__(self, zones_path, delay_ms, log_path):
        self.zones_path = zones_path
        self.zones = Zones(zones_path)
        self.delay = delay_ms / 1000.0
        self.log_lock = threading.Lock()
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def reload(self):
        """reload - re-read the zone file; keep the old one on error"""
        try:
            self.zones = Zones(self.zones_path)
        except (OSError, ValueError) as e:
            print("reload failed: %s" % e, file=sys.stderr, flush=True)
            return
        print("zones reloaded", file=sys.stderr, flush=True)

    def note(self, qname, qtype):
        """note - append one query to the query log"""
        if self.log is None:
            return
        with self.log_lock:
            self.log.write("%s %s\n" % (norm(qname), qtype))
            self.log.flush()

    def answer(self, data, proto):
        """answer - the reply packet for a query, or None for silence"""
        try:
            req = DNSRecord.parse(data)
        except Exception:
            return None
        if self.delay > 0:
            time.sleep(self.delay)
        if not req.questions:
            return self._bare(req, RCODE.FORMERR).pack()
        q = req.questions[0]
        qtype = QTYPE.get(q.qtype, str(q.qtype))
        self.note(q.qname, qtype)
        zones = self.zones
        spec = zones.lookup(q.qname)
        fault = None
        if spec is not None:
            fault = spec["fault_types"].get(qtype, spec["fault"])
        if fault == "timeout":
            return None
        if fault and fault.startswith("delay:"):
            time.sleep(int(fault[6:]) / 1000.0)
            fault = None
        edns = self._edns_size(req)
        if fault == "truncate" and proto == "udp":
            reply = self._bare(req, RCODE.NOERROR)
            reply.header.tc = 1
            return reply.pack()
        if fault in ("servfail", "refused", "nxdomain"):
            code = {"servfail": RCODE.SERVFAIL, "refused": RCODE.REFUSED,
                    "nxdomain": RCODE.NXDOMAIN}[fault]
            reply = self._bare(req, code)
            if fault == "nxdomain":
                self._add_soa(reply)
            return reply.pack()
        reply = self._resolve(req, zones, spec, q, qtype)
        packet = reply.pack()
        if proto == "udp" and len(packet) > (edns or 512):
            reply = self._bare(req, reply.header.rcode)
            reply.header.tc = 1
            packet = reply.pack()
        return packet

    def _edns_size(self, req):
        """_edns_size - the client's EDNS UDP size, or 0 without OPT"""
        for rr in req.ar:
            if rr.rtype == QTYPE.OPT:
                return max(512, min(int(rr.rclass), 4096))
        return 0

    def _bare(self, req, rcode):
        """_bare - an empty reply with the question and maybe an OPT"""
        reply = DNSRecord(DNSHeader(id=req.header.id, qr=1, aa=1,
                                    rd=req.header.rd, ra=0, rcode=rcode),
                          q=req.q)
        if self._edns_size(req):
            reply.add_ar(EDNS0(udp_len=1232))
        return reply

    def _add_soa(self, reply):
        """_add_soa - an SOA in the authority section (negative answers)"""
        reply.add_auth(RR(".", QTYPE.SOA, ttl=SOA_MINIMUM,
                          rdata=soa_rdata("default")))

    def _resolve(self, req, zones, spec, q, qtype):
        """_resolve - answer from the zones, following CNAMEs (max 8)"""
        reply = self._bare(req, RCODE.NOERROR)
        name = q.qname
        for _ in range(8):
            if spec is None:
                if not reply.rr:
                    reply.header.rcode = RCODE.NXDOMAIN
                    self._add_soa(reply)
                return reply
            rrs = spec["rr"]
            if qtype in rrs or qtype == "ANY":
                types = rrs.keys() if qtype == "ANY" else [qtype]
                for t in types:
                    for rd in rrs[t]:
                        reply.add_answer(RR(name, getattr(QTYPE, t),
                                            ttl=spec["ttl"], rdata=rd))
                return reply
            if "CNAME" in rrs:
                target = rrs["CNAME"][0]
                reply.add_answer(RR(name, QTYPE.CNAME, ttl=spec["ttl"],
                                    rdata=target))
                name = target.label
                spec = zones.lookup(name)
                continue
            if not reply.rr:
                self._add_soa(reply)
            return reply
        return reply


class UDPHandler(socketserver.BaseRequestHandler):
    """UDPHandler - one datagram, answered from its own thread"""

    def handle(self):
        data, sock = self.request
        out = self.server.dns.answer(data, "udp")
        if out is not None:
            sock.sendto(out, self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    """TCPHandler - length-prefixed queries until the client closes"""

    def handle(self):
        self.request.settimeout(30)
        try:
            while True:
                head = self._read(2)
                if head is None:
                    return
                data = self._read(struct.unpack("!H", head)[0])
                if data is None:
                    return
                out = self.server.dns.answer(data, "tcp")
                if out is None:
                    continue
                self.request.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            return

    def _read(self, n):
        """_read - exactly n bytes, or None at end of stream"""
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf


class UDP4(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        """server_bind - bind with a receive buffer for bursts of queries"""
        # The default buffer holds about 260 queries; a benchmark sends
        # more at once and a dropped query looks like a DNS timeout.
        for opt in (getattr(socket, "SO_RCVBUFFORCE", None),
                    socket.SO_RCVBUF):
            if opt is None:
                continue
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, opt, 1 << 22)
                break
            except OSError:
                continue
        super().server_bind()


class TCP4(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class UDP6(UDP4):
    address_family = socket.AF_INET6


class TCP6(TCP4):
    address_family = socket.AF_INET6


def bind_all(addrs, port):
    """bind_all - UDP+TCP servers on one port for every address"""
    tries = 1 if port else 50
    for attempt in range(tries):
        servers, p = [], port
        try:
            for addr in addrs:
                fam6 = ":" in addr
                u = (UDP6 if fam6 else UDP4)((addr, p), UDPHandler)
                servers.append(u)
                p = u.server_address[1]
                servers.append((TCP6 if fam6 else TCP4)((addr, p),
                                                       TCPHandler))
            return servers, p
        except OSError:
            for s in servers:
                s.server_close()
            if attempt == tries - 1:
                raise
    raise OSError("no free port")


def main():
    """main - parse options, bind, announce readiness, serve forever"""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--zones", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    dns = Server(args.zones, args.delay_ms, args.log)
    addrs = [args.addr] + (["::1"] if args.ipv6 else [])
    servers, port = bind_all(addrs, args.port)
    for s in servers:
        s.dns = dns
        threading.Thread(target=s.serve_forever, daemon=True).start()
    signal.signal(signal.SIGHUP, lambda *_: dns.reload())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.ready_file + ".tmp", args.ready_file)
    print("ready %d" % port, flush=True)
    while not stop.is_set():
        stop.wait(1)
    for s in servers:
        s.shutdown()
        s.server_close()


if __name__ == "__main__":
    main()
