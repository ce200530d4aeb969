#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray demo end to end: the in-process leaf-spine fabric, a spray run then a
# single-path run. The spray run must use every spine, quarantine the failed
# spine's paths, no healthy path (one crossing neither the failed spine nor
# the lossy link) and no path over the lossy link (it delivers 99%), and lose
# no message; the single-path run must exist.
# While it runs, one Prometheus scrape shows the fabric's switches routing.
# usage: demo.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
spines=3
log=$SMOKE_TMP/demo.log
json=$SMOKE_TMP/demo.json

"$spray" demo --duration 6 --spines $spines --json "$json" --metrics 127.0.0.1:0 \
  --file-prefix "smk-demo-$$" >"$log" 2>&1 &
demo=$!
SMOKE_PIDS+=($demo)
trap 'smoke_cleanup; rm -rf /var/run/dpdk/smk-demo-$$' EXIT

# The endpoint lives as long as the demo; scrape it once the spray run moves
# traffic (the first progress line comes after a second).
wait_for grep -q 'metrics http://' "$log" || { cat "$log"; fail "spray demo did not start its metrics endpoint"; }
metrics=$(grep -o 'metrics http://[^/]*' "$log" | sed 's|metrics http://||')
wait_for grep -q 'msg/s' "$log" || { cat "$log"; fail "spray demo printed no progress line"; }
scrape=$(curl -sf "http://$metrics/metrics") || { cat "$log"; fail "scrape of http://$metrics/metrics failed"; }
forwarded=$(awk '$1 ~ /^spray_router_forwarded_total({|$)/ { s += $2 } END { printf "%d", s }' <<<"$scrape")
((forwarded > 0)) || { echo "$scrape" | grep '^spray_router_' >&2; fail "spray_router_forwarded_total is $forwarded during the run; want > 0"; }
echo "ok: scrape during the run: the fabric's routers forwarded $forwarded packets"

rc=0
wait $demo || rc=$?
SMOKE_PIDS=()
[[ $rc -eq 0 ]] || { cat "$log"; fail "spray demo exited $rc"; }
echo "ok: spray demo exited 0"

python3 - "$json" $spines <<'PY' || { cat "$log"; fail "the demo's JSON summary does not hold the claim"; }
import json, sys
j = json.load(open(sys.argv[1]))
spines = int(sys.argv[2])
runs = j["runs"]
assert len(runs) == 2, f"{len(runs)} run(s); want spray and single-path"
s, one = runs
assert s["mode"] == "spray" and one["mode"] == "single-path", (s["mode"], one["mode"])
assert s["spines_used"] == spines, f"spray used {s['spines_used']} of {spines} spines: {s['spine_share']}"
assert s["failed_spine_quarantined"] is True, "the failed spine's paths were never quarantined"
assert s["lost"] == 0, f"spray lost {s['lost']} message(s): {s['failure']}"
assert s["violations"] == 0, f"{s['violations']} violation(s)"
assert s["completed"] > 0 and s["completed"] == s["sent"], (s["sent"], s["completed"])
assert one["paths"] == 1, one["paths"]
# Paths that cross neither the failed spine nor the lossy link carry no
# fault at all: losing them would leave the flow on fewer paths than the
# fabric still has. With three spines some always exist.
assert s["healthy_paths"] > 0, f"no path avoids both the failed spine and the lossy link: {s['path_spine']}"
assert s["healthy_paths_quarantined"] == 0, (
    f"spray quarantined {s['healthy_paths_quarantined']} of {s['healthy_paths']} healthy path(s) "
    f"(not crossing the failed spine or the lossy link) during the run; path_spine {s['path_spine']}, "
    f"back_spine {s['back_spine']}, quarantined_in_outage {s['quarantined_in_outage']}")
# A link that loses 1% is a path to keep spraying on, not a failure.
assert s["lossy_paths_quarantined"] == 0, (
    f"spray quarantined {s['lossy_paths_quarantined']} of {s['lossy_paths']} path(s) over the 1%-lossy link; "
    f"path_spine {s['path_spine']}, back_spine {s['back_spine']}, quarantined_ever {s['quarantined_ever']}")
print(f"ok: spray: {s['completed']} messages over {s['spines_used']} spines, none lost, failed spine quarantined "
      f"after {s['quarantine_ms']:.2f} ms, 0 of {s['healthy_paths']} healthy paths and 0 of {s['lossy_paths']} "
      f"over the lossy link quarantined; single path: {one['completed']} messages")
PY
echo "1 passed, 0 failed"
