#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The switch lab: two network namespaces, each attached to a net_tap port of
# a running `spray switch`; ping both ways and an iperf3 TCP transfer go
# through the switch, then the switch is stopped with SIGTERM and prints its
# counters. Everything it creates is removed on exit, also on failure.
#
# usage: tools/switch-lab.sh [SPRAY_BINARY] [--seconds N]
# Needs root (namespaces), iproute2, ping and iperf3. Exit 0 only when ping
# worked both ways, iperf3 completed and the switch exited 0.
set -euo pipefail

spray=${1:-$(dirname "$0")/../build/app/spray/spray}
seconds=3
[[ ${2:-} == --seconds ]] && seconds=${3:?--seconds needs a value}
[[ -x $spray ]] || { echo "switch-lab: no spray binary at $spray; build first (tools/setup.sh)" >&2; exit 1; }
for t in ip ping iperf3; do
  command -v $t >/dev/null || { echo "switch-lab: '$t' not found; apt-get install iproute2 iputils-ping iperf3" >&2; exit 1; }
done

id=$$
ns1=spraylab-a-$id ns2=spraylab-b-$id
if1=spl${id}a if2=spl${id}b
if1=${if1:0:15} if2=${if2:0:15}
log=$(mktemp /tmp/spray-lab.XXXXXX)
sw=""
cleanup() {
  [[ -n $sw ]] && kill -TERM "$sw" 2>/dev/null && wait "$sw" 2>/dev/null || true
  ip netns del "$ns1" 2>/dev/null || true
  ip netns del "$ns2" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "spray switch with two tap ports ($if1, $if2)"
"$spray" switch --port "a=net_tap0,iface=$if1" --port "b=net_tap1,iface=$if2" \
  --stats-period 1 --file-prefix "spraylab-$id" >"$log" 2>&1 &
sw=$!
for _ in $(seq 100); do
  ip link show "$if2" >/dev/null 2>&1 && break
  kill -0 "$sw" 2>/dev/null || { cat "$log"; echo "switch-lab: spray switch exited early" >&2; exit 1; }
  sleep 0.1
done
ip link show "$if2" >/dev/null 2>&1 || { cat "$log"; echo "switch-lab: tap ports did not appear" >&2; exit 1; }

step "namespaces $ns1 (10.77.0.1) and $ns2 (10.77.0.2)"
ip netns add "$ns1"
ip netns add "$ns2"
ip link set "$if1" netns "$ns1"
ip link set "$if2" netns "$ns2"
ip -n "$ns1" addr add 10.77.0.1/24 dev "$if1"
ip -n "$ns2" addr add 10.77.0.2/24 dev "$if2"
for n in "$ns1" "$ns2"; do ip -n "$n" link set lo up; done
ip -n "$ns1" link set "$if1" up
ip -n "$ns2" link set "$if2" up

step "ping a -> b and b -> a"
ip netns exec "$ns1" ping -c 3 -i 0.2 -W 2 10.77.0.2
ip netns exec "$ns2" ping -c 3 -i 0.2 -W 2 10.77.0.1

step "iperf3 TCP a -> b for $seconds s"
ip netns exec "$ns2" iperf3 -s -1 -B 10.77.0.2 >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do
  ip netns exec "$ns2" ss -ltn 2>/dev/null | grep -q ':5201' && break
  sleep 0.1
done
ip netns exec "$ns1" iperf3 -c 10.77.0.2 -t "$seconds" -f m
wait "$srv" || true

step "stop the switch (SIGTERM) and show its counters"
kill -TERM "$sw"
rc=0
wait "$sw" || rc=$?
sw=""
cat "$log"
echo "spray switch exited with $rc"
exit $rc
