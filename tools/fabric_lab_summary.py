#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The summary of a tools/fabric-lab.sh run, from what the lab left in its
output directory: each process' /metrics scraped before the kill ("prekill"),
when the killed spine was back in service ("back") and at the end ("end"),
spray gen's JSON report, iperf3's JSON
report, Prometheus' answers (prom/*.json) and the lab's event times
(events.json). Prints the summary and writes summary.json, which
test/smoke/fabric_lab.sh asserts on.

usage: fabric_lab_summary.py OUT_DIR
Exit status: 0 when spray gen completed every message and spray respond saw
no violation, 3 when not, 1 when a report is missing.
"""
import json
import os
import re
import sys

out = sys.argv[1]
PROCS = ["leaf1", "leaf2", "spine1", "spine2", "gen", "respond"]
SWITCHES = PROCS[:4]
UPLINKS = {"leaf1": ["u1", "u2"], "leaf2": ["u1", "u2"], "spine1": ["d1", "d2"], "spine2": ["d1", "d2"]}


def load_json(name):
    p = os.path.join(out, name)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(phase, proc):
    """{(name, frozenset(labels)): value} of one saved /metrics, or None."""
    p = os.path.join(out, "metrics", f"{phase}-{proc}.txt")
    if not os.path.exists(p):
        return None
    m = {}
    for line in open(p):
        r = LINE.match(line.strip())
        if r:
            labels = frozenset(LABEL.findall(r.group(3) or ""))
            try:
                m[(r.group(1), labels)] = float(r.group(4))
            except ValueError:
                pass
    return m


def val(m, name, **labels):
    if m is None:
        return None
    return m.get((name, frozenset(labels.items())))


def total(m, name):
    """Sum of a family over all label sets."""
    if m is None:
        return None
    return sum(v for (n, _), v in m.items() if n == name)


def by_label(m, name, label):
    return {dict(l)[label]: v for (n, l), v in (m or {}).items() if n == name and label in dict(l)}


def n(x):
    return "-" if x is None else f"{int(x):,}"


def si(x, unit=""):
    if x is None:
        return "-"
    for f, s in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= f:
            return f"{x / f:.1f}{s}{unit}"
    return f"{x:.0f}{unit}"


ev = load_json("events.json")
gen = load_json("gen.json")
iperf = load_json("iperf3.json")
if ev is None:
    print("fabric-lab: no events.json: the run did not complete", file=sys.stderr)
    sys.exit(1)
t0, t_end = ev["t0"], ev["t_end"]
victim = ev["victim"]
killed = bool(ev["killed"])
t_kill, t_back = ev.get("t_kill"), ev.get("t_back")
win = (t_kill, t_back or ev.get("t_restart")) if killed else None


def rel(t):
    return "-" if t is None else f"{t - t0:.2f} s"


summary = {"killed": killed, "victim": victim}
print()
print("=" * 100)
print(f"fabric-lab summary: {ev['duration']} s of traffic (both clients done {t_end - t0:.1f} s after the start); "
      f"uplinks shaped at {ev['uplink_rate']} with ECN; iperf3: {ev['tcp_streams']} stream(s), "
      + ("unpaced" if ev["tcp_rate"] == "0" else f"{ev['tcp_rate']}bit/s each"))
if killed:
    print(f"  {victim} killed (SIGKILL) at {rel(t_kill)}, leaves saw its links down at {rel(ev.get('t_down'))}, "
          f"restarted at {rel(ev.get('t_restart'))}, forwarding again at {rel(t_back)} "
          f"(outage window {win[1] - win[0]:.2f} s)" if win[1] else f"  {victim} killed at {rel(t_kill)}, never back")
else:
    print("  no spine killed (--no-kill)")

# ---- per process -------------------------------------------------------------
print()
print("Per process, from each /metrics at the end of the run (gen: its last scrape before it ended"
      + (f"; {victim}: since its restart)" if killed else ")"))
print(f"  {'process':8} {'port':5} {'rx_packets':>12} {'tx_packets':>12} {'link':>4} {'egress_sent':>12} "
      f"{'ce_marked':>10} {'queue_drops':>11}")
end = {p: scrape("end", p) for p in PROCS}
for p in PROCS:
    m = end[p]
    if m is None:
        print(f"  {p:8} (no scrape)")
        continue
    rx = by_label(m, "spray_port_rx_packets_total", "port")
    first = True
    for port in rx:
        print(f"  {p if first else '':8} {port:5} {n(rx[port]):>12} "
              f"{n(val(m, 'spray_port_tx_packets_total', port=port)):>12} "
              f"{'up' if val(m, 'spray_port_link_up', port=port) else 'down':>4} "
              f"{n(val(m, 'spray_egress_dequeued_total', port=port)):>12} "
              f"{n(val(m, 'spray_egress_ce_marked_total', port=port)):>10} "
              f"{n(val(m, 'spray_egress_dropped_full_total', port=port)):>11}")
        first = False
    if p in SWITCHES:
        drops = {k: v for k, v in by_label(m, "spray_router_drops_total", "reason").items() if v}
        top = ", ".join(f"{k} {n(v)}" for k, v in sorted(drops.items(), key=lambda kv: -kv[1])[:3])
        print(f"  {'':8} router: forwarded {n(val(m, 'spray_router_forwarded_total'))}, ECMP "
              f"{n(val(m, 'spray_router_ecmp_forwarded_total'))}, drops {n(sum(drops.values()))}"
              + (f" ({top})" if top else ""))
    elif p == "gen":
        rt = by_label(m, "spray_transport_retransmits_total", "cause")
        print(f"  {'':8} gen: sent {n(val(m, 'spray_gen_sent_total'))}, completed "
              f"{n(val(m, 'spray_gen_completed_total'))}, failed {n(val(m, 'spray_gen_failed_total'))}; "
              f"retransmits " + "/".join(f"{k} {n(v)}" for k, v in rt.items())
              + f"; path quarantines {n(val(m, 'spray_transport_path_quarantines_total'))}")
    else:
        print(f"  {'':8} respond: requests {n(val(m, 'spray_respond_requests_total'))}, replies "
              f"{n(val(m, 'spray_respond_replies_total'))}, violations "
              f"{n(total(m, 'spray_respond_violations_total'))}")

# ---- both uplinks before the kill --------------------------------------------
print()
print("Packets each switch sent on each uplink before the kill (from /metrics just before it)")
up = {}
for p in SWITCHES:
    m = scrape("prekill", p)
    up[p] = {u: val(m, "spray_port_tx_packets_total", port=u) for u in UPLINKS[p]}
    up[p] = {u: None if v is None else int(v) for u, v in up[p].items()}
    tot = sum(v or 0 for v in up[p].values())
    print(f"  {p:8} " + "  ".join(f"{u} {n(v)} ({100 * (v or 0) / tot if tot else 0:.0f}%)" for u, v in up[p].items()))
summary["uplinks_before_kill"] = up

# ---- spray ---------------------------------------------------------------------
resp_viol = total(end["respond"], "spray_respond_violations_total")
resp_viol = None if resp_viol is None else int(resp_viol)
if gen:
    mm, r = gen["messages"], gen["rtt_us"]
    print()
    print(f"spray gen (report): {n(mm['sent'])} sent, {n(mm['completed'])} completed, {n(mm['failed'])} failed, "
          f"{n(mm['reissued'])} re-issued; {gen['rate_msgs_per_s'] / 1e3:.1f}k msg/s; round trip p50 "
          f"{r['p50']:.0f} us, p99 {r['p99']:.0f} us, max {r['max'] / 1e3:.1f} ms; path quarantines "
          f"{gen['path_quarantines']}; connections failed {gen['connections_failed']}; exit {gen['exit_code']}"
          + (f" ({gen['failure']})" if gen.get("failure") else ""))
    summary["spray"] = {"sent": mm["sent"], "completed": mm["completed"], "failed": mm["failed"],
                        "reissued": mm["reissued"], "bad_replies": gen["integrity"]["bad_replies"],
                        "unexpected_replies": gen["integrity"]["unexpected_replies"],
                        "exit_code": gen["exit_code"], "gen_rc": ev["gen_rc"],
                        "respond_violations": resp_viol, "rtt_max_us": r["max"],
                        "path_quarantines": gen["path_quarantines"]}
else:
    print("\nspray gen: no report (gen.json missing)")
    summary["spray"] = None

# iperf3 intervals on the lab's clock: t0 is when the client was launched.
tcp = []
if iperf and "intervals" in iperf:
    for it in iperf["intervals"]:
        s = it["sum"]
        tcp.append((t0 + s["start"], t0 + s["end"], s["bytes"], s.get("retransmits", 0)))
if iperf and iperf.get("error"):
    print(f"iperf3: {iperf['error']}")


def tcp_between(a, b):
    """Bytes and retransmits of the intervals in [a, b], each prorated by its overlap."""
    by = rt = 0.0
    for s, e, c, r in tcp:
        f = max(0.0, min(e, b) - max(s, a)) / (e - s) if e > s else 0.0
        by, rt = by + c * f, rt + r * f
    return by, rt


def when(phase, proc="gen"):
    try:
        return float(open(os.path.join(out, "metrics", f"{phase}-{proc}.time")).read())
    except (OSError, ValueError):
        return None


def le_quantile(buckets, q):
    """Upper bound of the q-quantile: the first bucket holding q of the samples."""
    cnt = buckets[-1][1] if buckets else 0
    return next((le for le, c in buckets if c >= q * cnt), None) if cnt else None


def spray_between(a, b):
    """What spray gen completed between two of its scrapes, and its round trips' bucket bounds."""
    if b is None:
        return None
    ba = by_label(a, "spray_gen_latency_seconds_bucket", "le") if a else {}
    bb = by_label(b, "spray_gen_latency_seconds_bucket", "le")
    d = sorted(((float(k), bb[k] - ba.get(k, 0)) for k in bb), key=lambda kv: kv[0])
    get = lambda m, k: val(m, k) or 0 if m else 0
    return {"completed": get(b, "spray_gen_completed_total") - get(a, "spray_gen_completed_total"),
            "failed": get(b, "spray_gen_failed_total") - get(a, "spray_gen_failed_total"),
            "p50_le_s": le_quantile(d, 0.5), "p99_le_s": le_quantile(d, 0.99), "max_le_s": le_quantile(d, 1.0)}


def fmt_s(x):
    if x is None:
        return "-"
    if x == float("inf"):
        return "> 100 ms"
    return f"<= {x * 1e6:.0f} us" if x < 1e-3 else f"<= {x * 1e3:.0f} ms" if x < 1 else f"<= {x:.0f} s"


# Periods between the lab's scrapes of spray gen: from the start, to just
# before the kill, to the spine's return, to the end.
cuts = [("start", t0, None), ("prekill", when("prekill"), scrape("prekill", "gen"))]
if killed and t_back:
    cuts.append(("back", when("back"), scrape("back", "gen")))
cuts.append(("end", when("end"), end["gen"]))
cuts = [c for c in cuts if c[1] is not None]
names = {("start", "prekill"): "before the kill" if killed else "first part",
         ("prekill", "back"): "outage", ("prekill", "end"): "after the kill" if killed else "second part",
         ("back", "end"): "after"}
periods = []
for (na, ta, ma), (nb, tb, mb) in zip(cuts, cuts[1:]):
    sp = spray_between(ma, mb)
    tb_, tr = tcp_between(ta, tb)
    periods.append({"period": names.get((na, nb), f"{na}..{nb}"), "from_s": ta - t0, "to_s": tb - t0,
                    "spray": sp, "spray_msgs_per_s": sp and sp["completed"] / (tb - ta),
                    "tcp_bps": tb_ * 8 / (tb - ta), "tcp_retransmits": round(tr)})
print()
print("Spray and TCP, period by period (spray from its /metrics, round trips as histogram bucket bounds;"
      " TCP from iperf3's intervals):")
w = 20
print("  " + " " * 22 + "".join(f"{p['period']:>{w}}" for p in periods))
spans = [f"{p['from_s']:.1f} .. {p['to_s']:.1f} s" for p in periods]
print("  " + " " * 22 + "".join(f"{x:>{w}}" for x in spans))
rows = [("spray msg/s", lambda p: si(p["spray_msgs_per_s"])),
        ("spray completed", lambda p: n(p["spray"] and p["spray"]["completed"])),
        ("spray failed", lambda p: n(p["spray"] and p["spray"]["failed"])),
        ("spray round trip p50", lambda p: fmt_s(p["spray"] and p["spray"]["p50_le_s"])),
        ("spray round trip p99", lambda p: fmt_s(p["spray"] and p["spray"]["p99_le_s"])),
        ("spray round trip max", lambda p: fmt_s(p["spray"] and p["spray"]["max_le_s"])),
        ("TCP bit/s", lambda p: si(p["tcp_bps"])),
        ("TCP retransmits", lambda p: n(p["tcp_retransmits"]))]
for label, f in rows:
    print(f"  {label:22}" + "".join(f"{f(p):>{w}}" for p in periods))
summary["periods"] = periods

tcp_after = int(tcp_between(t_back, t_end + 1)[0]) if killed and t_back else None
summary["tcp"] = {"iperf_rc": ev["iperf_rc"], "bytes_total": sum(x[2] for x in tcp),
                  "retransmits_total": sum(x[3] for x in tcp), "bytes_after_outage": tcp_after,
                  "intervals": [{"start_s": round(a - t0, 3), "end_s": round(b - t0, 3), "bytes": c, "retransmits": d}
                                for a, b, c, d in tcp]}
if killed and t_back:
    near = [x for x in tcp if x[1] > t_kill - 2 and x[0] < t_back + 2]
    print("  TCP each second around the outage ('[' kill, ']' back): " + " ".join(
        ("[" if x[0] <= t_kill < x[1] else "") + si(x[2] * 8 / (x[1] - x[0]))
        + ("]" if x[0] < t_back <= x[1] else "") for x in near))

# ---- Prometheus --------------------------------------------------------------
print()
print(f"What Prometheus saw (scrape every {ev['scrape_interval']} s):")
upj = load_json("prom/up.json")
ups = {}
for s in (upj or {}).get("data", {}).get("result", []):
    ups[s["metric"].get("process")] = [(float(t), int(float(v))) for t, v in s["values"] if float(t) >= t0 - 5]


def marked(vals, fmt):
    """Values oldest first, '|' where the kill and the return fall."""
    marks = [t for t in (win or ()) if t]
    txt = []
    for i, (t, v) in enumerate(vals):
        txt.append("|" * sum(1 for m in marks if (vals[i - 1][0] if i else t0 - 1e9) < m <= t) + fmt(v))
    return txt


print("  up, one sample a scrape from 5 s before the traffic, '|' at the kill and the return:")
for p in PROCS:
    vals = ups.get(p, [])
    print(f"    {p:8} {''.join(marked(vals, str)) if vals else '(no samples)'}")


def series(name):
    j = load_json(f"prom/{name}.json")
    return {tuple(sorted(s["metric"].items())): [(float(t), float(v)) for t, v in s["values"]]
            for s in (j or {}).get("data", {}).get("result", [])}


def show(vals):
    return " ".join(marked(vals, si))


gc = series("gen_completed_rate")
for k, vals in gc.items():
    print("  rate(spray_gen_completed_total), messages/s, one value a second:")
    print(f"    {show(vals)}")
sf = series("spine_forwarded_rate")
if sf:
    print("  rate(spray_router_forwarded_total) by spine, packets/s:")
for k, vals in sorted(sf.items()):
    print(f"    {dict(k).get('process', '?')}: {show(vals)}")

vend = end.get(victim)
vup = ups.get(victim, [])
t_restart = ev.get("t_restart")
summary["restart"] = {
    "pid_before": ev.get("pid_before"), "pid_after": ev.get("pid_after"),
    "leaves_saw_link_down": ev.get("t_down") is not None, "back_in_service": t_back is not None,
    # the restarted process' own counters: it forwarded packets again
    "victim_forwarded_after_restart": int(val(vend, "spray_router_forwarded_total") or 0) if killed else None,
    "prom_up_samples": [v for _, v in vup],
    # a failed scrape of a loaded machine is a 0 too: only the ones that
    # fall between the kill and the restart count
    "prom_down_during_outage": sum(1 for t, v in vup if killed and v == 0 and t_kill < t <= (t_restart or t_end)),
    "prom_up_after_back": sum(1 for t, v in vup if killed and t_back and v == 1 and t > t_back),
    "prom_up_before_kill": sum(1 for t, v in vup if killed and v == 1 and t <= t_kill),
}
if killed:
    r = summary["restart"]
    print(f"  {victim}: up in {r['prom_up_before_kill']} scrapes before the kill, down in "
          f"{r['prom_down_during_outage']} between the kill and the restart, up in {r['prom_up_after_back']} "
          f"after it forwarded again")
summary["prom_completed_rate"] = [v for vals in gc.values() for _, v in vals]
summary["exit"] = ev.get("exit", {})
if summary["exit"]:
    print("\nExit status after SIGTERM: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["exit"].items())))

with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)

sp = summary["spray"]
if sp is None:
    sys.exit(1)
ok = sp["failed"] == 0 and sp["completed"] == sp["sent"] and sp["exit_code"] == 0 and not resp_viol
print(f"\nspray: {'every message completed, none failed' if ok else 'MESSAGES FAILED or violations'}")
sys.exit(0 if ok else 3)
