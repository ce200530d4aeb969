#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Deployment 1: spray respond (memif server) and spray gen (memif client) as
# two processes on one machine, each worker pinned to its own CPU.
# With MTU 9000 both run jumbo frames: 1 MiB requests echoed back, each
# packet carrying 8940 bytes, over memif buffers that hold a whole frame
# (bsize=9216 on both ends; spray refuses smaller ones above MTU 1500).
# usage: gen_respond_memif.sh SPRAY_BINARY [MTU]
source "$(dirname "$0")/lib.sh"
spray=$1
mtu=${2:-1500}
sock=$SMOKE_TMP/memif.sock
cpus=$(nproc)
c_resp=$((cpus - 1)) c_gen=$((cpus > 1 ? cpus - 2 : 0))
if ((mtu > 1500)); then
  size=1048576 min_completed=20 bsize=,bsize=9216
else
  size=64-4000 min_completed=100 bsize=
fi

"$spray" respond --port "m=net_memif0,role=server,socket=$sock,socket-abstract=no$bsize" --ip 10.88.0.2/24 \
  --mtu "$mtu" --lcores $c_resp --file-prefix "smk-resp-$$" --stats-period 0 --idle backoff \
  >"$SMOKE_TMP/resp.log" 2>&1 &
resp=$!
SMOKE_PIDS+=($resp)
# Its socket file appears at bind(), before listen(), and a memif client
# refused in between never retries: wait for the line printed once its
# port has started.
wait_for grep -q "^spray respond: " "$SMOKE_TMP/resp.log" || { cat "$SMOKE_TMP/resp.log"; fail "spray respond never started"; }

"$spray" gen --port "m=net_memif0,role=client,socket=$sock,socket-abstract=no$bsize" --ip 10.88.0.1/24 --peer 10.88.0.2 \
  --mtu "$mtu" --lcores $c_gen --file-prefix "smk-gen-$$" --connections 2 --outstanding 8 --size "$size" \
  --warmup 0.5 --duration 3 --idle backoff --json "$SMOKE_TMP/gen.json" --stats-period 1 >"$SMOKE_TMP/gen.log" 2>&1
rc=$?
cat "$SMOKE_TMP/gen.log"
[[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/resp.log"; fail "spray gen exited $rc: $(why "$SMOKE_TMP/gen.log")"; }
check_report "$SMOKE_TMP/gen.json" $min_completed
if ((mtu > 1500)); then
  # Packets per 1 MiB request: 118 at 9000 (8940 bytes each), 729 at 1500.
  python3 - "$SMOKE_TMP/gen.json" "$mtu" <<'PY' || fail "requests did not travel in jumbo packets"
import json, math, sys
r = json.load(open(sys.argv[1]))
per_msg = math.ceil(1048576 / (int(sys.argv[2]) - 60))
sent, data = r["messages"]["sent"], r["data_packets"]
assert sent * per_msg <= data <= 1.2 * sent * per_msg, f"{data} DATA packets for {sent} requests of 1 MiB"
print(f"ok: {data} DATA packets for {sent} requests of 1 MiB ({per_msg} each at MTU {sys.argv[2]})")
PY
fi
stop_and_wait $resp "spray respond"
grep -q "violation bad_pattern *0" "$SMOKE_TMP/resp.log" || { cat "$SMOKE_TMP/resp.log"; fail "responder saw violations"; }
grep -q "drop_malformed *0$" "$SMOKE_TMP/resp.log" || { cat "$SMOKE_TMP/resp.log"; fail "responder dropped frames"; }
echo "1 passed, 0 failed"
