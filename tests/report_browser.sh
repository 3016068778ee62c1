#!/bin/sh
# The --report page in a real browser: a run against the test server under -r 40/s (with
# errors, timeouts and slow ones), its records into a page, and headless Chromium opens
# it with its scripts running. The page's script counts the charts it drew
# (data-rendered) and any script error (data-errors, #errors); the DOM it leaves must
# hold every chart's marks: the limit line, one point per request, histogram bars,
# stacked areas, the tables. Then the same for a million-line records file written
# here, drawn as a density. Skips (77) without Chromium.
# Usage: with_server.sh SERVER report_browser.sh CONCURIO_FETCH BASE_URL
set -u
fetch=$1 base=$2
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "report_browser: no chromium: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "report_browser: FAILED: $*"
    exit 1
}
dom() { # the page's DOM after its scripts ran
    HOME=$tmp timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --dump-dom "file://$1" 2>"$tmp/browser.err"
}
count() { grep -o "$1" "$2" | wc -l; }

i=1
while [ $i -le 160 ]; do
    case $((i % 8)) in
    0) echo "$base/status/503" ;;
    1) echo "$base/delay/$((i % 5 * 30))" ;;
    2) echo "http://127.0.0.1:1/refused" ;;
    3) [ $((i % 24)) -eq 3 ] && echo "$base/delay/3000" || echo "$base/ok" ;;
    *) echo "$base/bytes/$i" ;;
    esac
    i=$((i + 1))
done >"$tmp/urls"
"$fetch" -q -c 16 -r 40/s -t 1 -o "$tmp/records.jsonl" "$tmp/urls"
[ $? -eq 1 ] || fail "the run should have some errors"
"$fetch" -q --report "$tmp/records.jsonl" -r 40/s -o "$tmp/report.html" || fail "--report exited $?"
grep -q 'src=\|href="http' "$tmp/report.html" && fail "the page loads something from elsewhere"
dom "$tmp/report.html" >"$tmp/dom.html" || fail "chromium: $(tail -3 "$tmp/browser.err")"
grep -q 'data-rendered="9"' "$tmp/dom.html" || fail "not every chart rendered: $(grep -o 'data-rendered="[0-9]*"' "$tmp/dom.html") $(grep -o 'class="error">[^<]*' "$tmp/dom.html")"
grep -q 'data-errors="' "$tmp/dom.html" && fail "script errors: $(grep -o 'class="error">[^<]*' "$tmp/dom.html")"
started=$(grep -c '"started_at"' "$tmp/records.jsonl")
[ "$(count 'class="pt"' "$tmp/dom.html")" = "$started" ] ||
    fail "$(count 'class="pt"' "$tmp/dom.html") points for $started requests"
[ "$(count 'class="limit"' "$tmp/dom.html")" = 1 ] || fail "no limit line"
grep -q 'limit 40/s' "$tmp/dom.html" || fail "the limit is not labelled"
[ "$(count 'class="bar"' "$tmp/dom.html")" -ge 3 ] || fail "too few histogram bars"
[ "$(count 'class="area"' "$tmp/dom.html")" = 9 ] || fail "$(count 'class="area"' "$tmp/dom.html") stacked areas, not 3 + 6"
grep -q '<td>curl 7</td>' "$tmp/dom.html" || fail "errors by cause lack curl 7"
grep -q '<td>127.0.0.1:1</td>' "$tmp/dom.html" || fail "the failing host is not listed"
echo "report_browser: ok: $started requests: 9 charts, every point, the limit, no script error"

# A million records (written here: two seconds of shell would not do; awk does),
# drawn as a density, in bounded memory.
awk 'BEGIN { for (i = 1; i <= 1000000; i++) {
    s = int(i / 1000); ms = (i * 7919) % 400
    printf "{\"id\":%d,\"line\":%d,\"url\":\"http://h%d.test/x\",\"outcome\":\"%s\",\"http_status\":%d,\"started_at\":\"2026-12-02T05:%02d:%02d.%03dZ\",\"elapsed_ms\":%d,\"bytes\":9,\"attempts\":1}\n",
        i, i, i % 40, i % 50 ? "done" : "error", i % 50 ? 200 : 500, int(s / 60) % 60, s % 60, i % 1000, ms } }' \
    >"$tmp/big.jsonl"
/usr/bin/time -f "%M" -o "$tmp/rss" "$fetch" -q --report "$tmp/big.jsonl" -o "$tmp/big.html" ||
    fail "--report of a million records"
# (Under a sanitizer the allocator keeps freed memory a while: no bound there.)
[ -n "${CIO_SANITIZED:-}" ] || [ "$(cat "$tmp/rss")" -lt 65536 ] ||
    fail "peak RSS $(cat "$tmp/rss") KiB for a million records"
dom "$tmp/big.html" >"$tmp/bigdom.html" || fail "chromium on the big page"
grep -q 'data-rendered="9"' "$tmp/bigdom.html" || fail "the big page did not render"
[ "$(count 'class="cell"' "$tmp/bigdom.html")" -gt 100 ] || fail "no density drawn"
[ "$(count 'class="pt"' "$tmp/bigdom.html")" = 0 ] || fail "a million points drawn one by one"
echo "report_browser: ok: a million records in $(cat "$tmp/rss") KiB, drawn as a density"

# The same records as a table for a spreadsheet: a header row and one row per record.
"$fetch" -q --report "$tmp/records.jsonl" --format csv --fields line,outcome,http_status \
    -o "$tmp/records.csv" || fail "--report --format csv exited $?"
[ "$(head -n 1 "$tmp/records.csv" | tr -d '\r')" = "line,outcome,http_status" ] || fail "$(head -n 2 "$tmp/records.csv")"
[ $(($(wc -l <"$tmp/records.csv") - 1)) = "$(wc -l <"$tmp/records.jsonl")" ] || fail "rows"
echo "report_browser: ok: --report --format csv, a row per record"
