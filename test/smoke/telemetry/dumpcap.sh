#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dpdk-dumpcap captures the ports of a running spray (doc/telemetry.md,
# "Packet capture"): spray calls
# rte_pdump_init(), and dumpcap attaches as a DPDK secondary process, which
# needs the primary's memory in hugepages. The test reserves hugepages and
# mounts hugetlbfs for itself (spray then picks them up on its own instead of
# --no-huge), captures 20 frames from a switch port and checks the file, and
# gives everything back.
# usage: dumpcap.sh SPRAY_BINARY
set -uo pipefail
spray=$1
for tool in dpdk-dumpcap tshark; do
  command -v $tool >/dev/null || { echo "FAIL: needs $tool (Debian: dpdk, tshark)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/spray-dumpcap.XXXXXX)
prefix=spray-dumpcap-$$
old_pages=$(cat /proc/sys/vm/nr_hugepages)
mounted=""
sw=""
cleanup() {
  [[ -n $sw ]] && { kill -TERM "$sw" 2>/dev/null; wait "$sw" 2>/dev/null; }
  [[ -n $mounted ]] && umount "$mounted"
  echo "$old_pages" > /proc/sys/vm/nr_hugepages
  rm -rf "$tmp" /var/run/dpdk/"$prefix"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/switch.log ]] && tail -20 "$tmp/switch.log" >&2; exit 1; }

# 600 MB of 2 MB pages on top of those reserved or in use already.
total=$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)
echo $((total + 300)) > /proc/sys/vm/nr_hugepages || fail "cannot reserve hugepages"
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
((free >= 300)) || fail "only $free hugepages free after reserving 300"
if ! grep -q hugetlbfs /proc/mounts; then
  mkdir "$tmp/huge" && mount -t hugetlbfs nodev "$tmp/huge" || fail "cannot mount hugetlbfs"
  mounted=$tmp/huge
fi

"$spray" switch --port a=net_null0 --port b=net_null1 --file-prefix "$prefix" --stats-period 0 \
  --metrics off >"$tmp/switch.log" 2>&1 &
sw=$!
for _ in $(seq 100); do grep -q "port b" "$tmp/switch.log" && break; sleep 0.1; done
grep -q "port b" "$tmp/switch.log" || fail "spray switch did not start"
grep -q "no hugepages free" "$tmp/switch.log" && fail "spray ran with --no-huge although hugepages were free"

timeout 60 dpdk-dumpcap --file-prefix "$prefix" -i net_null0 -c 20 -w "$tmp/cap.pcapng" >"$tmp/dumpcap.log" 2>&1 \
  || { cat "$tmp/dumpcap.log" >&2; fail "dpdk-dumpcap failed"; }
n=$(tshark -r "$tmp/cap.pcapng" 2>/dev/null | wc -l)
((n >= 20)) || { cat "$tmp/dumpcap.log" >&2; fail "captured $n frames, wanted at least 20"; }
echo "ok: dpdk-dumpcap captured $n frames from spray's port a"

kill -TERM "$sw"
rc=0
wait "$sw" || rc=$?
sw=""
((rc == 0)) || fail "spray switch exited $rc"
echo "ok: spray switch exited 0 on SIGTERM"
echo "2 passed, 0 failed"
