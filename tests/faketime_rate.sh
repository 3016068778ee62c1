#!/bin/sh
# The rate limit on a clock that runs ten times too fast (libfaketime, Debian's faketime):
# concurio-fetch -r 50/s over 2,000 items must keep 50/s on its own clock within 5%,
# which the server, on the real clock, sees as 500/s within 5%. (-c 64: a slow build,
# ASan, keeps up. --burst 4: at 10x, a wake-up 1 ms late on the real clock is half a
# token late on the tool's, and a bucket of one token cannot give lateness back.)
# Usage: faketime_rate.sh CONCURIO_FETCH BASE_URL  (tests/with_server.sh adds the URL)
# Exits 77 (skipped) where faketime is not installed.
set -u
fetch=$1 base=$2
if ! command -v faketime >/dev/null 2>&1; then
    echo "faketime is not installed (Debian package faketime): skipped"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt 2000 ]; do
    echo "$base/ok"
    i=$((i + 1))
done >"$tmp/urls"
curl -sf "$base/stats/reset" >/dev/null || exit 1
# libfaketime is preloaded: an ASan build must not insist on coming first.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    faketime -f '+0 x10' "$fetch" -r 50/s --rate-margin 0 --burst 4 -c 64 -o "$tmp/out" "$tmp/urls" 2>"$tmp/err"
status=$?
cat "$tmp/err"
[ "$status" -eq 0 ] || { echo "exit status $status"; exit 1; }
done=$(grep -c '"outcome":"done"' "$tmp/out")
[ "$done" -eq 2000 ] || { echo "$done done records for 2000 lines"; exit 1; }
own=$(sed -n 's/^2000 items in .* s (\([0-9.]*\)\/s).*/\1/p' "$tmp/err")
curl -sf "$base/stats" >"$tmp/stats" || exit 1
python3 - "$own" "$tmp/stats" <<'PY'
import json, sys
own = float(sys.argv[1])
s = json.load(open(sys.argv[2]))["starts_ms"]
real = (len(s) - 1) / ((s[-1] - s[0]) / 1000.0)
print("rate on the tool's clock: %.2f/s (limit 50/s); at the server: %.1f/s real (10x: 500/s)" % (own, real))
ok = abs(own - 50) <= 2.5 and abs(real - 500) <= 25
sys.exit(0 if ok else 1)
PY
