#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Figures from `spray sim --json` results (doc/simulator.md).

usage: tools/sim-plot.py OUTDIR RESULT.json [RESULT.json ...]
       tools/sim-plot.py --vs-htsim TABLE.md OUT.png

Writes PNG files into OUTDIR (created if needed):
  fct_cdf.png        CDF of flow completion times (of messages for a
                     training run), one curve per result
  util_tiers.png     mean and max link utilisation per tier, per result
  fct_vs_paths.png   mean and p99 FCT against paths per connection, one
                     line per load-balancing mode: only when the results
                     are a sweep (two or more numbers of paths)
  step_times.png     step time of each iteration, per result: only for
                     training runs

With --vs-htsim it draws one figure, OUT.png: mean FCT against paths
from the Markdown table tools/bench/sim-vs-htsim.sh prints, one line per
simulator per fabric size.

`spray sim --plot DIR` calls this with its own result. Needs
python3-matplotlib; exits 2 on bad arguments, 1 when matplotlib is missing
or a file cannot be read.
"""
import argparse
import json
import os
import sys


def label(r):
    return f"{r.get('lb', 'spray')} P={r['paths']} seed={r['seed']}"


def load_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("sim-plot.py: matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return None


def vs_htsim(argv):
    ap = argparse.ArgumentParser(
        prog="sim-plot.py --vs-htsim",
        description="mean FCT against paths, htsim NDP beside spray SRD, from sim-vs-htsim.sh's table")
    ap.add_argument("table", metavar="TABLE.md")
    ap.add_argument("out", metavar="OUT.png")
    a = ap.parse_args(argv)
    # Columns found by their header, so that a table with more columns still reads.
    want = {"nodes": None, "paths": None, "htsim NDP mean FCT (us)": None, "spray SRD mean FCT (us)": None}
    rows = []
    try:
        with open(a.table) as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if not line.startswith("|") or set(line.strip()) <= set("|-"):
                    continue
                if "nodes" in cells:
                    for k in want:
                        want[k] = cells.index(k) if k in cells else None
                    continue
                if None in want.values():
                    break
                rows.append(cells)
    except OSError as e:
        print(f"sim-plot.py: {a.table}: {e}", file=sys.stderr)
        return 1
    if None in want.values() or not rows:
        print(f"sim-plot.py: {a.table}: no sim-vs-htsim.sh table there", file=sys.stderr)
        return 1
    plt = load_matplotlib()
    if plt is None:
        return 1
    curves = {}  # (simulator, nodes) -> [(paths, mean FCT)]
    for c in rows:
        n, p = int(c[want["nodes"]]), int(c[want["paths"]])
        for sim, col in (("htsim NDP", "htsim NDP mean FCT (us)"), ("spray SRD", "spray SRD mean FCT (us)")):
            try:
                curves.setdefault((sim, n), []).append((p, float(c[want[col]])))
            except ValueError:
                pass  # "-": that run finished no flow
    fig, ax = plt.subplots(figsize=(6.4, 4))
    sizes = sorted({n for _, n in curves})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (sim, n), pts in sorted(curves.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        pts.sort()
        ax.plot([p for p, _ in pts], [v for _, v in pts], "o-" if sim.startswith("spray") else "s--",
                color=colours[sizes.index(n) % len(colours)], markersize=4, label=f"{sim}, {n} nodes")
    # The floor: 2 MB at 100 Gbit/s, before any path delay.
    ax.axhline(160, color="grey", linestyle=":", linewidth=1)
    ax.text(1, 165, "2 MB at line rate", fontsize=7, color="grey")
    ax.set_xscale("log", base=2)
    ticks = sorted({p for pts in curves.values() for p, _ in pts})
    ax.set_xticks(ticks, [str(p) for p in ticks])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("paths per flow")
    ax.set_ylabel("mean flow completion time (us)")
    ax.set_title("permutation of 2 MB flows, 3-tier fat tree, 100 Gbit/s, MTU 4000", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    plt.close(fig)
    print(a.out)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--vs-htsim":
        return vs_htsim(sys.argv[2:])
    ap = argparse.ArgumentParser(
        description="PNG figures from spray sim --json results: FCT CDF, utilisation per tier, "
        "FCT vs paths (a sweep), step times (training).")
    ap.add_argument("outdir")
    ap.add_argument("results", nargs="+", metavar="RESULT.json")
    a = ap.parse_args()
    plt = load_matplotlib()
    if plt is None:
        return 1
    runs = []
    for path in a.results:
        try:
            with open(path) as f:
                runs.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"sim-plot.py: {path}: {e}", file=sys.stderr)
            return 1
    os.makedirs(a.outdir, exist_ok=True)
    written = []

    def save(fig, name):
        path = os.path.join(a.outdir, name)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    # CDF of completion times: the JSON carries 1,001 quantiles.
    fig, ax = plt.subplots(figsize=(7, 4.5))
    training = any("training" in r for r in runs)
    for r in runs:
        q = r.get("fct_cdf_us", [])
        if q:
            ax.plot(q, [i / (len(q) - 1) for i in range(len(q))], label=label(r))
    ax.set_xlabel(("message" if training else "flow") + " completion time (us)")
    ax.set_ylabel("fraction")
    ax.set_title(runs[0]["topology"], fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, "fct_cdf.png")

    # Utilisation per tier: mean bars with the max as a marker.
    fig, ax = plt.subplots(figsize=(7, 4.5))
    tiers = [t["tier"] for t in runs[0]["tiers"]]
    width = 0.8 / len(runs)
    for i, r in enumerate(runs):
        xs = [j + i * width for j in range(len(r["tiers"]))]
        ax.bar(xs, [t["mean_util"] for t in r["tiers"]], width, label=label(r) + " mean")
        ax.plot(xs, [t["max_util"] for t in r["tiers"]], "k_", markersize=12)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(tiers))], tiers)
    ax.set_ylabel("link utilisation (bars: mean, dashes: max)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, "util_tiers.png")

    # A sweep over paths: mean and p99 FCT per load-balancing mode.
    if len({r["paths"] for r in runs}) > 1:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        by_lb = {}
        for r in runs:
            by_lb.setdefault(r.get("lb", "spray"), []).append(r)
        for lb, rs in sorted(by_lb.items()):
            rs.sort(key=lambda r: r["paths"])
            ps = [r["paths"] for r in rs]
            ax.plot(ps, [r["fct_us"]["mean"] for r in rs], "o-", label=f"{lb} mean")
            ax.plot(ps, [r["fct_us"]["p99"] for r in rs], "s--", label=f"{lb} p99")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("paths per connection")
        ax.set_ylabel("completion time (us)")
        ax.set_title(runs[0]["topology"], fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        save(fig, "fct_vs_paths.png")

    if training:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for r in runs:
            steps = r.get("training", {}).get("step_us", {}).get("each", [])
            if steps:
                ax.plot(range(1, len(steps) + 1), steps, "o-", label=label(r))
        ax.set_xlabel("iteration")
        ax.set_ylabel("step time (us)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        save(fig, "step_times.png")

    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
