#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes spray's Grafana dashboards (dashboards/*.json) from the panel lists
below, so the JSON stays reviewable as code: stable uids, a datasource
variable, an instance variable, one PromQL expression per target.

Usage: config/grafana/generate.py [OUT_DIR]   (default: dashboards/ next to it)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEL = '{instance=~"$instance"}'
RI = "[$__rate_interval]"


def rate(metric, by=None, extra=""):
    sel = SEL if not extra else '{instance=~"$instance",' + extra + "}"
    inner = f"rate({metric}{sel}{RI})"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def quantile(q, metric, by="le"):
    return f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket{SEL}{RI})))"


def panel(title, targets, unit="short", kind="timeseries", desc="", stack=False):
    """targets: list of (expr, legend)."""
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {"datasource": {"type": "prometheus", "uid": "${datasource}"}, "expr": e,
             "legendFormat": l, "refId": chr(ord("A") + i)}
            for i, (e, l) in enumerate(targets)
        ],
    }
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {"stacking": {"mode": "normal" if stack else "none"}}
        p["options"] = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]}}
    if kind == "heatmap":
        p["targets"][0]["format"] = "heatmap"
        p["options"] = {"calculate": False, "yAxis": {"unit": unit}}
    if kind == "table":
        p["targets"][0]["format"] = "table"
        p["targets"][0]["instant"] = True
    return p


def dashboard(uid, title, description, rows):
    panels, y, pid = [], 0, 1
    for row_title, row_panels in rows:
        panels.append({"type": "row", "title": row_title, "collapsed": False, "id": pid,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        for i, p in enumerate(row_panels):
            p["id"] = pid
            pid += 1
            p["gridPos"] = {"h": 8, "w": 12, "x": 12 * (i % 2), "y": y + 8 * (i // 2)}
            panels.append(p)
        y += 8 * ((len(row_panels) + 1) // 2)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["spray"],
        "timezone": "",
        "schemaVersion": 37,
        "version": 1,
        "editable": True,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1},
            {"name": "instance", "label": "Instance", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(spray_build_info, instance)", "refId": "instance"},
             "definition": "label_values(spray_build_info, instance)",
             "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "refresh": 2, "hide": 0},
        ]},
        "annotations": {"list": []},
        "links": [{"title": "spray", "type": "dashboards", "tags": ["spray"], "asDropdown": True}],
        "panels": panels,
    }


SWITCH = dashboard("spray-switch", "spray / switch",
    "Per-port packet rates, drops by reason and the forwarding database of spray switch.", [
    ("Ports", [
        panel("Received packets per second", [(rate("spray_port_rx_packets_total", "port"), "{{port}}")], "pps"),
        panel("Transmitted packets per second", [(rate("spray_port_tx_packets_total", "port"), "{{port}}")], "pps"),
        panel("Throughput", [(rate("spray_port_rx_bytes_total", "port") + " * 8", "rx {{port}}"),
                             (rate("spray_port_tx_bytes_total", "port") + " * 8", "tx {{port}}")], "bps"),
        panel("Device drops and errors", [
            (rate("spray_port_rx_missed_total", "port"), "rx missed {{port}}"),
            (rate("spray_port_rx_nombuf_total", "port"), "rx no mbuf {{port}}"),
            (rate("spray_port_rx_errors_total", "port"), "rx errors {{port}}"),
            (rate("spray_port_tx_errors_total", "port"), "tx errors {{port}}")], "pps",
            desc="rx missed: the rx ring was full (the worker fell behind); no mbuf: the pool ran dry"),
        panel("Link up", [(f"spray_port_link_up{SEL}", "{{port}}")], "bool", kind="stat"),
        panel("Ports", [(f"spray_port_info{SEL}", "")], kind="table",
              desc="driver, DPDK device name and NUMA node of each port"),
    ]),
    ("Switching", [
        panel("Frames by decision", [
            (rate("spray_switch_forwarded_total"), "forwarded"),
            (rate("spray_switch_flooded_total"), "flooded (unknown unicast)"),
            (rate("spray_switch_broadcast_total"), "broadcast"),
            (rate("spray_switch_multicast_total"), "multicast"),
            (rate("spray_switch_drops_total"), "dropped")], "pps", stack=True),
        panel("Drops by reason", [(rate("spray_switch_drops_total", "reason"), "{{reason}}")], "pps", stack=True,
              desc="every dropped frame is counted under exactly one reason"),
        panel("FDB entries", [(f"sum(spray_switch_fdb_entries{SEL})", "entries")], "short"),
        panel("FDB events", [
            (rate("spray_switch_learned_total"), "learned"),
            (rate("spray_switch_moved_total"), "moved"),
            (rate("spray_switch_aged_total"), "aged"),
            (rate("spray_switch_flushed_total"), "flushed"),
            (rate("spray_switch_learn_refused_table_full_total"), "refused: table full"),
            (rate("spray_switch_learn_refused_port_limit_total"), "refused: port limit")], "ops"),
    ]),
    ("Routing and ECMP", [
        panel("Packets routed", [
            (rate("spray_router_forwarded_total"), "routed"),
            (rate("spray_router_ecmp_forwarded_total"), "over an ECMP group"),
            (rate("spray_router_drops_total"), "dropped")], "pps",
              desc="routed ports only; zero when every port is bridged"),
        panel("Router drops by reason", [(rate("spray_router_drops_total", "reason"), "{{reason}}")], "pps",
              stack=True, desc="every dropped packet is counted under exactly one reason"),
        panel("ARP and ICMP", [
            (rate("spray_router_arp_requests_sent_total"), "ARP requests sent"),
            (rate("spray_router_arp_requests_answered_total"), "ARP requests answered"),
            (rate("spray_router_icmp_errors_sent_total"), "ICMP errors sent"),
            (rate("spray_router_icmp_rate_limited_total"), "ICMP errors rate-limited")], "ops"),
        panel("ARP entries", [(f"sum(spray_router_arp_entries{SEL})", "entries")], "short"),
    ]),
    ("Egress queues and ECN", [
        panel("ECN CE marks", [(rate("spray_egress_ce_marked_total", "port"), "{{port}}")], "pps",
              desc="ECN-capable packets marked congestion experienced: queue above K packets or sojourn above the threshold"),
        panel("Egress queue depth", [(f"sum by (port) (spray_egress_queue_packets{SEL})", "{{port}}")], "short"),
        panel("Tail drops", [(rate("spray_egress_dropped_full_total", "port"), "{{port}}")], "pps",
              desc="packets dropped because the port's egress queue was full"),
    ]),
])

WORKERS = dashboard("spray-workers", "spray / workers",
    "Busy and idle time of spray's poll-mode workers, per worker (find the hot core).", [
    ("Load", [
        panel("Busy share", [(f"{rate('spray_worker_busy_cycles_total', 'worker')} / ({rate('spray_worker_busy_cycles_total', 'worker')} + {rate('spray_worker_idle_cycles_total', 'worker')})", "{{worker}}")],
              "percentunit", desc="cycles in iterations that did work over all polling cycles"),
        panel("Busy and idle time", [
            (f"{rate('spray_worker_busy_cycles_total', 'worker')} / on() group_left() max(spray_worker_tsc_hz{SEL})", "busy {{worker}}"),
            (f"{rate('spray_worker_idle_cycles_total', 'worker')} / on() group_left() max(spray_worker_tsc_hz{SEL})", "idle {{worker}}")],
              "s", desc="seconds per second; the rest of the core's time is spent asleep (idle backoff)"),
        panel("Loop iterations per second", [(rate("spray_worker_iterations_total", "worker"), "{{worker}}")], "ops"),
        panel("Packets per iteration", [(f"{rate('spray_worker_rx_packets_total', 'worker')} / {rate('spray_worker_iterations_total', 'worker')}", "{{worker}}")], "short"),
    ]),
    ("Packets", [
        panel("Received and sent", [(rate("spray_worker_rx_packets_total", "worker"), "rx {{worker}}"),
                                    (rate("spray_worker_tx_packets_total", "worker"), "tx {{worker}}")], "pps"),
        panel("Refused by a full tx queue", [(rate("spray_worker_tx_dropped_total", "worker"), "{{worker}}")], "pps"),
        panel("Idle sleeps per second", [(rate("spray_worker_sleeps_total", "worker"), "{{worker}}")], "ops"),
    ]),
])

FABRIC = dashboard("spray-fabric", "spray / fabric overview",
    "Messages, goodput, round trips and loss recovery of spray gen against spray respond.", [
    ("Messages", [
        panel("Completed requests per second", [(rate("spray_gen_completed_total"), "completed"),
                                                (rate("spray_gen_failed_total"), "failed"),
                                                (rate("spray_gen_sent_total"), "sent")], "ops"),
        panel("Goodput", [(rate("spray_gen_tx_bytes_total") + " * 8", "requests"),
                          (rate("spray_gen_rx_bytes_total") + " * 8", "replies")], "bps",
              desc="payload bits of completed requests and their replies"),
        panel("Request round trip", [(quantile(0.5, "spray_gen_latency_seconds"), "p50"),
                                     (quantile(0.99, "spray_gen_latency_seconds"), "p99"),
                                     (quantile(0.999, "spray_gen_latency_seconds"), "p99.9")], "s"),
        panel("Messages in flight", [(f"sum(spray_transport_inflight_packets{SEL})", "packets in flight")], "short"),
    ]),
    ("Loss recovery and paths", [
        panel("Retransmits by cause", [(rate("spray_transport_retransmits_total", "cause"), "{{cause}}")], "pps", stack=True),
        panel("Retransmit ratio", [(f"{rate('spray_transport_retransmits_total')} / {rate('spray_transport_tx_data_packets_total')}", "retransmits / data packets")], "percentunit"),
        panel("Path RTT", [(f"sum by (le) (rate(spray_transport_rtt_seconds_bucket{SEL}{RI}))", "{{le}}")], "s", kind="heatmap"),
        panel("Path RTT p99 by path", [(quantile(0.99, "spray_transport_rtt_seconds", "path, le"), "path {{path}}")], "s"),
        panel("Packet RTT p99 by path", [(quantile(0.99, "spray_transport_path_rtt_seconds", "path, le"), "path {{path}}")], "s",
              desc="every RTT sample the ACKs give, per path (the panel above samples each connection's smoothed RTT)"),
        panel("Loss recovery latency", [(quantile(0.5, "spray_transport_loss_recovery_seconds"), "p50"),
                                        (quantile(0.99, "spray_transport_loss_recovery_seconds"), "p99"),
                                        (quantile(0.999, "spray_transport_loss_recovery_seconds"), "p99.9")], "s",
              desc="retransmitted packets: first transmission to the ACK that delivered a copy (detection plus repair)"),
        panel("Reorder depth", [(quantile(0.99, "spray_transport_reorder_depth_packets"), "p99"),
                                (quantile(0.999, "spray_transport_reorder_depth_packets"), "p99.9")], "short",
              desc="packets a DATA packet arrived behind the highest PSN already received; 0 = in order"),
        panel("Congestion window", [(quantile(0.01, "spray_transport_cwnd_packets"), "p1"),
                                    (quantile(0.5, "spray_transport_cwnd_packets"), "p50"),
                                    (quantile(0.99, "spray_transport_cwnd_packets"), "p99")], "short",
              desc="cwnd in packets over the established connections, each sampled every 100 ms"),
        panel("Paths", [(f"sum(spray_transport_paths_active{SEL})", "active"),
                        (f"sum(spray_transport_paths_quarantined{SEL})", "quarantined"),
                        (f"sum(spray_transport_connections{SEL})", "connections")], "short",
              desc="paths summed over connections; a quarantined path is avoided after losses or delay, probed back later"),
        panel("Quarantines per minute", [(rate("spray_transport_path_quarantines_total") + " * 60", "quarantines")], "short"),
        panel("Responder integrity violations", [(f"sum by (reason) (increase(spray_respond_violations_total{SEL}{RI}))", "{{reason}}")], "short",
              desc="must stay zero: duplicates, missing requests, corrupted payloads"),
    ]),
])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "dashboards")
    for name, d in (("fabric", FABRIC), ("switch", SWITCH), ("workers", WORKERS)):
        with open(os.path.join(out, f"spray-{name}.json"), "w") as f:
            json.dump(d, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
