#!/bin/sh
# Builds Concurio and runs every test: tools/test.sh [PRESET]  (default, debug or asan).
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh valgrind nginx-light openssl
exec cmake --workflow --preset "${1:-default}"
