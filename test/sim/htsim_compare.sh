#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# spray sim beside htsim on a small permutation (k = 8 fat tree, 128 nodes,
# 2 MB flows; tools/bench/sim-vs-htsim.sh) for 1, 4 and 16 paths. Both
# simulators must tell the same story: spraying over more paths lowers the
# mean FCT, with most of the gain by 4 paths (1 -> 4 gains more than
# 4 -> 16); and at 16 paths spray's mean is within HTSIM_FACTOR (1.5) of
# htsim's, so the transports are comparable rather than merely ordered.
#
# htsim's source comes from $SPRAY_HTSIM_DIR (the directory holding sim/,
# csg-htsim's layout); without it, or when htsim does not build, the test
# is skipped (77). The build is kept in CACHE_DIR (the third argument) and
# reused while the source is unchanged: building takes 1.5-3 minutes here,
# the runs 5-10 s.
#
# usage: htsim_compare.sh SPRAY_BINARY SOURCE_ROOT CACHE_DIR
set -euo pipefail
spray=$1 root=$2 cache=$3
factor=${HTSIM_FACTOR:-1.5}
enable="set SPRAY_HTSIM_DIR to csg-htsim's source (the directory holding sim/) to run it"
if [[ -z ${SPRAY_HTSIM_DIR:-} ]]; then
  echo "htsim_compare: skipped: SPRAY_HTSIM_DIR is not set; $enable"
  exit 77
fi
for tool in make g++ python3 awk; do
  command -v $tool >/dev/null || { echo "htsim_compare: skipped: '$tool' is missing; needs build-essential, python3, gawk"; exit 77; }
done
. "$root/tools/bench/htsim.sh"
mkdir -p "$cache"
if ! htsim_build "$SPRAY_HTSIM_DIR" "$cache"; then
  tail -n 20 "$cache/make.log" >&2 || true
  echo "htsim_compare: skipped: htsim did not build from SPRAY_HTSIM_DIR='$SPRAY_HTSIM_DIR' (log: $cache/make.log); $enable"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The scratch copy sim-vs-htsim.sh looks for: it reuses the build, not copies it.
ln -s "$cache/sim" "$tmp/sim"
"$root/tools/bench/sim-vs-htsim.sh" --htsim "$SPRAY_HTSIM_DIR" --spray "$spray" --work "$tmp" \
  --nodes 128 --paths "1 4 16" | tee "$tmp/table.out"

# Columns: | nodes | paths | htsim mean FCT | htsim wall | spray mean FCT | ...
awk -v factor="$factor" -F'|' '
  function trim(x) { gsub(/ /, "", x); return x }
  $2 + 0 == 128 { p = $3 + 0; h[p] = trim($4); s[p] = trim($6); n++ }
  function check(name, m,   p) {
    for (p in want) if (m[p] == "" || m[p] == "-" || m[p] + 0 <= 0) {
      printf "FAIL %s: no mean FCT at %d paths\n", name, p; bad = 1; return
    }
    printf "%s: mean FCT %.1f / %.1f / %.1f us at 1 / 4 / 16 paths\n", name, m[1], m[4], m[16]
    if (!(m[1] > m[16])) { printf "FAIL %s: 16 paths (%.1f us) not faster than 1 (%.1f us)\n", name, m[16], m[1]; bad = 1 }
    if (!(m[1] - m[4] > m[4] - m[16])) {
      printf "FAIL %s: no plateau: 4 -> 16 paths gained %.1f us, 1 -> 4 only %.1f us\n", name, m[4] - m[16], m[1] - m[4]; bad = 1
    }
  }
  END {
    want[1]; want[4]; want[16]
    if (n != 3) { printf "FAIL: %d rows for 128 nodes, expected 3\n", n; exit 1 }
    check("htsim NDP", h); check("spray SRD", s)
    if (bad) exit 1
    r = s[16] / h[16]
    printf "spray / htsim at 16 paths: %.2f (allowed 1/%s to %s)\n", r, factor, factor
    if (r > factor || r < 1 / factor) { printf "FAIL: spray and htsim differ by more than %sx at 16 paths\n", factor; exit 1 }
  }' "$tmp/table.out"
echo ok
