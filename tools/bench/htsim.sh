# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shared by tools/bench/sim-vs-htsim.sh and test/sim/htsim_compare.sh
# (sourced): building htsim from its source tree.

# htsim_build SRC WORK: builds htsim_ndp from SRC (the directory holding
# sim/, as in csg-htsim's repository) into WORK/sim, logging to
# WORK/make.log; prints nothing, returns non-zero when it does not build.
# The build runs in a scratch copy because the source tree may be
# read-only and its objects are not ours to leave. A binary already in
# WORK is reused while SRC's sources are unchanged (names, sizes and
# times): a build takes minutes on a shared 2-core machine, a run seconds.
htsim_build() {
  local src=$1 work=$2 stamp
  [[ -f $src/sim/Makefile ]] || { echo "no sim/Makefile in '$src'" >"$work/make.log"; return 1; }
  stamp=$(cd "$src/sim" && find . -type f \( -name '*.cpp' -o -name '*.h' -o -name 'Makefile*' \) \
    -printf '%p %s %T@\n' | LC_ALL=C sort | cksum)
  [[ -x $work/sim/datacenter/htsim_ndp && $(cat "$work/sim/.spray-stamp" 2>/dev/null) == "$stamp" ]] && return 0
  rm -rf "$work/sim"
  cp -r "$src/sim" "$work/sim" && chmod -R u+w "$work/sim" || return 1
  # Niced: the machines this runs on are shared.
  (cd "$work/sim" && nice -n 19 make -j"${HTSIM_JOBS:-2}" libhtsim.a >"$work/make.log" 2>&1 &&
    nice -n 19 make -j"${HTSIM_JOBS:-2}" -C datacenter htsim_ndp >>"$work/make.log" 2>&1) || return 1
  echo "$stamp" >"$work/sim/.spray-stamp"
}
