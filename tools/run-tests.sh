#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs every meson test suite of a build directory and ends with the plain
# summary line "N passed, N failed". Usage: tools/run-tests.sh [BUILD_DIR]
# With ASAN_BUILD_DIR set (tools/setup.sh --test sets it to BUILD_DIR-asan, a
# build with -Db_sanitize=address,undefined), the unit and sim suites then run
# again there; the summary line counts both runs and the exit status is
# non-zero when either failed.
set -uo pipefail
build=${1:-build}

# Reads the counts of the last meson test run in $1 into the globals
# passed, failed and skipped (all 0 when no run left a log).
summarize() {
  local log=$1/meson-logs/testlog.json
  passed=0 failed=0 skipped=0
  [[ -f $log ]] || return 0
  passed=$(grep -c '"result": "OK"' "$log" || true)
  failed=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skipped=$(grep -c '"result": "SKIP"' "$log" || true)
}

# Suites in order of cost: pure logic first, then EAL, then whole processes.
meson test -C "$build" --print-errorlogs --num-processes "${JOBS:-2}" "${@:2}"
rc=$?
summarize "$build"
if [[ -z ${ASAN_BUILD_DIR:-} ]]; then
  [[ -f $build/meson-logs/testlog.json ]] && echo "$passed passed, $failed failed, $skipped skipped"
  exit $rc
fi
main="$passed passed, $failed failed, $skipped skipped"
total_passed=$passed total_failed=$failed total_skipped=$skipped

# halt_on_error: a UBSan finding otherwise only prints and the test passes.
# A log left from an earlier run must not be counted if this one cannot start.
rm -f "$ASAN_BUILD_DIR/meson-logs/testlog.json"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$ASAN_BUILD_DIR" --print-errorlogs --num-processes "${JOBS:-2}" \
  --suite unit --suite sim
asan_rc=$?
summarize "$ASAN_BUILD_DIR"
if ((asan_rc != 0 && failed == 0)); then
  # Nothing ran (no such build, a target failed to build): the line below must not read as a pass.
  echo "run-tests.sh: meson test in $ASAN_BUILD_DIR exited $asan_rc with no test failed; counted as 1 failure" >&2
  failed=1
fi
echo "$build: $main"
echo "$ASAN_BUILD_DIR (unit, sim; AddressSanitizer + UndefinedBehaviorSanitizer): $passed passed, $failed failed, $skipped skipped"
echo "$((total_passed + passed)) passed, $((total_failed + failed)) failed, $((total_skipped + skipped)) skipped"
((rc != 0)) && exit $rc
exit $asan_rc
