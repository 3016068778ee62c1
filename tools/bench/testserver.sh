# Sourced by the benchmark scripts: checks the build, starts the test server on a free
# loopback port in a fresh $tmp (both cleaned up at exit), and sets $fetch and $base.
build=${BUILD:-build/default}
server=$build/tests/concurio-testserver
fetch=$build/tools/concurio-fetch
[ -x "$server" ] && [ -x "$fetch" ] || { echo "build first: tools/test.sh" >&2; exit 1; }
tmp=$(mktemp -d)
"$server" --port 0 --quiet >"$tmp/server" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
while ! grep -q '^listening on ' "$tmp/server"; do sleep 0.05; done
base=$(sed -n 's/^listening on //p' "$tmp/server")
