#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One command from a fresh Debian 12 (as root) to a built spray:
#   tools/setup.sh            install the packages, configure and build
#   tools/setup.sh --run      ... then run the main job: spray demo (a leaf-spine fabric in one process)
#   tools/setup.sh --test     ... then run the whole test suite, and the unit and
#                             sim suites again under AddressSanitizer and
#                             UndefinedBehaviorSanitizer (in BUILD_DIR-asan)
# Idempotent: packages already present are not reinstalled, an existing build
# directory is reused. BUILD_DIR (default: build) chooses the build directory.
# With CI=true, warnings are errors.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
mode=build
case "${1:-}" in
  "") ;;
  --run) mode=run ;;
  --test) mode=test ;;
  -h|--help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown argument '$1'; expected --run, --test or nothing" >&2; exit 2 ;;
esac

# Build and run-time dependencies, each a Debian 12 package.
packages=(
  meson ninja-build pkg-config g++ git
  libdpdk-dev dpdk-dev liburing-dev libboost-program-options-dev prometheus-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
)
# What the tests start or call: namespaces, ping, iperf3, a real Prometheus
# server and promtool, curl, tshark (the dissector test), clang for fuzzing,
# nftables (random loss on the kernel path beside kernel TCP), python3-matplotlib
# (spray sim --plot, test/sim/sim_plot.sh), ethtool
# (checksum offload off on the fabric lab's kernel hosts), python3-yaml
# (deploy/check.py reads kustomize's output), QEMU and a static busybox for
# the guests of test/smoke/real_vms.sh (about 18 MB to download without
# recommends; the guests' kernel is not installed: that test fetches Debian's
# image with apt-get download into the build directory). deploy/check.py also
# needs kubectl, which Debian 12 does not package in a version with kustomize v5.
test_packages=(iproute2 iputils-ping iperf3 python3 python3-yaml python3-matplotlib prometheus curl clang libclang-rt-14-dev tshark nftables
  ethtool qemu-system-x86 busybox-static)
[[ $mode != build ]] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages: ${missing[*]}; run as root, or apt-get install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages with a daemon (prometheus) must not start it: the tests start
  # their own instances, on ports of their choosing.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((added_policy)); then rm -f "$policy"; fi
fi

werror=false
[[ ${CI:-} == true ]] && werror=true
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$here" -Dwerror=$werror
else
  meson configure "$build" -Dwerror=$werror >/dev/null
fi
ninja -C "$build" -j "${JOBS:-2}"

if [[ $mode == test ]]; then
  # The sanitizer build holds only what the unit and sim suites run: the rest
  # (DPDK drivers, the app) would add build time for suites that do not run
  # there. b_lundef=false as meson advises with b_sanitize: a shared object may
  # leave the sanitizer runtime's symbols to the executable (clang links the
  # runtime only there).
  asan=$build-asan
  asan_opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=$werror)
  if [[ ! -f $asan/build.ninja ]]; then
    meson setup "$asan" "$here" "${asan_opts[@]}"
  else
    meson configure "$asan" "${asan_opts[@]}" >/dev/null
  fi
  # Regenerate first if meson.build changed, so the test list read below is current.
  ninja -C "$asan" build.ninja >/dev/null
  asan_targets=$(meson introspect "$asan" --tests --targets | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
files = {t["id"]: t["filename"] for t in d["targets"]}
out = set()
for t in d["tests"]:
    if any(s.split(":")[-1] in ("unit", "sim") for s in t["suite"]):
        for dep in t["depends"]:
            out.update(os.path.relpath(f, sys.argv[1]) for f in files[dep])
print("\n".join(sorted(out)))
' "$asan")
  if [[ -z $asan_targets ]]; then
    echo "setup.sh: $asan lists no test of the unit or sim suite; expected their executables" >&2
    exit 1
  fi
  mapfile -t asan_targets <<<"$asan_targets"
  ninja -C "$asan" -j "${JOBS:-2}" "${asan_targets[@]}"
  export ASAN_BUILD_DIR=$asan
fi

case $mode in
  run) exec "$build/app/spray/spray" demo ;;
  test) exec "$here/tools/run-tests.sh" "$build" ;;
esac
