#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray gen + spray respond under a real Prometheus (doc/telemetry.md,
# "Tests"): both serve /metrics that `promtool check metrics` accepts;
# Prometheus (1 s scrape interval, loopback) sees the generator's completed
# requests grow between two scrapes, and histogram_quantile(0.99, ...) of the
# request round trip is a positive, finite number; every metric the fabric
# dashboard and the alert rules use exists in the two scrapes.
#
# Usage: prometheus_fabric.sh SPRAY_BINARY SOURCE_ROOT
set -euo pipefail
spray=$1
root=$2
for tool in prometheus promtool curl python3; do
  command -v "$tool" > /dev/null || { echo "needs $tool (Debian: apt-get install prometheus curl)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/spray-tel-fabric.XXXXXX)
prefix=spray-tel-fabric-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$tmp" /var/run/dpdk/"$prefix"-*
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
wait_for() {  # SECS WHAT CMD...: poll every 100 ms
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out waiting for $what"
    sleep 0.1
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metrics_url() { grep -so 'http://[^ ]*/metrics' "$1" | head -1; }
has_url() { [[ -n $(metrics_url "$1") ]]; }

cpus=$(nproc)
c_resp=$((cpus - 1)) c_gen=$((cpus > 1 ? cpus - 2 : 0))
sock=$tmp/memif.sock
"$spray" respond --port "m=net_memif0,role=server,socket=$sock" --ip 10.88.0.2/24 --lcores $c_resp \
  --file-prefix "$prefix-resp" --stats-period 0 --metrics 127.0.0.1:0 > "$tmp/resp.log" 2>&1 &
pids+=($!)
# The metrics line comes after the ports started: the memif server listens.
wait_for 30 "spray respond's metrics address" has_url "$tmp/resp.log"
"$spray" gen --port "m=net_memif0,role=client,socket=$sock" --ip 10.88.0.1/24 --peer 10.88.0.2 \
  --lcores $c_gen --file-prefix "$prefix-gen" --connections 2 --outstanding 8 --size 64-4000 \
  --warmup 0.5 --duration 60 --stats-period 0 --metrics 127.0.0.1:0 > "$tmp/gen.log" 2>&1 &
pids+=($!)
wait_for 30 "spray gen's metrics address" has_url "$tmp/gen.log"
gen_url=$(metrics_url "$tmp/gen.log") resp_url=$(metrics_url "$tmp/resp.log")
echo "gen $gen_url, respond $resp_url"

prom_port=$(free_port)
hostport() { sed 's|http://||; s|/metrics||' <<< "$1"; }
cat > "$tmp/prometheus.yml" << YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: spray
    static_configs:
      - {targets: ["$(hostport "$gen_url")"], labels: {role: gen}}
      - {targets: ["$(hostport "$resp_url")"], labels: {role: respond}}
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn > "$tmp/prom.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$prom_port/api/v1
query() { curl -sf "$api/query" --data-urlencode "query=$1"; }
completed_samples() {
  query 'spray_gen_completed_total[30s]' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
for s in (r[0]["values"] if r else []):
    print(s[0], s[1])'
}
three_scrapes() { [[ $(completed_samples 2> /dev/null | wc -l) -ge 3 ]]; }
wait_for 60 "Prometheus to scrape spray gen three times" three_scrapes
completed_samples > "$tmp/samples.txt"
read -r t0 v0 < <(head -1 "$tmp/samples.txt")
read -r t1 v1 < <(tail -1 "$tmp/samples.txt")
echo "Prometheus: spray_gen_completed_total $v0 at $t0, $v1 at $t1"
python3 -c "import sys; sys.exit(0 if float('$v1') > float('$v0') else 1)" ||
  fail "spray_gen_completed_total did not increase between scrapes ($v0 -> $v1)"
p99=$(query 'histogram_quantile(0.99, sum by (le) (rate(spray_gen_latency_seconds_bucket[5s])))' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
echo "Prometheus: request round trip p99 $p99 s"
python3 -c "import math,sys; v=float('$p99') if '$p99' != 'none' else float('nan'); sys.exit(0 if math.isfinite(v) and v > 0 else 1)" ||
  fail "histogram_quantile(0.99) of spray_gen_latency_seconds is $p99, not a positive finite number"

curl -sf "$gen_url" > "$tmp/gen.txt" || fail "scrape of $gen_url"
curl -sf "$resp_url" > "$tmp/resp.txt" || fail "scrape of $resp_url"
promtool check metrics < "$tmp/gen.txt" || fail "promtool rejected spray gen's metrics"
promtool check metrics < "$tmp/resp.txt" || fail "promtool rejected spray respond's metrics"
# The transport's own histograms carry samples: packet RTTs and cwnd at the
# generator, reorder depth (one per DATA packet) at both ends.
sample_sum() {  # FILE NAME: the sum of NAME's samples in a scrape
  python3 - "$1" "$2" << 'PY'
import re, sys
total = 0.0
for line in open(sys.argv[1]):
    m = re.match(r"^(\w+)(?:\{[^}]*\})? (\S+)$", line.strip())
    if m and m.group(1) == sys.argv[2]:
        total += float(m.group(2))
print(total)
PY
}
for f_name in gen:spray_transport_path_rtt_seconds_count gen:spray_transport_cwnd_packets_count \
  gen:spray_transport_reorder_depth_packets_count resp:spray_transport_reorder_depth_packets_count \
  resp:spray_transport_path_rtt_seconds_count; do
  n=$(sample_sum "$tmp/${f_name%%:*}.txt" "${f_name#*:}")
  echo "${f_name%%:*}: ${f_name#*:} = $n"
  python3 -c "import sys; sys.exit(0 if float('$n') > 0 else 1)" || fail "${f_name#*:} has no samples in spray ${f_name%%:*}'s scrape"
done
grep -q '^spray_transport_loss_recovery_seconds_count' "$tmp/gen.txt" || fail "no spray_transport_loss_recovery_seconds in spray gen's scrape"
grep -q '^spray_transport_path_rtt_seconds_bucket{path="0",le="1e-06"}' "$tmp/gen.txt" ||
  fail "spray_transport_path_rtt_seconds has no le=\"1e-06\" bucket for path 0"
here=$root/test/smoke/telemetry
python3 "$here/dashboard_names.py" check "$tmp/gen.txt,$tmp/resp.txt" "$root/config/grafana/dashboards/spray-fabric.json" ||
  fail "the fabric dashboard refers to metrics spray gen/respond do not export"
echo PASS
