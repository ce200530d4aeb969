#!/usr/bin/env bash
# Bad input to the spray binary: each case must print one line naming the bad
# value, exit 2 (usage) or 1 (runtime), and never die of a signal.
# usage: bad_input.sh SPRAY_BINARY
set -uo pipefail
spray=$1
tmp=$(mktemp -d /tmp/spray-bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'port = a=net_null0\n[broken\n' >"$tmp/broken.ini"
failures=0 cases=0

# expect EXIT_CODE SUBSTRING ARGS...
expect() {
  local want=$1 needle=$2
  shift 2
  cases=$((cases + 1))
  local out rc
  out=$(timeout 30 "$spray" "$@" --stats-period 0 2>&1)
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
expect 2 "CPU 1000 does not exist" switch "${two[@]}" --lcores 1000
expect 2 "'x' is not a CPU list" switch "${two[@]}" --lcores x
expect 2 "--config '/nonexistent.ini'" switch --config /nonexistent.ini
expect 2 "--config:" switch --config "$tmp/broken.ini"
expect 2 "VLAN '4095' is not in 1..4094" switch "${two[@]}" --vlan a=access:4095
expect 2 "'many'" switch "${two[@]}" --fdb-size many
expect 1 "no driver 'net_nosuch'" switch --port a=net_nosuch0 --port b=net_null1
expect 1 "port 'a' (net_pcap0,rx_pcap=/nonexistent.pcap" switch --port a=net_pcap0,rx_pcap=/nonexistent.pcap --port b=net_null1
expect 1 "no DPDK port at this PCI address" switch --port a=0000:7f:1f.7 --port b=net_null1
expect 1 "EAL initialisation failed" switch "${two[@]}" --eal --no-such-eal-flag

echo "$((cases - failures)) passed, $failures failed"
((failures == 0))
