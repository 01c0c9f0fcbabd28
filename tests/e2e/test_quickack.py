"""
test_quickack - through a real Postfix, mailvet ACKs every milter packet
at once (issue 19).

At the steps mailvet negotiates as no-reply (the DATA macros, headers,
end of headers, body) nothing goes back to Postfix, and Postfix's next
small packet waits for the ACK of the previous one (Nagle): 40 ms a
message when the kernel delays that ACK. milter/quickack.c sets
TCP_QUICKACK whenever libmilter is about to wait on a milter connection
with nothing to read. Speed is for `make bench` (part 0); this test
shows the mechanism is in place in the real daemon: strace of mailvet
while Postfix delivers a message shows, before every such wait, a
TCP_QUICKACK on that connection, in particular right after the DATA
macro packet, which is followed by no reply.
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
POLL = re.compile(r"^(\d+)\s+poll\(\[\{fd=(\d+), [^]]*\], 1, (-?\d+)"
                  r"(?:\) = (\d+)| <unfinished)")
RESUMED = re.compile(r"^(\d+)\s+<\.\.\. poll resumed>\) += (\d+)")


def trace_one_message(env, path):
    """trace_one_message - strace mailvet while one message goes through"""
    strace = shutil.which("strace")
    if strace is None:
        raise harness.Skip("strace not installed")
    env.mailvet                       # started before strace attaches
    p = subprocess.Popen([strace, "-f", "-qq", "-s", "8", "-o", path,
                          "-e", "trace=read,setsockopt,poll",
                          "-e", "signal=none",
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
    return parse(path)


def parse(path):
    """parse - (tid, call, fd, rest) per traced call; a poll's rest is
    "TIMEOUT=RESULT" (RESULT "?" when strace lost the end of the call)"""
    calls, open_polls = [], {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                calls.append(m.groups())
                continue
            m = POLL.match(line)
            if m:
                tid, fd, timeout, result = m.groups()
                calls.append((tid, "poll", fd,
                              "%s=%s" % (timeout, result or "?")))
                if result is None:
                    open_polls[tid] = len(calls) - 1
                continue
            m = RESUMED.match(line)
            if m and m.group(1) in open_polls:
                i = open_polls.pop(m.group(1))
                tid, call, fd, rest = calls[i]
                calls[i] = (tid, call, fd, rest.replace("?", m.group(2)))
    return calls


def test_ack_before_every_wait_on_the_milter_connection(env):
    path = os.path.join(env.mailvet.tmp.path, "quickack.strace")
    calls = trace_one_message(env, path)
    acked = {fd for _, call, fd, rest in calls
             if call == "setsockopt" and "TCP_QUICKACK, [1]" in rest}
    assert acked, "no TCP_QUICKACK at all:\n%s" % open(path).read()[-3000:]
    # libmilter never polls without a timeout: a poll(fd, 0) on a noted
    # connection is quickack.c looking before a wait. Found nothing: the
    # thread's next call is TCP_QUICKACK on it; found data: it is not.
    waits = 0
    for i, (tid, call, fd, rest) in enumerate(calls):
        if call != "poll" or fd not in acked or not rest.startswith("0="):
            continue
        nxt = next((c for c in calls[i + 1:] if c[0] == tid), None)
        ack = nxt is not None and nxt[1] == "setsockopt" and \
            nxt[2] == fd and "TCP_QUICKACK, [1]" in nxt[3]
        if rest == "0=0":
            waits += 1
            assert ack, "waited on fd %s without an ACK: %r" % (fd, nxt)
        elif rest == "0=1":
            assert not ack, "ACK although data was there: fd %s" % fd
    # Enough waits that the no-reply steps were among them.
    assert waits >= 3, "only %d waits traced" % waits


def test_data_macros_are_acked_before_the_headers(env):
    path = os.path.join(env.mailvet.tmp.path, "quickack-data.strace")
    calls = trace_one_message(env, path)
    # The DATA-stage macro packet: command 'D', stage 'T' (SMFIC_DATA).
    idx = [i for i, (_, call, fd, rest) in enumerate(calls)
           if call == "read" and rest.startswith('"T')]
    assert idx, "no DATA macro packet read:\n%s" % "\n".join(
        " ".join(c) for c in calls[:80])
    tid, _, fd, _ = calls[idx[-1]]
    after = []
    for c in calls[idx[-1] + 1:]:
        if c[0] == tid and c[2] == fd:
            if c[1] == "read":
                break
            after.append(c)
    # Either the first header was already there (the look before the wait
    # found data), or the wait was preceded by the ACK.
    assert after and after[0][1] == "poll", after[:3]
    if after[0][3] == "0=0":
        assert len(after) > 1 and after[1][1] == "setsockopt" and \
            "TCP_QUICKACK, [1]" in after[1][3], after[:3]
    else:
        assert after[0][3] == "0=1", after[:3]
