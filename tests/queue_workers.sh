#!/bin/sh
# Three workers share one job through Redis (tests/with_redis.sh gives CIO_TEST_REDIS):
# 10,000 items under a global quota of 1000 starts a second; one worker is killed with
# SIGKILL and another stopped with SIGSTOP for 10 s, mid-run. Checks: the records' line
# numbers are exactly 1..N, each once (none twice, also from the stopped worker once it
# went on); nothing is left pending; the killed worker's items were taken over; at the
# test server no window of one second held more than 1000 starts; --collect exits 0.
#
# Usage: with_redis.sh with_server.sh SERVER queue_workers.sh CONCURIO_FETCH BASE_URL
set -u
fetch=$1 base=$2
n=${QUEUE_ITEMS:-10000}
host=${CIO_TEST_REDIS%:*} port=${CIO_TEST_REDIS#*:}
q=redis://$CIO_TEST_REDIS/job
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill -CONT $p 2>/dev/null; kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
cli() { redis-cli -h "$host" -p "$port" "$@"; }
fail() {
    echo "queue_workers: FAILED: $*"
    for w in 1 2 3; do echo "--- worker w$w:"; tail -${QUEUE_TAIL:-5} "$tmp/w$w.err"; done
    exit 1
}
seq 1 "$n" | sed "s|^|$base/ok?i=|" >"$tmp/urls"
curl -s "$base/stats/reset" >/dev/null
"$fetch" --queue "$q" --enqueue -r 1000/s "$tmp/urls" || fail "enqueue"
start=$(date +%s)
for w in 1 2 3; do
    "$fetch" --queue "$q" --worker --worker-name "w$w" -c 50 -t 10 --claim-idle 2 \
        --progress-interval 5 2>"$tmp/w$w.err" &
    eval "pid$w=$!"
    pids="$pids $!"
done
sleep 3
kill -KILL "$pid1"
kill -STOP "$pid2"
wait "$pid1" 2>/dev/null # dead: what it holds now is what the others must take over
cli XPENDING job workers - + 10000 w1 | awk 'NR % 4 == 1' >"$tmp/w1.pending"
echo "queue_workers: w1 killed with $(wc -l <"$tmp/w1.pending") items pending; w2 stopped"
sleep 10
kill -CONT "$pid2"
for w in 2 3; do
    eval "p=\$pid$w"
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$p" 2>/dev/null && fail "worker w$w did not end within 120 s"
    wait "$p"
    eval "rc$w=$?"
done
echo "queue_workers: workers ended after $(($(date +%s) - start)) s (w2 $rc2, w3 $rc3)"
"$fetch" --queue "$q" --collect -o "$tmp/all" 2>"$tmp/collect.err"
crc=$?
[ $crc -eq 0 ] || fail "--collect exited $crc: $(cat "$tmp/collect.err")"
[ "$rc2" -eq 0 ] && [ "$rc3" -eq 0 ] || fail "workers exited $rc2 and $rc3"

sed -n 's/.*"line":\([0-9]*\),.*/\1/p' "$tmp/all" | sort -n >"$tmp/lines"
dups=$(uniq -d "$tmp/lines" | wc -l)
[ "$dups" -eq 0 ] || fail "$dups lines have two records"
seq 1 "$n" | cmp -s - "$tmp/lines" || fail "the records' lines are not exactly 1..$n ($(wc -l <"$tmp/lines") records)"
left=$(cli XPENDING job workers | head -1)
[ "$left" = 0 ] || fail "$left items still pending"
[ -s "$tmp/w1.pending" ] || fail "the killed worker had no items pending: nothing to take over"
took=0
while read -r id; do
    who=$(grep "\"line\":${id#0-}," "$tmp/all" | sed -n 's/.*"worker":"\([^"]*\)".*/\1/p')
    [ "$who" != w1 ] && took=$((took + 1))
done <"$tmp/w1.pending"
[ "$took" -eq "$(wc -l <"$tmp/w1.pending")" ] || fail "only $took of the killed worker's items were taken over"
by=$(sed -n 's/.*"worker":"\([^"]*\)".*/\1/p' "$tmp/all" | sort | uniq -c | tr '\n' ' ')
busiest=$(curl -s "$base/stats" | python3 -c '
import json, sys
s = sorted(json.load(sys.stdin)["starts_ms"])
best, j = 0, 0
for i in range(len(s)):
    while s[i] - s[j] >= 1000:
        j += 1
    best = max(best, i - j + 1)
print(best, len(s))')
set -- $busiest
[ "$1" -le 1000 ] || fail "$1 starts in one second at the server (quota 1000)"
echo "queue_workers: $n records, each line once; records by worker: $by"
echo "queue_workers: the killed worker's $took pending items were taken over; none pending"
echo "queue_workers: the server saw $2 starts, at most $1 in any second (quota 1000)"
