"""
test_internal_error - on_internal_error through a real Postfix (issue 10)

No input reaches an internal error: what fails inside mailvet is memory,
a thread, or a request to the MTA that libmilter refuses, and Postfix
grants every request mailvet makes. So this file injects the failure
from outside, without a hook in the daemon: a tiny LD_PRELOAD library
(built here with cc) makes one libmilter call fail, chosen by
MAILVET_FAULT:

  chgheader    smfi_chgheader fails: the forged Authentication-Results
               cannot be removed (cb_eom's internal-error path)
  quarantine   smfi_quarantine fails: the quarantine cannot be applied
               (the error path after the verdict, in eom_deliver)

Checked as the postmaster sees it: with on_internal_error = accept the
message is delivered with our header and the verdict lines say accept
with the reason; with the default (tempfail) the client gets 451 4.3.0
and nothing is delivered.
"""

import os
import shutil
import subprocess

import harness

ZONES = {
    "1.2.0.192.in-addr.arpa": {"PTR": ["mail.good.example."]},
    "mail.good.example": {"A": ["192.0.2.1"]},
}

RULES = r'''
rule "hold" when mailfrom is "hold@fault.example" then quarantine "held"
'''

TIMEOUT = 60
RCPT = "rcpt@dest.example"
FORGED = [("Authentication-Results", "mx.test.example; spf=pass")]

SHIM_C = r'''
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct smfi_str;

static int
fault(const char *name)
{
	const char *f = getenv("MAILVET_FAULT");
	return f != NULL && strcmp(f, name) == 0;
}

int
smfi_chgheader(struct smfi_str *ctx, char *h, int idx, char *v)
{
	int (*real)(struct smfi_str *, char *, int, char *);

	if (fault("chgheader"))
		return -1;
	*(void **)&real = dlsym(RTLD_NEXT, "smfi_chgheader");
	return real(ctx, h, idx, v);
}

int
smfi_quarantine(struct smfi_str *ctx, char *reason)
{
	int (*real)(struct smfi_str *, char *);

	if (fault("quarantine"))
		return -1;
	*(void **)&real = dlsym(RTLD_NEXT, "smfi_quarantine");
	return real(ctx, reason);
}
'''

_shim = {}


def setup(env):
    """setup - build the fault library once for the file"""
    cc = shutil.which("cc")
    if cc is None:
        raise harness.Skip("no C compiler to build the fault library")
    tmp = harness._TempDir("mv-fault-")
    src = os.path.join(tmp.path, "fault.c")
    lib = os.path.join(tmp.path, "fault.so")
    with open(src, "w") as f:
        f.write(SHIM_C)
    subprocess.run([cc, "-shared", "-fPIC", "-o", lib, src, "-ldl"],
                   check=True, capture_output=True, timeout=60)
    _shim.update(tmp=tmp, lib=lib)


def teardown(env):
    _shim["tmp"].remove()


def start(env, fault, on_internal_error):
    """start - mailvet with the fault library and MAILVET_FAULT=fault"""
    asan = os.environ.get("ASAN_OPTIONS", "")
    # A sanitizer build wants its runtime first; the shim is plain C.
    asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    if env._mailvet is not None:
        env._mailvet.stop()
        env._mailvet = None
    env._mailvet = harness.Mailvet(
        {"on_internal_error": on_internal_error}, RULES,
        dns=env.dns, postfix=env.postfix,
        env={"LD_PRELOAD": _shim["lib"], "MAILVET_FAULT": fault,
             "ASAN_OPTIONS": asan})
    return env._mailvet


def send(env, mail_from, headers=None):
    return env.send("192.0.2.1", "mail.good.example", mail_from, [RCPT],
                    headers=headers)


def ours(d):
    return [h for h in d.auth_results if h.startswith("mx.test.example;")]


def kv_line(m, qid):
    lines = [ln for ln in m.stderr().splitlines()
             if "%s: verdict" % qid in ln]
    assert len(lines) == 1, (qid, lines, m.stderr()[-2000:])
    return lines[0]


def test_accept_when_forged_header_cannot_be_removed(env):
    m = start(env, "chgheader", "accept")
    r = send(env, "a@fault.example", headers=FORGED)
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    # Ours on top, and (the price of accept) the forged one still there.
    assert d.auth_results[0].startswith("mx.test.example; iprev=pass "), \
        d.auth_results
    assert d.auth_results[1] == "mx.test.example; spf=pass", d.auth_results
    v = m.verdict_for(r)
    assert v["action"] == "accept", v
    assert v["reason"] == "cannot remove forged headers", v
    assert "internal error: cannot remove forged headers" in m.stderr()
    assert " action=accept" in kv_line(m, r.queue_id)


def test_tempfail_when_forged_header_cannot_be_removed(env):
    m = start(env, "chgheader", "tempfail")
    r = send(env, "a@fault.example", headers=FORGED)
    assert r.eom.code == 451 and "4.3.0" in r.eom.text, r
    assert "mailvet: internal error" in r.eom.text, r
    v = m.verdict_for(r)
    assert v["action"] == "tempfail", v
    assert v["reason"] == "cannot remove forged headers", v


def test_no_fault_control(env):
    """control: the library alone, no fault chosen, changes nothing"""
    m = start(env, "none", "tempfail")
    r = send(env, "a@fault.example", headers=FORGED)
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert len(ours(d)) == 1 and "iprev=pass" in ours(d)[0], d.auth_results
    assert m.verdict_for(r)["reason"] is None


def test_accept_when_quarantine_fails(env):
    m = start(env, "quarantine", "accept")
    r = send(env, "hold@fault.example")
    assert r.accepted, r
    d = env.postfix.wait_delivered(r.marker)
    assert len(ours(d)) == 1 and "iprev=pass" in ours(d)[0], d.auth_results
    assert not [x for x in env.postfix.postqueue()
                if x["queue_name"] == "hold"], env.postfix.postqueue()
    v = m.verdict_for(r)
    # The message went through: the verdict lines must say so.
    assert v["action"] == "accept", v
    assert v["reason"] == "cannot edit the message", v
    assert " action=accept" in kv_line(m, r.queue_id)


def test_tempfail_when_quarantine_fails(env):
    m = start(env, "quarantine", "tempfail")
    r = send(env, "hold@fault.example")
    assert r.eom.code == 451 and "4.3.0" in r.eom.text, r
    v = m.verdict_for(r)
    assert v["action"] == "tempfail", v
    assert v["reason"] == "cannot edit the message", v
