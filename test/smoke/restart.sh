#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The responder killed (SIGKILL, no goodbye) and restarted mid-run: spray gen
# sees its connections fail (RESET from the new responder, or UNRESPONSIVE),
# replaces them, re-issues the requests that were in flight, and ends clean
# with every request completed and verified.
#
# The processes are joined by net_uring (frames as UDP datagrams over
# loopback), not net_memif: a memif client in DPDK 22.11 connects when its
# port starts and does not reconnect to a restarted server (its link stays
# down), whereas a datagram socket needs no connection to come back.
# usage: restart.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
a=$((20000 + ($$ % 20000))) b=$((a + 1))
cpus=$(nproc)
c_resp=$((cpus - 1)) c_gen=$((cpus > 1 ? cpus - 2 : 0))

start_responder() {  # $1: log file
  "$spray" respond --port "u=net_uring0,local=127.0.0.1:$a,remote=127.0.0.1:$b" --ip 10.89.0.2/24 \
    --lcores $c_resp --file-prefix "smk-rsr-$$" --idle backoff --stats-period 0 >"$1" 2>&1 &
  resp=$!
  SMOKE_PIDS+=($resp)
  wait_for grep -q "spray respond: 10.89.0.2" "$1" || { cat "$1"; fail "responder did not start"; }
}

start_responder "$SMOKE_TMP/resp1.log"

"$spray" gen --port "u=net_uring0,local=127.0.0.1:$b,remote=127.0.0.1:$a" --ip 10.89.0.1/24 --peer 10.89.0.2 \
  --lcores $c_gen --file-prefix "smk-rsg-$$" --idle backoff --connections 2 --outstanding 8 --size 64-4000 \
  --warmup 0 --duration 8 --json "$SMOKE_TMP/gen.json" --stats-period 1 >"$SMOKE_TMP/gen.log" 2>&1 &
gen=$!
SMOKE_PIDS+=($gen)

sleep 2
kill -KILL "$resp"
wait "$resp" 2>/dev/null
echo "ok: responder killed at ~2 s"
sleep 1
start_responder "$SMOKE_TMP/resp2.log"
echo "ok: responder restarted at ~3 s"

wait "$gen"
rc=$?
cat "$SMOKE_TMP/gen.log"
[[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/resp2.log"; fail "spray gen exited $rc: $(why "$SMOKE_TMP/gen.log")"; }
check_report "$SMOKE_TMP/gen.json" 100
python3 - "$SMOKE_TMP/gen.json" <<'PY' || fail "report does not show the restart"
import json, sys
r = json.load(open(sys.argv[1]))
f, m = r["connection_failures"], r["messages"]
assert f["reset"] + f["unresponsive"] >= 1, f
assert r["connections_failed"] >= 1 and r["reconnects"] >= 1 and r["connections_lost"] == 0, r
assert m["reissued"] >= 0 and m["completed"] == m["sent"] and m["failed"] == 0, m
print(f"ok: {r['connections_failed']} connection failure(s) {f}, {r['reconnects']} reconnect(s), "
      f"{m['reissued']} request(s) re-issued, {m['completed']} of {m['sent']} completed")
PY
stop_and_wait $resp "restarted spray respond"
python3 - "$SMOKE_TMP/resp2.log" <<'PY' || { cat "$SMOKE_TMP/resp2.log"; fail "restarted responder's counts"; }
import re, sys
log = open(sys.argv[1]).read()
get = lambda k: int(re.search(rf"^\s*{k}\s+(\d+)$", log, re.M).group(1))
assert get("requests") > 0, "the restarted responder saw no request"
for v in ("bad_header", "bad_pattern", "duplicate", "missing", "bad_reply_size"):
    assert int(re.search(rf"violation {v}\s+(\d+)", log).group(1)) == 0, v
print(f"ok: the restarted responder answered {get('requests')} requests, no violation")
PY
echo "1 passed, 0 failed"
