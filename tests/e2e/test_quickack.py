"""
test_quickack - through a real Postfix, mailvet ACKs every milter packet
at once (issue 19).

At the steps mailvet negotiates as no-reply (the DATA macros, headers,
end of headers, body) nothing goes back to Postfix, and Postfix's next
small packet waits for the ACK of the previous one (Nagle): 40 ms a
message when the kernel delays that ACK. milter/quickack.c sets
TCP_QUICKACK after every read on a milter connection. Speed is for
`make bench` (part 0); this test shows the mechanism is in place in the
real daemon: strace of mailvet while Postfix delivers a message shows a
TCP_QUICKACK on the connection after each read, in particular right
after the DATA macro packet, which is followed by no reply.
"""

import os
import re
import shutil
import signal
import subprocess

import harness

ZONES = {
    "9.2.0.192.in-addr.arpa": {"PTR": ["mail.quick.example."]},
    "mail.quick.example": {"A": ["192.0.2.9"]},
}
MAILVET_CONF = {"dns_timeout_ms": 1500}
TIMEOUT = 90

LINE = re.compile(r"^(\d+)\s+(read|setsockopt)\((\d+), (.*)$")


def trace_one_message(env, path):
    """trace_one_message - strace mailvet while one message goes through"""
    strace = shutil.which("strace")
    if strace is None:
        raise harness.Skip("strace not installed")
    env.mailvet                       # started before strace attaches
    p = subprocess.Popen([strace, "-f", "-qq", "-s", "8", "-o", path,
                          "-e", "trace=read,setsockopt", "-e", "signal=none",
                          "-p", str(env.mailvet.proc.pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # strace prints nothing when attached: a first message that is
        # traced (its reads show up) proves it is.
        harness.wait_for(lambda: os.path.exists(path), 10,
                         what="strace output file")
        r = env.send("192.0.2.9", "mail.quick.example",
                     "a@quick.example", ["rcpt@dest.example"])
        assert r.accepted, r
        env.postfix.wait_delivered(r.marker)
        harness.wait_for(lambda: "TCP_QUICKACK" in open(path).read(), 10,
                         what="a traced TCP_QUICKACK")
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    with open(path) as f:
        return [m.groups() for m in map(LINE.match, f) if m]


def test_ack_after_every_read_on_the_milter_connection(env):
    path = os.path.join(env.mailvet.tmp.path, "quickack.strace")
    calls = trace_one_message(env, path)
    acked = {fd for _, call, fd, rest in calls
             if call == "setsockopt" and "TCP_QUICKACK, [1]" in rest}
    assert acked, "no TCP_QUICKACK at all:\n%s" % open(path).read()[-3000:]
    # Per thread, every read of a noted descriptor that returned data is
    # followed by TCP_QUICKACK on it before that thread's next call.
    pending = {}
    reads = 0
    for tid, call, fd, rest in calls:
        if fd not in acked:
            continue
        key = (tid, fd)
        if call == "read":
            assert key not in pending, "read without an ACK after the " \
                "previous one on fd %s (thread %s)" % (fd, tid)
            if not re.search(r"= 0$|= -1", rest.strip()):
                pending[key] = rest
                reads += 1
        elif "TCP_QUICKACK" in rest:
            pending.pop(key, None)
    assert not pending, "reads never ACKed: %r" % pending
    # Enough reads that the DATA macros, headers and body were among them.
    assert reads >= 10, "only %d reads traced" % reads


def test_data_macros_are_acked_before_the_headers(env):
    path = os.path.join(env.mailvet.tmp.path, "quickack-data.strace")
    calls = trace_one_message(env, path)
    # The DATA-stage macro packet: command 'D', stage 'T' (SMFIC_DATA).
    idx = [i for i, (_, call, fd, rest) in enumerate(calls)
           if call == "read" and rest.startswith('"T')]
    assert idx, "no DATA macro packet read:\n%s" % "\n".join(
        " ".join(c) for c in calls[:80])
    tid, _, fd, _ = calls[idx[-1]]
    after = [c for c in calls[idx[-1] + 1:] if c[0] == tid and c[2] == fd]
    assert after and after[0][1] == "setsockopt" and \
        "TCP_QUICKACK, [1]" in after[0][3], after[:3]
