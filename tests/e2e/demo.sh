#!/bin/sh
#
# demo.sh - the README demo: mailvet between a private Postfix and a test
# DNS server on loopback; see tests/e2e/demo.py.
#
#   sh tests/e2e/demo.sh [--bin PATH] [--rules FILE]
#
# Needs root (a private Postfix) and the packages of tests/install-deps.sh.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec /usr/bin/python3 "$ROOT/tests/e2e/demo.py" "$@"
