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
