#!/usr/bin/env bash
# Runs every meson test suite of a build directory and ends with the plain
# summary line "N passed, N failed". Usage: tools/run-tests.sh [BUILD_DIR]
set -uo pipefail
build=${1:-build}
# Suites in order of cost: pure logic first, then EAL, then whole processes.
meson test -C "$build" --print-errorlogs --num-processes "${JOBS:-2}" "${@:2}"
rc=$?
log=$build/meson-logs/testlog.json
if [[ -f $log ]]; then
  passed=$(grep -c '"result": "OK"' "$log" || true)
  failed=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skipped=$(grep -c '"result": "SKIP"' "$log" || true)
  echo "$passed passed, $failed failed, $skipped skipped"
fi
exit $rc
