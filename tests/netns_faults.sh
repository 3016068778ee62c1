#!/bin/sh
# Network faults between two network namespaces this script makes (iproute2), joined by a
# veth pair on TEST-NET-1 (192.0.2.0/24, which no network routes): the client namespace
# runs concurio-fetch, the server namespace two test servers (port 8080 takes the fault,
# 8081 stays healthy) and whatever misbehaves. Nothing leaves the two namespaces.
#
#   syn-drop   nftables drops SYNs to 8080      a connect-phase timeout record each
#   reset      nftables answers 8080 with RST   an error record each ("Couldn't connect")
#   loss-30    nftables drops 30% of packets    every item ends once; most done
#   tbf        tc tbf caps the link at 8 Mbit/s 2 MB take at least 1.6 s; all done
#   dns-silent the resolver never answers       an error record each ("resolve")
#   dns-nx     the resolver says NXDOMAIN       an error record each ("resolve")
#
# Each row: every input line exactly one record, each a whole line of JSON; the healthy
# items beside the faulted ones all done. Prints one line per row.
# Usage: netns_faults.sh CONCURIO_FETCH CONCURIO_TESTSERVER. Exits 77 (skipped) when not
# root or when a namespace, nftables or tc cannot be used here.
set -u
fetch=$1 server=$2
skip() {
    echo "network-namespace rows skipped: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root"
for tool in ip nft tc python3; do
    command -v $tool >/dev/null 2>&1 || skip "$tool is not installed"
done
C=cio-c$$ S=cio-s$$
tmp=$(mktemp -d)
cleanup() {
    ip netns pids $S 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns pids $C 2>/dev/null | xargs -r kill 2>/dev/null
    wait 2>/dev/null
    ip netns del $C 2>/dev/null
    ip netns del $S 2>/dev/null
    rm -rf "/etc/netns/$C" "$tmp"
}
trap cleanup EXIT INT TERM
{
    ip netns add $C && ip netns add $S &&
        ip link add v$$c netns $C type veth peer name v$$s netns $S &&
        ip -n $C addr add 192.0.2.1/24 dev v$$c && ip -n $S addr add 192.0.2.2/24 dev v$$s &&
        ip -n $C link set v$$c up && ip -n $S link set v$$s up &&
        ip -n $C link set lo up && ip -n $S link set lo up &&
        ip netns exec $S nft add table inet cio
} 2>"$tmp/setup" || skip "cannot make the namespaces: $(cat "$tmp/setup")"
inc() { ip netns exec $C "$@"; }
ins() { ip netns exec $S "$@"; }

for port in 8080 8081; do
    ins "$server" --bind 192.0.2.2 --port $port --quiet >"$tmp/server$port" &
done
for i in $(seq 100); do
    grep -q listening "$tmp/server8080" 2>/dev/null && grep -q listening "$tmp/server8081" && break
    sleep 0.05
done
grep -q listening "$tmp/server8081" || { echo "the test servers did not start"; exit 1; }

# nft rules of a row, in a chain of their own (flushed before every row).
rules() {
    ins nft delete chain inet cio in 2>/dev/null
    ins nft delete chain inet cio out 2>/dev/null
    ins nft add chain inet cio in '{ type filter hook input priority 0; }' &&
        ins nft add chain inet cio out '{ type filter hook output priority 0; }' || exit 1
    for r in "$@"; do
        # shellcheck disable=SC2086
        ins nft add rule inet cio $r || exit 1
    done
}

# row NAME WANT NBAD BAD_URL NOK FETCH_ARGS...: runs the tool in the client namespace on
# NBAD lines of BAD_URL and NOK healthy lines, mixed, and checks its records.
failed=0
row() {
    name=$1 want=$2 nbad=$3 bad=$4 nok=$5
    shift 5
    python3 - "$nbad" "$bad" "$nok" >"$tmp/in" <<'PY'
import sys
nbad, bad, nok = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
every = nok // max(nbad, 1) + 1
b = 0
for i in range(nbad + nok):
    if i % every == 0 and b < nbad:
        print(bad); b += 1
    else:
        print("http://192.0.2.2:8081/ok")
PY
    start=$(date +%s%N)
    inc "$fetch" -q "$@" -o "$tmp/out" "$tmp/in" 2>"$tmp/err"
    status=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    python3 - "$tmp/in" "$tmp/out" "$want" "$name" "$status" "$ms" <<'PY' || failed=1
import json, sys
inp, out, want, name, status, ms = sys.argv[1:7]
lines = open(inp).read().splitlines()
seen, outcome, why = {}, {}, []
for raw in open(out, "rb").read().split(b"\n")[:-1]:
    r = json.loads(raw)
    seen[r["id"]] = seen.get(r["id"], 0) + 1
    outcome[r["id"]] = r
if open(out, "rb").read()[-1:] not in (b"\n", b""):
    why.append("a torn last line")
for i in range(1, len(lines) + 1):
    if seen.get(i, 0) != 1:
        why.append("line %d has %d records" % (i, seen.get(i, 0)))
bad = [outcome[i] for i in range(1, len(lines) + 1) if ":8081/" not in lines[i - 1] and i in outcome]
ok = [outcome[i] for i in range(1, len(lines) + 1) if ":8081/" in lines[i - 1] and i in outcome]
if want != "loss" and any(r["outcome"] != "done" for r in ok):
    why.append("a healthy item did not end done")
count = {}
for r in bad:
    count[r["outcome"]] = count.get(r["outcome"], 0) + 1
kind, _, text = want.partition(":")
if kind in ("timeout", "error", "done"):
    if count.get(kind, 0) != len(bad):
        why.append("wanted every faulted item %s, got %s" % (kind, count))
    if text and not all(text in r.get("error", "") for r in bad):
        why.append("wanted %r in every error: %s" % (text, bad[0].get("error")))
elif kind == "loss":
    if count.get("done", 0) < len(bad) // 2:
        why.append("fewer than half done through 30%% loss: %s" % count)
elif kind == "slow":
    if int(ms) < int(text) or count.get("done", 0) != len(bad):
        why.append("took %s ms (at least %s), %s" % (ms, text, count))
all_done = all(r["outcome"] == "done" for r in outcome.values())
if int(status) != (0 if all_done else 1):
    why.append("exit status %s" % status)
sample = bad[0].get("error", "") if bad else ""
print("| %s | %d faulted + %d healthy | exit %s, %s ms: faulted %s%s; healthy %d/%d done | %s |" % (
    name, len(bad), len(ok), status, ms, count, (' "%s"' % sample[:70]) if sample else "",
    sum(r["outcome"] == "done" for r in ok), len(ok), "ok" if not why else "; ".join(why[:3])))
sys.exit(1 if why else 0)
PY
}

A=http://192.0.2.2:8080
rules 'in tcp dport 8080 tcp flags & (syn | ack) == syn drop'
row syn-drop timeout:connect 5 "$A/ok" 50 -c 16 --connect-timeout 0.5 -t 5
rules 'in tcp dport 8080 reject with tcp reset'
row reset "error:Couldn't connect" 5 "$A/ok" 50 -c 16 -t 5
rules 'in numgen random mod 100 < 30 drop' 'out numgen random mod 100 < 30 drop'
row loss-30 loss 200 "$A/bytes/2000" 0 -c 16 -t 8
rules
ins tc qdisc add dev v$$s root tbf rate 8mbit burst 16kb latency 200ms || exit 1
row tbf slow:1600 20 "$A/bytes/100000" 0 -c 4 -t 30
ins tc qdisc del dev v$$s root

# DNS: the client namespace's resolv.conf (ip netns exec mounts /etc/netns/NAME/*) names
# a resolver in the server namespace that stays silent, then one that says NXDOMAIN.
mkdir -p "/etc/netns/$C"
printf 'nameserver 192.0.2.2\noptions timeout:1 attempts:1\n' >"/etc/netns/$C/resolv.conf"
rules 'in udp dport 53 drop'
row dns-silent error:resolve 5 "http://api.example.test:8080/ok" 50 -c 16 -t 10
rules
ins python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.2", 53))
while True:
    q, a = s.recvfrom(4096)
    if len(q) >= 12:  # the question back, with QR, RD, RA and RCODE 3 (NXDOMAIN)
        s.sendto(q[:2] + bytes([0x80 | (q[2] & 1), 0x83]) + q[4:6] + bytes(6) + q[12:], a)
' &
dns=$!
sleep 0.3
row dns-nx error:resolve 5 "http://api.example.test:8080/ok" 50 -c 16 -t 10
kill $dns
{ wait $dns; } 2>/dev/null
exit $failed
