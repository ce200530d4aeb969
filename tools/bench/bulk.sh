#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bulk goodput of spray gen at jumbo and standard MTU (issue 14's bulk
# target; doc/benchmarks.md "Jumbo frames and bulk goodput" has the method
# and figures). spray gen --local-responder: the generator and the responder
# on their own lcores over an in-memory net_ring link, 1 MiB requests,
# acknowledgement-only replies, polling workers.
#
# The figure is goodput per CPU-second of the generator's worker: the request
# bits the responder received in the run, over the CPU time (user + system,
# /proc/PID/task/TID/stat) of the worker thread, sampled every 50 ms while it
# runs. On a machine whose CPUs other processes also use, wall-clock goodput
# varies with them; the worker's own CPU time does not.
#
# usage: tools/bench/bulk.sh [--build DIR] [--runs N] [--seconds S] [--quick]
#   --build DIR   meson build directory with spray (build-genbench)
#   --runs N      repetitions of every case, interleaved; medians reported (3)
#   --seconds S   sending time per run (5)
#   --window N    1 MiB requests in flight (8)
#   --quick       1 run of 2 s (a smoke check of the script, not a measurement)
# Exit 0 when every case produced a figure, whether or not the target was met.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-genbench
runs=3 seconds=5 window=8
main_cpu=0 peer_cpu=1
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --quick) runs=1 seconds=2; shift ;;
    -h|--help) awk 'NR > 1 { if (!/^#/) exit; if (NR > 2) print }' "$0"; exit 0 ;;
    *) echo "bulk.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
spray=$build/app/spray/spray
[[ -x $spray ]] || { echo "bulk.sh: $spray missing; meson setup $build --buildtype=release && ninja -C $build app/spray/spray" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-bulkbench.XXXXXX)
prefix=spraybulk-$$
results=$tmp/results   # lines: mtu gbps_per_cpu gbps_wall cpu_s data_packets retx
name=bulk.sh
source "$(dirname "$0")/lib.sh"

# worker_cpu_s PID: CPU seconds of PID's first worker thread (the generator),
# empty when it is gone.
worker_cpu_s() {
  local t
  for t in /proc/"$1"/task/*; do
    case $(cat "$t/comm" 2>/dev/null) in rte-worker-1 | lcore-worker-1) ;; *) continue ;; esac
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "$t/stat" 2>/dev/null
    return
  done
}

bulk_run() {  # bulk_run MTU RUN
  local pid cpu last=0 line
  rm -f "$tmp/gen.json"
  "$spray" gen --local-responder --lcores "$main_cpu,$peer_cpu" --ip 10.0.0.1/24 --peer 10.0.0.2 \
    --mtu "$1" --size 1048576 --reply-size 0 --outstanding "$window" --link-rate 400 \
    --warmup 0 --duration "$seconds" --idle poll --stats-period 0 --metrics off --log-level error \
    --file-prefix "$prefix-gen" --json "$tmp/gen.json" >"$tmp/gen.out" 2>&1 &
  pid=$!; pids+=("$pid")
  while kill -0 "$pid" 2>/dev/null; do
    cpu=$(worker_cpu_s "$pid")
    [[ -n $cpu ]] && last=$cpu
    sleep 0.05
  done
  stop "$pid" TERM
  [[ -s $tmp/gen.json ]] || { cat "$tmp/gen.out" >&2; die "spray gen --mtu $1 wrote no report"; }
  line=$(python3 - "$tmp/gen.json" "$last" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = float(sys.argv[2])
bits = r["goodput_bps"] * r["duration_s"]
# A run may end with requests still in flight after the drain (exit 1):
# their bytes are not counted; a failed or corrupt one ends the benchmark.
assert r["messages"]["failed"] == 0 and r["integrity"]["bad_replies"] == 0, r["failure"]
x = r["retransmits"]
not_causes = {"spurious", "rto_events", "silent_rtos", "shared_losses", "host_drop_acks", "acks_lost"}
print(f"{bits / cpu / 1e9 if cpu > 0 else 0:.2f} {r['goodput_bps'] / 1e9:.2f} {cpu:.2f} {r['data_packets']} "
      f"{sum(v for k, v in x.items() if k not in not_causes)}")
PY
) || die "MTU $1: bad report"
  echo "$1 $line" >>"$results"
  log "  MTU $1, run $2: $line (Gbit/s per CPU-s, Gbit/s wall, worker CPU s, DATA packets, retx)"
}

log "bulk.sh: $runs run(s) of ${seconds} s per MTU, 1 MiB requests, $window in flight, generator on CPU $main_cpu"
: >"$results"
for ((r = 1; r <= runs; r++)); do
  for mtu in 9000 1500; do bulk_run "$mtu" "$r"; done
done

awk -v w="$window" '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $1; n[k]++; g[k, n[k]] = $2; wall[k, n[k]] = $3; pk[k] += $5; rx[k] += $6 }
  END {
    print "| MTU | payload per packet | goodput per CPU-second of the generator, Gbit/s | wall-clock goodput, Gbit/s | DATA packets | retransmitted |"
    print "|---|---|---|---|---|---|"
    split("9000 1500", m, " ")
    for (i = 1; i <= 2; i++) {
      k = m[i]
      for (j = 1; j <= n[k]; j++) { a[j] = g[k, j]; b[j] = wall[k, j] }
      printf "| %d | %d | %.1f | %.1f | %d | %d |\n", k, k - 60, median(a, n[k]), median(b, n[k]), pk[k], rx[k]
    }
  }' "$results"
printf '\nPer run (MTU, Gbit/s per CPU-second, Gbit/s wall, worker CPU seconds, DATA packets, retransmitted):\n\n```\n'
cat "$results"
printf '```\n'
