#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Switch forwarding rate beside dpdk-testpmd, same devices, same traffic,
# interleaved in one run (doc/benchmarks.md, "Switch forwarding"). Prints a
# Markdown table of Mpps and ratios.
#
#   memif (two processes): the DUT (spray switch, or testpmd --forward-mode=io)
#     has two net_memif server ports, forwarding on CPU 1; switch_bench gen
#     (memif clients, CPU 0) sends one way and counts what comes out.
#   ring (one process): spray's Worker + L2Pipeline over a net_ring loop
#     (switch_bench ring) against testpmd --forward-mode=mac over two net_ring
#     vdevs seeded with tx_first; the forwarding lcore is on CPU 1.
#
# usage: tools/bench/switch.sh [--build DIR] [--runs N] [--seconds S] [--quick]
#   --build DIR   meson build directory with spray and switch_bench (build-bench)
#   --runs N      repetitions of every case, interleaved; medians reported (3)
#   --seconds S   measured window per run, after a 1 s warm-up (5)
#   --quick       1 run of 2 s (a smoke check of the script, not a measurement)
# Exit 0 when every case produced a figure, whether or not a target was met.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-bench
runs=3 seconds=5 warmup=1
main_cpu=0 dut_cpu=1
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --quick) runs=1 seconds=2; shift ;;
    -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
    *) echo "switch.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
spray=$build/app/spray/spray
bench=$build/test/bench/switch/switch_bench
for f in "$spray" "$bench"; do
  [[ -x $f ]] || { echo "switch.sh: $f missing; meson setup $build --buildtype=release && ninja -C $build app/spray/spray test/bench/switch/switch_bench" >&2; exit 1; }
done
command -v dpdk-testpmd >/dev/null || { echo "switch.sh: dpdk-testpmd not found; apt-get install dpdk" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-bench.XXXXXX)
prefix=spraybench-$$
eal=(--no-huge -m 512 --no-pci --log-level=error)
results=$tmp/results   # lines: case metric value
notes=$tmp/notes       # anomalies worth a line under the table
name=switch.sh
source "$(dirname "$0")/lib.sh"

# gen DUT_PID RUN BYTES MACS SIGNAL: one measured window against a running
# DUT, which is then stopped with SIGNAL while the generator, idle, is still
# connected (it exits after the DUT). Sets gen_line (the generator's result)
# and dut_rc (the DUT's exit status).
gen() {
  local g
  mapfile -t devs < <(memif_devs client "$2")
  rm -f "$tmp/gen.out" "$tmp/gen.pid"
  # Waited for in a subshell, so that a crash of DPDK's memif disconnect
  # handling after the result (22.11, when the peer goes away) is reported
  # in gen.err rather than in the middle of the results.
  (taskset -c $main_cpu "$bench" gen --dut-pid "$1" --frame-bytes "$3" --macs "$4" \
     --seconds "$seconds" --warmup "$warmup" -- \
     --lcores "0@$main_cpu" "${eal[@]}" --file-prefix "$prefix-gen" "${devs[@]}" &
   echo $! >"$tmp/gen.pid"; wait $!) >"$tmp/gen.out" 2>"$tmp/gen.err" &
  g=$!; pids+=("$g")
  wait_for "$tmp/gen.out" "^gen " "$g"
  stop "$1" "$5"
  dut_rc=$stopped_rc
  for _ in $(seq 100); do kill -0 "$g" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$g" 2>/dev/null && kill -TERM "$(cat "$tmp/gen.pid")" 2>/dev/null
  stop "$g" TERM
  gen_line=$(grep '^gen ' "$tmp/gen.out" | tail -1) || true
}

memif_testpmd() {  # memif_testpmd RUN BYTES
  local run=$1 bytes=$2 dut
  mapfile -t devs < <(memif_devs server "$run")
  rm -f "$tmp/dut.log"
  dpdk-testpmd --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-dut" "${devs[@]}" -- \
    --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --stats-period 3600 \
    >"$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "Checking link statuses" "$dut"
  gen "$dut" "$run" "$bytes" 1 INT
  record_mpps "memif/$bytes/1/testpmd" "$gen_line"
}

memif_spray() {  # memif_spray RUN BYTES MACS
  local run=$1 bytes=$2 macs=$3 dut
  mapfile -t devs < <(memif_devs server "$run")
  rm -f "$tmp/dut.log"
  "$spray" switch --port "a=${devs[0]#--vdev=}" --port "b=${devs[1]#--vdev=}" \
    --lcores "$dut_cpu" --idle poll --stats-period 0 --mem 512 --max-macs-per-port 0 \
    --fdb-size 16384 --file-prefix "$prefix-dut" --log-level error >"$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "spray switch: 2 ports" "$dut"
  gen "$dut" "$run" "$bytes" "$macs" TERM
  record_mpps "memif/$bytes/$macs/spray" "$gen_line"
  if ((dut_rc != 0)); then
    # The window was measured before the stop; keep it, but say so.
    echo "- memif $bytes B $macs MACs, run $run: spray switch exited with status $dut_rc when stopped after its window" >>"$notes"
    return
  fi
  # Every measured frame must have been switched to its learned port.
  local flooded
  flooded=$(awk '$1 == "flooded" {print $2}' "$tmp/dut.log")
  [[ $flooded == 0 ]] || die "spray switch flooded ${flooded:-?} frames (learning did not hold)"
}

ring_testpmd() {  # ring_testpmd BYTES: testpmd mac over two looped net_ring vdevs
  local bytes=$1 dut w t0 t1 c0 c1
  rm -f "$tmp/cmd" "$tmp/ring.log"; mkfifo "$tmp/cmd"; exec 3<>"$tmp/cmd"
  dpdk-testpmd --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-ring" \
    --vdev=net_ring0 --vdev=net_ring1 -- -i --forward-mode=mac --nb-cores=1 \
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
  local pps
  pps=$(awk '/NIC statistics for port/ {blk++} /Tx-pps:/ {tx[blk] = $2}
             END {print tx[blk - 1] + tx[blk]}' "$tmp/ring.log")
  record_mpps "ring/$bytes/1/testpmd" "$(awk -v p="$pps" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) \
    'BEGIN {printf "testpmd-mac mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f\n", p / 1e6, dc / dt, p / 1e6 / (dc / dt)}')"
}

ring_spray() {  # ring_spray BYTES MACS
  local out
  out=$(taskset -c $main_cpu,$dut_cpu "$bench" ring --frame-bytes "$1" --macs "$2" \
          --seconds "$seconds" --warmup "$warmup" -- \
          --lcores "0@$main_cpu,1@$dut_cpu" "${eal[@]}" --file-prefix "$prefix-ring" 2>"$tmp/ring.err") ||
    { cat "$tmp/ring.err" >&2; die "switch_bench ring failed: $out"; }
  record_mpps "ring/$1/$2/spray" "$(grep '^ring ' <<<"$out" | tail -1)"
}

log "switch.sh: $runs run(s) of ${seconds} s per case, DUT forwarding on CPU $dut_cpu, the rest on CPU $main_cpu"
: >"$results"
: >"$notes"
for ((r = 1; r <= runs; r++)); do
  log "run $r/$runs"
  for bytes in 64 1500; do
    memif_testpmd "$r" "$bytes"
    memif_spray "$r" "$bytes" 1
    memif_spray "$r" "$bytes" 10000
    ring_testpmd "$bytes"
    ring_spray "$bytes" 1
    ring_spray "$bytes" 10000
  done
done

# One row per (setup, frame size, MACs): medians of spray and testpmd over
# the runs, and the median of the per-run ratios (each run measured both).
awk -v runs="$runs" '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { split($1, k, "/"); n[$1, $2]++; v[$1, $2, n[$1, $2]] = $3 }
  END {
    print "| setup | frame | MACs | spray Mpps | testpmd Mpps | ratio | spray Mpps/CPU-s | testpmd Mpps/CPU-s | ratio/CPU | target |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    split("memif ring", setups, " ")
    for (s = 1; s <= 2; s++) for (b = 64; b <= 1500; b += 1436) for (m = 1; m <= 10000; m += 9999) {
      sp = setups[s] "/" b "/" m "/spray"; tp = setups[s] "/" b "/1/testpmd"
      for (q = 1; q <= 2; q++) {
        metric = q == 1 ? "mpps" : "cpu"
        cnt = n[sp, metric] < n[tp, metric] ? n[sp, metric] : n[tp, metric]
        for (i = 1; i <= cnt; i++) { x[i] = v[sp, metric, i]; y[i] = v[tp, metric, i]; z[i] = y[i] > 0 ? x[i] / y[i] : 0 }
        ms[q] = median(x, cnt); mt[q] = median(y, cnt); mr[q] = median(z, cnt)
      }
      target = setups[s] == "memif" ? "0.9 x testpmd io" : "0.5 x testpmd mac"
      printf "| %s | %d B | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n",
             setups[s], b, m, ms[1], mt[1], mr[1], ms[2], mt[2], mr[2], target
    }
  }' "$results"
if [[ -s $notes ]]; then
  printf '\nNotes:\n'
  cat "$notes"
fi
