#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad input to the spray binary: each case must print one line naming the bad
# value, exit 2 (usage) or 1 (runtime), and never die of a signal.
# usage: bad_input.sh SPRAY_BINARY
set -uo pipefail
spray=$1
tmp=$(mktemp -d /tmp/spray-bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'port = a=net_null0\n[broken\n' >"$tmp/broken.ini"
failures=0 cases=0

# expect EXIT_CODE SUBSTRING ARGS...; the roles on ports also get ${extra[@]}.
extra=(--stats-period 0)
expect() {
  local want=$1 needle=$2
  shift 2
  cases=$((cases + 1))
  local out rc
  out=$(timeout 30 "$spray" "$@" "${extra[@]}" 2>&1)
  rc=$?
  if [[ $rc -ne $want ]] || ! grep -qF -- "$needle" <<<"$out"; then
    failures=$((failures + 1))
    echo "FAIL: spray $* -> exit $rc (want $want), output:"
    sed 's/^/    /' <<<"$out"
    echo "    (wanted a line containing: $needle)"
  else
    echo "ok: spray $* -> exit $rc: $(grep -F -- "$needle" <<<"$out" | head -1)"
  fi
}

two=(--port a=net_null0 --port b=net_null1)
expect 2 "unknown role 'swtich'" swtich
expect 2 "unknown option '--bogus'" switch --bogus
expect 2 "--port 'a': missing '='" switch --port a
expect 2 "'ring0' is neither a PCI address" switch --port a=ring0 --port b=net_null1
expect 2 "needs at least two ports" switch --port a=net_null0
expect 2 "the name 'a' is used twice" switch --port a=net_null0 --port a=net_null1
# Ports from a device plugin's variable (the SR-IOV device plugin's PCIDEVICE_<RESOURCE>).
unset SPRAY_TEST_NO_VFS
export SPRAY_TEST_EMPTY_VFS= SPRAY_TEST_BAD_VFS=0000:3b:02.0,eth0
expect 2 "environment variable SPRAY_TEST_NO_VFS is not set" switch --port up=env:SPRAY_TEST_NO_VFS
expect 2 "environment variable SPRAY_TEST_EMPTY_VFS is empty" gen --port p=env:SPRAY_TEST_EMPTY_VFS \
  --ip 10.0.0.1/24 --peer 10.0.0.2
expect 2 "'eth0' is not a PCI address" respond --port p=env:SPRAY_TEST_BAD_VFS --ip 10.0.0.2/24
expect 2 "CPU 1000 does not exist" switch "${two[@]}" --lcores 1000
expect 2 "'x' is not a CPU list" switch "${two[@]}" --lcores x
expect 2 "--config '/nonexistent.ini'" switch --config /nonexistent.ini
expect 2 "--config:" switch --config "$tmp/broken.ini"
expect 2 "VLAN '4095' is not in 1..4094" switch "${two[@]}" --vlan a=access:4095
expect 2 "'many'" switch "${two[@]}" --fdb-size many
expect 2 "'10.0.0.1/24' is not a network PREFIX/LEN" switch "${two[@]}" --interface a=10.0.0.1/24 \
  --route 10.0.0.1/24=10.0.0.2
expect 2 "next hop 10.9.0.1 is not on any interface's subnet" switch "${two[@]}" --interface a=10.0.0.1/24 \
  --route 10.2.0.0/16=10.9.0.1
expect 2 "--shape '10Xbps': not a bit rate" switch "${two[@]}" --shape a=10Xbps
expect 2 "depth=0 is out of range" switch "${two[@]}" --shape a=1Gbps,depth=0
expect 2 "--interface 'nosuch=10.0.0.1/24': no port named 'nosuch'" switch "${two[@]}" --interface nosuch=10.0.0.1/24
expect 2 "prefix length 32" switch "${two[@]}" --interface a=10.0.0.1/32
expect 1 "no driver 'net_nosuch'" switch --port a=net_nosuch0 --port b=net_null1
expect 1 "port 'a' (net_pcap0,rx_pcap=/nonexistent.pcap" switch --port a=net_pcap0,rx_pcap=/nonexistent.pcap --port b=net_null1
expect 1 "no DPDK port at this PCI address" switch --port a=0000:7f:1f.7 --port b=net_null1
expect 1 "EAL initialisation failed" switch "${two[@]}" --eal --no-such-eal-flag

g=(--port p=net_null0 --ip 10.0.0.1/24)
expect 2 "needs --peer ADDR" gen "${g[@]}"
expect 2 "--peer '10.0.0.300': not an IPv4 address" gen "${g[@]}" --peer 10.0.0.300
expect 2 "is this host's own address" gen "${g[@]}" --peer 10.0.0.1
expect 2 "--ip '10.0.0.1': expected ADDR/LEN" gen --port p=net_null0 --ip 10.0.0.1 --peer 10.0.0.2
expect 2 "--udp-port 70000: expected 1..65535" gen "${g[@]}" --peer 10.0.0.2 --udp-port 70000
expect 2 "--udp-port 49160 lies inside the source port range" gen "${g[@]}" --peer 10.0.0.2 --udp-port 49160
expect 2 "--paths 0: expected 1..256" gen "${g[@]}" --peer 10.0.0.2 --paths 0
expect 2 "--size '99999999': size 99999999 is outside 16..67108864" gen "${g[@]}" --peer 10.0.0.2 --size 99999999
expect 2 "at least 16" gen "${g[@]}" --peer 10.0.0.2 --size 8
expect 2 "--rate 'fast'" gen "${g[@]}" --peer 10.0.0.2 --rate fast
expect 2 "exclude each other" gen "${g[@]}" --peer 10.0.0.2 --rate 1000 --outstanding 4
expect 2 "--reply-size 'big'" respond --port p=net_null0 --ip 10.0.0.2/24 --reply-size big
expect 2 "give one address per port" respond --port p=net_null0 --port q=net_null1 --ip 10.0.0.2/24
expect 1 "no ARP answer from 10.0.0.2 on port 'p' within 0.5 s" gen "${g[@]}" --peer 10.0.0.2 --arp-timeout 0.5
expect 2 "--mtu 9001: expected 576..9000" gen "${g[@]}" --peer 10.0.0.2 --mtu 9001
expect 2 "--mtu 100: expected 576..9000" respond --port p=net_null0 --ip 10.0.0.2/24 --mtu 100
# Only the port can tell (exit 1): memif buffers smaller than a 9000-byte
# frame. The server's socket, created before the check, is gone after it.
expect 1 "--mtu 9000: net_memif takes an MTU of at most 2034 with buffers of bsize=2048 bytes; give bsize=9216" \
  respond --port "m=net_memif0,role=server,socket=$tmp/mtu.sock,socket-abstract=no" --ip 10.0.0.2/24 --mtu 9000
if [[ -e $tmp/mtu.sock ]]; then
  failures=$((failures + 1))
  echo "FAIL: spray respond left its memif socket behind after refusing --mtu 9000"
fi
expect 0 "more than the link's" gen --local-responder --ip 10.0.0.1/24 --peer 10.0.0.2 --rate 50Gbps --size 1400 \
  --link-rate 1 --warmup 0 --duration 0.5

expect 2 "--spines 1: expected a spine count in 2..16" demo --spines 1
expect 2 "--paths 1: expected a path count in 2..256" demo --paths 1
expect 2 "--loss 2: expected a loss fraction in 0..0.5" demo --loss 2
expect 2 "--fail-at 100" demo --duration 10 --fail-at 100
expect 2 "give no --port" demo --port a=net_null0
expect 2 "--compare 'maybe': expected yes or no" demo --compare maybe
expect 2 "--mtu 9001: expected an IP MTU in 576..9000" demo --mtu 9001

# spray sim: a scenario key, its value and what it accepts, from a file or an option.
extra=()
printf '[fabric]\ntopology = torus\n' >"$tmp/torus.ini"
printf '[transport]\npaths = 4\nwindow = 0\n' >"$tmp/window.ini"
expect 2 "torus.ini:2: fabric.topology = 'torus': expected fat-tree or leaf-spine" sim "$tmp/torus.ini"
expect 2 "window.ini:3: transport.window = '0': expected a whole number 1..1024" sim --scenario "$tmp/window.ini"
expect 2 "--paths: transport.paths = '300': expected a whole number 1..256" sim --paths 300
expect 2 "unknown key 'run.speed'; expected one of" sim --set run.speed=3
expect 2 "'tor0' and 'core0' are not neighbours" sim --k 4 --fault '10us link-down tor0-core0'
expect 2 "traffic.matrix = '/nonexistent.cm': cannot be read" sim --matrix /nonexistent.cm
expect 2 "fabric.nodes = 17: expected at most 16 for k = 4" sim --k 4 --nodes 17
expect 2 "unknown option '--bogus'" sim --bogus

echo "$((cases - failures)) passed, $failures failed"
((failures == 0))
