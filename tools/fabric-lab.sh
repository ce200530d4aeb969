#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The fabric lab: two leaves and two spines, each a `spray switch` process;
# kernel TCP (iperf3) and spray (gen -> respond) across them; one Prometheus
# scraping every process. Mid-run one spine is killed with SIGKILL and
# started again with the same configuration; the lab then prints what each
# process counted, how spray and TCP fared during the outage, and what
# Prometheus saw.
#
#              spine1                  spine2
#             d1     d2              d1     d2
#             |        \            /        |
#             |          \        /          |        memif links:
#             |            \    /            |        the leaf is the
#             |              \/              |        server, the spine
#             |              /\              |        the client
#             |            /    \            |
#             |          /        \          |
#             |        /            \        |
#             u1     u2              u1     u2
#              leaf1                  leaf2
#             k     s                k     s          veth pairs, switch
#             |     |                |     |          end on net_af_packet
#           h1k    h1s             h2k    h2s
#         iperf3   spray gen     iperf3   spray respond
#
#   Every process runs in a network namespace of its own (fl<id>-leaf1,
#   ..., fl<id>-h2s). Each leaf routes the other leaf's host subnets over
#   both spines (one ECMP group, hashed on the 5-tuple); each spine routes
#   each leaf's subnets down to it; every leaf-spine link is shaped at
#   --uplink-rate both ways, marking ECN-capable packets CE above 32 queued
#   packets; the kernel hosts negotiate ECN (tcp_ecn=1) and pace their streams.
#   Addresses: leaf L's kernel host 10.2L.1.2/24, its spray host
#   10.2L.2.2/24, the link leaf L - spine S 10.10L.S.0/31 (leaf .0, spine .1).
#   The default load (4 TCP streams of 10 Mbit/s, spray's closed loop) fits
#   two spines' 50 Mbit/s links and fills one's: while a spine is down, the
#   survivor carries all of it, as when a fabric loses half its capacity.
#   Low rates keep six DPDK processes on two CPUs.
#
#   Leaf-spine links are net_memif, not veth and net_af_packet: both ends are
#   spray, and shared memory costs no system call and no kernel copy per
#   packet, which on a small machine leaves the CPUs to forwarding. A spine
#   that dies takes its links down with it (the leaf, memif server, sees the
#   client's socket close), as a dead switch's neighbours see their links go
#   dark, and the leaves withdraw it from ECMP at once; a failure that keeps
#   the links up is `spray demo`'s case. The spine is the client because a
#   DPDK 22.11 memif client connects when it starts and never reconnects: the
#   side that restarts must be the client. Host links are veth pairs with the
#   switch end on net_af_packet: a kernel host needs a kernel interface, and
#   spray gen and respond attach the same way, as to a host's NIC.
#
#   Management: each spray process' namespace has a veth into a bridge in
#   fl<id>-mgmt (10.255.0.0/24), where Prometheus listens on 127.0.0.1:9090
#   and scrapes every process on its role's default metrics port. The
#   fabric's traffic never crosses it.
#
# usage: tools/fabric-lab.sh [options]
#   --spray FILE          the spray binary (build/app/spray/spray)
#   --duration S          seconds of traffic, spray gen and iperf3 (30)
#   --kill-at S           seconds into the traffic when the spine is killed (10)
#   --outage S            seconds from the kill to the restart (5)
#   --spine N             the spine to kill, 1 or 2 (1)
#   --no-kill             the same run without killing a spine
#   --uplink-rate RATE    shaper rate of every leaf-spine link, each way (50Mbps)
#   --tcp-streams N       parallel iperf3 TCP streams, each its own ECMP flow (4)
#   --tcp-rate RATE       iperf3 rate per stream (-b), 0 = as fast as TCP goes (10M)
#   --connections N       spray gen connections, each sprayed over 16 paths (2)
#   --outstanding N       spray gen requests in flight per connection (4)
#   --scrape-interval S   Prometheus scrape interval in seconds (1)
#   --out DIR             keep logs, configurations, reports, scrapes and
#                         summary.json in DIR (default: a temporary directory,
#                         removed on exit)
#   --keep                after the summary keep the fabric and Prometheus up
#                         until Ctrl-C, and print how to reach them
# Needs root, iproute2, iputils-ping, iperf3, ethtool, prometheus, curl,
# python3. Exit status: 0 when the run completed and spray gen completed
# every message; 3 when a message failed or spray respond counted a
# violation; 1 when the fabric could not be built or a process died; 2 on a
# usage error. Every namespace (with its veths), process, temporary file and
# DPDK runtime directory the lab made is removed on exit, also on Ctrl-C and
# on failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
spray=$root/build/app/spray/spray
duration=30 kill_at=10 outage=5 spine=1 do_kill=1 uplink_rate=50Mbps
tcp_streams=4 tcp_rate=10M connections=2 outstanding=4 scrape=1 out='' keep=0
usage_err() { echo "fabric-lab: $*" >&2; exit 2; }
need_val() { [[ $# -ge 2 ]] || usage_err "$1 needs a value (see --help)"; }
while (($#)); do
  case $1 in
    --spray) need_val "$@"; spray=$2; shift 2 ;;
    --duration) need_val "$@"; duration=$2; shift 2 ;;
    --kill-at) need_val "$@"; kill_at=$2; shift 2 ;;
    --outage) need_val "$@"; outage=$2; shift 2 ;;
    --spine) need_val "$@"; spine=$2; shift 2 ;;
    --no-kill) do_kill=0; shift ;;
    --uplink-rate) need_val "$@"; uplink_rate=$2; shift 2 ;;
    --tcp-streams) need_val "$@"; tcp_streams=$2; shift 2 ;;
    --tcp-rate) need_val "$@"; tcp_rate=$2; shift 2 ;;
    --connections) need_val "$@"; connections=$2; shift 2 ;;
    --outstanding) need_val "$@"; outstanding=$2; shift 2 ;;
    --scrape-interval) need_val "$@"; scrape=$2; shift 2 ;;
    --out) need_val "$@"; out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) usage_err "unknown argument '$1' (see --help)" ;;
  esac
done
for v in duration kill_at outage scrape; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_err "--${v//_/-} '${!v}': expected seconds such as 10 or 2.5"
done
[[ $spine == 1 || $spine == 2 ]] || usage_err "--spine '$spine': expected 1 or 2"
[[ $tcp_streams =~ ^[0-9]+$ ]] && ((tcp_streams >= 1 && tcp_streams <= 32)) ||
  usage_err "--tcp-streams '$tcp_streams': expected 1..32"
[[ $tcp_rate =~ ^[0-9]+(\.[0-9]+)?[KMG]?$ ]] || usage_err "--tcp-rate '$tcp_rate': expected 0 or a rate such as 15M (iperf3 -b)"
[[ $connections =~ ^[0-9]+$ ]] && ((connections >= 1 && connections <= 64)) ||
  usage_err "--connections '$connections': expected 1..64"
[[ $outstanding =~ ^[0-9]+$ ]] && ((outstanding >= 1 && outstanding <= 256)) ||
  usage_err "--outstanding '$outstanding': expected 1..256"
[[ $uplink_rate =~ ^([0-9]+(\.[0-9]+)?[KMG]bps|line)$ ]] ||
  usage_err "--uplink-rate '$uplink_rate': expected a rate such as 100Mbps or 1Gbps, or line"
awk -v d="$duration" 'BEGIN { exit !(d >= 4 && d <= 3600) }' || usage_err "--duration '$duration': expected 4..3600 seconds"
awk -v s="$scrape" 'BEGIN { exit !(s >= 0.2 && s <= 10) }' || usage_err "--scrape-interval '$scrape': expected 0.2..10 seconds"
if ((do_kill)); then
  # TCP needs a few seconds after the restart to show that it carries bytes again.
  awk -v d="$duration" -v k="$kill_at" -v o="$outage" 'BEGIN { exit !(k >= 1 && o >= 0.5 && k + o + 3 <= d) }' ||
    usage_err "--kill-at $kill_at --outage $outage: expected kill-at >= 1, outage >= 0.5 and kill-at + outage + 3 <= --duration ($duration)"
fi

[[ -x $spray ]] || { echo "fabric-lab: no spray binary at $spray; build first (tools/setup.sh) or give --spray" >&2; exit 1; }
((EUID == 0)) || { echo "fabric-lab: needs root (network namespaces)" >&2; exit 1; }
for t in ip nsenter ping iperf3 ethtool prometheus curl python3; do
  command -v $t >/dev/null || {
    echo "fabric-lab: '$t' not found; apt-get install iproute2 util-linux iputils-ping iperf3 ethtool prometheus curl python3" >&2
    exit 1
  }
done

N=fl$$                        # prefix of every namespace and DPDK file prefix
tmp=$(mktemp -d /tmp/spray-fabric-lab.XXXXXX)
keep_out=1
[[ -n $out ]] || { out=$tmp/out; keep_out=0; }
mkdir -p "$out/metrics" "$out/prom"
out=$(cd "$out" && pwd)
declare -A pid=() mgmt_ip=() metrics_port=() role=() cpu=()
procs=(leaf1 leaf2 spine1 spine2 gen respond)
mgmt_ip=([leaf1]=10.255.0.11 [leaf2]=10.255.0.12 [spine1]=10.255.0.21 [spine2]=10.255.0.22
  [gen]=10.255.0.31 [respond]=10.255.0.32)
role=([leaf1]=switch [leaf2]=switch [spine1]=switch [spine2]=switch [gen]=gen [respond]=respond)
metrics_port=([switch]=9477 [gen]=9478 [respond]=9479)
ns_of() { case $1 in gen) echo "$N-h1s" ;; respond) echo "$N-h2s" ;; *) echo "$N-$1" ;; esac; }
other_pids=()  # Prometheus, iperf3, the scrape loop
# A kept --out directory may hold an earlier run: logs are appended to.
for f in "${procs[@]}"; do rm -f "$out/$f.log" "$out/metrics/"*"-$f".{txt,time}; done
rm -f "$out"/{gen,iperf3,events,summary}.json "$out"/prom/*.json
t0=$EPOCHREALTIME  # the lab's start until the traffic starts, then the traffic's

log() { printf '[%7.2f s] %s\n' "$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }')" "$*"; }
die() { log "fabric-lab: $*" >&2; exit 1; }
rel() { awk -v a="$1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }'; }

stopped_rc=0
stop_pid() {  # stop_pid PID: SIGTERM, up to 5 s, then SIGKILL; sets stopped_rc
  local p=$1
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  stopped_rc=0
  wait "$p" 2>/dev/null || stopped_rc=$?
}

cleanup() {
  local rc=$? p n
  trap - EXIT INT TERM
  for p in "${other_pids[@]}" "${pid[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${other_pids[@]}" "${pid[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # Deleting a namespace deletes the veths in it, and their peers.
  for n in $(ip netns list | awk -v p="$N-" 'index($1, p) == 1 { print $1 }'); do ip netns del "$n" 2>/dev/null || true; done
  rm -rf /var/run/dpdk/"$N"-* "$tmp"
  ((keep_out)) && echo "fabric-lab: logs, configurations and reports are in $out" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECS CMD...: poll CMD every 100 ms until it succeeds; fails after SECS.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
# stamp: prefix each line with the wall clock, so that the lines of several
# processes (progress lines, events) share one time axis.
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
alive() { kill -0 "$1" 2>/dev/null; }
# nsenter, not `ip netns exec`, where only the network namespace matters:
# it is cheaper, and the lab polls.
in_ns() { local n=$1; shift; nsenter --net="/run/netns/$N-$n" "$@"; }
scrape() {  # scrape PROC: its /metrics, from the management namespace
  in_ns mgmt curl -sf --max-time 2 "http://${mgmt_ip[$1]}:${metrics_port[${role[$1]}]}/metrics"
}
scrape_all() {  # scrape_all PHASE: every live process' /metrics into metrics/PHASE-PROC.txt, in parallel
  local p f w=()
  for p in "${procs[@]}"; do
    f=$out/metrics/$1-$p.txt
    {
      local t=$EPOCHREALTIME
      if scrape "$p" >"$f.part" 2>/dev/null; then mv "$f.part" "$f" && echo "$t" >"${f%.txt}.time"; else rm -f "$f.part"; fi
    } &
    w+=($!)
  done
  wait "${w[@]}" 2>/dev/null || true
}
metric() {  # metric PROC 'NAME{LABELS}': its value in a fresh scrape
  scrape "$1" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { exit !f }'
}
ping_from() { in_ns "$1" ping -c 1 -W 1 -q "$2"; }

# CPUs: the workers go round-robin over the CPUs this script may use; each
# process' control thread takes the others. With --idle backoff an idle
# worker sleeps, so the six processes share a small machine.
mapfile -t cpus < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)), sep="\n")')
i=0
for p in "${procs[@]}"; do cpu[$p]=${cpus[$((i % ${#cpus[@]}))]}; i=$((i + 1)); done

victim=spine$spine
if ((do_kill)); then
  log "fabric-lab: namespaces $N-*; $victim killed at ${kill_at} s for ${outage} s of ${duration} s of traffic"
else
  log "fabric-lab: namespaces $N-*; ${duration} s of traffic, no spine killed"
fi

# ---- namespaces and links ------------------------------------------------------
for n in leaf1 leaf2 spine1 spine2 h1k h1s h2k h2s mgmt; do
  ip netns add "$N-$n" || die "cannot create network namespace $N-$n"
  ip -n "$N-$n" link set lo up
  # No IPv6 (router solicitations and DAD would be the only other frames the
  # switches see) and no forwarding: a kernel that sees a frame on an
  # af_packet port's veth drops it instead of routing it.
  ip netns exec "$N-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.ip_forward=0
done
ip -n "$N-mgmt" link add br0 type bridge
ip -n "$N-mgmt" addr add 10.255.0.1/24 dev br0
ip -n "$N-mgmt" link set br0 up
for p in "${procs[@]}"; do
  ns=$(ns_of "$p")
  ip link add mgmt netns "$ns" type veth peer name "m-$p" netns "$N-mgmt"
  ip -n "$N-mgmt" link set "m-$p" master br0 up
  ip -n "$ns" addr add "${mgmt_ip[$p]}/24" dev mgmt
  ip -n "$ns" link set mgmt up
done
for l in 1 2; do
  for h in k s; do
    # leaf end "k" or "s" in the leaf's namespace, host end "eth0"
    ip link add "$h" netns "$N-leaf$l" type veth peer name eth0 netns "$N-h$l$h"
    ip -n "$N-leaf$l" link set "$h" up
    ip -n "$N-h$l$h" link set eth0 up
  done
  ip -n "$N-h${l}k" addr add "10.2$l.1.2/24" dev eth0
  ip -n "$N-h${l}k" route add default via "10.2$l.1.1"
  # The switches forward frames as they come: the kernel host must put full
  # checksums and MTU-sized segments on the wire. A veth otherwise leaves
  # TCP checksums to an offload that nothing on this path performs, and the
  # other host drops every segment.
  ip netns exec "$N-h${l}k" ethtool -K eth0 tx off tso off gso off >/dev/null
  ip netns exec "$N-h${l}k" sysctl -qw net.ipv4.tcp_ecn=1
done

# ---- switch configurations -----------------------------------------------------
# CE above 32 queued packets only: the sojourn criterion's default, 20 us, is
# meant for 10 Gbit/s and up; at 50 Mbit/s one full frame takes 240 us to
# leave, so it would mark every packet that queued behind another one.
shape() { echo "shape = $1=$uplink_rate,depth=1024,ecn-pkts=32,ecn-us=0"; }
# mac L S SIDE: fixed MACs, so that a restarted spine keeps the one its
# neighbours hold in their ARP tables.
mac() { printf '02:f1:%02x:%02x:%02x:00' "$1" "$2" "$3"; }
sock() { echo "$tmp/leaf$1-spine$2.sock"; }
common_ini() {  # common_ini PROC
  cat <<EOF
lcores = ${cpu[$1]}
idle = backoff
stats-period = 1
file-prefix = $N-$1
metrics = ${mgmt_ip[$1]}:${metrics_port[switch]}
EOF
}
for l in 1 2; do
  o=$((3 - l))
  {
    echo "# leaf$l: two routed host ports; two uplinks, one per spine, in one ECMP group"
    echo "port = k=net_af_packet0,iface=k"
    echo "port = s=net_af_packet1,iface=s"
    for s in 1 2; do
      echo "port = u$s=net_memif$s,role=server,socket=$(sock $l $s),socket-abstract=no,mac=$(mac $l $s 0)"
    done
    echo "interface = k=10.2$l.1.1/24"
    echo "interface = s=10.2$l.2.1/24"
    echo "interface = u1=10.10$l.1.0/31"
    echo "interface = u2=10.10$l.2.0/31"
    echo "route = 10.2$o.0.0/16=10.10$l.1.1,10.10$l.2.1"
    echo "ecmp-seed = 11"
    shape u1
    shape u2
    common_ini "leaf$l"
  } >"$out/leaf$l.ini"
done
for s in 1 2; do
  {
    echo "# spine$s: one routed port per leaf; each leaf's subnets routed down to it"
    for l in 1 2; do
      echo "port = d$l=net_memif$l,role=client,socket=$(sock $l $s),socket-abstract=no,mac=$(mac $l $s 1)"
    done
    echo "interface = d1=10.101.$s.1/31"
    echo "interface = d2=10.102.$s.1/31"
    echo "route = 10.21.0.0/16=10.101.$s.0"
    echo "route = 10.22.0.0/16=10.102.$s.0"
    echo "ecmp-seed = 22"
    shape d1
    shape d2
    common_ini "spine$s"
  } >"$out/spine$s.ini"
done

host_common() {  # host_common PROC: the options gen and respond share
  echo --lcores "${cpu[$1]}" --idle backoff --file-prefix "$N-$1" --stats-period 1 \
    --metrics "${mgmt_ip[$1]}:${metrics_port[${role[$1]}]}"
}
launch() {  # launch PROC: start it in its namespace; its output, time-stamped, goes to PROC.log
  local p=$1
  echo "$EPOCHREALTIME == start" >>"$out/$p.log"
  case $p in
    leaf* | spine*)
      ip netns exec "$N-$p" "$spray" switch --config "$out/$p.ini" > >(stamp >>"$out/$p.log") 2>&1 & ;;
    respond)
      # shellcheck disable=SC2046
      ip netns exec "$N-h2s" "$spray" respond --port p=net_af_packet0,iface=eth0 --ip 10.22.2.2/24 \
        --gateway 10.22.2.1 $(host_common respond) > >(stamp >>"$out/$p.log") 2>&1 & ;;
    gen)
      # shellcheck disable=SC2046
      ip netns exec "$N-h1s" "$spray" gen --port p=net_af_packet0,iface=eth0 --ip 10.21.2.2/24 \
        --gateway 10.21.2.1 --peer 10.22.2.2 --connections "$connections" --outstanding "$outstanding" \
        --size 64-4000 --warmup 0 --duration "$duration" --json "$out/gen.json" \
        $(host_common gen) > >(stamp >>"$out/$p.log") 2>&1 & ;;
  esac
  pid[$p]=$!
}
wait_up() {  # wait_up PROC: until its metrics endpoint answers (EAL, ports and workers started)
  local deadline=$((SECONDS + 60))
  until scrape "$1" >/dev/null 2>&1; do
    alive "${pid[$1]}" || { tail -20 "$out/$1.log" >&2; die "$1 exited at start"; }
    ((SECONDS < deadline)) || { tail -20 "$out/$1.log" >&2; die "$1 did not come up within 60 s"; }
    sleep 0.1
  done
}

# ---- Prometheus ----------------------------------------------------------------
{
  # Prometheus takes whole units only: 0.5 s is 500ms.
  ms=$(awk -v s="$scrape" 'BEGIN { printf "%d", s * 1000 + 0.5 }')
  echo "global: {scrape_interval: ${ms}ms, scrape_timeout: ${ms}ms, evaluation_interval: ${ms}ms}"
  echo "scrape_configs:"
  echo "  - job_name: spray"
  echo "    static_configs:"
  for p in "${procs[@]}"; do
    echo "      - {targets: ['${mgmt_ip[$p]}:${metrics_port[${role[$p]}]}'], labels: {process: $p, role: ${role[$p]}}}"
  done
} >"$out/prometheus.yml"
ip netns exec "$N-mgmt" prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address=127.0.0.1:9090 --log.level=warn >"$out/prometheus.log" 2>&1 &
prom_pid=$!
other_pids+=("$prom_pid")
api=http://127.0.0.1:9090/api/v1
prom() { in_ns mgmt curl -sf --max-time 10 "$api/$1" "${@:2}"; }

# ---- processes: the leaves (memif servers) before the spines (clients) ---------
log "start leaf1, leaf2 and spray respond, then spine1 and spine2 (configurations: $out/*.ini)"
launch leaf1; launch leaf2; launch respond
wait_up leaf1; wait_up leaf2
launch spine1; launch spine2
wait_up spine1; wait_up spine2; wait_up respond
wait_until 30 in_ns mgmt curl -sf http://127.0.0.1:9090/-/ready ||
  { cat "$out/prometheus.log" >&2; die "Prometheus did not become ready"; }

# Ready when each kernel host reaches both spines (every memif link up, every
# next hop resolved), the other kernel host and spray respond.
for s in 1 2; do
  wait_until 30 ping_from h1k 10.101.$s.1 || die "h1k cannot reach spine$s (10.101.$s.1)"
  wait_until 30 ping_from h2k 10.102.$s.1 || die "h2k cannot reach spine$s (10.102.$s.1)"
done
wait_until 30 ping_from h1k 10.22.1.2 || die "h1k cannot reach h2k (10.22.1.2) across the fabric"
wait_until 30 ping_from h1k 10.22.2.2 || die "h1k cannot reach spray respond (10.22.2.2) across the fabric"
ip netns exec "$N-h2k" iperf3 -s -1 -B 10.22.1.2 >"$out/iperf3-server.log" 2>&1 &
other_pids+=($!)
wait_until 10 sh -c "nsenter --net=/run/netns/$N-h2k ss -ltn | grep -q 10.22.1.2:5201" || die "iperf3 server did not listen"
# Prometheus starts scraping some seconds after it is ready (it batches
# target updates): the traffic waits for its first samples of every process
# that runs already, so that the run's first seconds are on record.
prom_has_scraped() { prom query --data-urlencode 'query=count(up == 1) >= 5' | grep -q '"result":\[{'; }
wait_until 30 prom_has_scraped || die "Prometheus did not scrape the switches and spray respond within 30 s"
log "fabric up: both kernel hosts reach both spines, each other and spray respond; Prometheus scrapes them"

# ---- traffic -------------------------------------------------------------------
launch gen
wait_up gen
# From here the clock is the traffic's: spray gen runs (its --duration counts
# from its ARP exchange, milliseconds away) and iperf3 starts at once.
lab_t0=$t0
t0=$EPOCHREALTIME
# With a rate, the kernel paces each stream (SO_MAX_PACING_RATE) instead of
# iperf3 writing 128 KB blocks at once: bursts of a hundred packets would
# fill the shaped queues and mark CE for TCP's burstiness, not for load.
pacing=()
[[ $tcp_rate == 0 ]] || pacing=(--fq-rate "$tcp_rate")
ip netns exec "$N-h1k" iperf3 -c 10.22.1.2 -t "$duration" -i 1 -P "$tcp_streams" -b "$tcp_rate" "${pacing[@]}" -J \
  >"$out/iperf3.json" 2>"$out/iperf3.err" &
iperf_pid=$!
other_pids+=("$iperf_pid")
log "traffic for $duration s, after $(rel "$lab_t0" | tr -d -) s of setup: iperf3, $tcp_streams TCP streams" \
  "h1k -> h2k; spray gen, $connections connections x 16 paths h1s -> h2s; times from here on are the traffic's"
# spray gen's counters as it ends: the last of scrapes every 0.5 s.
(
  f=$out/metrics/end-gen.txt
  while alive "${pid[gen]}"; do
    t=$EPOCHREALTIME
    if scrape gen >"$f.part" 2>/dev/null; then mv "$f.part" "$f" && echo "$t" >"${f%.txt}.time"; fi
    sleep 0.5
  done
  rm -f "$f.part"
) &
other_pids+=($!)

sleep_until() {  # sleep_until SECONDS_AFTER_T0: places an event in the scenario
  sleep "$(awk -v t0="$t0" -v at="$1" -v now="$EPOCHREALTIME" 'BEGIN { d = t0 + at - now; print (d > 0 ? d : 0) }')"
}
link_is() {  # link_is LEAF PORT 0|1
  [[ $(metric "$1" "spray_port_link_up{port=\"$2\"}") == "$3" ]]
}
in_service() {  # in_service S: both kernel hosts reach spine S, both leaves' links to it are up
  ping_from h1k "10.101.$1.1" && ping_from h2k "10.102.$1.1" && link_is leaf1 "u$1" 1 && link_is leaf2 "u$1" 1
}
t_kill='' t_down='' t_restart='' t_back='' pid_before='' pid_after=''
sleep_until "$(awk -v k="$kill_at" 'BEGIN { print k - 0.5 }')"
scrape_all prekill
sleep_until "$kill_at"
if ((do_kill)); then
  pid_before=${pid[$victim]}
  kill -KILL "$pid_before"
  t_kill=$EPOCHREALTIME
  wait "$pid_before" 2>/dev/null || true
  log "kill -9 $victim (pid $pid_before)"
  if wait_until 10 link_is leaf1 "u$spine" 0 && wait_until 10 link_is leaf2 "u$spine" 0; then
    t_down=$EPOCHREALTIME
    log "both leaves report their links to $victim down"
  else
    log "warning: the leaves did not report their links to $victim down within 10 s"
  fi
  sleep_until "$(awk -v k="$(rel "$t_kill")" -v o="$outage" 'BEGIN { print k + o }')"
  t_restart=$EPOCHREALTIME
  launch "$victim"
  pid_after=${pid[$victim]}
  log "start $victim again (pid $pid_after), same configuration"
  wait_up "$victim"
  if wait_until 20 in_service "$spine"; then
    t_back=$EPOCHREALTIME
    log "$victim forwards again: both leaves' links to it up, both kernel hosts reach it"
    scrape_all back
  else
    log "warning: $victim did not come back into service within 20 s of its start"
  fi
fi

# A run that overstays its duration by far is stopped; SIGINT lets spray gen
# drain and report.
gen_rc=0 iperf_rc=0
deadline=$((SECONDS + ${duration%.*} + 60))
while alive "${pid[gen]}" && ((SECONDS < deadline)); do sleep 0.2; done
alive "${pid[gen]}" && { log "warning: spray gen overstayed; SIGINT"; kill -INT "${pid[gen]}"; }
wait "${pid[gen]}" || gen_rc=$?
unset 'pid[gen]'
while alive "$iperf_pid" && ((SECONDS < deadline)); do sleep 0.2; done
alive "$iperf_pid" && { log "warning: iperf3 overstayed; SIGTERM"; kill -TERM "$iperf_pid"; }
wait "$iperf_pid" || iperf_rc=$?
t_end=$EPOCHREALTIME
log "traffic done: spray gen exited $gen_rc, iperf3 client $iperf_rc"
# Prometheus' last scrapes, then the switches' and the responder's counters.
sleep "$(awk -v s="$scrape" 'BEGIN { print 2 * s + 0.2 }')"
procs=(leaf1 leaf2 spine1 spine2 respond)
scrape_all end
procs+=(gen)

# ---- what Prometheus saw ---------------------------------------------------------
span=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%d", a - b + 5 }')
prom query --data-urlencode "query=up[${span}s]" --data-urlencode "time=$EPOCHREALTIME" >"$out/prom/up.json" ||
  log "warning: Prometheus did not answer the query for up"
range() {  # range NAME QUERY: one value a second over the traffic
  prom query_range --data-urlencode "query=$2" --data-urlencode "start=$t0" --data-urlencode "end=$t_end" \
    --data-urlencode "step=1" >"$out/prom/$1.json" || log "warning: Prometheus did not answer $2"
}
# rate() over three scrapes at least
rw=$(awk -v s="$scrape" 'BEGIN { w = 3 * s; printf "%d", (w < 3 ? 3 : w) + 0.5 }')
range gen_completed_rate "sum(rate(spray_gen_completed_total[${rw}s]))"
range spine_forwarded_rate "sum by (process) (rate(spray_router_forwarded_total{process=~\"spine.\"}[${rw}s]))"

# ---- stop (unless --keep) and summarize ------------------------------------------
exit_json=''
if ((!keep)); then
  for p in respond leaf1 leaf2 spine1 spine2; do
    stop_pid "${pid[$p]}"
    unset "pid[$p]"
    exit_json+="${exit_json:+, }\"$p\": $stopped_rc"
  done
fi
cat >"$out/events.json" <<EOF
{"t0": $t0, "t_end": $t_end, "kill_at": $kill_at, "outage": $outage, "killed": $do_kill, "victim": "$victim",
 "t_kill": ${t_kill:-null}, "t_down": ${t_down:-null}, "t_restart": ${t_restart:-null}, "t_back": ${t_back:-null},
 "pid_before": ${pid_before:-null}, "pid_after": ${pid_after:-null}, "gen_rc": $gen_rc, "iperf_rc": $iperf_rc,
 "duration": $duration, "scrape_interval": $scrape, "uplink_rate": "$uplink_rate", "tcp_streams": $tcp_streams, "tcp_rate": "$tcp_rate",
 "exit": {$exit_json}}
EOF

rc=0
python3 "$root/tools/fabric_lab_summary.py" "$out" || rc=$?
if ((keep)); then
  cat <<EOF

The fabric keeps running until Ctrl-C, which removes all of it. For example:
  ip netns exec $N-h1k ping 10.22.1.2
  ip netns exec $N-mgmt curl -s http://${mgmt_ip[leaf1]}:9477/metrics | grep spray_port_tx_packets
  ip netns exec $N-mgmt curl -s '$api/query?query=up'
  tail -f $out/leaf1.log
EOF
  while alive "$prom_pid"; do sleep 1; done
fi
exit $rc
