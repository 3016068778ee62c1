#!/bin/sh
# Usage: valgrind_fetch.sh VALGRIND CONCURIO-FETCH SAMPLE-LIST BASE-URL
# Runs concurio-fetch under valgrind on the sample list, pointed at BASE-URL (the test
# server, appended by with_server.sh). Fails on a leak or a memory error; the tool's own
# exit status 1 (this list has an error and a timeout on purpose) is expected.
set -u
valgrind=$1
fetch=$2
list=$3
url=$4
sed "s|http://127.0.0.1:8080|$url|g" "$list" |
    "$valgrind" --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
        "$fetch" -q -c 20 -t 2 --retries 2 -o /dev/null
rc=$?
[ $rc -eq 1 ] || { echo "valgrind_fetch.sh: exit status $rc, expected 1" >&2; exit 1; }
