#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Deployment 2: generator and responder in two network namespaces, each on a
# net_tap port; between them first the kernel (a bridge in each namespace
# and a veth pair), then `spray switch` (its two tap ports bridged into the
# namespaces).
# usage: gen_respond_tap.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
id=$$
nsg=smk-g-$id nsr=smk-r-$id
SMOKE_NETNS+=($nsg $nsr)
ip netns add $nsg && ip netns add $nsr || fail "cannot create namespaces"
for n in $nsg $nsr; do
  ip -n $n link set lo up
  ip -n $n link add br0 type bridge
  ip -n $n link set br0 up
done

run_pair() {  # run_pair NAME : gen in nsg, respond in nsr, check the report
  local name=$1
  ip netns exec $nsr "$spray" respond --port "t=net_tap0,iface=tr$id" --ip 10.89.0.2/24 \
    --file-prefix "smk-tr-$id-$name" --stats-period 0 >"$SMOKE_TMP/resp-$name.log" 2>&1 &
  local resp=$!
  SMOKE_PIDS+=($resp)
  wait_for ip -n $nsr link show tr$id || fail "responder tap did not appear"
  ip -n $nsr link set tr$id master br0 up
  ip netns exec $nsg "$spray" gen --port "t=net_tap0,iface=tg$id" --ip 10.89.0.1/24 --peer 10.89.0.2 \
    --file-prefix "smk-tg-$id-$name" --connections 2 --outstanding 4 --size 64-2000 --warmup 0.5 \
    --duration 2 --json "$SMOKE_TMP/gen-$name.json" --stats-period 1 >"$SMOKE_TMP/gen-$name.log" 2>&1 &
  local gen=$!
  wait_for ip -n $nsg link show tg$id || fail "generator tap did not appear"
  ip -n $nsg link set tg$id master br0 up
  local rc=0
  wait $gen || rc=$?
  cat "$SMOKE_TMP/gen-$name.log"
  [[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/resp-$name.log"; fail "$name: spray gen exited $rc: $(why "$SMOKE_TMP/gen-$name.log")"; }
  check_report "$SMOKE_TMP/gen-$name.json" 50
  stop_and_wait $resp "$name: spray respond"
}

echo "== through the kernel (bridge, veth, bridge)"
ip link add vg$id netns $nsg type veth peer name vr$id netns $nsr
ip -n $nsg link set vg$id master br0 up
ip -n $nsr link set vr$id master br0 up
run_pair kernel
ip -n $nsg link del vg$id

echo "== through spray switch"
"$spray" switch --port "a=net_tap0,iface=sa$id" --port "b=net_tap1,iface=sb$id" \
  --file-prefix "smk-sw-$id" --stats-period 0 >"$SMOKE_TMP/switch.log" 2>&1 &
sw=$!
SMOKE_PIDS+=($sw)
wait_for ip link show sb$id || fail "switch taps did not appear"
ip link set sa$id netns $nsg
ip link set sb$id netns $nsr
ip -n $nsg link set sa$id master br0 up
ip -n $nsr link set sb$id master br0 up
run_pair switch
stop_and_wait $sw "spray switch"
grep -qE "^forwarded +[1-9]" "$SMOKE_TMP/switch.log" || { cat "$SMOKE_TMP/switch.log"; fail "the switch forwarded nothing"; }
echo "2 passed, 0 failed"
