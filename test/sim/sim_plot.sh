#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# spray sim --plot DIR: a small training run written as JSON and drawn by
# tools/sim-plot.py; every figure it names must exist and be non-empty.
# Needs python3-matplotlib (tools/setup.sh --test installs it); installs
# nothing itself.
set -euo pipefail
spray=$1
script=$2
# The interpreter spray sim runs: the system's, which python3-matplotlib is for.
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
"$py" -c 'import matplotlib' 2>/dev/null ||
  { echo "sim_plot: python3-matplotlib is missing: apt-get install python3-matplotlib (tools/setup.sh --test does)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SPRAY_SIM_PLOT=$script "$spray" sim --k 4 --quiet --allreduce 512KB --set training.alltoall_bytes=256KB \
  --set training.alltoall_group=4 --iterations 3 --plot "$tmp/fig" > "$tmp/out.txt"
grep -q '^training: 3/3 steps' "$tmp/out.txt"
for f in fct_cdf.png util_tiers.png step_times.png result.json; do
  [[ -s $tmp/fig/$f ]] || { echo "missing or empty: $f"; ls -l "$tmp/fig"; exit 1; }
done
# A sweep over paths from several results adds the FCT-vs-paths figure.
for p in 1 4 16; do
  "$spray" sim --k 4 --quiet --size 256KB --paths "$p" --json "$tmp/p$p.json" > /dev/null
done
"$py" "$script" "$tmp/sweep" "$tmp"/p1.json "$tmp"/p4.json "$tmp"/p16.json > /dev/null
for f in fct_cdf.png util_tiers.png fct_vs_paths.png; do
  [[ -s $tmp/sweep/$f ]] || { echo "missing or empty: sweep/$f"; exit 1; }
done
# sim-vs-htsim.sh --plot: its table (values made up: the drawing is under
# test, not the simulators) as one figure.
cat > "$tmp/vs.md" <<'MD'
| nodes | paths | htsim NDP mean FCT (us) | htsim wall (s) | spray SRD mean FCT (us) | spray p99 FCT (us) |
|---|---|---|---|---|---|
| 128 | 1 | 400.0 | 1.0 | 480.0 | 800.0 |
| 128 | 16 | 230.0 | 1.0 | 260.0 | 300.0 |
MD
"$py" "$script" --vs-htsim "$tmp/vs.md" "$tmp/vs.png" > /dev/null
[[ -s $tmp/vs.png ]] || { echo "missing or empty: vs.png"; exit 1; }
if "$py" "$script" --vs-htsim "$tmp/out.txt" "$tmp/none.png" 2> /dev/null; then
  echo "--vs-htsim drew a figure from a file with no table"; exit 1
fi
# PNG signature, not just bytes.
head -c 4 "$tmp/fig/fct_cdf.png" | od -An -c | grep -q 'P   N   G'
echo ok
