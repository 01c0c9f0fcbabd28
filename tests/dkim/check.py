#!/usr/bin/python3
"""
check.py - compare dkim_verify output with gen.py's expect.txt

Usage:
    check.py EXPECT OUTPUT_DIR [EXTRA_FAILURES]

OUTPUT_DIR holds NAME.out, the output of dkim_verify for NAME (absent:
the case fails).  Prints "ok NAME" or "FAIL NAME: why" per case and
"dkim: N passed, N failed, 0 skipped", EXTRA_FAILURES (failures run.sh
found outside the cases) added to the failed count; exits 1 when
anything failed.  In EXTRA checks '_' stands for a space.
"""

import os
import sys


def parse(text):
    """parse - the fields of one dkim_verify report"""
    r = {"sigs": [], "reasons": [], "authres": "", "domains": "",
         "elapsed": -1, "result": None}
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word == "result":
            r["result"] = rest
        elif word == "sig":
            parts = rest.split(" ", 2)
            r["sigs"].append(parts[1])
            r["reasons"].append(parts[2] if len(parts) > 2 else "")
        elif word == "domains":
            r["domains"] = rest
        elif word == "authres":
            r["authres"] = rest
        elif word == "elapsed":
            r["elapsed"] = int(rest)
    return r


def extra_ok(r, check):
    """extra_ok - None when one EXTRA check holds, else why"""
    key, op, want = check.partition("~")
    if not op:
        key, op, want = check.partition("=")
    want_sp = want.replace("_", " ")
    if key == "args":
        return None
    if key == "reason":
        if any(want_sp in x for x in r["reasons"]):
            return None
        return "no reason containing %r in %r" % (want_sp, r["reasons"])
    if key == "domains":
        return None if r["domains"] == want else \
            "domains %r, want %r" % (r["domains"], want)
    if key == "authres":
        got = r["authres"]
        if (op == "~" and want in got) or (op == "=" and got == want):
            return None
        return "authres %r lacks %r" % (got, want)
    if key == "maxms":
        return None if 0 <= r["elapsed"] <= int(want) else \
            "took %d ms, limit %s" % (r["elapsed"], want)
    return "unknown check " + check


def check_case(line, outdir):
    """check_case - None when a case matches, else why"""
    name, result, sigs, extra = (line.split("\t") + [""] * 4)[:4]
    path = os.path.join(outdir, name + ".out")
    try:
        with open(path) as f:
            r = parse(f.read())
    except OSError:
        return name, "no output"
    if r["result"] != result:
        return name, "result %s, want %s" % (r["result"], result)
    got = ",".join(r["sigs"]) or "-"
    if got != sigs:
        return name, "signatures %s, want %s" % (got, sigs)
    for check in extra.split():
        why = extra_ok(r, check)
        if why:
            return name, why
    return name, None


def main():
    passed = 0
    failed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    with open(sys.argv[1]) as f:
        lines = [x for x in f.read().splitlines() if x.strip()]
    for line in lines:
        name, why = check_case(line, sys.argv[2])
        if why is None:
            passed += 1
            print("ok", name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, why))
    print("dkim: %d passed, %d failed, 0 skipped" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
