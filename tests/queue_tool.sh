#!/bin/sh
# concurio-fetch's queue mode, case by case, against a real Redis (with_redis.sh) and the
# test server: enqueue twice (nothing twice), a quota that differs from the job's (exit 2,
# both named), a worker started before the items (it waits), --collect before the end
# (exit 1) and --follow (waits for the end), a poison item (an error record after
# --max-deliveries), Redis dropping every connection mid-run and pausing (records kept,
# nothing lost; no start while Redis cannot answer), a worker restarted under its name
# (takes back its own items), long items kept past --claim-idle, Ctrl-C on a worker, an
# item deleted from the stream, and Redis unreachable (exit 69).
#
# Usage: with_redis.sh with_server.sh SERVER queue_tool.sh CONCURIO_FETCH BASE_URL
set -u
fetch=$1 base=$2
host=${CIO_TEST_REDIS%:*} port=${CIO_TEST_REDIS#*:}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
cli() { redis-cli -h "$host" -p "$port" "$@"; }
fail() {
    echo "queue_tool: FAILED: $*"
    exit 1
}
ok() { echo "queue_tool: ok: $*"; }
q() { echo "redis://$CIO_TEST_REDIS/$1"; }
lines_of() { sed -n 's/.*"line":\([0-9]*\),.*/\1/p' "$1" | sort -n; }

# 1. Enqueue twice: the second adds nothing and says so.
printf '%s/ok\n# a comment\n\n%s/bytes/10\nnot a url\n' "$base" "$base" >"$tmp/three"
"$fetch" --queue "$(q j1)" --enqueue "$tmp/three" 2>"$tmp/e1" || fail "enqueue: $(cat "$tmp/e1")"
"$fetch" --queue "$(q j1)" --enqueue "$tmp/three" 2>"$tmp/e2" || fail "enqueue again"
grep -q '3 new items, 0 queued already; the job has 3 items' "$tmp/e1" || fail "$(cat "$tmp/e1")"
grep -q '0 new items, 3 queued already; the job has 3 items' "$tmp/e2" || fail "$(cat "$tmp/e2")"
[ "$(cli XLEN j1)" = 3 ] || fail "the stream holds $(cli XLEN j1) items"
ok "enqueue twice: 3 items, then 0 new"

# 2. The quota is the job's: a different one is refused, naming both.
"$fetch" --queue "$(q j1)" --enqueue -r 10/s "$tmp/three" 2>/dev/null # stores 10/s
"$fetch" --queue "$(q j1)" --worker -r 20/s -q 2>"$tmp/e3"
rc=$?
[ $rc -eq 2 ] || fail "a different quota: exit $rc"
grep -q '10 starts per 1 s' "$tmp/e3" && grep -q '20 starts per 1 s' "$tmp/e3" ||
    fail "the message names both: $(cat "$tmp/e3")"
ok "a different quota exits 2: $(cat "$tmp/e3")"

# 3. The worker of j1 (quota from the job): 2 done, 1 bad line; exit 1; -o has its records.
"$fetch" --queue "$(q j1)" --collect -o "$tmp/c0" 2>/dev/null
rc=$?
[ $rc -eq 1 ] || fail "--collect before any record: exit $rc"
"$fetch" --queue "$(q j1)" --worker -q -o "$tmp/w1" || [ $? -eq 1 ] || fail "worker of j1"
[ "$(wc -l <"$tmp/w1")" = 3 ] || fail "the worker's -o holds $(wc -l <"$tmp/w1") records"
grep -q '"line":5,.*"outcome":"error".*"worker":' "$tmp/w1" || fail "the bad line's record"
"$fetch" --queue "$(q j1)" --collect -o "$tmp/c1" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && [ "$(lines_of "$tmp/c1" | tr '\n' ' ')" = "1 4 5 " ] ||
    fail "--collect: exit $rc, lines $(lines_of "$tmp/c1" | tr '\n' ' ')"
ok "a job with a bad line: 3 records (lines 1 4 5), worker and --collect exit 1"
"$fetch" --queue "$(q j1)" --collect --format csv --fields line,outcome -o "$tmp/c1.csv" \
    2>/dev/null
[ "$(tr -d '\r' <"$tmp/c1.csv" | sort)" = "$(printf '1,done\n4,done\n5,error\nline,outcome')" ] ||
    fail "--collect --format csv: $(cat "$tmp/c1.csv")"
"$fetch" --queue "$(q j1)" --worker --format csv -q 2>"$tmp/e4"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--collect" "$tmp/e4" || fail "--worker --format csv: exit $rc"
ok "--collect --format csv: a header row and the job's 3 records; a worker refuses it"

# 4. A worker and --collect --follow started before anything is enqueued: both wait.
seq 1 200 | sed "s|^|$base/ok?i=|" >"$tmp/two"
"$fetch" --queue "$(q j2)" --worker -c 10 -q &
wpid=$!
"$fetch" --queue "$(q j2)" --collect --follow -o "$tmp/c2" 2>/dev/null &
cpid=$!
sleep 1
kill -0 $wpid 2>/dev/null && kill -0 $cpid 2>/dev/null || fail "they did not wait for items"
"$fetch" --queue "$(q j2)" --enqueue "$tmp/two" 2>/dev/null
wait $wpid || fail "the waiting worker exited $?"
wait $cpid || fail "--collect --follow exited $?"
[ "$(lines_of "$tmp/c2" | uniq | wc -l)" = 200 ] && [ "$(wc -l <"$tmp/c2")" = 200 ] ||
    fail "--follow wrote $(wc -l <"$tmp/c2") records"
ok "a worker and --collect --follow wait for the items: 200 records"

# 5. Poison: items delivered over and over (a consumer that never finishes) end as errors.
seq 1 3 | sed "s|^|$base/ok?p=|" >"$tmp/poison"
"$fetch" --queue "$(q j3)" --enqueue "$tmp/poison" 2>/dev/null
cli XREADGROUP GROUP workers crashy COUNT 10 STREAMS j3 '>' >/dev/null
for k in 1 2 3; do cli XCLAIM j3 workers crashy 0 0-1 0-2 0-3 >/dev/null; done # 4 deliveries
sleep 0.2
"$fetch" --queue "$(q j3)" --worker -q --claim-idle 0.1 --max-deliveries 4 -o "$tmp/w3"
rc=$?
[ $rc -eq 1 ] || fail "a worker whose records are poison errors: exit $rc"
[ "$(grep -c '"outcome":"error".*given up after 5 deliveries (--max-deliveries 4)' "$tmp/w3")" = 3 ] ||
    fail "poison records: $(cat "$tmp/w3")"
[ "$(cli XPENDING j3 workers | head -1)" = 0 ] || fail "poison items left pending"
ok "3 items delivered 5 times with --max-deliveries 4: 3 error records, none pending"

# 6. Redis drops every connection, then pauses, mid-run: nothing lost, nothing twice,
#    and no start while Redis cannot answer.
seq 1 600 | sed "s|^|$base/delay/20?i=|" >"$tmp/six"
"$fetch" --queue "$(q j4)" --enqueue -r 200/s "$tmp/six" 2>/dev/null
curl -s "$base/stats/reset" >/dev/null
"$fetch" --queue "$(q j4)" --worker -c 20 -q 2>"$tmp/w4err" &
wpid=$!
sleep 1
cli CLIENT KILL TYPE normal >/dev/null
sleep 0.5
cli CLIENT KILL TYPE normal >/dev/null
sleep 0.5
cli CLIENT PAUSE 1500 ALL >/dev/null
wait $wpid || fail "the worker exited $? after Redis dropped it: $(cat "$tmp/w4err")"
"$fetch" --queue "$(q j4)" --collect -o "$tmp/c4" 2>/dev/null || fail "--collect j4"
[ "$(lines_of "$tmp/c4" | uniq | wc -l)" = 600 ] && [ "$(wc -l <"$tmp/c4")" = 600 ] ||
    fail "$(wc -l <"$tmp/c4") records after the drops"
gap=$(curl -s "$base/stats" | python3 -c '
import json, sys
s = sorted(json.load(sys.stdin)["starts_ms"])
print(max(b - a for a, b in zip(s, s[1:])))')
[ "$gap" -ge 1000 ] || fail "starts went on while Redis was paused (longest gap $gap ms)"
ok "600 records after two connection drops and a 1.5 s pause; longest gap between starts ${gap} ms"

# 8. A worker killed mid-run and restarted under its name takes back its own items first
#    (no take-over here: --claim-idle is a minute).
seq 1 8 | sed "s|^|$base/delay/1500?r=|" >"$tmp/eight"
"$fetch" --queue "$(q j6)" --enqueue "$tmp/eight" 2>/dev/null
"$fetch" --queue "$(q j6)" --worker --worker-name r1 -c 4 -q --claim-idle 60 &
wpid=$!
sleep 0.7
kill -KILL $wpid
wait $wpid 2>/dev/null
[ "$(cli XPENDING j6 workers | head -1)" = 4 ] || fail "the killed worker held $(cli XPENDING j6 workers | head -1) items"
"$fetch" --queue "$(q j6)" --worker --worker-name r1 -c 4 -q --claim-idle 60 -o "$tmp/w6" ||
    fail "the restarted worker exited $?"
"$fetch" --queue "$(q j6)" --collect -o "$tmp/c6" 2>/dev/null || fail "--collect j6"
[ "$(lines_of "$tmp/c6" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] || fail "records: $(lines_of "$tmp/c6")"
ok "a worker restarted under its name took back its 4 pending items: 8 records"

# 9. Long items are kept by their worker: with --claim-idle 0.9 s and items of 2.5 s, a
#    second worker with room never takes the first one's (each reaches the server once).
seq 1 10 | sed "s|^|$base/delay/2500?k=|" >"$tmp/nine"
"$fetch" --queue "$(q j7)" --enqueue "$tmp/nine" 2>/dev/null
curl -s "$base/stats/reset" >/dev/null
"$fetch" --queue "$(q j7)" --worker -c 10 -q --claim-idle 0.9 & # takes all ten
a=$!
sleep 0.4
"$fetch" --queue "$(q j7)" --worker -c 5 -q --claim-idle 0.9 & # idle, and would take them
b=$!
wait $a || fail "worker a exited $?"
wait $b || fail "worker b exited $?"
seen=$(curl -s "$base/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
[ "$seen" = 10 ] || fail "the server saw $seen requests for 10 items: an item was taken while kept"
ok "items of 2.5 s under --claim-idle 0.9: kept by their workers, 10 requests for 10 items"

# 10. Ctrl-C twice on a worker: exit 130 and no record for what it cut short; another
#     worker takes those items over and finishes the job.
seq 1 6 | sed "s|^|$base/delay/3000?s=|" >"$tmp/ten"
"$fetch" --queue "$(q j8)" --enqueue "$tmp/ten" 2>/dev/null
"$fetch" --queue "$(q j8)" --worker -c 3 -q -o "$tmp/w8a" &
wpid=$!
sleep 0.7
kill -INT $wpid
sleep 0.1
kill -INT $wpid
wait $wpid
rc=$?
[ $rc -eq 130 ] || fail "an interrupted worker exited $rc"
[ ! -s "$tmp/w8a" ] || fail "the interrupted worker wrote records: $(cat "$tmp/w8a")"
[ "$(cli XLEN j8:results)" = 0 ] || fail "records in Redis after the interrupt"
"$fetch" --queue "$(q j8)" --worker -c 6 -q --claim-idle 0.3 || fail "the second worker exited $?"
"$fetch" --queue "$(q j8)" --collect -o "$tmp/c8" 2>/dev/null || fail "--collect j8 exited $?"
[ "$(grep -c '"outcome":"done"' "$tmp/c8")" = 6 ] || fail "after the take-over: $(cat "$tmp/c8")"
ok "an interrupted worker left its 3 items to another: 6 done records"

# 11. An item deleted from the stream while pending gets an error record, not a job that
#     never ends: seen by a take-over (another worker) and by a restart (the same name).
for who in other gone; do
    seq 1 3 | sed "s|^|$base/ok?d=|" >"$tmp/eleven"
    "$fetch" --queue "$(q "j9$who")" --enqueue "$tmp/eleven" 2>/dev/null
    cli XREADGROUP GROUP workers gone COUNT 10 STREAMS "j9$who" '>' >/dev/null
    cli XDEL "j9$who" 0-2 >/dev/null
    sleep 0.2
    "$fetch" --queue "$(q "j9$who")" --worker --worker-name "$who" -q --claim-idle 0.1
    rc=$?
    "$fetch" --queue "$(q "j9$who")" --collect -o "$tmp/c9" 2>/dev/null
    [ $rc -eq 1 ] && [ "$(lines_of "$tmp/c9" | tr '\n' ' ')" = "1 2 3 " ] &&
        grep -q '"line":2,.*deleted from the stream' "$tmp/c9" ||
        fail "a deleted item ($who): exit $rc, records $(cat "$tmp/c9")"
    [ "$(cli XPENDING "j9$who" workers | head -1)" = 0 ] || fail "pending left ($who)"
done
ok "an item deleted while pending: an error record, by take-over and by restart"

# 12. Ctrl-C on a worker whose last records Redis cannot take (paused): it gives them up
#     and exits, saying so; the items stay pending and another worker finishes them.
seq 1 4 | sed "s|^|$base/delay/300?z=|" >"$tmp/twelve"
"$fetch" --queue "$(q j10)" --enqueue "$tmp/twelve" 2>/dev/null
"$fetch" --queue "$(q j10)" --worker -c 4 2>"$tmp/w10err" &
wpid=$!
sleep 0.15
cli CLIENT PAUSE 9000 ALL >/dev/null
sleep 1
kill -INT $wpid
t0=$(date +%s)
wait $wpid
rc=$?
waited=$(($(date +%s) - t0))
[ $rc -eq 130 ] && [ $waited -le 8 ] && grep -q 'records of this run not sent' "$tmp/w10err" ||
    fail "interrupted with Redis paused: exit $rc after $waited s: $(cat "$tmp/w10err")"
sleep 8 # the pause ends
"$fetch" --queue "$(q j10)" --worker -q --claim-idle 0.1 || fail "the next worker exited $?"
"$fetch" --queue "$(q j10)" --collect -o "$tmp/c10" 2>/dev/null || fail "--collect j10 exited $?"
[ "$(wc -l <"$tmp/c10")" = 4 ] || fail "$(wc -l <"$tmp/c10") records after the give-up"
ok "Ctrl-C while Redis was paused: exit 130 after $waited s, its 4 items finished by another"

# 7. No Redis at all: exit 69, saying so.
"$fetch" --queue redis://127.0.0.1:1/j5 --enqueue "$tmp/three" 2>"$tmp/e7"
rc=$?
[ $rc -eq 69 ] && grep -q 'cannot reach Redis at 127.0.0.1:1' "$tmp/e7" || fail "exit $rc: $(cat "$tmp/e7")"
ok "Redis unreachable: exit 69"

# 13. A Redis that wants a password (requirepass) and an ACL user: the URL's forms work
#     for --enqueue, --worker (its connection and its shared limiter) and --collect; a
#     missing or wrong password is exit 69 saying why; no password is ever printed.
cli ACL SETUSER alice on '>al1ce-secret' '~*' '&*' '+@all' >/dev/null || fail "ACL SETUSER"
cli CONFIG SET requirepass r3quire-secret >/dev/null || fail "CONFIG SET requirepass"
auth() { echo "redis://$1@$CIO_TEST_REDIS/$2"; }
"$fetch" --queue "$(auth :r3quire-secret j11)" --enqueue -r 50/s "$tmp/three" 2>"$tmp/e13" ||
    fail "enqueue with a password: $(cat "$tmp/e13")"
"$fetch" --queue "$(auth alice:al1ce-secret j11)" --worker 2>>"$tmp/e13"
rc=$?
[ $rc -eq 1 ] || fail "the worker as alice: exit $rc: $(cat "$tmp/e13")"
"$fetch" --queue "$(auth alice:al1ce%2Dsecret j11)" --collect -o "$tmp/c13" 2>>"$tmp/e13"
[ "$(lines_of "$tmp/c13" | tr '\n' ' ')" = "1 4 5 " ] || fail "--collect as alice: $(cat "$tmp/c13")"
"$fetch" --queue "$(q j11)" --collect -o /dev/null 2>"$tmp/e13b"
rc=$?
[ $rc -eq 69 ] && grep -q 'NOAUTH' "$tmp/e13b" && grep -q ':PASSWORD@ or USER:PASSWORD@' "$tmp/e13b" ||
    fail "no password: exit $rc: $(cat "$tmp/e13b")"
"$fetch" --queue "$(auth alice:not-her-secret j11)" --worker 2>"$tmp/e13c"
rc=$?
[ $rc -eq 69 ] && grep -q 'WRONGPASS' "$tmp/e13c" || fail "a wrong password: exit $rc: $(cat "$tmp/e13c")"
! grep -q 'secret' "$tmp/e13" "$tmp/e13b" "$tmp/e13c" || fail "a password was printed"
cli -a r3quire-secret --no-auth-warning CONFIG SET requirepass '' >/dev/null
ok "a password (requirepass and an ACL user) for every action; none missing, wrong or printed"

# 14. Bodies to files in queue mode: two workers, each with its own --output-dir; every
#     record says its worker and an absolute path inside that worker's directory, and
#     the two directories hold one whole file per item between them.
i=1
while [ $i -le 40 ]; do echo "$base/bytes/$((i * 10))"; i=$((i + 1)); done >"$tmp/forty"
"$fetch" --queue "$(q j14)" --enqueue -r 200/s "$tmp/forty" 2>/dev/null || fail "enqueue j14"
mkdir "$tmp/da" "$tmp/db"
(cd "$tmp/da" && "$fetch" --queue "$(q j14)" --worker -q --worker-name wa -c 4 --output-dir .) &
(cd "$tmp/db" && "$fetch" --queue "$(q j14)" --worker -q --worker-name wb -c 4 --output-dir .) &
wait
"$fetch" --queue "$(q j14)" --collect --fields worker,path,bytes --format tsv -o "$tmp/c14" ||
    fail "--collect j14 exited $?"
[ "$(tail -n +2 "$tmp/c14" | wc -l)" = 40 ] || fail "$(cat "$tmp/c14")"
tail -n +2 "$tmp/c14" | while IFS="$(printf '\t')" read -r w path bytes; do
    case $w:$path in
    wa:"$(cd "$tmp/da" && pwd -P)"/* | wb:"$(cd "$tmp/db" && pwd -P)"/*) ;;
    *) fail "worker $w wrote $path" ;;
    esac
    [ "$(wc -c <"$path")" = "$bytes" ] || fail "$path holds $(wc -c <"$path") bytes, not $bytes"
done || exit 1
[ $(($(ls "$tmp/da" | wc -l) + $(ls "$tmp/db" | wc -l))) = 40 ] || fail "files: $(ls "$tmp/da" "$tmp/db")"
ok "two workers, each its own --output-dir: 40 records with absolute paths, 40 whole files"
