#!/bin/sh
# Instructions per request, concurio-fetch (writing its records) versus the raw libcurl
# loop, under valgrind --tool=callgrind: counts that do not depend on machine noise. The
# floor is the raw loop keeping its sockets watched (bench-rawmulti --floor): libcurl's
# own work and nothing else.
# Each client runs N1 and N2 requests (default 2000, 6000) at C=64 against nginx on
# loopback; the difference divided by N2 - N1 leaves out start-up and exit.
# Usage: tools/bench/callgrind.sh [N1 N2]   (BUILD=DIR for another build directory)
set -eu
cd "$(dirname "$0")/../.."
n1=${1:-2000}
n2=${2:-6000}
build=${BUILD:-build/default}
[ -x $build/tools/concurio-fetch ] && [ -x $build/tools/bench-rawmulti ] || {
    echo "build first: tools/test.sh" >&2
    exit 1
}
tmp=$(mktemp -d)
. tools/bench/tiny_nginx.sh
tiny_nginx "$tmp"
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
instructions() { # client n: total instructions of one run
    awk -v n="$2" -v u="http://127.0.0.1:$port/tiny" 'BEGIN { for (i = 0; i < n; i++) print u }' >"$tmp/urls"
    if [ "$1" = fetch ]; then
        set -- $build/tools/concurio-fetch -q -c 64 --threads 0 -o "$tmp/out" "$tmp/urls"
    elif [ "$1" = fetch2 ]; then
        set -- $build/tools/concurio-fetch -q -c 64 --threads 2 -o "$tmp/out" "$tmp/urls"
    elif [ "$1" = floor ]; then
        set -- $build/tools/bench-rawmulti --floor 64
    elif [ "$1" = rawnew ]; then
        set -- $build/tools/bench-rawmulti --new-handles 64
    else
        set -- $build/tools/bench-rawmulti 64
    fi
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" <"$tmp/urls" >/dev/null 2>&1
    callgrind_annotate "$tmp/cg" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}
printf '%-28s %14s %14s %12s\n' client "I($n1)" "I($n2)" "I/request"
for client in raw floor rawnew fetch fetch2; do
    a=$(instructions $client "$n1")
    b=$(instructions $client "$n2")
    per=$(( (b - a) / (n2 - n1) ))
    case $client in
    raw) raw=$per name="raw multi, handles reused" ;;
    floor) floor=$per name="floor: raw, sockets kept" ;;
    rawnew) name="raw multi, new handle each" ;;
    fetch) one=$per name="concurio-fetch --threads 0" ;;
    fetch2) two=$per name="concurio-fetch --threads 2" ;;
    esac
    printf '%-28s %14s %14s %12s\n' "$name" "$a" "$b" "$per"
done
echo "concurio-fetch / raw: $(awk "BEGIN { printf \"%.2f\", $one / $raw }") on one thread," \
    "$(awk "BEGIN { printf \"%.2f\", $two / $raw }") on two (all threads counted);" \
    "the floor / raw: $(awk "BEGIN { printf \"%.2f\", $floor / $raw }")"
