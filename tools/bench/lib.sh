# SPDX-License-Identifier: BSD-3-Clause
# Shared by the benchmark scripts (sourced after they set `name`, `tmp` and
# `prefix`): process bookkeeping with a cleanup that never leaves a DPDK
# process, socket or runtime directory behind, and small helpers.
# pids: background processes to stop on exit.
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  exec 3>&- 2>/dev/null || true
  rm -rf "$tmp" /var/run/dpdk/"$prefix"-* 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "$name: $*"; exit 1; }

# wait_for FILE PATTERN PID: until FILE shows PATTERN; fails if PID exits.
wait_for() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; die "process $3 exited before '$2'"; }
    sleep 0.1
  done
  cat "$1" >&2; die "no '$2' after 30 s"
}

stop() {  # stop PID SIGNAL: signal it, wait, forget it; sets $stopped_rc
  kill -"$2" "$1" 2>/dev/null || true
  stopped_rc=0
  wait "$1" 2>/dev/null || stopped_rc=$?
  local keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# kv LINE KEY: the value of KEY=value in a result line
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# The DUT benchmarks (switch.sh, l3.sh) set $results and $tmp before sourcing.
record_mpps() {  # record_mpps CASE LINE: keep mpps and mpps_per_cpu of a result line
  local line=$2
  [[ -n $(kv "$line" mpps) ]] || die "$1: no result ($line)"
  echo "$1 mpps $(kv "$line" mpps)" >>"$results"
  echo "$1 cpu $(kv "$line" mpps_per_cpu)" >>"$results"
  log "  $1: $line"
}

# memif_devs ROLE RUN: the two memif vdevs of one run. Rings of 2^14 slots
# (the most memif takes, default 2^10): when the generator and the DUT are
# not on a CPU at the same time, which a loaded machine makes common, the
# rings carry the traffic across the gap instead of capping the rate.
memif_devs() {
  echo "--vdev=net_memif0,role=$1,id=0,rsize=14,socket=$tmp/$2-a.sock"
  echo "--vdev=net_memif1,role=$1,id=0,rsize=14,socket=$tmp/$2-b.sock"
}
