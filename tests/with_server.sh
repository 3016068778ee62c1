#!/bin/sh
# Usage: with_server.sh SERVER COMMAND [ARGS...]
# Starts the test server on a free loopback port, runs COMMAND with the server's base URL
# as its last argument, stops the server, and exits with COMMAND's status.
set -u
server=$1
shift
out=$(mktemp)
"$server" --port 0 --quiet >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
i=0
while ! grep -q '^listening on ' "$out"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
        echo "with_server.sh: the test server did not start" >&2
        exit 1
    fi
    sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$out")
"$@" "$url"
