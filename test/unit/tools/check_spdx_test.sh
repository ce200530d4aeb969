#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/check-spdx.sh against a scratch tree: files with the licence line
# pass; a source file without it fails, named, while documentation, JSON and
# fuzz corpus files are left alone; --fix inserts the line (after a "#!"
# line, in the file's comment syntax) and the tree then passes.
# usage: check_spdx_test.sh PATH/TO/check-spdx.sh
set -uo pipefail
check=${1:?usage: check_spdx_test.sh CHECK_SPDX_SCRIPT}
tmp=$(mktemp -d /tmp/spray-check-spdx.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
id='SPDX-License-Identifier: BSD-3-Clause'

t=$tmp/tree
mkdir -p "$t/lib" "$t/drivers" "$t/tools" "$t/test/fuzz/corpus/x" "$t/doc"
printf '// %s\n// A unit.\nint f();\n' "$id" >"$t/lib/good.cpp"
printf '/* %s */\n#pragma once\n' "$id" >"$t/drivers/good.h"
printf '#!/bin/sh\n# %s\necho hi\n' "$id" >"$t/tools/good.sh"
printf '#pragma once\nint g();\n' >"$t/lib/bad.h"
printf "project('x')\n" >"$t/meson.build"
printf '#!/usr/bin/env python3\nprint(1)\n' >"$t/tools/bad.py"
printf -- '-- a dissector\n' >"$t/tools/bad.lua"
printf '{"a": 1}\n' >"$t/doc/data.json"
printf '# Title\n' >"$t/doc/page.md"
printf 'binary\n' >"$t/test/fuzz/corpus/x/seed.cpp"

out=$("$check" "$t" 2>&1); rc=$?
[[ $rc -eq 1 ]] || fail "exit $rc with files lacking the line, expected 1: $out"
for f in lib/bad.h meson.build tools/bad.py tools/bad.lua; do
  grep -q "check-spdx: $f: no" <<<"$out" || fail "$f not named in: $out"
done
for f in good.cpp good.h good.sh data.json page.md seed.cpp; do
  grep -q "$f" <<<"$out" && fail "$f named, but it has the line or is not a source file: $out"
done
grep -q "4 of 7 source files lack it" <<<"$out" || fail "wrong tally in: $out"
echo "ok: files without the line fail, named; others are left alone"

"$check" --fix "$t" >/dev/null || fail "--fix exited $?"
[[ $(head -1 "$t/lib/bad.h") == "// $id" ]] || fail "bad.h after --fix: $(head -2 "$t/lib/bad.h")"
[[ $(head -1 "$t/meson.build") == "# $id" ]] || fail "meson.build after --fix: $(head -2 "$t/meson.build")"
[[ $(head -1 "$t/tools/bad.py") == '#!/usr/bin/env python3' && $(sed -n 2p "$t/tools/bad.py") == "# $id" ]] ||
  fail "bad.py after --fix: $(head -3 "$t/tools/bad.py")"
[[ $(head -1 "$t/tools/bad.lua") == "-- $id" ]] || fail "bad.lua after --fix: $(head -2 "$t/tools/bad.lua")"
[[ $(sed -n 2p "$t/lib/bad.h") == '#pragma once' ]] || fail "bad.h lost its first line: $(head -3 "$t/lib/bad.h")"
[[ $(head -1 "$t/doc/data.json") == '{"a": 1}' ]] || fail "--fix touched data.json"
out=$("$check" "$t" 2>&1) || fail "still failing after --fix: $out"
echo "ok: --fix inserts the line in each file's syntax and the tree passes"
