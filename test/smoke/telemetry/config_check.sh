#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The shipped Prometheus and Grafana files are valid and consistent:
# promtool accepts the scrape config and the rules, the rules' unit tests
# pass, the dashboards are what config/grafana/generate.py writes (stable
# uids, a datasource variable), and the fabric contract list holds exactly
# the names the fabric dashboard uses.
# Usage: config_check.sh SOURCE_ROOT
set -euo pipefail
root=$1
command -v promtool > /dev/null || { echo "needs promtool (Debian: apt-get install prometheus)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/spray-tel-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

promtool check config "$root/config/prometheus/prometheus.yml" || fail "prometheus.yml"
promtool check rules "$root/config/prometheus/spray-alerts.yml" || fail "spray-alerts.yml"
(cd "$root/test/smoke/telemetry" && promtool test rules alerts_test.yml) || fail "alert rule tests"

python3 "$root/config/grafana/generate.py" "$tmp"
for f in "$tmp"/*.json; do
  diff -q "$f" "$root/config/grafana/dashboards/$(basename "$f")" > /dev/null ||
    fail "config/grafana/dashboards/$(basename "$f") differs from what generate.py writes; run it"
done
python3 - "$root/config/grafana/dashboards" << 'PY' || fail "dashboard uids or variables"
import json, os, sys
d = sys.argv[1]
want = {"spray-fabric.json": "spray-fabric", "spray-switch.json": "spray-switch", "spray-workers.json": "spray-workers"}
for name, uid in want.items():
    j = json.load(open(os.path.join(d, name)))
    assert j["uid"] == uid, (name, j["uid"])
    assert any(v["name"] == "datasource" and v["type"] == "datasource" for v in j["templating"]["list"]), name
    for p in j["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", (name, p["title"])
print("dashboards: uids stable, datasource variable used by every panel")
PY
python3 "$root/test/smoke/telemetry/dashboard_names.py" same "$root/test/smoke/telemetry/fabric_metrics.txt" \
  "$root/config/grafana/dashboards/spray-fabric.json" || fail "fabric_metrics.txt out of date"
echo PASS
