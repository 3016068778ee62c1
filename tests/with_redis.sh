#!/bin/sh
# Usage: with_redis.sh COMMAND [ARGS...]
# Starts redis-server on a free loopback port, with no persistence, in a directory of its
# own; runs COMMAND with CIO_TEST_REDIS=127.0.0.1:PORT in its environment; stops Redis;
# exits with COMMAND's status. Redis cannot bind port 0, so a port is picked at random
# and another tried when it is taken. Exits 77 (CTest: skipped) with the reason when
# redis-server is not installed or will not start.
set -u
command -v redis-server >/dev/null 2>&1 || { echo "redis-server is not installed: skipped"; exit 77; }
command -v redis-cli >/dev/null 2>&1 || { echo "redis-cli is not installed: skipped"; exit 77; }
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$pid" ] && wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --logfile "$dir/redis.log" >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
        sleep 0.05
        i=$((i + 1))
    done
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
        CIO_TEST_REDIS=127.0.0.1:$port "$@"
        exit $?
    fi
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    pid=
done
echo "redis-server did not start on a loopback port: skipped; its log:"
tail -5 "$dir/redis.log" 2>/dev/null
exit 77
