#!/bin/sh
# Queue mode benchmark (issue #8), on one machine: N items (default 50,000) of the test
# server's /ok through Redis by 1 and by 3 workers (-c 50 each, no quota), next to the
# plain tool on the same list; then the shared limiter's cost per start (bench-limiter:
# one EVALSHA round trip per start against pipelined reservations). Five rounds in
# turning order; prints items/s per run, the medians, and the median of each round's
# ratio to its plain run (the machine's noise cancels there). Starts its own redis-server
# (tests/with_redis.sh) and test server; run after tools/test.sh or tools/demo.sh.
# Usage: tools/bench/queue.sh [N]
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${CIO_TEST_REDIS:-}" ]; then
    sh tools/deps.sh redis-server
    exec sh tests/with_redis.sh sh "$0" "$@"
fi
n=${1:-50000}
. tools/bench/testserver.sh
seq 1 "$n" | sed "s|^|$base/ok?i=|" >"$tmp/urls"
rhost=${CIO_TEST_REDIS%:*} rport=${CIO_TEST_REDIS#*:}
now() { date +%s.%N; }
rate() { awk "BEGIN { printf \"%.0f\", $n / ($2 - $1) }"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

workers() { # workers K JOB: one run of K workers on a fresh job; prints items/s
    q=redis://$CIO_TEST_REDIS/$2
    "$fetch" --queue "$q" --enqueue -q "$tmp/urls"
    start=$(now)
    k=0
    while [ $k -lt "$1" ]; do
        "$fetch" --queue "$q" --worker -q -c 50 --worker-name "w$k" &
        k=$((k + 1))
    done
    wait
    rate "$start" "$(now)"
}
plain() {
    start=$(now)
    "$fetch" -q -c 50 -o /dev/null "$tmp/urls"
    rate "$start" "$(now)"
}

echo "queue mode, $n items of /ok, -c 50 per process, $(nproc) cores (items/s)"
: >"$tmp/plain"
: >"$tmp/one"
: >"$tmp/three"
: >"$tmp/r1"
: >"$tmp/r3"
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
for round in 1 2 3 4 5; do # the order turns each round: no run always goes first
    if [ $((round % 2)) = 1 ]; then
        p=$(plain) a=$(workers 1 "one$round") b=$(workers 3 "three$round")
    else
        b=$(workers 3 "three$round") a=$(workers 1 "one$round") p=$(plain)
    fi
    echo "$p" >>"$tmp/plain" && echo "$a" >>"$tmp/one" && echo "$b" >>"$tmp/three"
    ratio "$a" "$p" >>"$tmp/r1" && echo >>"$tmp/r1"
    ratio "$b" "$p" >>"$tmp/r3" && echo >>"$tmp/r3"
    echo "round $round: plain $p, 1 worker $a, 3 workers $b"
done
echo "| run | items/s (median of 5) | x plain (median of the rounds' ratios) |"
echo "|---|---|---|"
echo "| concurio-fetch, no queue | $(median <"$tmp/plain") | 1 |"
echo "| 1 worker through Redis | $(median <"$tmp/one") | $(median <"$tmp/r1") |"
echo "| 3 workers through Redis | $(median <"$tmp/three") | $(median <"$tmp/r3") |"
echo
echo "the shared limiter's cost, $n GETs, C=50, quota far above the rate reached:"
build/default/tools/bench-limiter "$rhost" "$rport" "$base" "$n" 50
