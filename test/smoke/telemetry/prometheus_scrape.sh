#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray switch under a real Prometheus: /metrics passes `promtool check
# metrics`, Prometheus (scrape interval 1 s, on loopback) sees a switch
# counter grow between two scrapes, every metric the switch and workers
# dashboards and the alert rules use exists, the DPDK telemetry commands
# answer, and SIGUSR1 dumps the state to stderr. Everything it starts it
# stops; everything it writes lives in one temp dir.
#
# Usage: prometheus_scrape.sh SPRAY_BINARY SOURCE_ROOT
set -euo pipefail
spray=$1
root=$2
for tool in prometheus promtool curl python3 dpdk-telemetry.py; do
  command -v "$tool" > /dev/null || { echo "needs $tool (Debian: apt-get install prometheus curl dpdk)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/spray-tel-smoke.XXXXXX)
prefix=spray-tel-smoke-$$
spray_pid= prom_pid=
cleanup() {
  if [[ -n $prom_pid ]]; then kill "$prom_pid" 2> /dev/null || true; wait "$prom_pid" 2> /dev/null || true; fi
  if [[ -n $spray_pid ]]; then kill -INT "$spray_pid" 2> /dev/null || true; wait "$spray_pid" 2> /dev/null || true; fi
  rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# Polls `cmd` every 100 ms until it succeeds or `secs` pass.
wait_for() {
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# net_null ports receive an endless stream of all-zero frames: the switch
# drops each for its invalid (all-zero) source MAC, so its counters move.
"$spray" switch --port a=net_null0 --port b=net_null1 --metrics 127.0.0.1:0 --file-prefix "$prefix" \
  --stats-period 0 > "$tmp/spray.out" 2> "$tmp/spray.err" &
spray_pid=$!
wait_for 30 "spray to print its metrics address" grep -q 'metrics http://' "$tmp/spray.out"
addr=$(grep -o 'metrics http://[^/]*' "$tmp/spray.out" | sed 's|metrics http://||')
echo "spray switch serves http://$addr/metrics"

# 1. The exposition text is valid. A scrape in the instant between the
# server starting and the metric groups being added is legitimately empty.
scrape_has_build_info() {
  curl -sf "http://$addr/metrics" > "$tmp/scrape.txt" && grep -q '^spray_build_info{' "$tmp/scrape.txt"
}
wait_for 10 "a scrape with spray_build_info" scrape_has_build_info
promtool check metrics < "$tmp/scrape.txt" || fail "promtool check metrics rejected the scrape"
grep -q '^spray_build_info{' "$tmp/scrape.txt" || fail "no spray_build_info"
grep -q '^spray_switch_drops_total{reason="invalid_src_mac"}' "$tmp/scrape.txt" || fail "no drops by reason"

# 2. Every metric the switch and workers dashboards and the alert rules
# use is in the scrape (the transport/gen/respond ones in the alert rules:
# in the fabric contract list, checked against a gen/respond scrape there).
here=$root/test/smoke/telemetry
python3 "$here/dashboard_names.py" check "$tmp/scrape.txt" \
  "$root/config/grafana/dashboards/spray-switch.json" "$root/config/grafana/dashboards/spray-workers.json" \
  || fail "a dashboard refers to a metric spray switch does not export"
python3 "$here/dashboard_names.py" check "$tmp/scrape.txt,$here/fabric_metrics.txt" \
  "$root/config/prometheus/spray-alerts.yml" || fail "an alert rule refers to an unknown metric"

# 3. A real Prometheus scrapes it every second; a counter grows between scrapes.
prom_port=$(free_port)
cat > "$tmp/prometheus.yml" << YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: spray
    static_configs: [{targets: ["$addr"], labels: {role: switch}}]
YAML
promtool check config "$tmp/prometheus.yml" > /dev/null || fail "generated prometheus.yml is invalid"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn > "$tmp/prom.log" 2>&1 &
prom_pid=$!
api=http://127.0.0.1:$prom_port/api/v1
# The raw samples of the last 30 s as "timestamp value" lines.
samples() {
  curl -sf "$api/query" --data-urlencode 'query=spray_switch_rx_frames_total[30s]' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
for s in (r[0]["values"] if r else []):
    print(s[0], s[1])'
}
two_scrapes() { [[ $(samples 2> /dev/null | wc -l) -ge 2 ]]; }
wait_for 60 "Prometheus to scrape spray twice" two_scrapes
samples > "$tmp/samples.txt"
read -r t0 v0 < <(head -1 "$tmp/samples.txt")
read -r t1 v1 < <(tail -1 "$tmp/samples.txt")
echo "Prometheus: spray_switch_rx_frames_total $v0 at $t0, $v1 at $t1"
python3 -c "import sys; sys.exit(0 if float('$v1') > float('$v0') and float('$t1') > float('$t0') else 1)" \
  || fail "spray_switch_rx_frames_total did not increase between scrapes ($v0 -> $v1)"
up=$(curl -sf "$api/query" --data-urlencode 'query=up{job="spray"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[[ $up == 1 ]] || fail "Prometheus reports the target down"
rate=$(curl -sf "$api/query" --data-urlencode 'query=sum(rate(spray_switch_drops_total[10s]))' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
echo "Prometheus: drop rate $rate frames/s"
python3 -c "import sys; sys.exit(0 if '$rate' != 'none' and float('$rate') > 0 else 1)" || fail "no drop rate"

# 4. DPDK telemetry: /spray/ports, /spray/workers, /spray/switch answer.
for cmd in /spray/ports /spray/workers /spray/switch; do
  echo "$cmd" | dpdk-telemetry.py -f "$prefix" > "$tmp/tel.out" 2>&1 || fail "dpdk-telemetry.py $cmd: $(cat "$tmp/tel.out")"
  python3 - "$cmd" "$tmp/tel.out" << 'PY' || fail "$cmd: unexpected answer: $(cat "$tmp/tel.out")"
import json, sys
cmd, path = sys.argv[1], sys.argv[2]
line = next(l for l in open(path) if l.startswith("{"))
ans = json.loads(line)[cmd]
if cmd == "/spray/ports":
    assert ans["a"]["rx_packets"] > 0 and ans["b"]["driver"] == "net_null", ans
elif cmd == "/spray/workers":
    assert ans["w0"]["iterations"] > 0, ans
else:
    assert ans["rx_frames"] > 0 and ans["drops"]["invalid_src_mac"] > 0, ans
print(cmd, "answers", ", ".join(sorted(ans))[:100])
PY
done

# 5. SIGUSR1 dumps the state to stderr without stopping the switch.
kill -USR1 "$spray_pid"
wait_for 10 "the SIGUSR1 state dump" grep -q 'state dump (SIGUSR1)' "$tmp/spray.err"
wait_for 10 "the dump's switch counters" grep -q '^spray_switch_fdb_entries' "$tmp/spray.err"
kill -0 "$spray_pid" || fail "spray exited after SIGUSR1"

kill -INT "$spray_pid"
wait "$spray_pid" || fail "spray switch exited with status $?"
spray_pid=
echo "PASS"
