#!/bin/sh
# The main job: builds Concurio, starts the bundled test server on a free loopback port and
# runs concurio-fetch on the bundled sample list (examples/sample-urls.txt) against it,
# with the progress meter and the summary on stderr and the records in a file.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--run" ]; then # called back by with_server.sh with the server's URL
    url=$2
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    sed "s|http://127.0.0.1:8080|$url|g" examples/sample-urls.txt >"$dir/urls.txt"
    set -x
    build/default/tools/concurio-fetch -c 20 -r 100/s -t 2 --retries 2 \
        -o "$dir/records.jsonl" "$dir/urls.txt" || status=$?
    { set +x; } 2>/dev/null
    echo "exit status ${status:-0} (1: some items ended in error or timeout, as this list asks)"
    echo "first records of $(wc -l <"$dir/records.jsonl"):"
    head -n 3 "$dir/records.jsonl"
    echo "the errors and timeouts:"
    grep -v '"outcome":"done"' "$dir/records.jsonl" | cut -c 1-200
    exit 0
fi
sh tools/deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" >/dev/null
exec sh tests/with_server.sh build/default/tests/concurio-testserver sh tools/demo.sh --run
