#!/usr/bin/python3
"""
spf_suite - run the RFC 7208 SPF test suite through mailvet's SPF check

Usage: spf_suite.py SUITE.yml DRIVER DNSSERVER [-v] [-k ID...]

For each scenario of the YAML stream the zonedata becomes a JSON zones
file served by a real DNS server process on 127.0.0.1 (tests/e2e/
dnsserver.py, one per scenario), and all of the scenario's tests go
through one driver process (build/tools/spf_check, cases on stdin).

Serving rules follow ../shared/conformance/README.md: an SPF entry is also
served as TXT unless the name has its own TXT entry; "NONE" means no such
record; a bare TIMEOUT item makes the whole name time out and a TIMEOUT
value only that type; names under "error." that are not listed time out;
unlisted names are NXDOMAIN; a label over 63 octets cannot go on the wire
(the check treats such names as nonexistent).

Prints a KNOWN line for each known deviation that gave exactly its
pinned answer (counted as passed), one FAIL line per failure with the
expected and actual results, and "spf-conformance: N passed, N failed,
0 skipped". A driver that exits non-zero or reports a sanitizer or
valgrind finding, a DNS server that dies or sees no query at all, is a
failure of its own (one more in the failed count). Exit status 0 when
nothing failed, 1 otherwise.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

TYPES = ("A", "AAAA", "MX", "PTR", "CNAME", "TXT")


def add_record(spec, rtype, value):
    """add_record - one zonedata record into a dnsserver.py name spec"""
    if value == "TIMEOUT":
        spec.setdefault("fault_types", {})[rtype] = "timeout"
        return
    if value == "NONE":
        spec.setdefault("_none", set()).add(rtype)
        return
    if rtype == "CNAME":
        spec["CNAME"] = value
    elif rtype == "MX":
        spec.setdefault("MX", []).append([int(value[0]), value[1]])
    else:
        spec.setdefault(rtype, []).append(value)


def name_spec(records):
    """name_spec - the spec of one owner name from its record list"""
    spec, spf, timeout = {}, [], False
    for item in records:
        if item == "TIMEOUT":
            timeout = True
            continue
        for rtype, value in item.items():
            if rtype == "SPF":
                if value == "TIMEOUT":
                    continue
                if value != "NONE":
                    spf.append(value)
            elif rtype in TYPES:
                add_record(spec, rtype, value)
    has_txt = "TXT" in spec or "TXT" in spec.get("_none", ()) \
        or "TXT" in spec.get("fault_types", {})
    if spf and not has_txt:
        spec["TXT"] = spf
    spec.pop("_none", None)
    if timeout:
        # As pyspf's driver does: types without records time out.
        for rtype in TYPES:
            if rtype not in spec and rtype != "CNAME":
                spec.setdefault("fault_types", {})[rtype] = "timeout"
    return spec


def error_names(scenario):
    """error_names - names under "error." that the scenario mentions"""
    text = json.dumps(scenario, default=str)
    return set(m.lower().rstrip(".") for m in
               re.findall(r"\berror\.[A-Za-z0-9.-]+[A-Za-z0-9]", text))


def zones_of(scenario):
    """zones_of - the JSON zones dict for one scenario"""
    zones = {}
    for owner, records in (scenario.get("zonedata") or {}).items():
        if any(len(label) > 63 for label in owner.split(".")):
            continue
        zones[owner] = name_spec(records or [])
    listed = set(n.lower().rstrip(".") for n in zones)
    for name in error_names(scenario):
        if name not in listed:
            zones[name] = {"fault": "timeout"}
    return zones


def start_dns(server, zones_path, log_path):
    """start_dns - start dnsserver.py on a free port, logging every query
    to log_path; (proc, port)"""
    proc = subprocess.Popen(
        ["/usr/bin/python3", server, "--zones", zones_path, "--port", "0",
         "--addr", "127.0.0.1", "--log", log_path], stdout=subprocess.PIPE,
        text=True)
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "ready":
        proc.kill()
        raise RuntimeError("dnsserver did not start")
    return proc, int(line[1])


def clean(text):
    """clean - one line of text for the driver's tab-separated input"""
    return re.sub(r"[\t\r\n]", " ", str(text))


REPORTS = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                     r"runtime error:|WARNING: ThreadSanitizer|^==\d+== ",
                     re.M)


def drive(driver, port, tests):
    """drive - one driver run over tests; (stdout, problem or None)"""
    cases = "".join("%s\t%s\t%s\t%s\n" % (tid, clean(t["host"]),
                                          clean(t.get("helo", "")),
                                          clean(t.get("mailfrom", "")))
                    for tid, t in tests.items())
    run = subprocess.run([driver, "-t", "2500", "127.0.0.1:%d" % port],
                         input=cases, capture_output=True, text=True,
                         timeout=600)
    problem = None
    if run.returncode != 0:
        problem = "exit status %d" % run.returncode
    elif REPORTS.search(run.stderr):
        problem = "sanitizer or valgrind report"
    if problem:
        problem += "; its stderr:\n" + run.stderr[-4000:]
    elif run.stderr:
        sys.stderr.write(run.stderr)
    return run.stdout, problem


def run_scenario(scenario, driver, server, tmp, only):
    """run_scenario - ([(id, wanted, got_result, want_exp, got_exp,
    reason)], problem): problem names a driver or DNS server failure"""
    tests = {k: v for k, v in scenario["tests"].items()
             if not only or k in only}
    if not tests:
        return [], None
    zones_path = os.path.join(tmp, "zones.json")
    log_path = os.path.join(tmp, "queries.log")
    with open(zones_path, "w", encoding="utf-8") as f:
        json.dump(zones_of(scenario), f)
    with open(log_path, "w", encoding="utf-8"):
        pass
    proc, port = start_dns(server, zones_path, log_path)
    try:
        out, problem = drive(driver, port, tests)
        if proc.poll() is not None:
            problem = "; ".join(p for p in (
                "the DNS server died (exit %s)" % proc.returncode,
                problem) if p)
    finally:
        proc.kill()
        proc.wait()
    # Every whole scenario looks up at least one record: a silent server
    # means the driver asked someone else (a lost server setting).
    if not only and os.path.getsize(log_path) == 0:
        problem = "; ".join(p for p in (
            problem, "the test DNS server saw no query") if p)
    got = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            got[parts[0]] = (parts[1], parts[2],
                             parts[3] if len(parts) > 3 else "")
    results = []
    for tid, t in tests.items():
        want = t["result"] if isinstance(t["result"], list) else [t["result"]]
        res, exp, why = got.get(tid, ("missing", "", ""))
        results.append((tid, want, res, t.get("explanation"), exp, why))
    return results, problem


def verdict(want, res, want_exp, exp):
    """verdict - does one test pass ("DEFAULT": no exp= text applies)"""
    if res not in want:
        return False
    if want_exp == "DEFAULT":
        return exp == ""
    return want_exp is None or res != "fail" or exp == want_exp


# Known deviations, each explained in docs/spf.md. Each pins what the
# suite expects (result, explanation) and exactly what mailvet gives. A
# known test that gives exactly the pinned answer counts as passed and is
# listed as KNOWN; one that passes, or gives anything else, fails the run
# (the list, and docs/spf.md, must then change).
KNOWN = {
    "upper-macro": {
        "want": ["fail"],
        "want_exp": "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c",
        "got": "fail",
        "got_exp": "http://example.com/why.html?l=~jack%26jill%3dup-a_b3.c",
        "why": "libspf2 writes %{H}-style upper macros with lower-case hex",
    },
    "v-macro-ip6": {
        "want": ["fail"],
        "want_exp": "cafe:babe::1 is queried as 1.0.0.0.0.0.0.0.0.0.0.0.0."
                    "0.0.0.0.0.0.0.0.0.0.0.E.B.A.B.E.F.A.C.ip6.arpa",
        "got": "fail",
        "got_exp": "cafe:babe::1 is queried as 1.0.0.0.0.0.0.0.0.0.0.0.0."
                   "0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa",
        "why": "libspf2 writes IPv6 nibbles in lower case",
    },
    "macro-mania-in-domain": {
        "want": ["pass"],
        "want_exp": None,
        "got": "fail",
        "got_exp": "",
        "why": "a name with spaces and % never reaches DNS",
    },
}


def answer(results, exp):
    """answer - a result (or results) and its explanation, for a line"""
    text = results if isinstance(results, str) else "|".join(results)
    return text + (" exp=%r" % exp if exp else "")


def known_verdict(tid, want, res, want_exp, exp):
    """known_verdict - None when a KNOWN test gave exactly its pinned
    answer, else why it is a failure"""
    k = KNOWN[tid]
    if verdict(want, res, want_exp, exp):
        return "known deviation no longer happens: remove it from KNOWN" \
            " and docs/spf.md"
    if (want, want_exp) != (k["want"], k["want_exp"]):
        return "the suite changed: pinned expected %s, the suite now" \
            " expects %s" % (answer(k["want"], k["want_exp"]),
                             answer(want, want_exp))
    if (res, exp) != (k["got"], k["got_exp"]):
        return "known deviation changed: expected %s, pinned %s, got %s" \
            % (answer(want, want_exp), answer(k["got"], k["got_exp"]),
               answer(res, exp))
    return None


def describe(tid, want, res, want_exp, exp, why):
    """describe - one FAIL line: expected and actual result"""
    line = "FAIL %s: expected %s, got %s [%s]" % (tid, "|".join(want), res,
                                                 why)
    if want_exp is not None:
        line += " (explanation expected %r, got %r)" % (want_exp, exp)
    return line


def main(argv):
    """main - run the suite, print the summary lines"""
    suite, driver, server = argv[1:4]
    verbose = "-v" in argv
    only = set(argv[argv.index("-k") + 1:]) if "-k" in argv else set()
    with open(suite, encoding="utf-8") as f:
        scenarios = [s for s in yaml.safe_load_all(f) if s]
    passed, known, lines = 0, [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n, scenario in enumerate(scenarios, 1):
            results, problem = run_scenario(scenario, driver, server, tmp,
                                            only)
            if problem:
                lines.append("FAIL scenario %d (%s): %s" % (
                    n, str(scenario.get("description", "")).strip(),
                    problem))
            for tid, want, res, want_exp, exp, why in results:
                if tid in KNOWN:
                    bad = known_verdict(tid, want, res, want_exp, exp)
                    if bad is None:
                        known.append(tid)
                        passed += 1
                    else:
                        lines.append("FAIL %s: %s" % (tid, bad))
                elif verdict(want, res, want_exp, exp):
                    passed += 1
                    if verbose:
                        print("ok   %s: %s" % (tid, res))
                else:
                    lines.append(describe(tid, want, res, want_exp, exp,
                                          why))
    for tid in known:
        k = KNOWN[tid]
        print("KNOWN %s: expected %s, got %s as pinned (%s; see"
              " docs/spf.md)" % (tid, answer(k["want"], k["want_exp"]),
                                 answer(k["got"], k["got_exp"]), k["why"]))
    for line in lines:
        print(line)
    print("spf-conformance: %d passed, %d failed, 0 skipped"
          % (passed, len(lines)))
    return 0 if not lines else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
