#!/bin/sh
# concurio-fetch under random allocation failures (libfiu's fiu-run, Debian's fiu-utils):
# each run must end with a status of its own (0, 1, 2 or 74, never a signal), with every
# record a whole line, and a run that gets to its end writes one record per input line.
# Usage: fiu_fetch.sh FIU_RUN CONCURIO_FETCH BASE_URL  (tests/with_server.sh adds the URL)
# Not in CTest yet: fiu fails libcurl's allocations inside transfers too, and libcurl
# 7.88.1 does not survive some of them (SIGFPE in its socket hash after an OOM, the same
# bug tests/torture_alloc.c spares): about 12 runs in 32 end that way here.
set -u
fiu_run=$1 fetch=$2 base=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt 50 ]; do
    echo "$base/ok"
    echo "$base/bytes/2000"
    i=$((i + 1))
done >"$tmp/urls"
runs=0 bad=0
for p in 0.0005 0.002 0.01 0.03; do
    for n in 1 2 3 4 5 6 7 8; do
        runs=$((runs + 1))
        timeout -s KILL 20 "$fiu_run" -x -c "enable_random name=libc/mm/*,probability=$p" \
            "$fetch" -q -c 8 ${FIU_FETCH_ARGS:-} -o "$tmp/out" "$tmp/urls" 2>"$tmp/err"
        status=$?
        records=$(wc -l <"$tmp/out" 2>/dev/null || echo 0)
        whole=$(awk '!/^\{"id":.*\}$/ { bad++ } END { print bad + 0 }' "$tmp/out" 2>/dev/null || echo 0)
        why=
        case $status in
        0 | 1) [ "$records" -eq 100 ] || why="$records records for 100 lines" ;;
        2 | 74) ;;
        137) why="still running after 20 s (killed)" ;;
        *) why="exit status $status" ;;
        esac
        [ "$whole" -eq 0 ] || why="$why; $whole torn or foreign lines"
        [ -s "$tmp/out" ] && [ "$(tail -c 1 "$tmp/out" | od -An -c | tr -d ' ')" != '\n' ] &&
            why="$why; the last line is cut"
        if [ -n "$why" ]; then
            bad=$((bad + 1))
            echo "fiu_fetch: p=$p run $n: $why; stderr: $(head -c 300 "$tmp/err")" >&2
        fi
        rm -f "$tmp/out"
    done
done
echo "fiu_fetch: $runs runs under random malloc failures, $bad wrong"
[ $bad -eq 0 ]
