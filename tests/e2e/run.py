#!/usr/bin/python3
"""
run - the end-to-end test runner

Usage: /usr/bin/python3 tests/e2e/run.py [-k SUBSTRING] [--bin PATH]
                                         [--timeout S] [-v]

Finds tests/e2e/test_*.py and runs their test_* functions in file order.
A file may set ZONES (DNS zones), MAIN_CF (Postfix overrides),
MAILVET_CONF and RULES (the daemon's config), DNS_DELAY_MS and TIMEOUT
(seconds per test), and define setup(env) / teardown(env).  A test
function takes no argument or one: the file's shared harness.Env, whose
DNS server, Postfix and mailvet start on first use and stop after the
file's last test (mailvet's exit status and sanitizer reports are then
checked and reported as a failure of "FILE::teardown").

Output: "PASS name", "FAIL name: reason" (details indented below), then
one "SKIP WHAT: reason" line per distinct reason naming what it skipped
(whole files as "test_x.py (N tests)", else FILE::NAME), then
"e2e: N passed, N failed, N skipped".  A file that raises harness.Skip
when imported skips all its test_* functions.  Exit status 1 when
anything failed; skips alone do not (tests/run.sh judges them).
"""

import argparse
import ast
import glob
import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class TestTimeout(Exception):
    """TestTimeout - a test ran past its time limit"""


def on_alarm(signum, frame):
    """on_alarm - turn SIGALRM into an exception in the running test"""
    raise TestTimeout("test timed out")


def on_term(signum, frame):
    """on_term - exit cleanly so atexit stops every child process"""
    raise SystemExit(130)


class Counts:
    """Counts - results, printed as they come (skips at the end)"""

    def __init__(self, verbose):
        self.passed = self.failed = self.skipped = 0
        self.verbose = verbose
        self.skips = {}     # reason -> {file: [test names]}
        self.selected = {}  # file -> number of selected tests

    def ok(self, name, secs):
        self.passed += 1
        extra = " (%.1fs)" % secs if self.verbose else ""
        print("PASS %s%s" % (name, extra), flush=True)

    def skip(self, name, why):
        self.skipped += 1
        base, _, test = name.partition("::")
        reason = str(why).strip() or "no reason given"
        self.skips.setdefault(reason, {}).setdefault(base, []).append(test)

    def skip_lines(self):
        """skip_lines - one line per reason, whole files named as such"""
        lines = []
        for reason, files in self.skips.items():
            what = []
            for base, tests in files.items():
                if len(tests) == self.selected.get(base):
                    what.append("%s.py (%d test%s)" % (
                        base, len(tests), "" if len(tests) == 1 else "s"))
                else:
                    what += ["%s::%s" % (base, t) for t in tests]
            lines.append("SKIP %s: %s" % (", ".join(what), reason))
        return lines

    def fail(self, name, exc):
        self.failed += 1
        msg = str(exc).strip() or type(exc).__name__
        lines = msg.splitlines()
        head = lines[0] if lines else msg
        if not isinstance(exc, AssertionError):
            head = "%s: %s" % (type(exc).__name__, head)
        print("FAIL %s: %s" % (name, head), flush=True)
        detail = lines[1:40]
        if not isinstance(exc, (AssertionError, TestTimeout)) or \
                self.verbose:
            tb = traceback.format_exception(type(exc), exc,
                                            exc.__traceback__)
            detail += "".join(tb).splitlines()[-12:]
        for line in detail:
            print("    " + line, flush=True)


def load(path):
    """load - import one test file as a module"""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_names(path):
    """test_names - the top-level test_* functions a file defines, read
    without importing it (for a file whose import raised Skip)"""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    return [n.name for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def tests_of(mod):
    """tests_of - the module's test_* functions in source order"""
    fns = [f for n, f in vars(mod).items()
           if n.startswith("test_") and inspect.isfunction(f) and
           f.__module__ == mod.__name__]
    return sorted(fns, key=lambda f: f.__code__.co_firstlineno)


def call(fn, env, timeout):
    """call - run fn(env) or fn() under a time limit"""
    signal.alarm(int(timeout))
    try:
        if inspect.signature(fn).parameters:
            fn(env)
        else:
            fn()
    finally:
        signal.alarm(0)


def run_file(path, args, counts):
    """run_file - every selected test of one file with a shared Env"""
    base = os.path.splitext(os.path.basename(path))[0]
    try:
        mod = load(path)
    except harness.Skip as e:
        names = [n for n in test_names(path)
                 if not args.k or args.k in "%s::%s" % (base, n)]
        counts.selected[base] = len(names)
        for n in names:
            counts.skip("%s::%s" % (base, n), e)
        return
    except Exception as e:  # noqa: BLE001 - report, carry on
        counts.fail(base + "::import", e)
        return
    selected = [f for f in tests_of(mod)
                if not args.k or args.k in "%s::%s" % (base, f.__name__)]
    counts.selected[base] = len(selected)
    if not selected:
        return
    env = harness.Env(zones=getattr(mod, "ZONES", None),
                      main_cf=getattr(mod, "MAIN_CF", None),
                      mailvet_conf=getattr(mod, "MAILVET_CONF", None),
                      rules=getattr(mod, "RULES", None),
                      binary=args.bin,
                      dns_delay_ms=getattr(mod, "DNS_DELAY_MS", 0))
    timeout = getattr(mod, "TIMEOUT", args.timeout)
    try:
        if hasattr(mod, "setup"):
            try:
                call(mod.setup, env, timeout)
            except harness.Skip as e:
                for f in selected:
                    counts.skip("%s::%s" % (base, f.__name__), e)
                return
            except BaseException as e:  # noqa: BLE001
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                counts.fail(base + "::setup", e)
                return
        for f in selected:
            run_one(f, "%s::%s" % (base, f.__name__), env, timeout, counts)
        if hasattr(mod, "teardown"):
            try:
                call(mod.teardown, env, timeout)
            except Exception as e:  # noqa: BLE001
                counts.fail(base + "::teardown", e)
    finally:
        problem = env.close()
        if problem:
            counts.fail(base + "::teardown", AssertionError(problem))


def run_one(fn, name, env, timeout, counts):
    """run_one - one test, its outcome counted and printed"""
    t0 = time.monotonic()
    try:
        call(fn, env, timeout)
    except harness.Skip as e:
        counts.skip(name, e)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - any failure is a FAIL
        counts.fail(name, e)
    else:
        counts.ok(name, time.monotonic() - t0)


def main():
    """main - parse options, run every file, print the summary"""
    ap = argparse.ArgumentParser(description="mailvet end-to-end tests")
    ap.add_argument("-k", help="run tests whose FILE::NAME contains this")
    ap.add_argument("--bin", help="mailvet binary (default build/mailvet)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds per test (default 120)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.bin:
        args.bin = os.path.abspath(args.bin)
        os.environ["MAILVET_BIN"] = args.bin
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    counts = Counts(args.verbose)
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        run_file(path, args, counts)
    for line in counts.skip_lines():
        print(line, flush=True)
    print("e2e: %d passed, %d failed, %d skipped"
          % (counts.passed, counts.failed, counts.skipped), flush=True)
    return 1 if counts.failed else 0


if __name__ == "__main__":
    sys.exit(main())
