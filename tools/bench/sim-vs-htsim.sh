#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# spray sim beside htsim on the same permutation: htsim's fattree-spraying
# comparison (2 MB flows, 3-tier fat tree sized by node count, 100 Gbit/s,
# MTU 4000, 35-packet switch queues), one connection matrix for both, the mean flow
# completion time and the run's cost for each number of paths. Prints a
# Markdown table.
#
# htsim is built from its source tree (--htsim DIR: the directory holding
# sim/, as in csg-htsim's repository) into a scratch copy, so DIR stays
# untouched: `make libhtsim.a`, then `make -C datacenter htsim_ndp`
# (tools/bench/htsim.sh; a --work DIR kept from an earlier run reuses its
# build while the source is unchanged). Its own permutation generator
# (datacenter/connection_matrices/gen_permutation.py) writes the matrix;
# spray reads the same file (`spray sim --matrix`). htsim runs NDP with
# ECMP over -paths P (packet trimming, receiver-driven); spray runs SRD over
# P paths (sender-driven, delay-based). Mean FCT is over every flow, from its start to its last
# byte acknowledged (htsim: its "finished at" lines; every flow starts at 0).
# spray's hosts queue 1024 packets, a NIC's transmit ring: with htsim's 35
# an SRD sender's first window overflows its own NIC.
#
# usage: tools/bench/sim-vs-htsim.sh --htsim DIR [--build DIR] [--nodes "432 1024"]
#          [--paths "1 8 16 32 64"] [--seed N] [--work DIR] [--plot FILE]
#   --htsim DIR     htsim's source (DIR/sim/Makefile); required
#   --build DIR     meson build directory with spray (build)
#   --spray FILE    the spray binary, if not in --build
#   --nodes LIST    fat-tree sizes, htsim's way (432)
#   --paths LIST    paths per flow (1 8 16 32 64)
#   --seed N        permutation seed, htsim's generator (13)
#   --work DIR      scratch directory, kept (a new one under /tmp, removed)
#   --plot FILE     also draw mean FCT against paths, both simulators, one
#                   line each per size, as a PNG (tools/sim-plot.py
#                   --vs-htsim; python3-matplotlib)
set -euo pipefail
htsim_src= build=build spray= nodes="432" paths="1 8 16 32 64" seed=13 work= plot=
while (($#)); do
  case $1 in
    --htsim) htsim_src=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --spray) spray=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --paths) paths=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --plot) plot=$2; shift 2 ;;
    -h|--help) sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sim-vs-htsim.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n $htsim_src ]] || { echo "sim-vs-htsim.sh: --htsim DIR is required (htsim's source, DIR/sim/Makefile)" >&2; exit 2; }
[[ -f $htsim_src/sim/Makefile ]] || { echo "sim-vs-htsim.sh: --htsim '$htsim_src': no sim/Makefile there" >&2; exit 2; }
spray=${spray:-$build/app/spray/spray}
[[ -x $spray ]] || { echo "sim-vs-htsim.sh: no spray binary at '$spray' (--build or --spray)" >&2; exit 2; }
for tool in make g++ python3 awk; do
  command -v $tool >/dev/null || { echo "sim-vs-htsim.sh: '$tool' is missing (apt-get install build-essential python3 gawk)" >&2; exit 2; }
done
if [[ -z $work ]]; then
  work=$(mktemp -d /tmp/sim-vs-htsim.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/htsim.sh"
echo "htsim: building in $work/sim unless built there from the same source ..." >&2
htsim_build "$htsim_src" "$work" || { echo "sim-vs-htsim.sh: htsim did not build; see $work/make.log" >&2; exit 1; }
htsim=$work/sim/datacenter/htsim_ndp
gen=$work/sim/datacenter/connection_matrices/gen_permutation.py

queues=(--set host.queue_pkts=1024 --set tor.queue_pkts=35 --set agg.queue_pkts=35 --set core.queue_pkts=35)
# The table goes to stdout and to table.md, which --plot reads.
: >"$work/table.md"
row() { echo "$1" | tee -a "$work/table.md"; }
row "| nodes | paths | htsim NDP mean FCT (us) | htsim wall (s) | spray SRD mean FCT (us) | spray p99 FCT (us) | spray wall (s) | spray events/s | spray peak RSS (MB) |"
row "|---|---|---|---|---|---|---|---|---|"
for n in $nodes; do
  cm=$work/perm-$n.cm
  python3 "$gen" "$cm" "$n" "$n" 2000000 0.0 "$seed" >/dev/null
  for p in $paths; do
    t0=$(date +%s.%N)
    (cd "$work" && nice -n 19 "$htsim" -tm "$cm" -linkspeed 100000 -strat ecmp -paths "$p" -nodes "$n" \
      -conns "$n" -q 35 -cwnd 50 -mtu 4000 -end 1500 -logtime 0.01 -o "$work/logout.dat" >"$work/htsim-$n-$p.txt" 2>&1)
    t1=$(date +%s.%N)
    h_fct=$(awk '/ finished at /{for (i = 1; i < NF; ++i) if ($i == "at") {s += $(i + 1); k++}} END {if (k) printf "%.1f", s / k; else print "-"}' "$work/htsim-$n-$p.txt")
    h_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    nice -n 19 "$spray" sim --matrix "$cm" --paths "$p" --mtu 4000 --link-rate 100Gbps --link-delay 1us \
      "${queues[@]}" --quiet --json "$work/spray-$n-$p.json" >"$work/spray-$n-$p.txt"
    read -r s_fct s_p99 s_wall s_eps s_rss < <(python3 - "$work/spray-$n-$p.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%.1f %.1f %.1f %.2fM %d" % (r["fct_us"]["mean"], r["fct_us"]["p99"], r["run"]["wall_s"],
      r["run"]["events_per_s"] / 1e6, r["run"]["peak_rss_bytes"] / 1e6))
PY
)
    row "| $n | $p | $h_fct | $h_wall | $s_fct | $s_p99 | $s_wall | $s_eps | $s_rss |"
  done
done
if [[ -n $plot ]]; then
  # The system interpreter: python3-matplotlib is installed for it.
  py=python3
  [[ -x /usr/bin/python3 ]] && py=/usr/bin/python3
  "$py" "$here/../sim-plot.py" --vs-htsim "$work/table.md" "$plot" >/dev/null ||
    { echo "sim-vs-htsim.sh: no figure drawn (--plot '$plot')" >&2; exit 1; }
  echo "figure: $plot" >&2
fi
