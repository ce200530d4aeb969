#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGHUP reload of a routed spray switch, under traffic. Two routed tap
# ports: a=10.71.1.1/24 towards namespace ns1 (10.71.1.2), b=10.71.2.1/24
# towards ns2 (10.71.2.2, which also owns 10.71.3.2 on its loopback).
#
# 1. Before the reload ns1 reaches 10.71.2.2; 10.71.3.2 has no route, so the
#    switch answers with ICMP net unreachable.
# 2. The config file gains `route = 10.71.3.0/24=10.71.2.2`; after SIGHUP
#    the switch says "reloaded" and ns1 reaches 10.71.3.2.
# 3. A bad file (a next hop on no interface's subnet) is rejected with a
#    message; the switch keeps running on the configuration it had.
# A ping every 10 ms from ns1 to 10.71.2.2 runs across both reloads and must
# lose nothing: a reload does not touch unchanged ports.
# usage: switch_reload.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
for t in ip ping; do command -v $t >/dev/null || fail "'$t' not found; apt-get install iproute2 iputils-ping"; done

id=$$
ns1=sprayrl-a-$id ns2=sprayrl-b-$id
if1=srl${id}a if2=srl${id}b
if1=${if1:0:15} if2=${if2:0:15}
conf=$SMOKE_TMP/switch.ini
log=$SMOKE_TMP/switch.log
trap 'smoke_cleanup; rm -rf /var/run/dpdk/smk-reload-$$' EXIT

# write_config [EXTRA LINE] : the switch's file, plus one line.
write_config() {
  cat >"$conf.new" <<EOF
port = a=net_tap0,iface=$if1
port = b=net_tap1,iface=$if2
interface = a=10.71.1.1/24
interface = b=10.71.2.1/24
${1:-}
EOF
  mv "$conf.new" "$conf"  # the switch never reads a half-written file
}
write_config

"$spray" switch --config "$conf" --lcores $(($(nproc) - 1)) --idle backoff --stats-period 0 --metrics off \
  --file-prefix "smk-reload-$$" >"$log" 2>&1 &
sw=$!
SMOKE_PIDS+=($sw)
wait_for ip link show "$if2" || { cat "$log"; fail "the switch's tap ports did not appear"; }
grep -q 'routed 10.71.2.1/24' "$log" || { cat "$log"; fail "the switch's header does not show port b routed"; }

ip netns add "$ns1" && SMOKE_NETNS+=("$ns1") || fail "cannot create namespace $ns1"
ip netns add "$ns2" && SMOKE_NETNS+=("$ns2") || fail "cannot create namespace $ns2"
ip link set "$if1" netns "$ns1"
ip link set "$if2" netns "$ns2"
for n in "$ns1" "$ns2"; do
  ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$n" link set lo up
done
ip -n "$ns1" addr add 10.71.1.2/24 dev "$if1"
ip -n "$ns2" addr add 10.71.2.2/24 dev "$if2"
ip -n "$ns2" addr add 10.71.3.2/32 dev lo
ip -n "$ns1" link set "$if1" up
ip -n "$ns2" link set "$if2" up
ip -n "$ns1" route add default via 10.71.1.1
ip -n "$ns2" route add default via 10.71.2.1

ping1() { ip netns exec "$ns1" ping "$@"; }

# 1. Before any reload.
wait_for ping1 -c 1 -W 1 10.71.2.2 || { cat "$log"; fail "ns1 cannot reach 10.71.2.2 through the switch"; }
ping1 -c 3 -i 0.2 -W 2 -q 10.71.2.2 >/dev/null || { cat "$log"; fail "ping ns1 -> 10.71.2.2 lost packets"; }
echo "ok: ns1 reaches 10.71.2.2 through the switch's routed ports"
out=$(ping1 -c 2 -i 0.2 -W 1 10.71.3.2 2>&1) && fail "10.71.3.2 answered before any route to it exists: $out"
grep -q 'From 10.71.1.1 .*Destination Net Unreachable' <<<"$out" ||
  fail "no ICMP net unreachable from the switch (10.71.1.1) for 10.71.3.2: $out"
echo "ok: 10.71.3.2 has no route yet; the switch answers net unreachable"

# A steady ping across both reloads, on ports the reloads leave as they are.
count=600
ping1 -i 0.01 -c $count -W 1 -q 10.71.2.2 >"$SMOKE_TMP/steady.txt" 2>&1 &
steady=$!

# 2. A good reload adds the route.
sleep 0.5
write_config "route = 10.71.3.0/24=10.71.2.2"
kill -HUP $sw
wait_for grep -q 'reloaded' "$log" || { cat "$log"; fail "no 'reloaded' in the switch's log after SIGHUP"; }
grep -q 'reloaded: 2 routed port(s), 1 route(s)' "$log" || { cat "$log"; fail "the reload did not take the new route"; }
wait_for ping1 -c 1 -W 1 10.71.3.2 || { cat "$log"; fail "10.71.3.2 unreachable after the reload added its route"; }
ping1 -c 3 -i 0.2 -W 2 -q 10.71.3.2 >/dev/null || fail "ping ns1 -> 10.71.3.2 lost packets after the reload"
echo "ok: after SIGHUP the switch reloaded and routes 10.71.3.0/24 via 10.71.2.2"

# 3. A bad reload: the next hop is on no interface's subnet.
sleep 0.5
write_config "route = 10.71.3.0/24=10.71.9.9"
kill -HUP $sw
wait_for grep -q 'reload rejected' "$log" || { cat "$log"; fail "no 'reload rejected' after a reload with an off-subnet next hop"; }
grep 'reload rejected' "$log" | grep -q '10.71.9.9' || { cat "$log"; fail "the rejection does not name the bad next hop 10.71.9.9"; }
kill -0 $sw 2>/dev/null || { cat "$log"; fail "the switch died on a bad reload"; }
ping1 -c 3 -i 0.2 -W 2 -q 10.71.3.2 >/dev/null || fail "10.71.3.2 unreachable after a rejected reload; the running route must stay"
echo "ok: a reload with an off-subnet next hop is rejected ($(grep -o 'reload rejected.*' "$log" | head -1)); the switch keeps its route"

kill -0 $steady 2>/dev/null || fail "the steady ping ended before the second reload; it must span both"
rc=0
wait $steady || rc=$?
grep -q "$count packets transmitted, $count received, 0% packet loss" "$SMOKE_TMP/steady.txt" ||
  { cat "$SMOKE_TMP/steady.txt"; fail "the steady ping across both reloads lost packets (exit $rc)"; }
echo "ok: $count pings every 10 ms across both reloads, none lost"

stop_and_wait $sw "spray switch"
SMOKE_PIDS=()
echo "1 passed, 0 failed"
