#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Forwarding cost of metrics: spray switch between two net_memif ports (the
# setup of tools/bench/switch.sh), measured with --metrics off and with
# --metrics on while a client scrapes /metrics every second (Prometheus at
# a 1 s interval; the usual 15 s costs less). Runs are interleaved and
# medians reported, with the median of per-pair ratios. Besides the rate
# (which on a shared machine measures the scheduler as much as the DUT), it
# reports the DUT worker's busy TSC cycles per frame, read over DPDK
# telemetry: the cost metrics could add to forwarding itself.
#
# usage: test/bench/telemetry/metrics_cost.sh [--build DIR] [--runs N] [--seconds S]
#   --build DIR  meson build dir with app/spray/spray and test/bench/switch/switch_bench
#                (a --buildtype=release one for figures worth quoting; default build-bench)
#   --runs N     pairs of runs (5); --seconds S  measured window per run (5)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=$root/build-bench runs=5 seconds=5 warmup=1 frame=64
main_cpu=0 dut_cpu=1
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '3,14p' "$0"; exit 0 ;;
    *) echo "metrics_cost.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
spray=$build/app/spray/spray bench=$build/test/bench/switch/switch_bench
for f in "$spray" "$bench"; do
  [[ -x $f ]] || { echo "metrics_cost.sh: $f missing; ninja -C $build app/spray/spray test/bench/switch/switch_bench" >&2; exit 1; }
done
command -v curl > /dev/null || { echo "metrics_cost.sh: needs curl" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-metrics-cost.XXXXXX)
prefix=spray-mcost-$$
eal=(--no-huge -m 512 --no-pci --log-level=error)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$tmp" /var/run/dpdk/"$prefix"-* 2> /dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "metrics_cost.sh: $*" >&2; exit 1; }
wait_for() {  # FILE PATTERN PID
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2> /dev/null && return 0
    kill -0 "$3" 2> /dev/null || { cat "$1" >&2; die "process $3 exited before '$2'"; }
    sleep 0.1
  done
  die "no '$2' in $1 after 30 s"
}
forget() { local keep=(); for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done; pids=("${keep[@]}"); }
memif_devs() {
  echo "--vdev=net_memif0,role=$1,id=0,rsize=14,socket=$tmp/$2-a.sock"
  echo "--vdev=net_memif1,role=$1,id=0,rsize=14,socket=$tmp/$2-b.sock"
}

one_run() {  # one_run RUN MODE(off|on): prints Mpps
  local run=$1 mode=$2 dut g scraper= metrics=off
  [[ $mode == on ]] && metrics=127.0.0.1:0
  mapfile -t devs < <(memif_devs server "$run-$mode")
  "$spray" switch --port "a=${devs[0]#--vdev=}" --port "b=${devs[1]#--vdev=}" --metrics "$metrics" \
    --lcores "$dut_cpu" --idle poll --stats-period 0 --mem 512 --max-macs-per-port 0 \
    --fdb-size 16384 --file-prefix "$prefix-dut" --log-level error > "$tmp/dut.log" 2>&1 &
  dut=$!; pids+=("$dut")
  wait_for "$tmp/dut.log" "spray switch: 2 ports" "$dut"
  if [[ $mode == on ]]; then
    wait_for "$tmp/dut.log" "metrics http://" "$dut"
    local url; url=$(grep -o 'http://[^ ]*/metrics' "$tmp/dut.log")
    (while curl -sf -o /dev/null "$url"; do sleep 1; done) &
    scraper=$!; pids+=("$scraper")
  fi
  mapfile -t cdevs < <(memif_devs client "$run-$mode")
  taskset -c $main_cpu "$bench" gen --dut-pid "$dut" --frame-bytes $frame --macs 1 \
    --seconds "$seconds" --warmup "$warmup" -- \
    --lcores "0@$main_cpu" "${eal[@]}" --file-prefix "$prefix-gen" "${cdevs[@]}" > "$tmp/gen.out" 2> "$tmp/gen.err" &
  g=$!; pids+=("$g")
  wait_for "$tmp/gen.out" "^gen " "$g"
  if [[ -n $scraper ]]; then kill "$scraper" 2> /dev/null || true; wait "$scraper" 2> /dev/null || true; forget "$scraper"; fi
  # The worker's own account, free of scheduling: TSC cycles of the loop
  # iterations that did work, per frame received (DPDK telemetry answers
  # with metrics off too).
  local cpf
  cpf=$(echo /spray/workers | dpdk-telemetry.py -f "$prefix-dut" 2> /dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{") and "/spray/workers" in line:
        w = json.loads(line)["/spray/workers"]["w0"]
        print("%.1f" % (w["busy_cycles"] / max(w["rx_packets"], 1)))
        break')
  kill -TERM "$dut"; wait "$dut" 2> /dev/null || true; forget "$dut"
  for _ in $(seq 100); do kill -0 "$g" 2> /dev/null || break; sleep 0.1; done
  kill -TERM "$g" 2> /dev/null || true; wait "$g" 2> /dev/null || true; forget "$g"
  echo "$(sed -n 's/.* mpps=\([^ ]*\).*/\1/p' "$tmp/gen.out" | tail -1) ${cpf:-nan}"
}

echo "metrics_cost.sh: $runs pair(s) of ${seconds} s runs, $frame B frames, DUT on CPU $dut_cpu" >&2
: > "$tmp/r"
for ((r = 1; r <= runs; r++)); do
  # Alternate which mode goes first, so drift in machine load hits both.
  if ((r % 2)); then order=(off on); else order=(on off); fi
  for m in "${order[@]}"; do
    v=$(one_run "$r" "$m"); [[ $v != " "* && -n $v ]] || die "run $r $m: no result"
    echo "  run $r metrics $m: ${v% *} Mpps, ${v#* } busy cycles per frame" >&2
    echo "$r $m $v" >> "$tmp/r"
  done
done
awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { v[$1, $2] = $3; c[$1, $2] = $4; if ($1 > n) n = $1 }
  END {
    for (i = 1; i <= n; i++) {
      off[i] = v[i, "off"]; on[i] = v[i, "on"]; ratio[i] = on[i] / off[i]
      coff[i] = c[i, "off"]; con[i] = c[i, "on"]; cratio[i] = con[i] / coff[i]
    }
    printf "| metrics | Mpps (median of %d) | worker busy cycles per frame (median) |\n|---|---|---|\n", n
    printf "| off | %.3f | %.1f |\n| on, scraped every 1 s | %.3f | %.1f |\n", median(off, n), median(coff, n), median(on, n), median(con, n)
    printf "\non/off Mpps: median ratio %.3f (per pair:", median(ratio, n)
    for (i = 1; i <= n; i++) printf " %.3f", v[i, "on"] / v[i, "off"]
    printf ")\non/off cycles per frame: median ratio %.3f (per pair:", median(cratio, n)
    for (i = 1; i <= n; i++) printf " %.3f", c[i, "on"] / c[i, "off"]
    printf ")\n"
  }' "$tmp/r"
