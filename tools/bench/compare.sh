#!/bin/sh
# Side by side with an earlier commit, in one run: concurio-fetch of this tree and of REV
# (built in a temporary worktree) against one nginx worker on loopback.
#   - instructions per request under callgrind (noise-free; N1 and N2 requests at C=64,
#     the difference over N2 - N1 leaves out start-up and exit), one transfer thread;
#   - the median wall time and peak RSS of RUNS runs of 20,000 tiny requests at C=64,
#     the two builds alternating.
# Usage: tools/bench/compare.sh REV [RUNS]   (build this tree first: tools/test.sh;
# BUILD=DIR to use another build directory of it)
set -eu
cd "$(dirname "$0")/../.."
rev=${1:?usage: tools/bench/compare.sh REV [RUNS]}
runs=${2:-5}
n1=2000 n2=6000 big=20000
new=${BUILD:-build/default}/tools/concurio-fetch
[ -x "$new" ] || { echo "build first: tools/test.sh" >&2; exit 1; }
tmp=$(mktemp -d)
old_tree=$tmp/old
git worktree add --detach "$old_tree" "$rev" >/dev/null 2>&1
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
    git worktree remove --force "$old_tree" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cmake -S "$old_tree" -B "$tmp/oldbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCONCURIO_BUILD_TESTS=OFF -DCONCURIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$tmp/oldbuild" -j 2 --target concurio-fetch >/dev/null
old=$tmp/oldbuild/tools/concurio-fetch

. tools/bench/tiny_nginx.sh
tiny_nginx "$tmp"
urls() { awk -v n="$1" -v u="http://127.0.0.1:$port/tiny" 'BEGIN { for (i = 0; i < n; i++) print u }'; }
urls "$n1" >"$tmp/u1"
urls "$n2" >"$tmp/u2"
urls "$big" >"$tmp/ubig"

instructions() { # binary urls
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$1" -q -c 64 --threads 0 \
        -o "$tmp/out" "$2" >/dev/null 2>&1
    callgrind_annotate "$tmp/cg" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' |
        tr -d ,
}
per_request() {
    a=$(instructions "$1" "$tmp/u1")
    b=$(instructions "$1" "$tmp/u2")
    echo $(((b - a) / (n2 - n1)))
}
i_old=$(per_request "$old")
i_new=$(per_request "$new")

: >"$tmp/t_old"
: >"$tmp/t_new"
i=0
while [ "$i" -lt "$runs" ]; do
    for which in old new; do
        eval "bin=\$$which"
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" -q -c 64 -o "$tmp/out" "$tmp/ubig" ||
            { echo "$which: the run failed" >&2; exit 1; }
        [ "$(wc -l <"$tmp/out")" -eq "$big" ] || { echo "$which: records missing" >&2; exit 1; }
        cat "$tmp/time" >>"$tmp/t_$which"
    done
    i=$((i + 1))
done
median() { # file column
    sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
s_old=$(median "$tmp/t_old" 1) s_new=$(median "$tmp/t_new" 1)
r_old=$(median "$tmp/t_old" 2) r_new=$(median "$tmp/t_new" 2)

echo "concurio-fetch, $(git rev-parse --short "$rev") against this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +changes)):"
printf '| %-34s | %12s | %12s | %7s |\n' measure "$(git rev-parse --short "$rev")" "this tree" "ratio"
printf '|%s|%s|%s|%s|\n' ------------------------------------ -------------- -------------- ---------
printf '| %-34s | %12s | %12s | %7s |\n' "instructions/request (callgrind)" "$i_old" "$i_new" \
    "$(awk "BEGIN { printf \"%.3f\", $i_new / $i_old }")"
printf '| %-34s | %12s | %12s | %7s |\n' "20,000 requests: median s of $runs" "$s_old" "$s_new" \
    "$(awk "BEGIN { printf \"%.3f\", $s_new / $s_old }")"
printf '| %-34s | %12s | %12s | %7s |\n' "peak RSS, KiB (median)" "$r_old" "$r_new" \
    "$(awk "BEGIN { printf \"%.3f\", $r_new / $r_old }")"
