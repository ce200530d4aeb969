#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Metric names that Grafana dashboards and Prometheus rules refer to.

  dashboard_names.py names FILE...            print the spray_* names the
                                              PromQL in FILEs (dashboard JSON
                                              or rule YAML) refers to
  dashboard_names.py check SCRAPE FILE...     fail unless every such name is
                                              a sample name in SCRAPE (text
                                              exposition of a real /metrics;
                                              several, comma-separated, are
                                              united)
  dashboard_names.py same LIST FILE...        fail unless LIST (one name a
                                              line, # comments) holds exactly
                                              the names FILEs refer to

A histogram is referred to by its series (`x_bucket`, `x_sum`, `x_count`),
which is what a scrape shows, so names are compared as written.
"""
import json
import re
import sys

NAME = re.compile(r"\bspray_[a-z0-9_]+\b")


def exprs_of_dashboard(d):
    out = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("expr", "query", "definition") and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(d)
    return out


def exprs_of_rules(text):
    # Rule files are YAML; every `expr:` value (single or block) is PromQL.
    out, block, indent = [], None, 0
    for line in text.splitlines():
        if block is not None:
            if line.strip() and (len(line) - len(line.lstrip())) > indent:
                block.append(line.strip())
                continue
            out.append(" ".join(block))
            block = None
        m = re.match(r"^(\s*)(?:- )?expr:\s*(.*)$", line)
        if m:
            if m.group(2).strip() in ("|", ">", "|-", ">-"):
                block, indent = [], len(m.group(1))
            else:
                out.append(m.group(2))
    if block is not None:
        out.append(" ".join(block))
    return out


def names_in(files):
    names = {}
    for f in files:
        text = open(f).read()
        exprs = exprs_of_dashboard(json.loads(text)) if f.endswith(".json") else exprs_of_rules(text)
        if not exprs:
            sys.exit(f"{f}: no PromQL expression found")
        for e in exprs:
            for n in NAME.findall(e):
                names.setdefault(n, f)
    return names


def scraped(path):
    out = set()
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        out.add(re.split(r"[{ ]", line.strip(), maxsplit=1)[0])
    return out


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "names":
        for n in sorted(names_in(argv[2:])):
            print(n)
        return 0
    if cmd == "check":
        have = set().union(*(scraped(p) for p in argv[2].split(",")))
        want = names_in(argv[3:])
        missing = sorted(n for n in want if n not in have)
        for n in missing:
            print(f"{want[n]}: refers to {n}, which the scrape {argv[2]} does not have", file=sys.stderr)
        print(f"{len(want) - len(missing)} of {len(want)} metric names found in the scrape")
        return 1 if missing else 0
    if cmd == "same":
        listed = {l.strip() for l in open(argv[2]) if l.strip() and not l.startswith("#")}
        want = set(names_in(argv[3:]))
        ok = True
        for n in sorted(want - listed):
            print(f"{argv[2]}: lacks {n}, which the dashboards use", file=sys.stderr)
            ok = False
        for n in sorted(listed - want):
            print(f"{argv[2]}: lists {n}, which no dashboard uses", file=sys.stderr)
            ok = False
        print(f"{len(listed)} names listed, {len(want)} used")
        return 0 if ok else 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
