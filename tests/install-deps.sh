#!/bin/sh
#
# install-deps.sh - install the Debian packages mailvet builds and tests with
#
#   sh tests/install-deps.sh
#
# Idempotent and non-interactive: asks dpkg which packages are missing,
# runs "apt-get update" only when something is, and installs just those.
# Postfix is preseeded with "No configuration", so the package leaves no
# system instance listening on port 25; if one runs anyway it does not
# matter: the tests start private instances on free loopback ports.
# Needs root (or sudo) only when something must be installed.

set -eu

PKGS="build-essential pkg-config libmilter-dev libspf2-dev libopendkim-dev
libc-ares-dev miltertest postfix python3 python3-dnslib python3-yaml
opendkim-tools python3-dkim clang libclang-rt-14-dev valgrind strace
man-db clang-format python3-cryptography libssl-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps: need root to install:$missing" >&2
		exit 1
	}
	SUDO="sudo"
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
    $SUDO debconf-set-selections
$SUDO apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO apt-get install -y -q --no-install-recommends $missing

# A system Postfix is never needed; stop one the install may have started
# so that nothing else answers on loopback port 25 by surprise.
if [ -f /etc/postfix/main.cf ] && [ -f /var/spool/postfix/pid/master.pid ]
then
	$SUDO postfix stop >/dev/null 2>&1 || true
fi
echo "install-deps: done"
