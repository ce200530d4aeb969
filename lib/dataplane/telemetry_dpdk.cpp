// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/telemetry_dpdk.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "dataplane/host_apps.h"
#include "dataplane/switch_pipeline.h"
#include "dataplane/runtime.h"

namespace spray::dp {

namespace {

#define SPRAY_TEL_INFO(name, help) telemetry::CounterInfo{#name, help},
constexpr std::array kWorkerCounterInfo{SPRAY_WORKER_COUNTERS(SPRAY_TEL_INFO)};
#undef SPRAY_TEL_INFO

void read_worker(const WorkerCounters& c, std::span<std::uint64_t> out) {
  std::size_t k = 0;
#define SPRAY_TEL_READ(name, help) out[k++] = c.name;
  SPRAY_WORKER_COUNTERS(SPRAY_TEL_READ)
#undef SPRAY_TEL_READ
}

// The telemetry callbacks are plain functions (DPDK 22.11 passes no user
// argument), so the exchange they read lives here. Set and cleared by
// EcosystemHooks on the control thread; read on DPDK's telemetry thread.
std::mutex g_mu;
std::shared_ptr<telemetry::SnapshotExchange> g_exchange;

std::shared_ptr<const telemetry::Snapshot> current_snapshot() {
  std::shared_ptr<telemetry::SnapshotExchange> ex;
  {
    std::lock_guard lk(g_mu);
    ex = g_exchange;
  }
  return ex ? ex->fresh(std::chrono::milliseconds(250)) : nullptr;
}

std::string stem_of(const std::string& name, const std::string& prefix) {
  std::string s = name.substr(prefix.size());
  if (s.ends_with("_total")) s.resize(s.size() - 6);
  return s;
}

// A tree of telemetry values built first, then turned into rte_tel_data: one
// port's values come from many families, and an rte_tel_data dict offers no
// way to find a child already added and extend it.
struct Node {
  std::map<std::string, Node> children;
  std::map<std::string, std::uint64_t> u64;
  std::map<std::string, std::string> str;
};

void put_value(Node& n, const std::string& key, double v) {
  if (v >= 0 && v < 1.8e19 && std::floor(v) == v) {
    n.u64[key] = static_cast<std::uint64_t>(v);
  } else {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    n.str[key] = b;
  }
}

// Families starting with `prefix` folded into a tree: samples labelled with
// `group` go under their group value (ports by name, workers by name); any
// other label becomes one more level (drops by reason).
Node fold(const telemetry::Snapshot& s, const std::string& prefix, const std::string& group) {
  Node root;
  for (const auto& f : s.families) {
    if (f.name.rfind(prefix, 0) != 0) continue;
    const std::string stem = stem_of(f.name, prefix);
    for (const auto& smp : f.samples) {
      Node* n = &root;
      std::vector<const telemetry::Label*> rest;
      for (const auto& l : smp.labels) {
        if (!group.empty() && l.name == group)
          n = &root.children[l.value];
        else
          rest.push_back(&l);
      }
      if (f.kind == telemetry::MetricKind::kHistogram && smp.hist) {
        Node& h = n->children[stem];
        h.u64["count"] = smp.hist->count;
        char b[40];
        for (auto [q, key] : {std::pair{0.5, "p50"}, {0.99, "p99"}, {0.999, "p99.9"}}) {
          std::snprintf(b, sizeof b, "%.9g", static_cast<double>(smp.hist->quantile(q)) * f.scale);
          h.str[key] = b;
        }
        continue;
      }
      if (stem == "info") {  // an _info metric: its labels are the values
        for (const auto* l : rest) n->str[l->name] = l->value;
        continue;
      }
      if (rest.empty()) {
        put_value(*n, stem, smp.value);
      } else {
        Node* m = &n->children[stem];
        for (std::size_t i = 0; i + 1 < rest.size(); ++i) m = &m->children[rest[i]->value];
        put_value(*m, rest.back()->value, smp.value);
      }
    }
  }
  return root;
}

void emit(const Node& n, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  for (const auto& [k, v] : n.u64) rte_tel_data_add_dict_u64(d, k.c_str(), v);
  for (const auto& [k, v] : n.str) rte_tel_data_add_dict_string(d, k.c_str(), v.c_str());
  for (const auto& [k, child] : n.children) {
    rte_tel_data* c = rte_tel_data_alloc();
    if (!c) continue;
    emit(child, c);
    if (rte_tel_data_add_dict_container(d, k.c_str(), c, 0) != 0) rte_tel_data_free(c);
  }
}

int answer(rte_tel_data* d, const char* prefix, const char* group) {
  const auto snap = current_snapshot();
  if (!snap) return -1;
  emit(fold(*snap, prefix, group), d);
  return 0;
}

int cmd_ports(const char*, const char*, rte_tel_data* d) { return answer(d, "spray_port_", "port"); }
int cmd_workers(const char*, const char*, rte_tel_data* d) { return answer(d, "spray_worker_", "worker"); }
int cmd_switch(const char*, const char*, rte_tel_data* d) { return answer(d, "spray_switch_", ""); }

bool g_registered = false;

}  // namespace

void add_runtime_metrics(telemetry::Registry& reg, const Runtime& rt, const std::string& version,
                         const std::string& git_sha) {
  telemetry::add_build_info(reg, version, rte_version(), git_sha);
  telemetry::Instances ports("port", std::vector<std::string>{});
  for (const auto& p : rt.ports()) ports.values.push_back(p.spec.name);
  reg.add_counters("spray_port_", Runtime::PortStats::kInfo, ports,
                   [&rt](std::size_t i, std::span<std::uint64_t> out) {
                     const auto v = rt.port_stats(i).values();
                     std::copy(v.begin(), v.end(), out.begin());
                   });
  reg.add_gauge("spray_port_link_up", "1 when the port's link is up (tap ports moved to another namespace "
                "report down here)", ports,
                [&rt](std::size_t i) { return link_up(rt.ports()[i].id) ? 1.0 : 0.0; });
  reg.add_info("spray_port_info", "static facts of a port: DPDK driver, device name, NUMA node", ports,
               [&rt](std::size_t i) {
                 const Port& p = rt.ports()[i];
                 char name[RTE_ETH_NAME_MAX_LEN] = "";
                 rte_eth_dev_get_name_by_port(p.id, name);
                 return std::vector<telemetry::Label>{
                     {"driver", p.driver}, {"name", name}, {"numa", std::to_string(p.numa)}};
               });

  // Workers exist only while Runtime::run() runs: their label values are
  // read at every collect (the control thread also runs run()'s loop).
  telemetry::Instances workers("worker", std::function<std::vector<std::string>()>([&rt] {
                                 std::vector<std::string> v;
                                 for (const auto& w : rt.workers()) v.push_back(w->name());
                                 return v;
                               }));
  reg.add_counters("spray_worker_", kWorkerCounterInfo, workers,
                   [&rt](std::size_t i, std::span<std::uint64_t> out) {
                     read_worker(rt.workers()[i]->published(), out);
                   });
  reg.add_gauge("spray_worker_tsc_hz", "TSC frequency: cycles per second, to turn _cycles_total into time",
                [&rt] { return static_cast<double>(rt.clock().hz()); });
}

namespace {

// The switch logic's reasons, then the glue's, as one `reason` label.
#define SPRAY_TEL_L2_INFO(e, name, help) telemetry::CounterInfo{#name, help},
#define SPRAY_TEL_GLUE_INFO(name, help) telemetry::CounterInfo{#name, help},
constexpr std::array kSwitchDropInfo{SPRAY_L2_DROPS(SPRAY_TEL_L2_INFO) SPRAY_L2_GLUE_DROPS(SPRAY_TEL_GLUE_INFO)};
#undef SPRAY_TEL_L2_INFO
#undef SPRAY_TEL_GLUE_INFO

}  // namespace

void add_switch_metrics(telemetry::Registry& reg, const std::vector<std::unique_ptr<SwitchPipeline>>& pipes,
                        const Runtime& rt) {
  reg.add_counters("spray_switch_", tor::kL2CounterInfo, [&pipes](std::span<std::uint64_t> out) {
    for (const auto& p : pipes) {
      const auto s = p->snapshot();
      for (std::size_t i = 0; i < tor::kL2CounterCount; ++i) out[i] += s.counters[i];
    }
  });
  reg.add_counters_by_label(
      "spray_switch_drops_total", "frames the switch dropped, by reason (each frame counted once)", "reason",
      kSwitchDropInfo, [&pipes](std::span<std::uint64_t> out) {
        for (const auto& p : pipes) {
          const auto s = p->snapshot();
          std::size_t k = 0;
          for (; k < tor::kL2DropCount; ++k) out[k] += s.drops[k];
#define SPRAY_TEL_GLUE_READ(name, help) out[k++] += p->glue().name.load(std::memory_order_relaxed);
          SPRAY_L2_GLUE_DROPS(SPRAY_TEL_GLUE_READ)
#undef SPRAY_TEL_GLUE_READ
        }
      });
  reg.add_gauge("spray_switch_fdb_entries", "forwarding database entries, all workers' shards", [&pipes] {
    double n = 0;
    for (const auto& p : pipes) n += static_cast<double>(p->snapshot().fdb_entries);
    return n;
  });
  // The router: counters of every worker's router summed (zero while no
  // port is routed, so dashboards need no special case).
  reg.add_counters("spray_router_", tor::kL3CounterInfo, [&pipes](std::span<std::uint64_t> out) {
    for (const auto& p : pipes) {
      const auto s = p->l3_snapshot();
      for (std::size_t i = 0; i < tor::kL3CounterCount; ++i) out[i] += s.counters[i];
    }
  });
  reg.add_counters_by_label("spray_router_drops_total", "packets the router dropped, by reason", "reason",
                            tor::kL3DropInfo, [&pipes](std::span<std::uint64_t> out) {
                              for (const auto& p : pipes) {
                                const auto s = p->l3_snapshot();
                                for (std::size_t i = 0; i < tor::kL3DropCount; ++i) out[i] += s.drops[i];
                              }
                            });
  reg.add_gauge("spray_router_arp_entries", "ARP (neighbor) entries, all workers", [&pipes] {
    double n = 0;
    for (const auto& p : pipes) n += static_cast<double>(p->l3_snapshot().neighbors);
    return n;
  });
  reg.add_gauge("spray_router_routes", "static routes configured", [&pipes] {
    return pipes.empty() ? 0.0 : static_cast<double>(pipes.front()->l3_snapshot().routes);
  });
  // Egress queues, per port (ports without a queue report zeros).
  telemetry::Instances ports("port", std::function<std::vector<std::string>()>([&rt] {
                               std::vector<std::string> v;
                               for (const auto& p : rt.ports()) v.push_back(p.spec.name);
                               return v;
                             }));
  reg.add_counters("spray_egress_", tor::kEgressCounterInfo, ports,
                   [&pipes](std::size_t port, std::span<std::uint64_t> out) {
                     for (const auto& p : pipes)
                       if (const auto s = p->egress().stats(static_cast<std::uint16_t>(port)))
                         for (std::size_t i = 0; i < tor::kEgressCounterCount; ++i) out[i] += s->counters[i];
                   });
  reg.add_gauge("spray_egress_queue_packets", "packets waiting in the port's egress queue, all workers", ports,
                [&pipes](std::size_t port) {
                  double n = 0;
                  for (const auto& p : pipes)
                    if (const auto s = p->egress().stats(static_cast<std::uint16_t>(port)))
                      n += static_cast<double>((*s)[tor::EgressGauge::kQueuePkts]);
                  return n;
                });
}

namespace {

#define SPRAY_TEL_INFO(name, help) telemetry::CounterInfo{#name, help},
constexpr std::array kGenCounterInfo{SPRAY_GEN_COUNTERS(SPRAY_TEL_INFO)};
constexpr std::array kRespondCounterInfo{SPRAY_RESPOND_COUNTERS(SPRAY_TEL_INFO)};
constexpr std::array kRespondViolationInfo{SPRAY_RESPOND_VIOLATIONS(SPRAY_TEL_INFO)};
constexpr std::array kHostCounterInfo{SPRAY_HOST_COUNTERS(SPRAY_TEL_INFO)};
#undef SPRAY_TEL_INFO

// TransportSummary's counters exported as spray_transport_<name>_total.
// X(name, TransportSummary field, help)
#define SPRAY_TRANSPORT_COUNTERS(X)                                                                           \
  X(spurious_retransmits, spurious_retx, "retransmissions the receiver reported as duplicates")              \
  X(rto_events, rto_events, "retransmission timeouts")                                                        \
  X(path_quarantines, path_quarantines, "paths moved to QUARANTINED, all connections")                       \
  X(tx_data_packets, tx_data_pkts, "DATA packets sent, first transmissions and retransmissions")             \
  X(shared_losses, shared_losses,                                                                             \
    "packets lost with no evidence against their path (a burst over several paths, a silence)")              \
  X(silent_rtos, silent_rtos, "timeouts with nothing sent later delivered on any path")                      \
  X(host_drop_acks, host_drop_acks, "ACKs received saying the peer's host dropped packets")                   \
  X(acks_lost, acks_lost, "ACKs of ours the peer never got (a resent duplicate came long after them)")
#define SPRAY_TEL_TRANSPORT_INFO(name, field, help) telemetry::CounterInfo{#name, help},
constexpr std::array kTransportCounterInfo{SPRAY_TRANSPORT_COUNTERS(SPRAY_TEL_TRANSPORT_INFO)};
#undef SPRAY_TEL_TRANSPORT_INFO

}  // namespace

void add_transport_metrics(telemetry::Registry& reg, std::vector<const TransportSummary*> sums) {
  reg.add_counters_by_label("spray_transport_retransmits_total", "DATA retransmissions, by what triggered them",
                            "cause", srd::kRetxCauseInfo, [sums](std::span<std::uint64_t> out) {
                              for (const auto* s : sums)
                                for (std::size_t k = 0; k < srd::kRetxCauseCount; ++k) out[k] += s->retx[k].read();
                            });
  reg.add_counters("spray_transport_", kTransportCounterInfo, [sums](std::span<std::uint64_t> out) {
    for (const auto* s : sums) {
      std::size_t k = 0;
#define SPRAY_TEL_TRANSPORT_READ(name, field, help) out[k++] += s->field.read();
      SPRAY_TRANSPORT_COUNTERS(SPRAY_TEL_TRANSPORT_READ)
#undef SPRAY_TEL_TRANSPORT_READ
    }
  });
  auto gauge = [&](const char* name, const char* help, telemetry::SingleWriterCounter TransportSummary::*field) {
    reg.add_gauge(name, help, [sums, field] {
      double n = 0;
      for (const auto* s : sums) n += static_cast<double>((s->*field).read());
      return n;
    });
  };
  gauge("spray_transport_connections", "established connections", &TransportSummary::connections);
  gauge("spray_transport_paths_active", "paths in ACTIVE state, summed over connections",
        &TransportSummary::paths_active);
  gauge("spray_transport_paths_quarantined", "paths in QUARANTINED state, summed over connections",
        &TransportSummary::paths_quarantined);
  gauge("spray_transport_inflight_packets", "DATA packets in flight, summed over connections",
        &TransportSummary::inflight_pkts);
  std::uint16_t paths = 0;
  for (const auto* s : sums) paths = std::max(paths, s->path_count);
  std::vector<std::string> path_names;
  for (std::uint16_t p = 0; p < paths; ++p) path_names.push_back(std::to_string(p));
  reg.add_histogram("spray_transport_rtt_seconds",
                    "smoothed RTT of each path of each connection, sampled every 100 ms",
                    telemetry::Instances("path", path_names), [sums](std::size_t p) {
                      telemetry::HistogramSnapshot h;
                      for (const auto* s : sums)
                        if (p < s->path_count) h.merge(s->path_rtt[p].snapshot());
                      return h;
                    });
  // The transport's own histograms, in the buckets it records them in.
  const auto latency = bucketed_export(srd::kLatencyBoundsNs, 1e9);
  reg.add_histogram("spray_transport_path_rtt_seconds",
                    "packet round trip on the path: every RTT sample an ACK gives, the receiver's hold time "
                    "taken off",
                    telemetry::Instances("path", std::move(path_names)),
                    [sums](std::size_t p) {
                      telemetry::HistogramSnapshot h;
                      for (const auto* s : sums)
                        if (p < s->path_count) h.merge(s->path_pkt_rtt[p].snapshot());
                      return h;
                    },
                    latency);
  auto merged = [sums](auto TransportSummary::*field) {
    return [sums, field] {
      telemetry::HistogramSnapshot h;
      for (const auto* s : sums) h.merge((s->*field).snapshot());
      return h;
    };
  };
  reg.add_histogram("spray_transport_loss_recovery_seconds",
                    "retransmitted packets: first transmission to the ACK that delivered one of its copies",
                    merged(&TransportSummary::loss_recovery), latency);
  reg.add_histogram("spray_transport_reorder_depth_packets",
                    "DATA packets received (not retransmissions): how far below the connection's highest "
                    "PSN so far they arrived, 0 in order",
                    merged(&TransportSummary::reorder_depth), bucketed_export(srd::kReorderDepthBounds, 1));
  reg.add_histogram("spray_transport_cwnd_packets",
                    "congestion window of each established connection, sampled every 100 ms",
                    merged(&TransportSummary::cwnd), bucketed_export(kCwndBoundsMicroPkts, 1e6));
}

void add_host_metrics(telemetry::Registry& reg, std::vector<const SrdHostPipeline*> hosts) {
  // The list's drop_* entries become spray_host_drops_total{reason}: drops by
  // reason read best as one family, and "not_for_us" as a metric name would
  // read as microseconds.
  struct Split {
    std::vector<telemetry::CounterInfo> counters, drops;
    std::vector<std::size_t> counter_at, drop_at;  // positions in the list
  };
  static const Split split = [] {
    Split s;
    for (std::size_t i = 0; i < kHostCounterInfo.size(); ++i) {
      const std::string_view name = kHostCounterInfo[i].name;
      if (name.starts_with("drop_")) {
        s.drops.push_back({kHostCounterInfo[i].name + 5, kHostCounterInfo[i].help});
        s.drop_at.push_back(i);
      } else {
        s.counters.push_back(kHostCounterInfo[i]);
        s.counter_at.push_back(i);
      }
    }
    return s;
  }();
  auto read_all = [hosts] {
    std::array<std::uint64_t, kHostCounterInfo.size()> all{};
    for (const auto* h : hosts) {
      const auto& c = h->counters();
      std::size_t k = 0;
#define SPRAY_TEL_READ(name, help) all[k++] += c.name.read();
      SPRAY_HOST_COUNTERS(SPRAY_TEL_READ)
#undef SPRAY_TEL_READ
    }
    return all;
  };
  reg.add_counters("spray_host_", split.counters, [read_all](std::span<std::uint64_t> out) {
    const auto all = read_all();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = all[split.counter_at[i]];
  });
  reg.add_counters_by_label("spray_host_drops_total", "frames the host dropped or could not send, by reason",
                            "reason", split.drops, [read_all](std::span<std::uint64_t> out) {
                              const auto all = read_all();
                              for (std::size_t i = 0; i < out.size(); ++i) out[i] = all[split.drop_at[i]];
                            });
}

void add_gen_metrics(telemetry::Registry& reg, std::vector<const GenHostApp*> apps) {
  reg.add_counters("spray_gen_", kGenCounterInfo, [apps](std::span<std::uint64_t> out) {
    for (const auto* a : apps) {
      const auto& c = a->generator().counters();
      std::size_t k = 0;
#define SPRAY_TEL_READ(name, help) out[k++] += c.name.read();
      SPRAY_GEN_COUNTERS(SPRAY_TEL_READ)
#undef SPRAY_TEL_READ
    }
  });
  reg.add_histogram("spray_gen_latency_seconds",
                    "request round trip: send to the reply's arrival, measured requests (after the warm-up)",
                    [apps] {
                      telemetry::HistogramSnapshot h;
                      for (const auto* a : apps) h.merge(a->generator().rtt().snapshot());
                      return h;
                    });
  std::vector<const TransportSummary*> sums;
  for (const auto* a : apps) sums.push_back(&a->summary());
  add_transport_metrics(reg, std::move(sums));
}

void add_respond_metrics(telemetry::Registry& reg, std::vector<const RespondHostApp*> apps) {
  reg.add_counters("spray_respond_", kRespondCounterInfo, [apps](std::span<std::uint64_t> out) {
    for (const auto* a : apps) {
      const auto& c = a->responder().counters();
      std::size_t k = 0;
#define SPRAY_TEL_READ(name, help) out[k++] += c.name.read();
      SPRAY_RESPOND_COUNTERS(SPRAY_TEL_READ)
#undef SPRAY_TEL_READ
    }
  });
  reg.add_counters_by_label("spray_respond_violations_total",
                            "requests that break exactly-once, intact delivery, by reason", "reason",
                            kRespondViolationInfo, [apps](std::span<std::uint64_t> out) {
                              for (const auto* a : apps) {
                                const auto& v = a->responder().violations();
                                std::size_t k = 0;
#define SPRAY_TEL_READ(name, help) out[k++] += v.name.read();
                                SPRAY_RESPOND_VIOLATIONS(SPRAY_TEL_READ)
#undef SPRAY_TEL_READ
                              }
                            });
  std::vector<const TransportSummary*> sums;
  for (const auto* a : apps) sums.push_back(&a->summary());
  add_transport_metrics(reg, std::move(sums));
}

EcosystemHooks::EcosystemHooks(std::shared_ptr<telemetry::SnapshotExchange> exchange) {
  {
    std::lock_guard lk(g_mu);
    g_exchange = std::move(exchange);
  }
  // DPDK keeps commands until the process exits; register them once.
  if (!g_registered) {
    rte_telemetry_register_cmd("/spray/ports", cmd_ports,
                               "spray ports: device counters, link, driver. Takes no parameters");
    rte_telemetry_register_cmd("/spray/workers", cmd_workers,
                               "spray workers: packets, busy/idle cycles, iterations. Takes no parameters");
    rte_telemetry_register_cmd("/spray/switch", cmd_switch,
                               "spray switch: counters, drops by reason, FDB entries. Takes no parameters");
    g_registered = true;
  }
  const int rc = rte_pdump_init();
  pdump_ = rc == 0;
  if (!pdump_)
    std::fprintf(stderr, "spray: warning: rte_pdump_init failed (%s); dpdk-dumpcap cannot capture\n",
                 rte_strerror(rte_errno));
}

EcosystemHooks::~EcosystemHooks() {
  if (pdump_) rte_pdump_uninit();
  std::lock_guard lk(g_mu);
  g_exchange.reset();
}

}  // namespace spray::dp
