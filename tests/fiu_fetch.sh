#!/bin/sh
# concurio-fetch under random faults injected by libfiu (Debian's fiu-utils), black-box:
#
#   io  every POSIX I/O call (read, write, open, socket, send, recv, ...) may fail, on two
#       transfer threads and on none. Each run must end by itself with a status of its
#       own (0, 1, 2 or 74; never a signal, never a hang), every record a whole line, and a
#       run that reaches its end (0 or 1) writes one record per input line.
#   mm  every allocation may fail, the same checks. libcurl (7.88.1 in Debian 12, and its
#       source still reads so) does not survive some failures inside its own transfers:
#       when adding a transfer to a socket's hash fails, singlesocket() destroys that hash
#       but keeps the socket, and the next lookup divides by the hash's zero size (SIGFPE).
#       Each mm run goes under gdb; a SIGFPE whose innermost frame is in libcurl and that
#       came through curl_multi_socket* is counted as that bug and reported; any other
#       crash fails. (tests/torture_alloc.c fails every allocation of ours in turn.)
#
# Every run has a per-item timeout (-t 10), as a user would set. A run that does not end
# within 60 s fails with its threads' backtraces: that is how CI caught the tool ignoring
# a cio_pool_attach that ran out of memory (no kick event, so the run never began and
# never ended; one run in about 60 at p=0.0005 here).
#
# Usage: fiu_fetch.sh CONCURIO_FETCH BASE_URL  (tests/with_server.sh adds the URL)
# Exits 77 (skipped) when fiu-run or gdb is not installed.
set -u
fetch=$1 base=$2
for tool in fiu-run gdb; do
    command -v $tool >/dev/null 2>&1 || { echo "$tool is not installed: skipped"; exit 77; }
done
preload=$(fiu-run -n -x -c x true 2>/dev/null | sed -n 's/.*LD_PRELOAD="\(.*\)".*/\1/p')
[ -n "$preload" ] || { echo "cannot read fiu-run's preload libraries"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt 50 ]; do
    echo "$base/ok"
    echo "$base/bytes/2000"
    i=$((i + 1))
done >"$tmp/urls"

runs=0 wrong=0 libcurl_bug=0
# check STATUS WHAT: the verdict on one run's status and records.
check() {
    status=$1 what=$2 why=
    records=0
    [ -f "$tmp/out" ] && records=$(wc -l <"$tmp/out")
    case $status in
    0 | 1) [ "$records" -eq 100 ] || why="$records records for 100 lines" ;;
    2 | 74) ;;
    137) why="did not end by itself (killed)" ;;
    *) why="exit status $status" ;;
    esac
    torn=$(awk '!/^\{"id":.*\}$/ { n++ } END { print n + 0 }' "$tmp/out" 2>/dev/null || echo 0)
    [ "$torn" -eq 0 ] || why="$why; $torn torn or foreign lines"
    [ -s "$tmp/out" ] && [ "$(tail -c 1 "$tmp/out" | od -An -c | tr -d ' ')" != '\n' ] &&
        why="$why; the last line is cut"
    if [ -n "$why" ]; then
        wrong=$((wrong + 1))
        echo "fiu_fetch: $what: $why; stderr: $(head -c 300 "$tmp/err")" >&2
    fi
    rm -f "$tmp/out"
}

for threads in 2 0; do
    for p in 0.001 0.01 0.05; do
        for n in 1 2 3 4; do
            runs=$((runs + 1))
            timeout -s KILL 20 fiu-run -x -c "enable_random name=posix/io/*,probability=$p" \
                "$fetch" -q -c 8 -t 10 --threads $threads -o "$tmp/out" "$tmp/urls" 2>"$tmp/err"
            check $? "io p=$p threads=$threads run $n"
        done
    done
done
io_runs=$runs io_wrong=$wrong

for p in 0.0005 0.002 0.01; do
    for n in 1 2 3 4 5 6 7 8; do
        runs=$((runs + 1))
        # A run that does not end is interrupted (SIGINT to gdb) and its threads shown.
        timeout -s INT 60 gdb -q -batch -ex 'set startup-with-shell off' \
            -ex "set environment FIU_ENABLE=enable_random name=libc/mm/*,probability=$p" \
            -ex "set environment LD_PRELOAD=$preload" -ex run -ex 'thread apply all bt' \
            --args "$fetch" -q -c 8 -t 10 -o "$tmp/out" "$tmp/urls" >"$tmp/gdb" 2>"$tmp/err"
        if grep -q 'received signal' "$tmp/gdb"; then
            if grep -q 'received signal SIGFPE' "$tmp/gdb" &&
                grep -q '^#0 .* from .*libcurl\.so' "$tmp/gdb" &&
                grep -q 'curl_multi_socket' "$tmp/gdb"; then
                libcurl_bug=$((libcurl_bug + 1))
            else
                wrong=$((wrong + 1))
                what=crashed
                grep -q 'received signal SIGINT' "$tmp/gdb" && what="did not end within 60 s"
                echo "fiu_fetch: mm p=$p run $n $what:" >&2
                grep -E '^(Thread|#)|received signal' "$tmp/gdb" | head -40 >&2
            fi
            rm -f "$tmp/out"
            continue
        fi
        status=$(sed -n 's/.*exited with code \([0-9]*\).*/\1/p' "$tmp/gdb")
        grep -q 'exited normally' "$tmp/gdb" && status=0
        check "$((${status:-137} + 0))" "mm p=$p run $n"
    done
done
echo "fiu_fetch: $io_runs runs under I/O faults, $io_wrong wrong;" \
    "$((runs - io_runs)) under allocation faults, $((wrong - io_wrong)) wrong," \
    "$libcurl_bug ended by libcurl 7.88.1's SIGFPE"
[ $wrong -eq 0 ]
