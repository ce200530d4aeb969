#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray gen and spray respond as two processes joined by net_uring ports:
# Ethernet frames as UDP datagrams over loopback, no privileges needed
# beyond a socket. Every request delivered exactly once and verified.
# usage: gen_respond_uring.sh SPRAY_BINARY
source "$(dirname "$0")/lib.sh"
spray=$1
# Ports from the ephemeral range, different per run.
a=$((20000 + ($$ % 20000))) b=$((a + 1))

"$spray" respond --port "u=net_uring0,local=127.0.0.1:$a,remote=127.0.0.1:$b" --ip 10.90.0.2/24 \
  --file-prefix "smk-ur-$$" --stats-period 0 >"$SMOKE_TMP/resp.log" 2>&1 &
resp=$!
SMOKE_PIDS+=($resp)
wait_for grep -q "spray respond: 10.90.0.2" "$SMOKE_TMP/resp.log" || { cat "$SMOKE_TMP/resp.log"; fail "responder did not start"; }

"$spray" gen --port "u=net_uring0,local=127.0.0.1:$b,remote=127.0.0.1:$a" --ip 10.90.0.1/24 --peer 10.90.0.2 \
  --file-prefix "smk-ug-$$" --connections 2 --outstanding 8 --size 64-8000 --reply-size 16-2000 \
  --warmup 0 --duration 0 --count 3000 --json "$SMOKE_TMP/gen.json" --stats-period 1 >"$SMOKE_TMP/gen.log" 2>&1
rc=$?
cat "$SMOKE_TMP/gen.log"
[[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/resp.log"; fail "spray gen exited $rc: $(why "$SMOKE_TMP/gen.log")"; }
check_report "$SMOKE_TMP/gen.json" 3000
stop_and_wait $resp "spray respond"
python3 - "$SMOKE_TMP/resp.log" <<'PY' || { cat "$SMOKE_TMP/resp.log"; fail "responder counts"; }
import re, sys
log = open(sys.argv[1]).read()
get = lambda k: int(re.search(rf"^\s*{k}\s+(\d+)$", log, re.M).group(1))
assert get("requests") == 3000, get("requests")
for v in ("bad_header", "bad_pattern", "duplicate", "missing", "bad_reply_size"):
    assert int(re.search(rf"violation {v}\s+(\d+)", log).group(1)) == 0, v
print("ok: responder saw 3000 requests exactly once, no violation")
PY
echo "1 passed, 0 failed"
