#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# VM ports: spray switch joins two "VMs" over vhost-user and restarts under
# them. The switch's ports are net_vhost in client mode; each VM is its own
# process on net_virtio_user in server mode, the side QEMU takes: spray
# respond behind vm2, spray gen behind vm1.
#
# 1. The switch starts before any VM exists (its ports are down, it must run
#    anyway), the VMs connect, a generator run completes every message and
#    the switch learns both VM MACs.
# 2. The switch is stopped and started again with the same arguments. The
#    responder keeps running: its port reconnects to the new switch on its
#    own, and a second generator run completes every message.
#
# Memory: no hugepages needed. vhost-user maps the VM's memory from file
# descriptors the VM sends; with --no-huge, DPDK 22.11's EAL backs its memory
# with a memfd, which virtio_user passes on like QEMU passes guest RAM.
#
# Why a second generator run rather than one running across the restart: the
# SRD transport declares a connection UNRESPONSIVE after 100 ms without an
# acknowledgement while data is outstanding, and a switch restart (EAL start,
# then the vhost client's reconnect, retried once a second) takes longer, so
# such a run fails by design. The VM that matters, the responder, stays up.
# usage: switch_vhost.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
count=1000
trap 'smoke_cleanup; rm -rf /var/run/dpdk/smk-vsw-$$ /var/run/dpdk/smk-vresp-$$ /var/run/dpdk/smk-vgen-$$' EXIT
cpus=$(nproc)
c_sw=$((cpus - 1)) c_vm=$((cpus > 1 ? cpus - 2 : 0))

# metric NAME : the value of one sample on the running switch's endpoint.
metric() { curl -sf "http://$metrics/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_is() { [[ $(metric "$1") == "$2" ]]; }

# start_switch LOG : a switch with both VM ports; sets sw and metrics.
start_switch() {
  "$spray" switch --port "vm1=net_vhost0,iface=$SMOKE_TMP/vm1.sock,client=1" \
    --port "vm2=net_vhost1,iface=$SMOKE_TMP/vm2.sock,client=1" \
    --lcores $c_sw --idle backoff --file-prefix "smk-vsw-$$" --metrics 127.0.0.1:0 --stats-period 0 >"$1" 2>&1 &
  sw=$!
  SMOKE_PIDS+=($sw)
  wait_for grep -q 'metrics http://' "$1" || { cat "$1"; fail "spray switch did not start"; }
  metrics=$(grep -o 'metrics http://[^/]*' "$1" | sed 's|metrics http://||')
}

# run_gen NAME : one generator run of $count messages through vm1; fails
# unless it exits 0 having completed every one.
run_gen() {
  timeout -k 5 30 "$spray" gen --port "p=net_virtio_user0,path=$SMOKE_TMP/vm1.sock,server=1,queues=1" \
    --ip 10.9.0.1/24 --peer 10.9.0.2 --lcores $c_vm --idle backoff --file-prefix "smk-vgen-$$" \
    --metrics off --stats-period 0 --count $count --duration 0 --warmup 0 \
    --json "$SMOKE_TMP/$1.json" >"$SMOKE_TMP/$1.log" 2>&1
  local rc=$?
  [[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/$1.log" "$SMOKE_TMP/resp.log"; fail "$1: spray gen exited $rc: $(why "$SMOKE_TMP/$1.log")"; }
  check_report "$SMOKE_TMP/$1.json" $count
  python3 - "$SMOKE_TMP/$1.json" $count <<'PY' || fail "$1: not every message completed"
import json, sys
m = json.load(open(sys.argv[1]))["messages"]
n = int(sys.argv[2])
assert m["sent"] == n and m["completed"] == n and m["failed"] == 0, m
print(f"ok: {m['completed']} of {n} messages completed through the switch")
PY
}

# check_switch_learned WHICH : the running switch learned the two VM MACs
# (nothing moved) and forwarded every request and reply as known unicast;
# once the generator's VM is gone, its MAC is flushed with its port's link
# and the responder's stays.
check_switch_learned() {
  local learned moved fwd
  learned=$(metric spray_switch_learned_total) moved=$(metric spray_switch_moved_total)
  fwd=$(metric spray_switch_forwarded_total)
  [[ $learned == 2 && $moved == 0 ]] || fail "$1: switch learned $learned MACs, moved $moved; want the 2 VM MACs, none moved"
  ((fwd >= 2 * count)) || fail "$1: switch forwarded $fwd frames, fewer than $count requests and replies"
  wait_for metric_is spray_switch_fdb_entries 1 ||
    fail "$1: the FDB holds $(metric spray_switch_fdb_entries) entries after the generator left; want 1 (the responder's)"
  echo "ok: $1: learned both VM MACs, forwarded $fwd frames, forgot the generator's MAC when it left"
}

# 1. The switch first, alone: client-mode vhost ports are down until a VM
# listens, and the switch runs anyway.
start_switch "$SMOKE_TMP/sw1.log"
grep -Eq 'port vm1 +net_vhost .* link down' "$SMOKE_TMP/sw1.log" &&
  grep -Eq 'port vm2 +net_vhost .* link down' "$SMOKE_TMP/sw1.log" ||
  { cat "$SMOKE_TMP/sw1.log"; fail "the switch's header does not show both vhost ports down before any VM"; }
metric_is 'spray_port_link_up{port="vm1"}' 0 || fail "vm1 up with no VM behind it"
echo "ok: the switch runs with both vhost ports down before the VMs exist"

"$spray" respond --port "p=net_virtio_user0,path=$SMOKE_TMP/vm2.sock,server=1,queues=1" --ip 10.9.0.2/24 \
  --lcores $c_vm --idle backoff --file-prefix "smk-vresp-$$" --metrics off --stats-period 0 \
  >"$SMOKE_TMP/resp.log" 2>&1 &
resp=$!
SMOKE_PIDS+=($resp)
wait_for grep -q '^spray respond: ' "$SMOKE_TMP/resp.log" ||
  { cat "$SMOKE_TMP/resp.log" "$SMOKE_TMP/sw1.log"; fail "the responder's port never connected to the switch"; }
wait_for metric_is 'spray_port_link_up{port="vm2"}' 1 || fail "the switch never saw vm2 up"
echo "ok: the responder's virtio_user port connected; the switch sees vm2 up"

run_gen gen1
check_switch_learned "first switch"

# 2. Restart the switch under the running responder.
stop_and_wait $sw "spray switch (first run)"
kill -0 $resp 2>/dev/null || { cat "$SMOKE_TMP/resp.log"; fail "the responder died when the switch stopped"; }
start=$(date +%s%N)
start_switch "$SMOKE_TMP/sw2.log"
wait_for metric_is 'spray_port_link_up{port="vm2"}' 1 ||
  { cat "$SMOKE_TMP/resp.log" "$SMOKE_TMP/sw2.log"; fail "the running responder never reconnected to the restarted switch"; }
echo "ok: the running responder reconnected to the restarted switch in $((($(date +%s%N) - start) / 1000000)) ms"

run_gen gen2
check_switch_learned "restarted switch"

stop_and_wait $resp "spray respond"
grep -Eq '^  requests +'$((2 * count))'$' "$SMOKE_TMP/resp.log" ||
  { cat "$SMOKE_TMP/resp.log"; fail "the responder did not serve exactly $((2 * count)) requests over both runs"; }
grep -Eq 'violation [a-z_]+ +[1-9]' "$SMOKE_TMP/resp.log" && { cat "$SMOKE_TMP/resp.log"; fail "responder saw violations"; }
echo "ok: one responder process served both runs ($((2 * count)) requests)"
stop_and_wait $sw "spray switch (second run)"
echo "1 passed, 0 failed"
