#!/bin/sh
# Installs the Debian packages Concurio needs that are missing: as root with apt-get,
# otherwise it prints the command to run. Usage: tools/deps.sh [PACKAGE...] (extra ones)
set -eu
need="cmake make gcc pkg-config libcurl4-openssl-dev libevent-dev libcjson-dev libcriterion-dev libhiredis-dev $*"
missing=""
for pkg in $need; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "concurio: missing Debian packages:$missing" >&2
    echo "  run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "concurio: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
