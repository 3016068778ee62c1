#!/bin/sh
# REST benchmark: N requests (default 600), C at a time (default 10), against a local
# endpoint that answers 429 above 10 requests a second (counting the rejected ones).
# Compares concurio-fetch paced at the limit (-r 10/s), concurio-fetch --adaptive with no
# rate, both with --retries 9, and curl --parallel --retry 9 (Debian's curl). Prints a
# table; run from a build made by tools/demo.sh or tools/test.sh (build/default).
# Usage: tools/bench/rest429.sh [N] [C]
set -eu
cd "$(dirname "$0")/../.."
n=${1:-600}
c=${2:-10}
. tools/bench/testserver.sh
url="$base/limited/10"
i=0
while [ $i -lt "$n" ]; do echo "$url"; i=$((i + 1)); done >"$tmp/urls"

rejected() { curl -s "$base/stats" | sed -n 's/.*"limited_rejected":\([0-9]*\).*/\1/p'; }
reset() { curl -s "$base/stats/reset" >/dev/null; }
now() { date +%s.%N; }
row() { printf '%-44s %9.2f %6s %9s %12s\n' "$1" "$(awk "BEGIN { print $3 - $2 }")" "$4" "$((n - $4))" "$(rejected)"; }

printf '%-44s %9s %6s %9s %12s\n' "client ($n requests, $c at a time)" seconds "200s" "not 200" "429s drawn"
for mode in paced adaptive; do
    reset
    if [ $mode = paced ]; then
        set -- -r 10/s
        name="concurio-fetch -r 10/s --retries 9"
    else
        set -- --adaptive
        name="concurio-fetch --adaptive --retries 9"
    fi
    start=$(now)
    "$fetch" -q -c "$c" --retries 9 "$@" -o "$tmp/records" "$tmp/urls" || true
    end=$(now)
    row "$name" "$start" "$end" "$(grep -c '"http_status":200' "$tmp/records" || true)"
done
if command -v curl >/dev/null 2>&1; then
    reset
    # Real files: curl 7.88 cannot truncate /dev/null before a retry (exit 23), which
    # once made it look as if --parallel did not retry.
    mkdir -p "$tmp/curl"
    awk -v d="$tmp/curl" '{ printf "url = \"%s\"\noutput = \"%s/%d\"\n", $0, d, NR }' \
        "$tmp/urls" >"$tmp/curl.cfg"
    start=$(now)
    codes=$(curl -s --no-progress-meter --parallel --parallel-max "$c" --retry 9 -w '%{http_code}\n' -K "$tmp/curl.cfg" || true)
    end=$(now)
    row "curl --parallel --retry 9" "$start" "$end" "$(echo "$codes" | grep -c '^200$' || true)"
fi
