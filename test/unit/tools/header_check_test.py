#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The header self-containment check (tools/header-check) bites.

1. Every header under lib/, drivers/ and app/ has its translation unit in
   the build (compile_commands.json), so none escapes the check; a header
   added since meson last configured is named.
2. The compile command the build uses for a header's unit, given a unit made
   from the same template for a scratch header that uses std::vector without
   including <vector>, fails; the same header with the include compiles.
   So the check fails the build on a header that is not self-contained, and
   the failure is the header's and not the command's.

usage: header_check_test.py SOURCE_ROOT BUILD_DIR
"""
import json
import re
import os
import shlex
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, build = sys.argv[1], sys.argv[2]
    headers = []
    for top in ("lib", "drivers", "app"):
        for d, _, files in os.walk(os.path.join(src, top)):
            headers += [os.path.relpath(os.path.join(d, f), src) for f in files if f.endswith(".h")]
    headers.sort()
    if len(headers) < 10:
        fail(f"found only {len(headers)} headers under {src}; is it the source root?")

    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    units = {}
    for c in commands:
        name = os.path.basename(c["file"])
        if "header-check" in c["file"] and name.endswith("_h.cpp"):
            units[name] = c
    missing = [h for h in headers if re.sub(r"[^A-Za-z0-9]", "_", h) + ".cpp" not in units]
    if missing:
        fail("no self-containment check for: " + ", ".join(missing) +
             " (new since meson configured? run meson setup --reconfigure)")
    print(f"ok: all {len(headers)} headers have a unit in the build")

    template = open(os.path.join(src, "tools", "header-check", "header.cpp.in")).read()
    if "@HEADER@" not in template:
        fail("the template names no @HEADER@")
    model = units.get("lib_wire_checksum_h.cpp")
    if model is None:
        fail("no unit for lib/wire/checksum.h to take the compile command from")
    args = shlex.split(model["command"])
    with tempfile.TemporaryDirectory(prefix="spray-header-check.") as tmp:
        def compile_with(body):
            with open(os.path.join(tmp, "scratch.h"), "w") as f:
                f.write("#pragma once\n" + body + "\ninline std::vector<int> three() { return {1, 2, 3}; }\n")
            unit = os.path.join(tmp, "scratch_h.cpp")
            with open(unit, "w") as f:
                f.write(template.replace("@HEADER@", "scratch.h"))
            cmd, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-MQ", "-MF", "-c"):
                    skip = True
                    continue
                if a == "-MD" or a == model["file"] or a.endswith("lib_wire_checksum_h.cpp"):
                    continue
                cmd.append(a)
            cmd += ["-I", tmp, "-o", os.path.join(tmp, "scratch.o"), "-c", unit]
            r = subprocess.run(cmd, cwd=model["directory"], capture_output=True, text=True)
            return r.returncode, r.stderr

        rc, err = compile_with("")
        if rc == 0:
            fail("a header using std::vector without <vector> compiled on its own")
        if "vector" not in err:
            fail("the failure does not name what is missing: " + err[:500])
        print("ok: a header that is not self-contained fails to compile")
        rc, err = compile_with("#include <vector>")
        if rc != 0:
            fail("the same header with its include failed too, so the command is at fault: " + err[:500])
        print("ok: with its include it compiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
