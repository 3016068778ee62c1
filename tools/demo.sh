#!/bin/sh
# The main job: builds Concurio, starts the bundled test server on a free loopback port
# and runs the quickstart example against it (100 requests, 10 at a time, 2 s timeout).
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" >/dev/null
exec sh tests/with_server.sh build/default/tests/concurio-testserver build/default/examples/quickstart
