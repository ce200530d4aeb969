#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The multi-process fabric (tools/fabric-lab.sh) in a short run: four
# `spray switch` processes as two leaves and two spines, iperf3 and spray
# gen -> respond across them, Prometheus scraping all six processes; spine1
# is killed with SIGKILL 6 s in and started again 3 s later. Checks, from
# the lab's summary.json:
#   - spray lost nothing: every message sent completed, none failed, every
#     reply verified, and spray respond counted no violation;
#   - the restart happened and was seen: a new spine1 process forwarded
#     packets again, both kernel hosts reached it, and Prometheus saw its
#     target down between the kill and the restart and up after it;
#   - kernel TCP carried bytes after the outage;
#   - before the kill, every switch had sent traffic on both of its uplinks;
#   - the lab removed its namespaces and DPDK runtime directories.
# usage: fabric_lab.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$SMOKE_TMP/lab

"$root/tools/fabric-lab.sh" --spray "$spray" --duration 18 --kill-at 6 --outage 3 --out "$out" \
  >"$SMOKE_TMP/lab.txt" 2>&1 &
lab=$!
SMOKE_PIDS+=("$lab")
rc=0
wait $lab || rc=$?
cat "$SMOKE_TMP/lab.txt"
echo
# 3 is the lab's verdict that spray lost a message: the checks below say which.
((rc == 0 || rc == 3)) || fail "fabric-lab.sh exited $rc"
[[ -s $out/summary.json ]] || fail "fabric-lab.sh wrote no summary.json"

left=$(ip netns list | awk -v p="fl$lab-" 'index($1, p) == 1' | wc -l)
dpdk_left=$(find /var/run/dpdk -maxdepth 1 -name "fl$lab-*" 2>/dev/null | wc -l)

python3 - "$out/summary.json" "$left" "$dpdk_left" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
netns_left, dpdk_left = int(sys.argv[2]), int(sys.argv[3])
passed = failed = 0

def check(ok, what):
    global passed, failed
    passed, failed = passed + bool(ok), failed + (not ok)
    print(("ok: " if ok else "FAIL: ") + what)

sp = s["spray"] or {}
check(sp.get("sent", 0) > 0 and sp.get("completed") == sp.get("sent") and sp.get("failed") == 0
      and sp.get("bad_replies") == 0 and sp.get("unexpected_replies") == 0
      and sp.get("exit_code") == 0 and sp.get("gen_rc") == 0,
      f"spray gen: {sp.get('completed')}/{sp.get('sent')} messages completed, {sp.get('failed')} failed, "
      f"{sp.get('bad_replies')} bad and {sp.get('unexpected_replies')} unexpected replies, exit {sp.get('gen_rc')}")
check(sp.get("respond_violations") == 0 and s["exit"].get("respond") == 0,
      f"spray respond: {sp.get('respond_violations')} violations, exit {s['exit'].get('respond')} after SIGTERM")

r = s["restart"]
check(s["killed"] and r["pid_before"] and r["pid_after"] and r["pid_before"] != r["pid_after"]
      and r["back_in_service"] and (r["victim_forwarded_after_restart"] or 0) > 0,
      f"{s['victim']} killed (pid {r['pid_before']}) and restarted (pid {r['pid_after']}): both kernel hosts "
      f"reached it again, and it forwarded {r['victim_forwarded_after_restart']} packets since")
check(r["leaves_saw_link_down"], "both leaves reported their links to the killed spine down")
check(r["prom_up_before_kill"] > 0 and r["prom_down_during_outage"] > 0 and r["prom_up_after_back"] > 0,
      f"Prometheus: {s['victim']} up in {r['prom_up_before_kill']} scrapes before the kill, down in "
      f"{r['prom_down_during_outage']} between the kill and the restart, up in {r['prom_up_after_back']} after")

t = s["tcp"]
check(t["iperf_rc"] == 0 and (t["bytes_after_outage"] or 0) >= 1_000_000,
      f"kernel TCP carried {t['bytes_after_outage']} bytes after the outage (at least 1 MB wanted), "
      f"iperf3 exit {t['iperf_rc']}")

for sw, ups in s["uplinks_before_kill"].items():
    # ARP is the only other thing a switch sends on an uplink: a handful of packets.
    check(all((v or 0) >= 1000 for v in ups.values()),
          f"{sw} sent on both uplinks before the kill: " + ", ".join(f"{u} {v}" for u, v in ups.items()))

check(len(s["exit"]) == 5 and all(v == 0 for v in s["exit"].values()),
      f"the switches and spray respond exited 0 on SIGTERM: {s['exit']}")
check(netns_left == 0 and dpdk_left == 0,
      f"the lab left {netns_left} namespace(s) and {dpdk_left} DPDK runtime directory(ies) behind")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
