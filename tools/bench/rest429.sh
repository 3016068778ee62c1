#!/bin/sh
# REST benchmark: N requests (default 600), C at a time (default 10), against a local
# endpoint that answers 429 above 10 requests a second (counting the rejected ones).
# Compares Concurio paced at the limit, Concurio with CIO_ADAPTIVE and no rate, and
# curl --parallel --retry 9 (Debian's curl). Prints a table; run from a build made by
# tools/demo.sh or tools/test.sh (build/default).  Usage: tools/bench/rest429.sh [N] [C]
set -eu
cd "$(dirname "$0")/../.."
n=${1:-600}
c=${2:-10}
build=build/default
server=$build/tests/concurio-testserver
driver=$build/tools/concurio-bench-rest429
[ -x "$server" ] && [ -x "$driver" ] || { echo "build first: tools/test.sh" >&2; exit 1; }
out=$(mktemp)
"$server" --port 0 --quiet >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out" "$out.urls"' EXIT INT TERM
while ! grep -q '^listening on ' "$out"; do sleep 0.05; done
base=$(sed -n 's/^listening on //p' "$out")
url="$base/limited/10"

rejected() { curl -s "$base/stats" | sed -n 's/.*"limited_rejected":\([0-9]*\).*/\1/p'; }
reset() { curl -s "$base/stats/reset" >/dev/null; }

printf '%-34s %9s %6s %9s %12s\n' "client ($n requests, $c at a time)" seconds "200s" "not 200" "429s drawn"
for mode in fixed adaptive; do
    reset
    if [ $mode = fixed ]; then
        line=$("$driver" fixed 600 "$url" "$n" "$c")
        name="concurio, paced at 10/s"
    else
        line=$("$driver" adaptive "$url" "$n" "$c")
        name="concurio, adaptive (no rate set)"
    fi
    secs=$(echo "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
    okn=$(echo "$line" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
    bad=$(echo "$line" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
    printf '%-34s %9s %6s %9s %12s\n' "$name" "$secs" "$okn" "$bad" "$(rejected)"
done
if command -v curl >/dev/null 2>&1; then
    reset
    i=0
    : >"$out.urls"
    while [ $i -lt "$n" ]; do echo "url = \"$url\""; echo 'output = "/dev/null"'; i=$((i + 1)); done >"$out.urls"
    start=$(date +%s.%N)
    codes=$(curl -s --no-progress-meter --parallel --parallel-max "$c" --retry 9 -w '%{http_code}\n' -K "$out.urls" || true)
    end=$(date +%s.%N)
    okn=$(echo "$codes" | grep -c '^200$' || true)
    printf '%-34s %9.2f %6s %9s %12s\n' "curl --parallel --retry 9" "$(awk "BEGIN { print $end - $start }")" \
        "$okn" "$((n - okn))" "$(rejected)"
fi
