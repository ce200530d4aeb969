#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Kernel TCP beside spray gen <-> spray respond over the same veth path, in
# the same run, clean and lossy; compares the latency tails. Prints a
# Markdown table.
#
#   path: namespace A (veth) -- a Linux bridge in a third namespace -- (veth)
#     namespace B. Segmentation offload is off on every veth (gso_max_segs 1)
#     so that each packet the loss rule sees is one packet on the wire.
#   kernel TCP: tcp_rr server in B, tcp_rr client in A; one connection,
#     TCP_NODELAY, one request in flight, reply 64 B.
#   spray: spray respond in B and spray gen in A on net_af_packet ports bound
#     to the same veths (own IPv4 addresses, so the kernel stacks ignore the
#     SRD traffic); one connection, --outstanding 1, reply 64 B.
#   loss: an nftables rule on the bridge (forward hook, both directions)
#     drops PCT% of IPv4 packets at random. Not in namespace B: af_packet
#     receives a frame before any ingress hook there could drop it.
#
# Every case sends --count requests of --size bytes (the whole request; the
# 16-byte header of either protocol is part of it) and measures every round
# trip. The gen and the TCP client run on the first CPU of --cpus, the
# responder and the TCP server on the second.
#
# usage: tools/bench/kernel-path.sh [--build DIR] [--count N] [--size BYTES] [--loss PCT]
#          [--idle poll|backoff] [--cpus A,B] [--max-seconds S] [--out DIR]
#   --build DIR     meson build directory with spray and tcp_rr (build)
#   --spray FILE, --tcp-rr FILE   the two programs, if not in --build
#   --count N       requests per case (300)
#   --size BYTES    request size, 16..16777216 (1048576)
#   --loss PCT      loss of the lossy cases, 0.01..50 in steps of 0.01; 0 = clean only (1)
#   --idle MODE     spray's idle mode, poll or backoff (poll)
#   --cpus A,B      the two CPUs (0,1)
#   --max-seconds S spray gen stops sending after S s even short of --count, so that a
#                   stalling transport still ends with a figure; 0 = no limit (120)
#   --out DIR       keep every report and log there (read by test/smoke/kernel_path.sh)
# Exit 0 when every case produced a figure, whether or not a target was met;
# 1 (with the cases named) when one produced none; 2 on a usage error.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
count=300 size=1048576 reply=64 loss=1 idle=poll cpus=0,1 out='' max_s=120 spray='' tcp_rr=''
usage_err() { echo "kernel-path.sh: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --build) [[ $# -ge 2 && -d $2 ]] || usage_err "--build '${2:-}': expected a meson build directory"
      build=$(cd "$2" && pwd); shift 2 ;;
    --count) count=${2:-}; shift 2 || shift ;;
    --size) size=${2:-}; shift 2 || shift ;;
    --loss) loss=${2:-}; shift 2 || shift ;;
    --idle) idle=${2:-}; shift 2 || shift ;;
    --cpus) cpus=${2:-}; shift 2 || shift ;;
    --out) out=${2:-}; shift 2 || shift ;;
    --max-seconds) max_s=${2:-}; shift 2 || shift ;;
    --spray) spray=${2:-}; shift 2 || shift ;;
    --tcp-rr) tcp_rr=${2:-}; shift 2 || shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) usage_err "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $count =~ ^[0-9]+$ ]] && ((count >= 1 && count <= 10000000)) || usage_err "--count '$count': expected 1..10000000"
[[ $size =~ ^[0-9]+$ ]] && ((size >= 16 && size <= 16777216)) || usage_err "--size '$size': expected bytes in 16..16777216"
[[ $loss =~ ^[0-9]+(\.[0-9]{1,2})?$ ]] || usage_err "--loss '$loss': expected a percentage such as 1 or 0.5 (0..50, two decimals at most)"
# Basis points: nftables' numgen draws integers.
loss_bp=$(awk -v p="$loss" 'BEGIN { printf "%d", p * 100 + 0.5 }')
((loss_bp <= 5000)) || usage_err "--loss '$loss': expected 0..50"
[[ $max_s =~ ^[0-9]+$ ]] && ((max_s <= 86400)) || usage_err "--max-seconds '$max_s': expected whole seconds in 0..86400"
[[ $idle == poll || $idle == backoff ]] || usage_err "--idle '$idle': expected poll or backoff"
[[ $cpus =~ ^([0-9]+),([0-9]+)$ ]] || usage_err "--cpus '$cpus': expected two CPUs such as 0,1"
cpu_a=${BASH_REMATCH[1]} cpu_b=${BASH_REMATCH[2]}
((cpu_a != cpu_b)) || usage_err "--cpus '$cpus': expected two different CPUs"
for c in $cpu_a $cpu_b; do
  taskset -c "$c" true 2>/dev/null || usage_err "--cpus '$cpus': CPU $c is not usable here"
done

spray=${spray:-$build/app/spray/spray}
tcp_rr=${tcp_rr:-$build/test/bench/kernel/tcp_rr}
for f in "$spray" "$tcp_rr"; do
  [[ -x $f ]] || { echo "kernel-path.sh: $f missing; meson setup $build && ninja -C $build app/spray/spray test/bench/kernel/tcp_rr" >&2; exit 1; }
done
((EUID == 0)) || { echo "kernel-path.sh: needs root (network namespaces, nftables)" >&2; exit 1; }
for t in ip nft python3 taskset; do
  command -v $t >/dev/null || { echo "kernel-path.sh: $t not found (apt-get install iproute2 nftables python3 util-linux)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/spray-kpath.XXXXXX)
prefix=spraykp-$$
name=kernel-path.sh
source "$(dirname "$0")/lib.sh"
[[ -n $out ]] || out=$tmp/out
mkdir -p "$out"

id=$$
nsa=kpa-$id nsb=kpb-$id nsbr=kpbr-$id
va=kpa$id vb=kpb$id
tcp_a=10.77.0.1 tcp_b=10.77.0.2 srd_a=10.77.0.11 srd_b=10.77.0.12
tcp_port=7701

# Processes first (they live in the namespaces), then the namespaces: the
# bridge's namespace takes the nftables table and both veth pairs with it.
teardown() {
  cleanup
  for n in $nsa $nsb $nsbr; do ip netns del "$n" 2>/dev/null || true; done
}
trap teardown EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "kernel-path.sh: $count request(s) of $size B, reply $reply B, one in flight; lossy cases at $loss%"
ip netns add $nsa && ip netns add $nsb && ip netns add $nsbr || die "cannot create network namespaces"
for n in $nsa $nsb $nsbr; do
  ip -n $n link set lo up
  # Router solicitations and DAD would be the only other traffic spray sees.
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n $nsbr link add br0 type bridge
ip -n $nsbr link set br0 up
ip link add $va netns $nsa type veth peer name ${va}b netns $nsbr
ip link add $vb netns $nsb type veth peer name ${vb}b netns $nsbr
for v in ${va}b ${vb}b; do
  ip -n $nsbr link set $v gso_max_segs 1 master br0 up
done
ip -n $nsa link set $va gso_max_segs 1 up
ip -n $nsb link set $vb gso_max_segs 1 up
ip -n $nsa addr add $tcp_a/24 dev $va
ip -n $nsb addr add $tcp_b/24 dev $vb
# With forwarding off, the kernel drops SRD packets addressed to spray's IP
# on its interface silently instead of routing them or answering ICMP.
ip netns exec $nsa sysctl -qw net.ipv4.ip_forward=0
ip netns exec $nsb sysctl -qw net.ipv4.ip_forward=0

set_loss() {  # set_loss BASIS_POINTS: replace the bridge's loss rule (0 = none)
  ip netns exec $nsbr nft delete table bridge spraykp 2>/dev/null || true
  (($1 > 0)) || return 0
  ip netns exec $nsbr nft -f - <<EOF || die "cannot install the nftables loss rule"
table bridge spraykp {
  chain lossy {
    type filter hook forward priority 0; policy accept;
    ether type ip counter
    ether type ip numgen random mod 10000 < $1 counter drop
  }
}
EOF
}

loss_counters() {  # loss_counters: "forwarded dropped" IPv4 packets seen by the rule
  ip netns exec $nsbr nft list table bridge spraykp 2>/dev/null |
    awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") v[n++] = $(i + 1) }
         END { if (n >= 2) print v[0], v[1]; else print "0 0" }'
}

# path_drops: packets the path's own interfaces (veths, bridge) counted as
# dropped so far, both ways; the loss rule's drops are not among them.
path_drops() {
  { ip -n $nsa -s -j link show $va; ip -n $nsb -s -j link show $vb; ip -n $nsbr -s -j link show; } |
    python3 -c 'import json, sys
print(sum(i["stats64"][d]["dropped"] for line in sys.stdin for i in json.loads(line) for d in ("rx", "tx")))'
}

# port_counts LOG PORT: "rx_packets tx_packets rx_missed" of PORT in spray's final counters
port_counts() {
  awk -v p="$2" '/^port +driver/ { f = 1; next } /^worker/ { f = 0 } f && $1 == p { print $3, $4, $5 }' "$1"
}

failures=()

run_tcp() {  # run_tcp CASE
  local c=$1 srv rc=0 drops0
  rm -f "$out/tcp-$c.json"
  drops0=$(path_drops)
  ip netns exec $nsb taskset -c $cpu_b "$tcp_rr" server --port $tcp_port --bind $tcp_b \
    >"$out/tcp-$c.server.log" 2>&1 &
  srv=$!; pids+=("$srv")
  wait_for "$out/tcp-$c.server.log" "listening" "$srv"
  ip netns exec $nsa taskset -c $cpu_a "$tcp_rr" client --addr $tcp_b --port $tcp_port --size "$size" \
    --reply $reply --count "$count" --json "$out/tcp-$c.json" >"$out/tcp-$c.client.log" 2>&1 || rc=$?
  stop "$srv" TERM
  echo "{\"client_rc\": $rc, \"server_rc\": $stopped_rc, \"loss\": \"$(loss_counters)\"," \
    "\"path_drops\": $(($(path_drops) - drops0))}" >"$out/tcp-$c.meta.json"
  cat "$out/tcp-$c.client.log" >&2
  if [[ ! -s $out/tcp-$c.json ]]; then
    failures+=("kernel TCP $c: no figure (tcp_rr client exited $rc: $(tail -1 "$out/tcp-$c.client.log"))")
  elif ((rc != 0 || stopped_rc != 0)); then
    log "  kernel TCP $c: tcp_rr client exited $rc, server $stopped_rc"
  fi
}

run_spray() {  # run_spray CASE
  local c=$1 resp rc=0 common drops0
  rm -f "$out/spray-$c.json"
  drops0=$(path_drops)
  common=(--idle "$idle" --stats-period 0 --metrics off --log-level error)
  ip netns exec $nsb taskset -c $cpu_b "$spray" respond --port "p=net_af_packet0,iface=$vb" \
    --ip $srd_b/24 --lcores $cpu_b "${common[@]}" --file-prefix "$prefix-resp-$c" \
    >"$out/spray-$c.resp.log" 2>&1 &
  resp=$!; pids+=("$resp")
  wait_for "$out/spray-$c.resp.log" "^spray respond: " "$resp"
  ip netns exec $nsa taskset -c $cpu_a "$spray" gen --port "p=net_af_packet0,iface=$va" \
    --ip $srd_a/24 --peer $srd_b --lcores $cpu_a "${common[@]}" --file-prefix "$prefix-gen-$c" \
    --connections 1 --outstanding 1 --size "$size" --reply-size $reply --count "$count" --duration "$max_s" \
    --warmup 0 --json "$out/spray-$c.json" >"$out/spray-$c.gen.log" 2>&1 || rc=$?
  stop "$resp" TERM
  local gm rm_
  gm=$(port_counts "$out/spray-$c.gen.log" p)
  rm_=$(port_counts "$out/spray-$c.resp.log" p)
  echo "{\"gen_rc\": $rc, \"respond_rc\": $stopped_rc, \"gen_port\": \"${gm:-}\", \"respond_port\": \"${rm_:-}\"," \
    "\"loss\": \"$(loss_counters)\", \"path_drops\": $(($(path_drops) - drops0))}" >"$out/spray-$c.meta.json"
  if [[ ! -s $out/spray-$c.json ]]; then
    failures+=("spray $c: no figure (spray gen exited $rc: $(grep -v '^ *$' "$out/spray-$c.gen.log" | tail -1))")
  elif ((rc != 0 || stopped_rc != 0)); then
    log "  spray $c: spray gen exited $rc, spray respond $stopped_rc"
  fi
}

cases=(clean)
((loss_bp > 0)) && cases+=(lossy)
for c in "${cases[@]}"; do
  if [[ $c == lossy ]]; then set_loss "$loss_bp"; else set_loss 0; fi
  log "== $c: kernel TCP"
  run_tcp "$c"
  set_loss "$([[ $c == lossy ]] && echo "$loss_bp" || echo 0)"  # fresh counters
  log "== $c: spray"
  run_spray "$c"
  set_loss 0
done

echo "kernel-path.sh: $count request(s) of $size B, reply $reply B, one in flight, over veth - bridge - veth" \
  "(gso_max_segs 1); lossy: $loss% of IPv4 packets dropped at random on the bridge, both ways"
echo "CPUs: spray gen and tcp_rr client on CPU $cpu_a, spray respond and tcp_rr server on CPU $cpu_b" \
  "(taskset); spray --idle $idle"
echo "Load average before the run: $load_before (1/5/15 min, $(nproc) CPUs); other work on these CPUs delays" \
  "both transports' processes"
echo
python3 - "$out" "$loss" "$count" "${cases[@]}" <<'EOF'
import json, os, sys
out, loss, count, cases = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
label = {"clean": "clean", "lossy": f"{loss}% loss"}

def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) and os.path.getsize(p) else None

def f(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"

print("| link | transport | messages | p50 us | p99 us | p99.9 us | max us | RTO events | retx nack/same-path/rack/tlp/rto "
      "| spurious | TLPs | quarantines | packets sent | RTO per 10k pkts | TCP retrans (client/server) "
      "| frames lost port to port (A>B/B>A) | dropped by the rule | dropped by veth/bridge |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
fig = {}
for c in cases:
    t, tm = load(f"tcp-{c}.json"), load(f"tcp-{c}.meta.json") or {}
    drop = tm.get("loss", "0 0").split()
    dropped = f"{drop[1]} of {drop[0]}" if c == "lossy" else "-"
    if t:
        r = t["rtt_us"]
        fig[(c, "tcp")] = r
        print(f"| {label[c]} | kernel TCP | {t['count']} | {f(r['p50'])} | {f(r['p99'])} | {f(r['p99.9'])} | "
              f"{f(r['max'])} | - | - | - | - | - | - | - | {t['tcp_total_retrans']}/{t['server_total_retrans']} | - "
              f"| {dropped} | {tm.get('path_drops', '-')} |")
    else:
        print(f"| {label[c]} | kernel TCP | no figure |" + " |" * 15)
    s, sm = load(f"spray-{c}.json"), load(f"spray-{c}.meta.json") or {}
    drop = sm.get("loss", "0 0").split()
    dropped = f"{drop[1]} of {drop[0]}" if c == "lossy" else "-"
    if s:
        r, x = s["rtt_us"], s["retransmits"]
        fig[(c, "spray")] = r
        pkts = sum(p["tx_packets"] for p in s["per_path"])
        per10k = x["rto_events"] * 1e4 / pkts if pkts else None
        # DPDK 22.11's af_packet PMD leaves rx_missed at 0 when its ring
        # overflows, so what the path lost is what one port sent and the
        # other did not receive.
        gp, rp = (sm.get("gen_port") or "").split(), (sm.get("respond_port") or "").split()
        lost = f"{int(gp[1]) - int(rp[0])}/{int(rp[1]) - int(gp[0])}" if len(gp) == 3 and len(rp) == 3 else "n/a"
        missed = [int(v[2]) for v in (gp, rp) if len(v) == 3 and int(v[2])]
        if missed: lost += f" (rx_missed {sum(missed)})"
        print(f"| {label[c]} | spray | {s['messages']['completed']}/{s['messages']['sent']}"
              f"{' (' + str(s['messages']['failed']) + ' failed)' if s['messages']['failed'] else ''} | "
              f"{f(r['p50'])} | {f(r['p99'])} | {f(r['p99.9'])} | {f(r['max'])} | {x['rto_events']} | "
              f"{x['nack']}/{x['same_path']}/{x['rack']}/{x['tlp']}/{x['rto']} | {x['spurious']} | {x['tlp']} | "
              f"{s['path_quarantines']} | {pkts} | {f(per10k, 2)} | - | "
              f"{lost} | {dropped} | {sm.get('path_drops', '-')} |")
    else:
        print(f"| {label[c]} | spray | no figure |" + " |" * 15)

print()
def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"
if ("clean", "spray") in fig and ("clean", "tcp") in fig:
    print(f"- clean: spray p99.9 / TCP p99.9 = {ratio(fig['clean', 'spray']['p99.9'], fig['clean', 'tcp']['p99.9'])}"
          f" ({f(fig['clean', 'spray']['p99.9'])} / {f(fig['clean', 'tcp']['p99.9'])} us)")
if ("lossy", "spray") in fig and ("lossy", "tcp") in fig:
    print(f"- {loss}% loss: TCP p99 / spray p99 = {ratio(fig['lossy', 'tcp']['p99'], fig['lossy', 'spray']['p99'])}"
          f" ({f(fig['lossy', 'tcp']['p99'])} / {f(fig['lossy', 'spray']['p99'])} us)")
for c in cases:
    sm = load(f"spray-{c}.meta.json") or {}
    tm = load(f"tcp-{c}.meta.json") or {}
    notes = []
    if sm.get("gen_rc"): notes.append(f"spray gen exited {sm['gen_rc']}")
    if sm.get("respond_rc"): notes.append(f"spray respond exited {sm['respond_rc']}")
    if tm.get("client_rc"): notes.append(f"tcp_rr client exited {tm['client_rc']}")
    if tm.get("server_rc"): notes.append(f"tcp_rr server exited {tm['server_rc']}")
    s = load(f"spray-{c}.json")
    if s and s.get("failure"): notes.append(f"spray: {s['failure']}")
    if s and s["messages"]["sent"] < count:
        notes.append(f"spray gen sent {s['messages']['sent']} of {count} requests within --max-seconds")
    if notes: print(f"- {label[c]}: " + "; ".join(notes))
print("- p99.9 is the nearest rank: with fewer than 1,000 messages it is the maximum. Packets sent: spray gen's "
      "DATA packets, retransmissions included, over every path (per_path tx_packets); frames lost port to "
      "port: spray gen's port tx less spray respond's port rx (A>B) and the reverse (B>A), over the whole "
      "run: the bridge's rule, full af_packet rings and veth backlogs together.")
EOF
if ((${#failures[@]})); then
  for m in "${failures[@]}"; do log "kernel-path.sh: $m"; done
  exit 1
fi
