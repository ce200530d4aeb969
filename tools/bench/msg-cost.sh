#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per message, end to end, split by layer: msg_cost
# (test/bench/gen/msg_cost.cpp: spray gen's and spray respond's pipelines in
# one thread on a virtual clock) under callgrind. Deterministic: the same
# build gives the same figures on a busy machine. doc/benchmarks.md, "Where a
# message's instructions go", has the method and the figures.
#
# A message is a request, its reply and the acknowledgements of both, on
# both sides. Layers are the source file each instruction comes from
# (inlined code counts where it was written):
#   transport   lib/srd (and the standard containers it inlines)
#   traffic     lib/traffic: the generator, the responder, the pattern
#   frames      lib/wire: Ethernet/IPv4/UDP parsing and building, checksums
#   dataplane   lib/dataplane: the SRD host pipeline, mbuf handling
#   dpdk        DPDK headers and libraries: rx/tx bursts, mempool
#   other       libc (memcpy), telemetry, the harness loop
#
# usage: tools/bench/msg-cost.sh [--build DIR] [--count N] [--size BYTES] [WINDOW...]
#   --build DIR  a meson build with debug info (default build-prof:
#                meson setup build-prof --buildtype=release -Ddebug=true)
#   --count N    messages measured per case (20000)
#   --size B     request and reply size (64)
#   WINDOW...    requests in flight, one case each (default: 1 32)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-prof
count=20000 size=64
windows=()
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --count) count=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 { if (!/^#/) exit; if (NR > 2) print }' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "msg-cost.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] || { echo "msg-cost.sh: window '$1' is not a number" >&2; exit 2; }
       windows+=("$1"); shift ;;
  esac
done
((${#windows[@]})) || windows=(1 32)
bin=$build/test/bench/gen/msg_cost
[[ -x $bin ]] || { echo "msg-cost.sh: $bin missing; meson setup $build --buildtype=release -Ddebug=true && ninja -C $build test/bench/gen/msg_cost" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "msg-cost.sh: valgrind not found; apt-get install valgrind" >&2; exit 1; }

tmp=$(mktemp -d /tmp/spray-msgcost.XXXXXX)
trap 'rm -rf "$tmp"; rm -rf /var/run/dpdk/msgcost-$$' EXIT

echo "| in flight | messages | packets sent per message | instructions per message | transport | traffic | frames | dataplane | dpdk | other |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for w in "${windows[@]}"; do
  out=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$tmp/cg.$w" "$bin" \
          --outstanding "$w" --size "$size" --count "$count" -- --no-huge -m 512 --no-pci \
          --file-prefix "msgcost-$$" 2>"$tmp/err.$w") || { cat "$tmp/err.$w" >&2; exit 1; }
  line=$(grep '^msg_cost ' <<<"$out")
  callgrind_annotate --auto=no --threshold=100 "$tmp/cg.$w" 2>/dev/null | python3 -c '
import re, sys
line = sys.argv[1]
kv = dict(f.split("=", 1) for f in line.split()[1:])
msgs = int(kv["messages"])
pkts = (int(kv["gen_tx_pkts"]) + int(kv["resp_tx_pkts"])) / msgs
layers = {"transport": 0, "traffic": 0, "frames": 0, "dataplane": 0, "dpdk": 0, "other": 0}
total = 0
for l in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", l)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    rest = m.group(2)
    if rest.startswith("PROGRAM TOTALS"):
        total = n
        continue
    src = rest.split(":", 1)[0]
    if "/lib/srd/" in src or "/usr/include/c++/" in src and "srd::" in rest:
        k = "transport"
    elif "/lib/traffic/" in src:
        k = "traffic"
    elif "/lib/wire/" in src:
        k = "frames"
    elif "/lib/dataplane/" in src:
        k = "dataplane"
    elif "dpdk" in src or "librte_" in rest:
        k = "dpdk"
    elif "/usr/include/c++/" in src and "traffic::" in rest:
        k = "traffic"
    elif "/usr/include/c++/" in src and "dp::" in rest:
        k = "dataplane"
    else:
        k = "other"
    layers[k] += n
print("| %s | %d | %.2f | %.0f | %s |" % (kv["outstanding"], msgs, pkts, total / msgs,
      " | ".join("%.0f" % (v / msgs) for v in layers.values())))
' "$line"
done
