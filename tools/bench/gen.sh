#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray gen <-> spray respond beside a raw DPDK echo, same devices, same run
# (doc/protocol.md section 7, T1 and T2). Prints a Markdown table;
# doc/benchmarks.md "Generator and responder" has the method and figures.
#
#   ring (one process each): spray gen --local-responder (generator and
#     responder on their own lcores over an in-memory net_ring link) against
#     echo_bench ring (a client and a MAC-swap reflector on two lcores of one
#     process over a net_ring link; testpmd cannot share a process with us).
#   memif (two processes): spray respond (memif server, CPU 1) and spray gen
#     (client, CPU 0) against dpdk-testpmd --forward-mode=macswap (server,
#     forwarding on CPU 1) and echo_bench port (client, CPU 0).
#
# Every case runs at 1 message in flight (T1: RTT) and at a window of 32
# (T2: message rate), 64 B messages (spray: 64 B SRD payload each way; echo:
# 64 B frames on the wire). A second table gives each spray case's tail-loss
# probes and spurious retransmissions (of every cause, so also an upper bound
# on spurious probes), as counts and as percentages of the DATA packets sent.
#
# usage: tools/bench/gen.sh [--build DIR] [--runs N] [--seconds S] [--quick]
#   --build DIR   meson build directory with spray and echo_bench (build-genbench)
#   --runs N      repetitions of every case, interleaved; medians reported (3)
#   --seconds S   measured window per run, after a 1 s warm-up (5)
#   --quick       1 run of 2 s (a smoke check of the script, not a measurement)
# Exit 0 when every case produced a figure, whether or not a target was met.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-genbench
runs=3 seconds=5 warmup=1
main_cpu=0 peer_cpu=1
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --quick) runs=1 seconds=2; shift ;;
    -h|--help) awk 'NR > 1 { if (!/^#/) exit; if (NR > 2) print }' "$0"; exit 0 ;;
    *) echo "gen.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
spray=$build/app/spray/spray
echo_bench=$build/test/bench/gen/echo_bench
for f in "$spray" "$echo_bench"; do
  [[ -x $f ]] || { echo "gen.sh: $f missing; meson setup $build --buildtype=release && ninja -C $build app/spray/spray test/bench/gen/echo_bench" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "gen.sh: dpdk-testpmd not found; apt-get install dpdk" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-genbench.XXXXXX)
prefix=spraygen-$$
eal=(--no-huge -m 512 --no-pci --log-level=error)
results=$tmp/results   # lines: case metric value
notes=$tmp/notes
retx=$tmp/retx         # lines: setup window data_packets tlp spurious
name=gen.sh
source "$(dirname "$0")/lib.sh"

# record CASE RATE_MPS P50_US P99_US
record() {
  [[ -n $2 && -n $3 && -n $4 ]] || die "$1: no result"
  printf '%s rate %s\n%s p50 %s\n%s p99 %s\n' "$1" "$2" "$1" "$3" "$1" "$4" >>"$results"
  log "  $1: rate=$2/s rtt_p50=$3 us rtt_p99=$4 us"
}

# spray_json FILE: "rate p50 p99 data_packets tlp spurious counters..." from
# spray gen's --json report
spray_json() {
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
x = r["retransmits"]
data = r["data_packets"]
pct = lambda n: 100.0 * n / data if data else 0.0
print(r["rate_msgs_per_s"], r["rtt_us"]["p50"], r["rtt_us"]["p99"], data, x["tlp"], x["spurious"],
      "measured=%d data_packets=%d rto_events=%d tlp=%d (%.4f%%) spurious=%d (%.4f%%) quarantines=%d exit_code=%d %s" % (
          r["messages"]["measured"], data, x["rto_events"], x["tlp"], pct(x["tlp"]), x["spurious"],
          pct(x["spurious"]), r["path_quarantines"], r["exit_code"], r["failure"].replace(" ", "_")))
EOF
}

spray_gen_args() {  # spray_gen_args WINDOW: what both spray gen cases share
  echo --idle poll --outstanding "$1" --size 64 --duration "$seconds" --warmup "$warmup" \
    --stats-period 0 --metrics off --log-level error --json "$tmp/gen.json"
}

ring_echo() {  # ring_echo WINDOW
  local out
  out=$(taskset -c $main_cpu,$peer_cpu "$echo_bench" ring --window "$1" --frame-bytes 64 \
          --seconds "$seconds" --warmup "$warmup" -- \
          --lcores "0@$main_cpu,1@$peer_cpu" "${eal[@]}" --file-prefix "$prefix-echo" 2>"$tmp/echo.err") ||
    { cat "$tmp/echo.err" >&2; die "echo_bench ring failed: $out"; }
  out=$(grep '^echo ' <<<"$out" | tail -1)
  record "ring/$1/echo" "$(kv "$out" rate_mpps | awk '{print $1 * 1e6}')" "$(kv "$out" rtt_p50_us)" "$(kv "$out" rtt_p99_us)"
}

ring_spray() {  # ring_spray WINDOW RUN
  local rate p50 p99 data tlp spurious counters
  rm -f "$tmp/gen.json"
  "$spray" gen --local-responder --lcores "$main_cpu,$peer_cpu" --ip 10.0.0.1/24 --peer 10.0.0.2 \
    $(spray_gen_args "$1") --file-prefix "$prefix-gen" >"$tmp/gen.out" 2>&1 || true
  [[ -s $tmp/gen.json ]] || { cat "$tmp/gen.out" >&2; die "spray gen --local-responder wrote no report"; }
  read -r rate p50 p99 data tlp spurious counters < <(spray_json "$tmp/gen.json")
  record "ring/$1/spray" "$rate" "$p50" "$p99"
  echo "ring $1 $data $tlp $spurious" >>"$retx"
  echo "- ring window $1, run $2: $counters" >>"$notes"
}

memif_echo() {  # memif_echo RUN WINDOW: testpmd macswap server, echo_bench client
  local sock=$tmp/echo-$1-$2.sock dut c out
  rm -f "$tmp/dut.log" "$tmp/echo.out"
  dpdk-testpmd --lcores "0@$main_cpu,1@$peer_cpu" "${eal[@]}" --file-prefix "$prefix-dut" \
    --vdev="net_memif0,role=server,socket=$sock,socket-abstract=no" -- \
    --forward-mode=macswap --port-topology=loop --nb-cores=1 --total-num-mbufs=8192 --stats-period 3600 \
    >"$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "Checking link statuses" "$dut"
  taskset -c $main_cpu "$echo_bench" port --window "$2" --frame-bytes 64 --seconds "$seconds" \
    --warmup "$warmup" --peer-pid "$dut" -- --lcores "0@$main_cpu" "${eal[@]}" --file-prefix "$prefix-echo" \
    --vdev="net_memif0,role=client,socket=$sock,socket-abstract=no" >"$tmp/echo.out" 2>"$tmp/echo.err" &
  c=$!; pids+=("$c")
  wait_for "$tmp/echo.out" "^echo " "$c"
  stop "$dut" INT
  stop "$c" TERM
  out=$(grep '^echo ' "$tmp/echo.out" | tail -1)
  record "memif/$2/echo" "$(kv "$out" rate_mpps | awk '{print $1 * 1e6}')" "$(kv "$out" rtt_p50_us)" "$(kv "$out" rtt_p99_us)"
}

memif_spray() {  # memif_spray RUN WINDOW: spray respond server, spray gen client
  local sock=$tmp/spray-$1-$2.sock resp rate p50 p99 data tlp spurious counters gen_rc
  rm -f "$tmp/resp.log" "$tmp/gen.json"
  "$spray" respond --port "m=net_memif0,role=server,socket=$sock,socket-abstract=no" --ip 10.0.0.2/24 \
    --lcores "$peer_cpu" --idle poll --stats-period 0 --metrics off --log-level error \
    --file-prefix "$prefix-resp" >"$tmp/resp.log" 2>&1 &
  resp=$!; pids+=("$resp")
  for _ in $(seq 100); do [[ -S $sock ]] && break; kill -0 "$resp" || die "spray respond exited"; sleep 0.1; done
  gen_rc=0
  taskset -c $main_cpu "$spray" gen --port "m=net_memif0,role=client,socket=$sock,socket-abstract=no" \
    --ip 10.0.0.1/24 --peer 10.0.0.2 --lcores "$main_cpu" $(spray_gen_args "$2") \
    --file-prefix "$prefix-gen" >"$tmp/gen.out" 2>&1 || gen_rc=$?
  stop "$resp" TERM
  if ((stopped_rc != 0)); then
    echo "- memif window $2, run $1: spray respond exited with status $stopped_rc when its peer had gone" >>"$notes"
  fi
  [[ -s $tmp/gen.json ]] || { cat "$tmp/gen.out" "$tmp/resp.log" >&2; die "spray gen (memif) failed ($gen_rc)"; }
  read -r rate p50 p99 data tlp spurious counters < <(spray_json "$tmp/gen.json")
  record "memif/$2/spray" "$rate" "$p50" "$p99"
  echo "memif $2 $data $tlp $spurious" >>"$retx"
  echo "- memif window $2, run $1: $counters" >>"$notes"
}

log "gen.sh: $runs run(s) of ${seconds} s per case, one poller on CPU $main_cpu, its peer on CPU $peer_cpu"
: >"$results"
: >"$notes"
: >"$retx"
for ((r = 1; r <= runs; r++)); do
  log "run $r/$runs"
  for w in 1 32; do
    ring_echo "$w"
    ring_spray "$w" "$r"
    memif_echo "$r" "$w"
    memif_spray "$r" "$w"
  done
done

# Per (setup, window): medians over the runs of spray and echo, and the
# median of the per-run differences (RTT) or ratios (rate).
awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function col(k, m, out,   i) { for (i = 1; i <= n[k, m]; i++) out[i] = v[k, m, i]; return n[k, m] }
  { n[$1, $2]++; v[$1, $2, n[$1, $2]] = $3 }
  END {
    print "| setup | in flight | spray p50 us | echo p50 us | p50 - echo | spray p99 us | p99 / p50 | spray msg/s | echo round trips/s | rate ratio |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    split("ring memif", setups, " ")
    for (s = 1; s <= 2; s++) for (w = 1; w <= 32; w += 31) {
      sk = setups[s] "/" w "/spray"; ek = setups[s] "/" w "/echo"
      c = col(sk, "p50", sp50); col(ek, "p50", ep50); col(sk, "p99", sp99); col(sk, "rate", sr); col(ek, "rate", er)
      for (i = 1; i <= c; i++) { d[i] = sp50[i] - ep50[i]; q[i] = er[i] > 0 ? sr[i] / er[i] : 0 }
      for (i = 1; i <= c; i++) t[i] = sp50[i] > 0 ? sp99[i] / sp50[i] : 0
      printf "| %s | %d | %.2f | %.2f | %+.2f | %.2f | %.1f | %.0f | %.0f | %.1e |\n", setups[s], w,
             median(sp50, c), median(ep50, c), median(d, c), median(sp99, c), median(t, c),
             median(sr, c), median(er, c), median(q, c)
    }
  }' "$results"
# Sums over the runs: a rare probe is then not lost to rounding.
printf '\nTail-loss probes and spurious retransmissions of spray gen, summed over the runs; %% of the DATA\npackets it sent (retransmissions included):\n\n'
awk '
  { k = $1 "/" $2; d[k] += $3; t[k] += $4; s[k] += $5 }
  END {
    print "| setup | in flight | data packets | TLPs | TLPs % | spurious retx | spurious % |"
    print "|---|---|---|---|---|---|---|"
    split("ring memif", setups, " ")
    for (i = 1; i <= 2; i++) for (w = 1; w <= 32; w += 31) {
      k = setups[i] "/" w
      printf "| %s | %d | %d | %d | %.4f | %d | %.4f |\n", setups[i], w, d[k], t[k], d[k] ? 100 * t[k] / d[k] : 0,
             s[k], d[k] ? 100 * s[k] / d[k] : 0
    }
  }' "$retx"
printf '\nPer run (case metric value; rate per second, RTT in us):\n\n```\n'
cat "$results"
printf '```\n'
if [[ -s $notes ]]; then
  printf '\nNotes (spray counters per run from its --json report; exit_code 1 = messages left\nincomplete at the end):\n'
  cat "$notes"
fi
