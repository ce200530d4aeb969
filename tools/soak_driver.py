#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Drives tools/soak.sh: changes a net_impair port's impairment at random
(seeded) every 1-2 s through the DPDK telemetry socket of the process that
owns it, scrapes every process's /metrics once a second and checks that no
*_total series goes backwards, and records each process's VmRSS after the
warm-up and at the end.

Exit 0 when every check held, 1 with a message naming the process, the
series or the figure otherwise. Writes a JSON summary to --report.
"""
import argparse
import json
import random
import socket
import sys
import time
import urllib.request

FLAP_MIN_MS, FLAP_MAX_MS = 10, 40
FLAP_LIMIT_MS = 80  # past this the transport may give up by design (100 ms)
CONTEXT_S = 3.0     # schedule shown before a failure
CLEAR = "link=up,loss=0,ge_p=0,ge_r=0,ge_loss=1,delay_us=0,jitter_us=0,reorder=0,reorder_depth=3"


class Telemetry:
    """One connection to a DPDK process's telemetry socket (v2)."""

    def __init__(self, prefix):
        path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        info = json.loads(self.sock.recv(1 << 16))
        self.max_len = info.get("max_output_len", 16384)

    def cmd(self, text):
        self.sock.send(text.encode())
        return json.loads(self.sock.recv(self.max_len))


def find_impair_port(tel):
    for port in range(32):
        r = tel.cmd(f"/impair/stats,{port}").get("/impair/stats")
        if isinstance(r, dict) and "rx_packets_in" in r:
            return port
    raise SystemExit("soak: no net_impair port answers /impair/stats in the switch process")


def pick_step(rng):
    """One spell of the schedule: (kind, params)."""
    kind = rng.choice(["clean", "loss", "burst", "delay", "reorder", "burst+delay", "flap", "flap"])
    if kind == "clean" or kind == "flap":
        return kind, CLEAR
    if kind == "loss":
        return kind, CLEAR + f",loss={rng.uniform(0.001, 0.03):.4f}"
    if kind == "burst":
        # Mean bad run 1/ge_r packets; time in bad state ge_p/(ge_p+ge_r).
        return kind, CLEAR + f",ge_p={rng.uniform(0.002, 0.02):.4f},ge_r={rng.uniform(0.2, 0.6):.3f}"
    if kind == "delay":
        d = rng.randint(20, 2000)
        return kind, CLEAR + f",delay_us={d},jitter_us={rng.randint(0, d // 2)}"
    if kind == "reorder":
        return kind, CLEAR + f",reorder={rng.uniform(0.01, 0.2):.3f},reorder_depth={rng.randint(1, 8)}"
    d = rng.randint(20, 1000)
    return kind, CLEAR + f",ge_p={rng.uniform(0.002, 0.01):.4f},ge_r={rng.uniform(0.3, 0.6):.3f}," \
                         f"delay_us={d},jitter_us={rng.randint(0, d // 4)}"


def set_impair(tel, port, params):
    r = tel.cmd(f"/impair/set,{port},{params}").get("/impair/set", {})
    if r.get("status") != "ok":
        raise SystemExit(f"soak: /impair/set,{port},{params} refused: {r}")


def scrape(url):
    with urllib.request.urlopen(f"http://{url}/metrics", timeout=2) as f:
        text = f.read().decode()
    series = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        key, _, value = line.rpartition(" ")
        name = key.split("{", 1)[0]
        if name.endswith("_total"):
            series[key] = float(value)
    return series


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"soak: no VmRSS for pid {pid}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schedule", choices=["random", "clean", "fixed"], default="random")
    ap.add_argument("--impair", default="", help="with --schedule fixed: net_impair parameters held all run")
    ap.add_argument("--impair-prefix", required=True)
    ap.add_argument("--proc", action="append", required=True, help="NAME:PID:HOST:PORT")
    ap.add_argument("--report", required=True)
    a = ap.parse_args()

    procs = []
    for p in a.proc:
        name, pid, url = p.split(":", 2)
        procs.append((name, int(pid), url))
    rng = random.Random(a.seed)
    tel = Telemetry(a.impair_prefix)
    port = find_impair_port(tel)

    last = {name: {} for name, _, _ in procs}
    rss = {name: {} for name, _, _ in procs}
    steps, flaps, longest_flap, scrapes = {}, 0, 0.0, 0
    timeline = []  # (seconds since start, what happened)
    start = time.monotonic()
    # Impairments stop a few seconds before gen's sending ends, so the last
    # messages complete on a clean link and the run ends with a clean drain.
    quiet_at = start + a.seconds - 3
    next_step = start + 1.0
    next_scrape = start
    warm_at = start + a.warmup
    problems = []

    def check_scrape():
        nonlocal scrapes
        for name, pid, url in procs:
            try:
                now = scrape(url)
            except OSError as e:
                problems.append(f"{name}: /metrics on {url} did not answer: {e}")
                continue
            t = time.monotonic() - start
            for key, v in now.items():
                prev = last[name].get(key)
                if prev is not None and v < prev:
                    problems.append(f"{name}: {key} went backwards: {prev:.0f} -> {v:.0f}")
                if "failed" in key.split("{", 1)[0] and v > (prev or 0):
                    # A failure of any kind: say when, and what the schedule
                    # did just before (the scrape is up to 1 s late).
                    before = [f"{et:7.2f} s  {what}" for et, what in timeline if t - CONTEXT_S - 1 <= et <= t]
                    problems.append(f"{name}: {key} rose from {prev or 0:.0f} to {v:.0f} by {t:.2f} s; "
                                    f"the schedule before it:\n    " + "\n    ".join(before or ["(nothing)"]))
                    timeline.append((t, f"{name}: {key} = {v:.0f}"))
            last[name].update(now)
        scrapes += 1

    while True:
        t = time.monotonic()
        if t >= quiet_at:
            break
        if t >= next_scrape:
            check_scrape()
            next_scrape += 1.0
        if t >= warm_at and not rss[procs[0][0]]:
            for name, pid, _ in procs:
                rss[name]["start"] = rss_kb(pid)
        if t >= next_step:
            if a.schedule == "random":
                kind, params = pick_step(rng)
            elif a.schedule == "fixed":
                kind, params = "fixed", CLEAR + "," + a.impair
            else:
                kind, params = "clean", CLEAR
            steps[kind] = steps.get(kind, 0) + 1
            set_impair(tel, port, params)
            timeline.append((time.monotonic() - start, f"{kind}: {params[len(CLEAR) + 1:] or '-'}"))
            if kind == "flap":
                down_ms = rng.randint(FLAP_MIN_MS, FLAP_MAX_MS)
                t0 = time.monotonic()
                set_impair(tel, port, "link=down")
                time.sleep(down_ms / 1000)
                set_impair(tel, port, "link=up")
                took = (time.monotonic() - t0) * 1000
                timeline.append((t0 - start, f"link down {down_ms} ms asked, {took:.1f} ms from down sent to up acknowledged"))
                flaps += 1
                longest_flap = max(longest_flap, took)
                if took > FLAP_LIMIT_MS:
                    problems.append(f"a {down_ms} ms link flap took {took:.1f} ms on this machine "
                                    f"(limit {FLAP_LIMIT_MS} ms, the transport gives up at 100 ms); "
                                    "the run does not test what it should")
            next_step = time.monotonic() + rng.uniform(1.0, 2.0)
        if problems:
            break
        time.sleep(max(0.0, min(next_scrape, next_step, quiet_at) - time.monotonic()))

    set_impair(tel, port, CLEAR)
    check_scrape()
    if not rss[procs[0][0]]:
        problems.append(f"the run ended before the {a.warmup} s warm-up; no RSS baseline")
    for name, pid, _ in procs:
        if "start" not in rss[name]:
            continue
        rss[name]["end"] = rss_kb(pid)
        s, e = rss[name]["start"], rss[name]["end"]
        if e > s * 1.1 + 8 * 1024:
            problems.append(f"{name}: VmRSS grew from {s} kB after the warm-up to {e} kB "
                            f"(allowed: {s * 1.1 + 8 * 1024:.0f} kB)")
    stats = tel.cmd(f"/impair/stats,{port}").get("/impair/stats", {})
    with open(a.report, "w") as f:
        json.dump({"steps": steps, "flaps": flaps, "longest_flap_ms": longest_flap, "rss_kb": rss,
                   "impair_stats": stats, "scrapes": scrapes, "timeline": timeline,
                   "series": sum(len(v) for v in last.values())}, f)
    for p in problems:
        print(f"soak: {p}", file=sys.stderr)
    if not problems:
        print(f"ok: {scrapes} scrapes of {len(procs)} processes, no *_total series went backwards; "
              f"{sum(steps.values())} impairment changes, {flaps} link flaps (longest {longest_flap:.1f} ms)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
