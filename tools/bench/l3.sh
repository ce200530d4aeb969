#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# L3 forwarding rate beside dpdk-testpmd io, interleaved in one run (issue:
# 1,000 routes, 8-way ECMP, 64 B, one worker core, >= 0.6 x testpmd io).
#
#   memif (two processes): the DUT (spray switch with routed ports a and b,
#     or testpmd --forward-mode=io) has two net_memif server ports,
#     forwarding on CPU 1; switch_bench gen --l3 (memif clients, CPU 0) sends
#     UDP datagrams to the routes into a and counts what leaves b.
#   ring (one process): switch_bench l3, the switch's Worker + SwitchPipeline
#     with both ports routed over a net_ring loop (what leaves b comes back on
#     a), against testpmd --forward-mode=io and, for context, =mac over two
#     net_ring vdevs seeded with tx_first (the same 64 frames in flight; io
#     moves pointers between rings and reads no frame, mac rewrites every
#     Ethernet header); forwarding on CPU 1.
#
# usage: tools/bench/l3.sh [--build DIR] [--runs N] [--seconds S] [--quick]
#                          [--routes N] [--ways N]
#   --build DIR   meson build directory with spray and switch_bench (build-bench)
#   --runs N      repetitions of both cases, interleaved; medians reported (3)
#   --seconds S   measured window per run, after a 1 s warm-up (5)
#   --quick       1 run of 2 s (a smoke check of the script, not a measurement)
#   --routes N    /24 routes (1000); --ways N: next hops per route (8)
# Exit 0 when every case produced a figure, whether or not the target was met.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-bench
runs=3 seconds=5 warmup=1 routes=1000 ways=8 bytes=64
main_cpu=0 dut_cpu=1
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --quick) runs=1 seconds=2; shift ;;
    --routes) routes=$2; shift 2 ;;
    --ways) ways=$2; shift 2 ;;
    -h|--help) sed -n '3,24p' "$0"; exit 0 ;;
    *) echo "l3.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "l3.sh: --runs '$runs': accepted a whole number >= 1" >&2; exit 2; }
spray=$build/app/spray/spray
bench=$build/test/bench/switch/switch_bench
for f in "$spray" "$bench"; do
  [[ -x $f ]] || { echo "l3.sh: $f missing; meson setup $build --buildtype=release && ninja -C $build app/spray/spray test/bench/switch/switch_bench" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "l3.sh: dpdk-testpmd not found; apt-get install dpdk" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-l3bench.XXXXXX)
prefix=sprayl3-$$
eal=(--no-huge -m 512 --no-pci --log-level=error)
results=$tmp/results   # lines: case metric value
notes=$tmp/notes       # anomalies worth a line under the table
name=l3.sh
source "$(dirname "$0")/lib.sh"

# gen DUT_PID RUN MODE SIGNAL: one measured window of gen --l3 MODE against a
# running DUT, then the DUT is stopped with SIGNAL while the generator, idle,
# is still connected (a memif peer leaving under a polling DUT can crash it).
# Sets gen_line and dut_rc.
gen() {
  local g
  mapfile -t devs < <(memif_devs client "$2")
  rm -f "$tmp/gen.out" "$tmp/gen.pid"
  (taskset -c $main_cpu "$bench" gen --l3 "$3" --routes "$routes" --ways "$ways" --dut-pid "$1" \
     --frame-bytes "$bytes" --seconds "$seconds" --warmup "$warmup" -- \
     --lcores "0@$main_cpu" "${eal[@]}" --file-prefix "$prefix-gen" "${devs[@]}" &
   echo $! >"$tmp/gen.pid"; wait $!) >"$tmp/gen.out" 2>"$tmp/gen.err" &
  g=$!; pids+=("$g")
  wait_for "$tmp/gen.out" "^gen " "$g"
  stop "$1" "$4"
  dut_rc=$stopped_rc
  for _ in $(seq 100); do kill -0 "$g" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$g" 2>/dev/null && kill -TERM "$(cat "$tmp/gen.pid")" 2>/dev/null
  stop "$g" TERM
  gen_line=$(grep '^gen ' "$tmp/gen.out" | tail -1) || true
}

memif_testpmd() {  # memif_testpmd RUN
  local dut
  mapfile -t devs < <(memif_devs server "$1")
  rm -f "$tmp/dut.log"
  dpdk-testpmd --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-dut" "${devs[@]}" -- \
    --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --stats-period 3600 \
    >"$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "Checking link statuses" "$dut"
  gen "$dut" "$1" blind INT
  record_mpps memif/testpmd-io "$gen_line"
}

memif_spray() {  # memif_spray RUN
  local dut
  mapfile -t devs < <(memif_devs server "$1")
  rm -f "$tmp/dut.log"
  "$spray" switch --port "a=${devs[0]#--vdev=}" --port "b=${devs[1]#--vdev=}" "${l3_args[@]}" \
    --arp-timeout 3600 --lcores "$dut_cpu" --idle poll --stats-period 0 --mem 512 \
    --file-prefix "$prefix-dut" --log-level error >"$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "spray switch: 2 ports" "$dut"
  gen "$dut" "$1" router TERM
  record_mpps memif/spray "$gen_line"
  if ((dut_rc != 0)); then
    # The window was measured before the stop; keep it, but say so.
    echo "- memif, run $1: spray switch exited with status $dut_rc when stopped after its window" >>"$notes"
    return
  fi
  # Every data frame was routed, each through the 8-way group's hash (the
  # router's own table at exit; the rest of rx_frames is the handful of ARP).
  local fwd ecmp rx
  read -r rx fwd ecmp < <(awk '/^router counter/ {r = 1} r && $1 == "rx_frames" {x = $2}
    r && $1 == "forwarded" {f = $2} r && $1 == "ecmp_forwarded" {e = $2} END {print x, f, e}' "$tmp/dut.log")
  [[ -n $fwd && $fwd -gt 0 && $((rx - fwd)) -lt 100 && ($ways == 1 || $ecmp == "$fwd") ]] ||
    die "spray switch routed ${fwd:-?} of ${rx:-?} frames, ${ecmp:-?} through ECMP"
}

ring_testpmd() {  # ring_testpmd MODE: testpmd over two looped net_ring vdevs, 64 frames in flight
  local mode=$1 dut w t0 t1 c0 c1 pps
  rm -f "$tmp/cmd" "$tmp/ring.log"; mkfifo "$tmp/cmd"; exec 3<>"$tmp/cmd"
  dpdk-testpmd --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-ring" \
    --vdev=net_ring0 --vdev=net_ring1 -- -i --forward-mode=$mode --nb-cores=1 \
    --total-num-mbufs=8192 --txpkts=$((bytes - 4)) <&3 >"$tmp/ring.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/ring.log" "testpmd>" "$dut"
  echo "start tx_first" >&3
  sleep "$warmup"
  w=$(grep -l '^rte-worker' /proc/"$dut"/task/*/comm | head -1); w=${w%/comm}
  echo "show port stats all" >&3
  t0=$(date +%s%N); c0=$(cut -d' ' -f1 "$w/schedstat")
  sleep "$seconds"
  echo "show port stats all" >&3
  t1=$(date +%s%N); c1=$(cut -d' ' -f1 "$w/schedstat")
  sleep 0.3
  echo "stop" >&3; echo "quit" >&3
  for _ in $(seq 100); do kill -0 "$dut" 2>/dev/null || break; sleep 0.1; done
  stop "$dut" INT
  exec 3>&-
  # The last "show port stats" holds the rates since the one before.
  pps=$(awk '/NIC statistics for port/ {blk++} /Tx-pps:/ {tx[blk] = $2}
             END {print tx[blk - 1] + tx[blk]}' "$tmp/ring.log")
  record_mpps "ring/testpmd-$mode" "$(awk -v p="$pps" -v m="$mode" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) \
    'BEGIN {printf "testpmd-%s mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f\n", m, p / 1e6, dc / dt, p / 1e6 / (dc / dt)}')"
}

spray_l3() {
  local out
  out=$(taskset -c $main_cpu,$dut_cpu "$bench" l3 --frame-bytes "$bytes" --routes "$routes" --ways "$ways" \
          --seconds "$seconds" --warmup "$warmup" -- \
          --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-ring" 2>"$tmp/ring.err") ||
    { cat "$tmp/ring.err" >&2; die "switch_bench l3 failed (a drop, or a frame not hashed over the group): $out"; }
  record_mpps ring/spray "$(grep '^l3 ' <<<"$out" | tail -1)"
}

log "l3.sh: $runs run(s) of ${seconds} s per case, $routes routes, $ways-way ECMP, $bytes B; forwarding on CPU $dut_cpu, the rest on CPU $main_cpu"
: >"$results"
: >"$notes"
mapfile -t l3_args < <("$bench" routes --routes "$routes" --ways "$ways")
for ((r = 1; r <= runs; r++)); do
  log "run $r/$runs"
  memif_testpmd "$r"
  memif_spray "$r"
  ring_testpmd io
  ring_testpmd mac
  spray_l3
done

# Medians of spray and testpmd over the runs, and the median of the per-run
# ratios (each run measured both, back to back).
awk -v bytes="$bytes" -v routes="$routes" -v ways="$ways" '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { n[$1, $2]++; v[$1, $2, n[$1, $2]] = $3 }
  END {
    print "| setup | frame | routes | ECMP ways | reference | spray Mpps | testpmd Mpps | ratio | spray Mpps/CPU-s | testpmd Mpps/CPU-s | ratio/CPU | target |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    split("memif ring ring", setups, " "); split("io io mac", refs, " ")
    for (s = 1; s <= 3; s++) {
      sp = setups[s] "/spray"; tp = setups[s] "/testpmd-" refs[s]
      for (q = 1; q <= 2; q++) {
        metric = q == 1 ? "mpps" : "cpu"
        cnt = n[sp, metric] < n[tp, metric] ? n[sp, metric] : n[tp, metric]
        for (i = 1; i <= cnt; i++) { x[i] = v[sp, metric, i]; y[i] = v[tp, metric, i]; z[i] = y[i] > 0 ? x[i] / y[i] : 0 }
        ms[q] = median(x, cnt); mt[q] = median(y, cnt); mr[q] = median(z, cnt)
      }
      printf "| %s | %d B | %d | %d | testpmd %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n",
             setups[s], bytes, routes, ways, refs[s], ms[1], mt[1], mr[1], ms[2], mt[2], mr[2],
             refs[s] == "io" ? "0.6 x testpmd io" : "none (context)"
    }
  }' "$results"
if [[ -s $notes ]]; then
  printf '\nNotes:\n'
  cat "$notes"
fi
