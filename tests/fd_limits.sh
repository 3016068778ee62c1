#!/bin/sh
# concurio-fetch under a tight descriptor limit (ulimit -n N, soft and hard, N from 8 to
# 64), with -c 64, on the default transfer threads and on two: 60 items, half of them
# by a name to look up (localhost), half by address. At every limit the run either
# finishes every item (fewer at once) or refuses to start, exit 2, with a message that
# names the limit and no record; it never says "out of memory", never spins (its CPU
# time stays small), never runs past 20 s.
#
# Usage: fd_limits.sh CONCURIO_FETCH BASE_URL  (tests/with_server.sh adds the URL)
set -u
fetch=$1 base=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=${base##*:}
i=0
while [ $i -lt 30 ]; do
    echo "http://127.0.0.1:$port/delay/20"
    echo "http://localhost:$port/delay/20"
    i=$((i + 1))
done >"$tmp/urls"
timer=
[ -x /usr/bin/time ] && timer="/usr/bin/time -f %U+%S -o $tmp/cpu"

runs=0 wrong=0 refused=0 finished=0
for n in 8 10 12 14 15 16 18 20 22 24 26 27 28 29 30 32 36 40 48 64; do
    for threads in default 2; do
        opt=
        [ $threads = default ] || opt="--threads $threads"
        start=$(date +%s)
        # shellcheck disable=SC2086
        # (Redirected outside: dash saves descriptors at 10 and up, which the limit forbids.)
        (ulimit -n $n && exec $timer timeout 30 "$fetch" -q -c 64 -t 5 $opt "$tmp/urls") \
            >"$tmp/out" 2>"$tmp/err"
        rc=$?
        took=$(($(date +%s) - start))
        runs=$((runs + 1))
        records=$(wc -l <"$tmp/out")
        done=$(grep -c '"outcome":"done"' "$tmp/out")
        why=
        case $rc in
        0) [ "$done" -eq 60 ] || why="exit 0 with $done done records of 60" ;;
        2)
            refused=$((refused + 1))
            [ "$records" -eq 0 ] || why="refused, yet $records records"
            grep -q "ulimit -n $n" "$tmp/err" || why="$why; the message does not name the limit"
            ;;
        *) why="exit status $rc" ;;
        esac
        [ $rc -eq 0 ] && finished=$((finished + 1))
        grep -qi "out of memory" "$tmp/out" "$tmp/err" && why="$why; says out of memory"
        [ $took -le 20 ] || why="$why; took $took s"
        if [ -n "$timer" ] && [ -s "$tmp/cpu" ]; then
            cpu=$(tail -n 1 "$tmp/cpu" | awk -F+ '{ print $1 + $2 }')
            awk -v c="$cpu" 'BEGIN { exit !(c > 3) }' && why="$why; $cpu s of CPU: a spin"
        fi
        if [ -n "$why" ]; then
            wrong=$((wrong + 1))
            echo "fd_limits: ulimit -n $n, threads $threads: $why; stderr: $(head -c 300 "$tmp/err")" >&2
        fi
    done
done
echo "fd_limits: $runs runs: $finished finished every item, $refused refused at start, $wrong wrong"
[ $wrong -eq 0 ]
