#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Deployment 1: spray respond (memif server) and spray gen (memif client) as
# two processes on one machine, each worker pinned to its own CPU.
# usage: gen_respond_memif.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
sock=$SMOKE_TMP/memif.sock
cpus=$(nproc)
c_resp=$((cpus - 1)) c_gen=$((cpus > 1 ? cpus - 2 : 0))

"$spray" respond --port "m=net_memif0,role=server,socket=$sock,socket-abstract=no" --ip 10.88.0.2/24 \
  --lcores $c_resp --file-prefix "smk-resp-$$" --stats-period 0 >"$SMOKE_TMP/resp.log" 2>&1 &
resp=$!
SMOKE_PIDS+=($resp)
wait_for test -S "$sock" || { cat "$SMOKE_TMP/resp.log"; fail "memif socket never appeared"; }

"$spray" gen --port "m=net_memif0,role=client,socket=$sock,socket-abstract=no" --ip 10.88.0.1/24 --peer 10.88.0.2 \
  --lcores $c_gen --file-prefix "smk-gen-$$" --connections 2 --outstanding 8 --size 64-4000 \
  --warmup 0.5 --duration 3 --json "$SMOKE_TMP/gen.json" --stats-period 1 >"$SMOKE_TMP/gen.log" 2>&1
rc=$?
cat "$SMOKE_TMP/gen.log"
[[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/resp.log"; fail "spray gen exited $rc: $(why "$SMOKE_TMP/gen.log")"; }
check_report "$SMOKE_TMP/gen.json" 100
stop_and_wait $resp "spray respond"
grep -q "violation bad_pattern *0" "$SMOKE_TMP/resp.log" || { cat "$SMOKE_TMP/resp.log"; fail "responder saw violations"; }
echo "1 passed, 0 failed"
