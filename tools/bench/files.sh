#!/bin/sh
# Memory benchmark of what concurio-fetch writes besides records: N URL lines from a pipe
# into --output-dir (a file per body, C at a time, against the local test server), then
# --report of those N records; prints seconds and peak RSS per N. The issue's promise:
# memory bounded for any list length (the 1,000,000 run within a few MiB of the 10,000).
# Usage: tools/bench/files.sh [C] [N...]   (default: 64 10000 1000000; BUILD=DIR for
# another build directory). Needs about 4 KiB of disk a body (1,000,000: ~4 GiB).
set -eu
cd "$(dirname "$0")/../.."
c=${1:-64}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 10000 1000000
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian package time)" >&2; exit 1; }
. tools/bench/testserver.sh

echo "# tools/bench/files.sh $c $*  ($(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d))"
printf '| %-9s | %-27s | %9s | %9s | %11s |\n' items run seconds "items/s" "peak RSS"
printf '|%s|%s|%s|%s|%s|\n' ----------- ----------------------------- ----------- ----------- -------------
row() { # n, what, start, end
    kb=$(tail -n 1 "$tmp/rss")
    printf '| %9s | %-27s | %9.1f | %9.0f | %7.1f MiB |\n' "$1" "$2" "$(awk "BEGIN { print $4 - $3 }")" \
        "$(awk "BEGIN { print $1 / ($4 - $3) }")" "$(awk "BEGIN { print $kb / 1024 }")"
}
for n in "$@"; do
    rm -rf "$tmp/pages"
    start=$(date +%s.%N)
    awk -v n="$n" -v u="$base/bytes/100" 'BEGIN { for (i = 0; i < n; i++) print u }' |
        /usr/bin/time -f '%M' -o "$tmp/rss" "$fetch" -q -c "$c" --output-dir "$tmp/pages" \
            -o "$tmp/records" || true
    end=$(date +%s.%N)
    row "$n" "--output-dir, -c $c" "$start" "$end"
    files=$(find "$tmp/pages" -type f | wc -l)
    [ "$files" = "$n" ] || echo "  (only $files files for $n items)"
    rm -rf "$tmp/pages"
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$tmp/rss" "$fetch" -q --report "$tmp/records" -o "$tmp/report.html"
    end=$(date +%s.%N)
    row "$n" "--report of those records" "$start" "$end"
done
