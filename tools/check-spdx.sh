#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Checks that every source file of the project names its licence first: a
# line "SPDX-License-Identifier: BSD-3-Clause" (the licence of LICENSE and
# meson.build) as the first line, or the second after a "#!" line, in the
# file's own comment syntax (doc/conventions.md, "Headers and comments").
#
# Source files: C and C++ (.cpp, .h, .c, .in templates), meson.build and
# meson_options.txt, shell, Python and Lua, the Containerfile, and any other
# file that starts with "#!". Not checked: documentation, configuration
# samples and manifests (.ini, .yaml, .yml), JSON, test data (the fuzz corpus,
# expected outputs), dotfiles and LICENSE itself.
#
# usage: tools/check-spdx.sh [--fix] [REPO_DIR]
#   Exit 0 when every source file has the line, 1 naming each that lacks it,
#   2 on bad usage. --fix inserts the line where it is missing (after a "#!"
#   line, else first) and names what it changed.
set -uo pipefail

fix=0
if [[ ${1:-} == --fix ]]; then fix=1; shift; fi
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
[[ -d $repo ]] || { echo "check-spdx: '$repo' is not a directory; expected the repository's top" >&2; exit 2; }
cd "$repo" || exit 2

readonly id='SPDX-License-Identifier: BSD-3-Clause'

# Tracked and new (not ignored) files in a checkout; every file otherwise
# (a source tarball), minus the build directories.
list_files() {
  if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard
  else
    find . -type f ! -path './build*' ! -path './.git/*' | sed 's#^\./##'
  fi
}

# The comment leader a file's language uses, or nothing when the file is not
# a source file.
leader() {
  local f=$1
  case $f in
    test/fuzz/corpus/*) return ;;
    *.cpp | *.h | *.c | *.cpp.in | *.h.in) echo '//' ;;
    *.lua) echo '--' ;;
    *.sh | *.py | meson.build | */meson.build | meson_options.txt | Containerfile | */Containerfile) echo '#' ;;
    *) [[ $(head -c 2 "$f" 2>/dev/null) == '#!' ]] && echo '#' ;;
  esac
}

# True when the first line, or the second after "#!", carries the identifier
# in any comment form (drivers/ write it as C's /* ... */, as DPDK does).
has_id() {
  local f=$1 first second
  { IFS= read -r first; IFS= read -r second; } <"$f"
  [[ $first =~ ^(//|#|--|/\*)\ $id(\ \*/)?$ ]] && return 0
  [[ $first == '#!'* && $second =~ ^(//|#|--|/\*)\ $id(\ \*/)?$ ]]
}

missing=() n=0
while IFS= read -r f; do
  [[ -f $f ]] || continue
  l=$(leader "$f")
  [[ -n $l ]] || continue
  n=$((n + 1))
  has_id "$f" && continue
  if ((fix)); then
    line="$l $id"
    if [[ ! -s $f ]]; then
      echo "$line" >"$f"
    elif [[ $(head -c 2 "$f") == '#!' ]]; then
      sed -i "1a\\$line" "$f"
    else
      sed -i "1i\\$line" "$f"
    fi
    echo "check-spdx: added to $f"
  else
    missing+=("$f")
  fi
done < <(list_files | LC_ALL=C sort)

if ((${#missing[@]})); then
  for f in "${missing[@]}"; do echo "check-spdx: $f: no '$id' line first"; done
  echo "check-spdx: ${#missing[@]} of $n source files lack it; tools/check-spdx.sh --fix adds it"
  exit 1
fi
echo "check-spdx: $n source files name their licence"
