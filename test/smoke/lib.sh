# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the smoke tests (sourced). Every test cleans up what it makes.
set -uo pipefail

SMOKE_TMP=$(mktemp -d /tmp/spray-smoke.XXXXXX)
SMOKE_PIDS=()
SMOKE_NETNS=()
smoke_cleanup() {
  local p
  for p in "${SMOKE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${SMOKE_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  for p in "${SMOKE_NETNS[@]}"; do ip netns del "$p" 2>/dev/null; done
  rm -rf "$SMOKE_TMP"
}
trap smoke_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# why LOG... : the line a spray role printed on why its run was not clean, so
# a failure's last line names the cause (the tail CI shows may not reach it).
why() { grep -h -m1 "run not clean\|^spray [a-z]*: .*\(error\|cannot\|no ARP\)" "$@" 2>/dev/null | head -1; }

# wait_for CMD... : up to 10 s for CMD to succeed.
wait_for() {
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# stop_and_wait PID NAME : SIGTERM, wait, fail unless it exits 0.
stop_and_wait() {
  local pid=$1 name=$2 rc=0
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "$name exited $rc after SIGTERM"
  echo "ok: $name exited 0 on SIGTERM"
}

# check_report JSON MIN_COMPLETED : the generator's JSON report is sane.
check_report() {
  python3 - "$1" "$2" <<'PY' || fail "report $1 not sane"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["messages"]
assert m["completed"] >= int(sys.argv[2]), f"completed {m['completed']}"
assert m["completed"] == m["sent"], f"sent {m['sent']} completed {m['completed']}"
assert m["failed"] == 0, m
assert r["integrity"]["bad_replies"] == 0 and r["integrity"]["unexpected_replies"] == 0, r["integrity"]
assert r["rtt_us"]["p50"] > 0, r["rtt_us"]
assert r["rtt_us"]["min"] <= r["rtt_us"]["p50"] <= r["rtt_us"]["p99"] <= r["rtt_us"]["max"], r["rtt_us"]
assert sum(p["tx_packets"] for p in r["per_path"]) > 0
assert r["exit_code"] == 0
print(f"ok: report: {m['completed']} completed, p50 {r['rtt_us']['p50']:.1f} us, p99 {r['rtt_us']['p99']:.1f} us, "
      f"{len([p for p in r['per_path'] if p['tx_packets']])} paths used")
PY
}
