#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/check-patches.sh against a scratch repository: a commit that keeps
# the rules passes; each broken rule fails and is named; a merge is not
# checked; a directory that is not a git checkout is a skip (77).
# usage: check_patches_test.sh PATH/TO/check-patches.sh
set -uo pipefail
check=${1:?usage: check_patches_test.sh CHECK_PATCHES_SCRIPT}
tmp=$(mktemp -d /tmp/spray-check-patches.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
g() { git -C "$tmp/r" -c user.name=t -c user.email=t@example.org "$@" >/dev/null; }

mkdir -p "$tmp/r/tools" "$tmp/plain"
g init -q -b main
cp "$check" "$tmp/r/tools/check-patches.sh"
g add . && g commit -q -m "tools: check commit messages" -m "The rules in one place."
commit() { echo "$RANDOM" >>"$tmp/r/${file:-f}"; g add .; g commit -q "$@"; }
expect() {  # expect RC PATTERN: the checker's exit status and a line of its output
  local out rc
  out=$("$tmp/r/tools/check-patches.sh" "$tmp/r" 2>&1); rc=$?
  [[ $rc -eq $1 ]] || fail "exit $rc, expected $1; output: $out"
  grep -q -- "$2" <<<"$out" || fail "no line matching '$2' in: $out"
}

commit -m "srd: a good subject" -m "Why it is good."
expect 0 "2 commit(s)"
echo "ok: rules kept pass"

commit -m "srd: $(printf 'x%.0s' {1..70})" -m "Why."
expect 1 "subject is 75 characters; at most 72"
g reset -q --hard HEAD~1
commit -m "No area prefix here" -m "Why."
expect 1 "no 'area: ' prefix"
g reset -q --hard HEAD~1
commit -m "srd: no body"
expect 1 "no body"
g reset -q --hard HEAD~1
echo "ok: each broken rule fails, named"

g checkout -q -b side && file=g commit -m "tor: on a branch" -m "Why." && g checkout -q main
commit -m "doc/transport.md: on main" -m "Why."
g merge -q --no-ff side -m "Merge branch 'side'" || fail "the scratch merge did not go through"
expect 0 "4 commit(s)"
echo "ok: a merge is not checked"

"$tmp/r/tools/check-patches.sh" "$tmp/plain" >/dev/null 2>&1; rc=$?
[[ $rc -eq 77 ]] || fail "a directory without git history: exit $rc, expected 77"
echo "ok: not a git checkout: skipped (77)"
echo "1 passed, 0 failed"
