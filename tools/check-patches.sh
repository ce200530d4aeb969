#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Checks commit messages against the house rules (doc/conventions.md,
# "Commits"): a subject of at most 72 characters that starts with an area
# prefix ("srd: ...", "tor, doc: ..."), and a body that says why.
# Merge commits are not checked, nor commits older than the one that added
# this script: the rules hold from there on.
#
# usage: tools/check-patches.sh [REPO_DIR] [RANGE]
#   RANGE defaults to the commits since the last tag, or the last 20 when
#   there is no tag. Exit 0 when every commit passes, 1 naming each commit
#   and rule that failed, 2 on bad usage, 77 (meson's "skipped") when
#   REPO_DIR is not a git checkout (a source tarball has no history).
set -uo pipefail

repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
range=${2:-}
[[ -d $repo ]] || { echo "check-patches: '$repo' is not a directory; expected the repository's top" >&2; exit 2; }
if ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  echo "check-patches: $repo is not a git checkout: no commits to check"
  exit 77
fi
if [[ -z $range ]]; then
  if tag=$(git -C "$repo" describe --tags --abbrev=0 2>/dev/null); then
    range="$tag..HEAD"
  else
    range="HEAD~20..HEAD"
    # Fewer than 21 commits (or a shallow clone): all that are there.
    git -C "$repo" rev-parse -q --verify "HEAD~20" >/dev/null || range=HEAD
  fi
fi
since=()
origin=$(git -C "$repo" log --diff-filter=A --format=%H -- tools/check-patches.sh 2>/dev/null | tail -1)
if [[ -n $origin ]] && git -C "$repo" rev-parse -q --verify "$origin^" >/dev/null; then
  since=("^$origin^")
fi
commits=$(git -C "$repo" rev-list --no-merges "$range" "${since[@]}" 2>/dev/null) ||
  { echo "check-patches: '$range' is not a revision range of $repo" >&2; exit 2; }

subject_re='^[a-z0-9][a-z0-9/_.+-]*(, ?[a-z0-9][a-z0-9/_.+-]*)*: [^ ]'
bad=0 n=0
for c in $commits; do
  n=$((n + 1))
  subject=$(git -C "$repo" log -1 --format=%s "$c")
  body=$(git -C "$repo" log -1 --format=%b "$c" | grep -v '^[[:space:]]*$' | grep -vi '^[a-z-]*-by: ')
  short=$(git -C "$repo" rev-parse --short "$c")
  if ((${#subject} > 72)); then
    echo "$short: subject is ${#subject} characters; at most 72: $subject"
    bad=1
  fi
  if ! [[ $subject =~ $subject_re ]]; then
    echo "$short: subject has no 'area: ' prefix (lower case, e.g. 'srd: ', 'tor, doc: '): $subject"
    bad=1
  fi
  if [[ -z $body ]]; then
    echo "$short: no body; say why the change is made (and its measured effect): $subject"
    bad=1
  fi
done
if ((bad)); then
  echo "check-patches: commits in $range break the rules above"
  exit 1
fi
echo "check-patches: $n commit(s) in $range pass"
