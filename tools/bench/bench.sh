#!/bin/sh
# The one command behind the README's Performance section: installs the peers (Debian
# packages), builds, and runs tools/bench/run.py with the arguments given (--quick for a
# smoke run, --rate-run for the 2-minute rate accuracy run). Results land in
# tools/bench/results/latest.md and bench.png.
set -eu
cd "$(dirname "$0")/../.."
sh tools/deps.sh nginx-light libnginx-mod-http-echo curl wrk hey python3 python3-aiohttp \
    gnuplot-nox time
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" >/dev/null
exec /usr/bin/python3 tools/bench/run.py "$@"
