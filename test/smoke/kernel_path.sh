#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Kernel TCP and spray gen <-> spray respond over the same veth path
# (namespace, bridge, namespace) in one run, clean and at 1% loss: a short
# run of tools/bench/kernel-path.sh. Checks what must hold on any machine
# (every message completed, intact, both transports measured, no path of
# the clean link taken out of service) and prints the tail comparison; the
# tail and RTO targets are the benchmark's (doc/benchmarks.md), measured
# over 300 messages of 1 MiB, not here.
# usage: kernel_path.sh SPRAY_BINARY TCP_RR_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1 tcp_rr=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
count=40 size=262144
out=$SMOKE_TMP/out

# A transport that stalls fails here within --max-seconds rather than
# running into meson's timeout.
"$root/tools/bench/kernel-path.sh" --spray "$spray" --tcp-rr "$tcp_rr" --count $count --size $size --loss 1 \
  --max-seconds 20 --out "$out" >"$SMOKE_TMP/table.md" 2>"$SMOKE_TMP/bench.log" &
bench=$!
SMOKE_PIDS+=("$bench")
rc=0
wait $bench || rc=$?
cat "$SMOKE_TMP/table.md"
echo
((rc == 0)) || { cat "$SMOKE_TMP/bench.log"; fail "kernel-path.sh exited $rc (a case produced no figure)"; }

python3 - "$out" $count <<'PY'
import json, os, sys
out, count = sys.argv[1], int(sys.argv[2])
passed = failed = 0

def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) and os.path.getsize(p) else None

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}")

for c in ("clean", "lossy"):
    t, tm = load(f"tcp-{c}.json"), load(f"tcp-{c}.meta.json") or {}
    s, sm = load(f"spray-{c}.json"), load(f"spray-{c}.meta.json") or {}
    check(t is not None and s is not None and t["rtt_us"]["p99.9"] > 0 and s["rtt_us"]["p99.9"] > 0,
          f"{c}: kernel TCP and spray both measured in this run")
    if t:
        check(t["count"] == count and t["bad_bytes"] == 0 and tm.get("client_rc") == 0 and tm.get("server_rc") == 0,
              f"{c}: kernel TCP: {t['count']}/{count} messages, {t['bad_bytes']} corrupted bytes, "
              f"client exit {tm.get('client_rc')}, server exit {tm.get('server_rc')}")
    if s:
        m, i = s["messages"], s["integrity"]
        check(m["sent"] == count and m["completed"] == count and m["failed"] == 0 and s["rtt_us"]["count"] == count
              and i["bad_replies"] == 0 and i["unexpected_replies"] == 0 and s["exit_code"] == 0
              and sm.get("respond_rc") == 0,
              f"{c}: spray: {m['completed']}/{m['sent']} of {count} messages completed, {m['failed']} failed, "
              f"{i['bad_replies']} bad and {i['unexpected_replies']} unexpected replies, gen exit {s['exit_code']}, "
              f"respond exit {sm.get('respond_rc')} (3 = verification violation)")
    if c == "lossy":
        dropped = [int((x.get("loss") or "0 0").split()[1]) for x in (tm, sm)]
        check(all(d > 0 for d in dropped),
              f"lossy: the rule dropped packets in both runs (TCP {dropped[0]}, spray {dropped[1]})")

s = load("spray-clean.json")
if s:
    # A lossless link's paths are all sound: losses the hosts cause (a full
    # socket ring, a descheduled poller) must not take any out of service.
    check(s["path_quarantines"] == 0, f"clean: spray quarantined {s['path_quarantines']} path(s); want 0")
    pkts = sum(p["tx_packets"] for p in s["per_path"])
    rto = s["retransmits"]["rto_events"]
    print(f"info: clean: spray RTO events {rto} in {pkts} packets "
          f"({rto * 1e4 / pkts if pkts else 0:.2f} per 10,000; the benchmark's target is <= 1)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
