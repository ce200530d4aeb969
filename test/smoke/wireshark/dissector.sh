#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Wireshark dissector (tools/wireshark/spray.lua) against what spray puts
# on the wire.
#  1. srd_samples writes one packet of every SRD type and one per reject
#     reason with lib/wire's encoder; tshark must show the fields and the
#     expert error that lib/wire's decoder sees, on the default port, with
#     the heuristic enabled, and with the port preference moved.
#  2. A live run: spray respond and spray gen --count N in two namespaces
#     joined by a veth pair (as gen_respond_tap.sh), captured on the veth;
#     every UDP/4792 packet decodes without an expert error, the handshake,
#     data, ACK and close are there, PSNs are contiguous per connection, and
#     the application headers account for exactly N requests and their
#     replies.
# usage: dissector.sh SPRAY_BINARY SRD_SAMPLES_BINARY SOURCE_ROOT
# Needs root, iproute2, python3 and tshark.
# shellcheck source=test/smoke/lib.sh
source "$(dirname "$0")/../lib.sh"
spray=$1 samples=$2 root=$3
lua=$root/tools/wireshark/spray.lua
check=$(dirname "$0")/check_decode.py
command -v tshark >/dev/null || fail "tshark not installed (tools/setup.sh installs it)"
[[ -r $lua ]] || fail "no dissector at $lua"
count=40 conns=2
passed=0 failed=0
result() {  # result NAME CMD... : run a check, count it
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
  fi
}

decode_json() {  # decode_json OUT [tshark options...]
  local out=$1
  shift
  tshark -r "$SMOKE_TMP/samples.pcap" -X lua_script:"$lua" "$@" -T json --no-duplicate-keys \
    >"$out" 2>"$SMOKE_TMP/tshark.err" || { cat "$SMOKE_TMP/tshark.err"; return 1; }
}

echo "== every type and every reject reason, encoded by lib/wire"
"$samples" "$SMOKE_TMP/samples.pcap" 40000 >"$SMOKE_TMP/samples.jsonl" || fail "srd_samples failed"
samples_case() {  # samples_case MODE_ARGS -- TSHARK_ARGS
  local mode=()
  while [[ $1 != -- ]]; do mode+=("$1"); shift; done
  shift
  decode_json "$SMOKE_TMP/samples.json" "$@" &&
    python3 "$check" samples "$SMOKE_TMP/samples.jsonl" "$SMOKE_TMP/samples.json" "${mode[@]}" \
      >"$SMOKE_TMP/check.out"
  local rc=$?
  grep -v '^ok' "$SMOKE_TMP/check.out"
  return $rc
}
result "samples on UDP 4792" samples_case --
result "samples, heuristic on" samples_case --heuristic -- -o srd.heuristic:TRUE
result "samples, port preference 40000" samples_case --port 40000 -- -o srd.udp_port:40000

echo "== live: spray gen --count $count against spray respond, captured on the veth"
id=$$
nsg=smk-wg-$id nsr=smk-wr-$id
SMOKE_NETNS+=("$nsg" "$nsr")
{ ip netns add "$nsg" && ip netns add "$nsr"; } || fail "cannot create namespaces"
for n in "$nsg" "$nsr"; do
  ip -n "$n" link set lo up
  ip -n "$n" link add br0 type bridge
  ip -n "$n" link set br0 up
done
ip link add "vg$id" netns "$nsg" type veth peer name "vr$id" netns "$nsr"
ip -n "$nsg" link set "vg$id" master br0 up
ip -n "$nsr" link set "vr$id" master br0 up

pcap=$SMOKE_TMP/live.pcap
# Bounded: stops by itself after 120 s if the run hangs.
ip netns exec "$nsg" dumpcap -q -i "vg$id" -w "$pcap" -a duration:120 >"$SMOKE_TMP/capture.log" 2>&1 &
cap=$!
SMOKE_PIDS+=("$cap")
wait_for grep -q "Capturing on" "$SMOKE_TMP/capture.log" || { cat "$SMOKE_TMP/capture.log"; fail "capture did not start"; }

ip netns exec "$nsr" "$spray" respond --port "t=net_tap0,iface=wr$id" --ip 10.89.1.2/24 \
  --file-prefix "smk-wr-$id" --stats-period 0 --metrics off >"$SMOKE_TMP/resp.log" 2>&1 &
resp=$!
SMOKE_PIDS+=("$resp")
wait_for ip -n "$nsr" link show "wr$id" || fail "responder tap did not appear"
ip -n "$nsr" link set "wr$id" master br0 up
# Requests of 64..4000 bytes (up to three segments), replies of a size each
# request asks for, two connections.
ip netns exec "$nsg" "$spray" gen --port "t=net_tap0,iface=wg$id" --ip 10.89.1.1/24 --peer 10.89.1.2 \
  --file-prefix "smk-wg-$id" --connections "$conns" --outstanding 4 --size 64-4000 --reply-size 16-3000 \
  --warmup 0 --duration 0 --count "$count" --json "$SMOKE_TMP/gen.json" --stats-period 0 \
  --metrics off >"$SMOKE_TMP/gen.log" 2>&1 &
gen=$!
wait_for ip -n "$nsg" link show "wg$id" || fail "generator tap did not appear"
ip -n "$nsg" link set "wg$id" master br0 up
rc=0
wait "$gen" || rc=$?
[[ $rc -eq 0 ]] || { cat "$SMOKE_TMP/gen.log" "$SMOKE_TMP/resp.log"; fail "spray gen exited $rc"; }
stop_and_wait "$resp" "spray respond"
# libpcap hands packets over a block at a time (a partly filled block after a
# timeout), and what it has not handed over when dumpcap stops is lost: wait
# until the file holds every connection's CLOSE_ACK before stopping.
close_acks() {
  [[ $(tshark -r "$pcap" -X lua_script:"$lua" -Y "srd.flags.close_ack == 1" 2>/dev/null | wc -l) -ge $conns ]]
}
wait_for close_acks || echo "warning: the capture holds fewer than $conns CLOSE_ACKs"
kill -INT "$cap"
wait "$cap"
[[ -s $pcap ]] || { cat "$SMOKE_TMP/capture.log"; fail "nothing captured"; }

srd_filter="udp.port == 4792"
live_fields() {
  local cols
  cols=$(python3 -c "import sys; sys.path.insert(0, '$(dirname "$check")'); import check_decode; print(' '.join('-e ' + c for c in check_decode.LIVE_COLUMNS))")
  # shellcheck disable=SC2086  # one word per -e option
  tshark -r "$pcap" -X lua_script:"$lua" -Y "$srd_filter" -T fields -E occurrence=f $cols \
    >"$SMOKE_TMP/live.tsv" 2>"$SMOKE_TMP/tshark.err" || { cat "$SMOKE_TMP/tshark.err"; return 1; }
}
no_expert_errors() {
  tshark -r "$pcap" -X lua_script:"$lua" \
    -Y "$srd_filter && (!srd || _ws.malformed || _ws.lua.error || _ws.expert.severity >= 8388608)" \
    >"$SMOKE_TMP/bad.txt" 2>"$SMOKE_TMP/tshark.err" || { cat "$SMOKE_TMP/tshark.err"; return 1; }
  [[ ! -s $SMOKE_TMP/bad.txt ]] || { head -20 "$SMOKE_TMP/bad.txt"; return 1; }
}
live_check() {
  python3 "$check" live "$SMOKE_TMP/live.tsv" "$SMOKE_TMP/gen.json" "$count" >"$SMOKE_TMP/check.out"
  local rc=$?
  cat "$SMOKE_TMP/check.out"
  return $rc
}
result "live capture decodes" live_fields
result "no UDP/4792 packet with an expert error or exception" no_expert_errors
result "live fields match what gen sent" live_check
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
