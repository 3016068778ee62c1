#!/bin/sh
# Builds Concurio and runs every test: tools/test.sh [PRESET]  (default, debug, asan or
# tsan). The allocation-failure torture (CTest label "torture") runs after the quick
# suite, for the default and asan presets.
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh valgrind nginx-light openssl faketime curl python3 iproute2 nftables \
    fiu-utils gdb redis-server chromium time
preset=${1:-default}
cmake --workflow --preset "$preset"
case $preset in
default) ctest --preset torture ;;
asan) ctest --preset torture-asan ;;
esac
