#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What spray creates is its owner's alone: a memif server socket (a peer on it
# can inject frames), the DPDK telemetry socket (it can change impairments and
# read state) and the --json report carry no group or other permission bits,
# even under a permissive umask. Usage: socket_perms.sh SPRAY
source "$(dirname "$0")/lib.sh"
spray=$1
umask 000
prefix=spray-perms-$$
sock=$SMOKE_TMP/m.sock
"$spray" gen --local-responder --ip 10.78.0.1/24 --peer 10.78.0.2 --count 50 --metrics off --stats-period 0 --file-prefix "$prefix-g" \
  --json "$SMOKE_TMP/report.json" >"$SMOKE_TMP/gen.log" 2>&1 || { cat "$SMOKE_TMP/gen.log"; fail "spray gen failed"; }
"$spray" respond --port p=net_memif0,role=server,socket="$sock",socket-abstract=no --ip 10.77.0.2/24 \
  --metrics off --stats-period 0 --file-prefix "$prefix" >"$SMOKE_TMP/respond.log" 2>&1 &
SMOKE_PIDS+=($!)
wait_for test -S "$sock" || { cat "$SMOKE_TMP/respond.log"; fail "no memif socket at $sock"; }
tele=/var/run/dpdk/$prefix/dpdk_telemetry.v2
wait_for test -S "$tele" || fail "no DPDK telemetry socket at $tele"
for f in "$sock" "$tele" "$SMOKE_TMP/report.json"; do
  mode=$(stat -c '%a' "$f")
  (( (8#$mode & 8#077) == 0 )) || fail "$f has mode $mode; expected no group or other bits (owner only)"
  echo "ok: $f mode $mode"
done
rm -rf "/var/run/dpdk/$prefix-g"
echo "PASS: sockets and reports are owner-only under umask 000"
