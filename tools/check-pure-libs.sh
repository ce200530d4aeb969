#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The pure libraries (doc/architecture.md, rule 1) must not include any DPDK
# header: they are tested without EAL, fuzzed and reused by the simulator
# (lib/sim, itself pure: `spray sim` and the sim suite run it without EAL).
# The roles' options and reports (lib/roles: options.h, roles.h, report.*)
# are pure too, and app/ only parses (rule 3): the runs that call DPDK live
# in lib/roles.
# Usage: tools/check-pure-libs.sh [SOURCE_ROOT]
set -euo pipefail
root=${1:-$(dirname "$0")/..}
hits=$(grep -rnE '^\s*#\s*include\s*[<"](rte_|dpdk/|generic/rte_)' \
  "$root/lib/wire" "$root/lib/srd" "$root/lib/tor" "$root/lib/telemetry" "$root/lib/traffic" "$root/lib/sim" \
  "$root/lib/roles/options.h" "$root/lib/roles/roles.h" "$root/lib/roles/report.h" "$root/lib/roles/report.cpp" \
  "$root/app" \
  --include='*.h' --include='*.cpp' --exclude-dir=dpdk 2>/dev/null || true)
if [[ -n $hits ]]; then
  echo "DPDK header included in a pure library or in app/ (allowed only in lib/dataplane, the runs of lib/roles, drivers/):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "pure libraries and app/ include no DPDK header"
