#!/bin/sh
# Memory benchmark: concurio-fetch reading N URL lines from a pipe (never a file it could
# count or map), C at a time, against the local test server; prints the peak RSS per N.
# The input is generated on the fly, so the benchmark itself needs no disk for it.
# Target (issue 4): under 64 MiB at 1,000,000 lines, within 10% of the 10,000-line run.
# Usage: tools/bench/rss.sh [C] [N...]   (default: 256 10000 100000 1000000)
set -eu
cd "$(dirname "$0")/../.."
c=${1:-256}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 10000 100000 1000000
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian package time)" >&2; exit 1; }
. tools/bench/testserver.sh

printf '%10s %5s %9s %9s %10s %9s\n' lines C seconds "req/s" "peak RSS" records
first=
for n in "$@"; do
    start=$(date +%s.%N)
    awk -v n="$n" -v u="$base/bytes/100" 'BEGIN { for (i = 0; i < n; i++) print u }' |
        /usr/bin/time -f '%M' -o "$tmp/rss" "$fetch" -q -c "$c" -o "$tmp/records" || true
    end=$(date +%s.%N)
    kb=$(tail -n 1 "$tmp/rss")
    recs=$(grep -c '"outcome":"done"' "$tmp/records" || true)
    secs=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
    printf '%10s %5s %9s %9.0f %7.1f MiB %9s\n' "$n" "$c" "$secs" "$(awk "BEGIN { print $n / ($end - $start) }")" \
        "$(awk "BEGIN { print $kb / 1024 }")" "$recs"
    [ -n "$first" ] || first=$kb
done
echo "peak RSS of the last run: $(awk "BEGIN { printf \"%.1f\", 100 * $kb / $first }")% of the first"
