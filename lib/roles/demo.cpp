// SPDX-License-Identifier: BSD-3-Clause
// spray demo: a leaf-spine fabric in one process (dp::plan_fabric), a
// generator spraying over P paths to a responder, a lossy spine link, a spine
// that fails mid-run and comes back; then the same run over one path, and
// both side by side.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>

#include "dataplane/fabric.h"
#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/switch_pipeline.h"
#include "dataplane/telemetry_dpdk.h"
#include "roles/report.h"
#include "roles/roles.h"
#include "roles/run_common.h"
#include "rte_pmd_impair.h"
#include "spray_version.h"
#include "srd/counters.h"
#include "telemetry/service.h"

namespace spray::roles {

namespace {

constexpr std::uint8_t kActive = 0, kSuspect = 1, kQuarantined = 2, kProbing = 3;

std::uint8_t rank(srd::PathState s) {
  switch (s) {
    case srd::PathState::kActive: return kActive;
    case srd::PathState::kSuspect: return kSuspect;
    case srd::PathState::kQuarantined: return kQuarantined;
    case srd::PathState::kProbing: return kProbing;
  }
  return kActive;
}

// The fabric both runs share, and the faults in it. Which spine a single
// path crosses decides which spine fails: the comparison shows what a hash
// collision with a failure costs a flow that cannot leave its path, and what
// it costs one that sprays.
struct DemoFabric {
  dp::FabricPlan plan;
  std::vector<dp::FabricPlan::PathRoute> routes;  // of every path the spray run may use
  int failing = 0;
  unsigned lossy = 0;
  // The impaired link ends the runtime wraps: only the failing spine's own
  // ends fail, as when a switch's forwarding dies or a failure sits one hop
  // away, so ECMP at the leaves keeps hashing flows onto the dead spine
  // until routing reconverges.
  std::vector<std::pair<std::string, std::string>> impaired;
};

DemoFabric plan_demo(const DemoOptions& opt) {
  dp::FabricSpec spec;
  spec.spines = opt.spines;
  spec.ecmp_seed = opt.seed;
  if (opt.fabric_rate_bps) {
    tor::EgressConfig e;
    e.rate_bps = opt.fabric_rate_bps;
    spec.fabric_egress = e;
  }
  DemoFabric f;
  f.routes = dp::plan_fabric(spec).path_routes(opt.paths);
  f.failing = f.routes[0].forward;
  f.lossy = f.failing == 0 ? 1 : 0;
  char loss_params[64];
  std::snprintf(loss_params, sizeof loss_params, "seed=%llu,loss=%.6f", (unsigned long long)opt.seed, opt.loss);
  spec.impaired.push_back({1, f.lossy, loss_params});
  spec.impaired.push_back({1, static_cast<unsigned>(f.failing), "link=up"});
  spec.impaired.push_back({2, static_cast<unsigned>(f.failing), "link=up"});
  f.plan = dp::plan_fabric(spec);
  for (const auto& [name, params] : f.plan.impaired) {
    const bool spine_end = name[0] == 's';
    const bool failing_link = name.find("s" + std::to_string(f.failing)) != std::string::npos;
    if (failing_link ? spine_end : !spine_end) f.impaired.push_back({name, params});
  }
  return f;
}

// The runtime's ports by name, and each switch's in its own order.
struct DemoPorts {
  std::vector<std::string> names;
  std::vector<std::uint16_t> ids;                      // DPDK port ids, global order
  std::vector<std::vector<std::uint16_t>> of_switch;  // global indexes
  std::vector<std::uint16_t> fail;                     // the failing spine's ends
  std::vector<std::uint16_t> spine_in[2];              // each spine's end towards leaf 1, leaf 2

  std::uint16_t index(const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<std::uint16_t>(i);
    throw RuntimeError("demo: port '" + name + "' missing");
  }
};

DemoPorts demo_ports(const dp::Runtime& rt, const DemoFabric& f, unsigned spines) {
  DemoPorts d;
  for (const auto& p : rt.ports()) {
    d.names.push_back(p.spec.name);
    d.ids.push_back(p.id);
  }
  for (const auto& sw : f.plan.switches) {
    d.of_switch.emplace_back();
    for (const auto& name : sw.ports) d.of_switch.back().push_back(d.index(name));
  }
  const auto failing = static_cast<unsigned>(f.failing);
  d.fail = {d.index(dp::FabricPlan::link_port(1, failing, false)), d.index(dp::FabricPlan::link_port(2, failing, false))};
  for (unsigned s = 0; s < spines; ++s) {
    d.spine_in[0].push_back(d.index(dp::FabricPlan::link_port(1, s, false)));
    d.spine_in[1].push_back(d.index(dp::FabricPlan::link_port(2, s, false)));
  }
  return d;
}

// One run's objects. The worker writes the path watch; the control thread
// reads it.
struct Run {
  std::vector<std::unique_ptr<dp::SwitchPipeline>> switches;
  std::unique_ptr<dp::SrdHostPipeline> gen_host, resp_host;
  std::unique_ptr<dp::GenHostApp> gen;
  std::unique_ptr<dp::RespondHostApp> resp;
  std::unique_ptr<dp::FabricPipeline> fabric;
  std::uint16_t paths = 0;
  std::unique_ptr<std::atomic<std::uint8_t>[]> path_state;
  std::unique_ptr<std::atomic<bool>[]> path_hit;   // quarantined at some point after the failure
  std::unique_ptr<std::atomic<bool>[]> path_ever;  // quarantined at some point in the run
  std::vector<bool> path_cut;  // crosses the failing spine, either way (set before the run)
  std::atomic<std::uint64_t> fail_tsc{0};
  std::atomic<std::uint64_t> recover_tsc{0};
  std::atomic<std::uint64_t> first_quarantine_tsc{0};
  // Worker only.
  std::vector<srd::ConnId> conns;
  std::uint64_t next_sample_tsc = 0, next_conns_tsc = 0;
};

// The switches and both hosts of run `phase` (0 spray, 1 single path).
std::unique_ptr<Run> build_run(const DemoOptions& opt, const DemoFabric& f, const DemoPorts& ports,
                               const dp::Runtime& rt, int phase) {
  auto run = std::make_unique<Run>();
  Run& r = *run;
  r.paths = phase == 0 ? opt.paths : 1;
  r.path_state = std::make_unique<std::atomic<std::uint8_t>[]>(r.paths);
  r.path_hit = std::make_unique<std::atomic<bool>[]>(r.paths);
  r.path_ever = std::make_unique<std::atomic<bool>[]>(r.paths);
  for (std::uint16_t p = 0; p < r.paths; ++p)
    r.path_cut.push_back(f.routes[p].forward == f.failing || f.routes[p].reverse == f.failing);

  // Switches: the planned configuration with the ports' real MACs.
  const auto& plan = f.plan;
  r.fabric = std::make_unique<dp::FabricPipeline>(ports.ids);
  for (std::size_t k = 0; k < plan.switches.size(); ++k) {
    tor::SwitchConfig c = plan.switches[k].config;
    for (auto& i : c.l3.interfaces) i.mac = wire::Mac{rt.ports()[ports.of_switch[k][i.port]].mac};
    r.switches.push_back(std::make_unique<dp::SwitchPipeline>(c, rt.pool(), rt.clock()));
    r.fabric->add(r.switches.back().get(), ports.of_switch[k]);
  }
  srd::EndpointConfig base;
  base.paths = r.paths;
  base.mtu = opt.mtu;
  base.max_connections = 64;
  // Both runs outlive the outage (a single path would otherwise give up
  // after 100 ms): the comparison is then the stall, not a failure.
  base.conn_timeout_ns =
      std::max<srd::Nanos>(base.conn_timeout_ns, static_cast<srd::Nanos>((opt.fail_for_s + 2) * 1e9));
  base.max_attempts = 255;
  base.rto_max_ns = 100'000'000;
  const srd::EndpointConfig epc = endpoint_for(base, plan.gen_host, opt.seed * 2 + phase);
  const std::uint16_t gp = ports.index(plan.gen_port), rp = ports.index(plan.resp_port);
  r.gen_host = std::make_unique<dp::SrdHostPipeline>(plan.gen_host, epc, 0, rt.ports()[gp].mac, rt.pool(), rt.clock());
  traffic::GenConfig g;
  g.peer = {plan.gen_host.peer_ip, plan.resp_host.udp_port};
  g.connections = opt.connections;
  g.outstanding = opt.outstanding;
  g.request = traffic::SizeDist::fixed(opt.request_bytes);
  g.reply = traffic::SizeDist::fixed(opt.reply_bytes);
  g.warmup_ns = 200'000'000;
  g.duration_ns = static_cast<srd::Nanos>(opt.run_seconds() * 1e9);
  g.drain_ns = 1'000'000'000;
  // A reply held up by the outage is still on its way (the connections
  // outlive it), not lost by a restarted responder.
  g.reply_timeout_ns = epc.conn_timeout_ns + 2'000'000'000;
  g.seed = epc.seed;
  r.gen = std::make_unique<dp::GenHostApp>(g, r.gen_host->endpoint());
  r.gen_host->set_app(r.gen.get());
  const srd::EndpointConfig rep = endpoint_for(base, plan.resp_host, epc.seed + 1000);
  r.resp_host = std::make_unique<dp::SrdHostPipeline>(plan.resp_host, rep, 0, rt.ports()[rp].mac, rt.pool(), rt.clock());
  traffic::RespondConfig rc;
  rc.reply_size = opt.reply_bytes;
  r.resp = std::make_unique<dp::RespondHostApp>(rc, r.resp_host->endpoint());
  r.resp_host->set_app(r.resp.get());
  r.fabric->add(r.gen_host.get(), {gp});
  r.fabric->add(r.resp_host.get(), {rp});
  return run;
}

// Path states sampled every 20 us on the worker: the summary's "quarantined
// within" needs finer time than the 100 ms publication.
void install_path_sampler(Run& run, std::uint64_t hz) {
  const std::uint64_t sample_tsc = hz / 50'000, conns_tsc = hz / 100;
  run.fabric->set_after_poll([&r = run, sample_tsc, conns_tsc](std::uint64_t now) {
    if (now < r.next_sample_tsc) return;
    r.next_sample_tsc = now + sample_tsc;
    if (now >= r.next_conns_tsc) {
      r.next_conns_tsc = now + conns_tsc;
      r.conns = r.gen->generator().connections();
    }
    const std::uint64_t fail = r.fail_tsc.load(std::memory_order_relaxed);
    const std::uint64_t back = r.recover_tsc.load(std::memory_order_relaxed);
    const srd::Endpoint& ep = r.gen_host->endpoint();
    for (std::uint16_t p = 0; p < r.paths; ++p) {
      std::uint8_t worst = kActive;
      bool ever = false;
      for (srd::ConnId c : r.conns) {
        srd::PathStats ps;
        if (!ep.path_stats(c, p, ps)) continue;
        worst = std::max(worst, rank(ps.state));
        // The counter catches a quarantine shorter than the sampling period.
        ever |= ps.quarantines > 0;
      }
      const std::uint8_t before = r.path_state[p].load(std::memory_order_relaxed);
      r.path_state[p].store(worst, std::memory_order_relaxed);
      if (ever || worst == kQuarantined) r.path_ever[p].store(true, std::memory_order_relaxed);
      if (worst == kQuarantined && fail != 0 && now >= fail && (back == 0 || now < back)) {
        r.path_hit[p].store(true, std::memory_order_relaxed);
        // Only a path that enters quarantine after the failure measures how
        // fast it was noticed (one already there was put there earlier).
        if (r.path_cut[p] && before != kQuarantined && r.first_quarantine_tsc.load(std::memory_order_relaxed) == 0)
          r.first_quarantine_tsc.store(now, std::memory_order_relaxed);
      }
    }
  });
}

telemetry::HistogramSnapshot minus(const telemetry::HistogramSnapshot& a, const telemetry::HistogramSnapshot& b) {
  telemetry::HistogramSnapshot d = a;
  if (b.count == 0) return d;
  d.count = a.count - b.count;
  d.sum = a.sum - b.sum;
  for (std::size_t i = 0; i < d.buckets.size() && i < b.buckets.size(); ++i) d.buckets[i] -= b.buckets[i];
  d.min = 0;  // bucket midpoints decide; the interval's exact extremes are unknown
  return d;
}

// Packets at each spine's ports so far.
std::vector<std::uint64_t> spine_packets(const dp::Runtime& rt, const DemoPorts& ports) {
  std::vector<std::uint64_t> v(ports.spine_in[0].size());
  for (std::size_t s = 0; s < v.size(); ++s)
    for (const auto& side : ports.spine_in) {
      const auto st = rt.port_stats(side[s]);
      v[s] += st.rx_packets + st.tx_packets;
    }
  return v;
}

// What the last progress line had seen.
struct Progress {
  std::uint64_t done = 0, bytes = 0;
  std::vector<std::uint64_t> spine;  // packets at each spine's ports
  telemetry::HistogramSnapshot rtt;
};

// The progress line of a run: rates, round trips and retransmissions of the
// last period, each spine's share of its packets (`sp`: packets so far), and
// each path's state (Active, Suspect, Quarantined, Probing) under the spine
// it crosses.
std::string progress_line(const Run& r, const DemoFabric& f, const DemoOptions& opt,
                          const std::vector<std::uint64_t>& sp, bool spine_down, Progress& prev) {
  using dp::human;
  const auto& c = r.gen->generator().counters();
  const auto rtt = r.gen->generator().rtt().snapshot();
  const auto win = minus(rtt, prev.rtt);
  const std::uint64_t done = c.completed.read(), bytes = c.tx_bytes.read() + c.rx_bytes.read();
  const double period = opt.common.stats_period_s > 0 ? opt.common.stats_period_s : 1;
  const auto& s = r.gen->summary();
  std::uint64_t total = 0;
  for (unsigned k = 0; k < opt.spines; ++k) total += sp[k] - prev.spine[k];
  std::ostringstream out;
  char b[256];
  std::snprintf(b, sizeof b, "%6s msg/s %7sbit/s  rtt p50 %6s p99 %7s us  retx nack %llu rack %llu tlp %llu rto %llu",
                human((done - prev.done) / period).c_str(), human((bytes - prev.bytes) * 8.0 / period).c_str(),
                win.empty() ? "-" : usec(win.quantile(0.5), 1).c_str(),
                win.empty() ? "-" : usec(win.quantile(0.99), 1).c_str(),
                (unsigned long long)s.retx_of(srd::RetxCause::kNack).read(),
                (unsigned long long)(s.retx_of(srd::RetxCause::kRack).read() +
                                     s.retx_of(srd::RetxCause::kSamePath).read()),
                (unsigned long long)s.retx_of(srd::RetxCause::kTlp).read(),
                (unsigned long long)s.retx_of(srd::RetxCause::kRto).read());
  out << b << "\n          spines";
  for (unsigned k = 0; k < opt.spines; ++k) {
    std::snprintf(b, sizeof b, " s%u %3.0f%%%s", k, total ? 100.0 * (sp[k] - prev.spine[k]) / total : 0.0,
                  (static_cast<int>(k) == f.failing && spine_down) ? "(DOWN)" : "");
    out << b;
  }
  out << "   paths";
  for (unsigned k = 0; k < opt.spines; ++k) {
    std::string cell;
    for (std::uint16_t p = 0; p < r.paths; ++p)
      if (f.routes[p].forward == static_cast<int>(k)) cell += "ASQP"[r.path_state[p].load(std::memory_order_relaxed)];
    if (!cell.empty()) out << " s" << k << "[" << cell << "]";
  }
  prev = {done, bytes, sp, rtt};
  return out.str();
}

// The figures of a finished run (workers stopped).
DemoRun read_run(const Run& r, const DemoFabric& f, const dp::Runtime& rt, const std::vector<std::uint64_t>& spine_base,
                 const DemoPorts& ports) {
  DemoRun res;
  res.paths = r.paths;
  for (std::uint16_t p = 0; p < r.paths; ++p) {
    res.path_spine.push_back(f.routes[p].forward);
    res.back_spine.push_back(f.routes[p].reverse);
  }
  res.lossy_spine = static_cast<int>(f.lossy);
  const auto& gen = r.gen->generator();
  res.figures = read_generator(*r.gen, now_ns(rt));
  const auto& fig = res.figures;
  res.lost = fig.failed + (fig.sent - std::min(fig.sent, fig.completed + fig.failed));
  res.violations = r.resp->responder().violations().total() + fig.bad_reply + fig.unexpected_reply;
  if (fig.conn_failed) res.failure = "connection failed: " + gen.last_failure();
  else if (fig.failed) res.failure = std::to_string(fig.failed) + " message(s) failed: " + gen.last_failure();
  if (r.gen_host->peer_state() != dp::NeighborState::kResolved) res.failure = "the gateway never answered ARP";
  const auto sp = spine_packets(rt, ports);
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < sp.size(); ++k) total += sp[k] - spine_base[k];
  for (std::size_t k = 0; k < sp.size(); ++k)
    res.spine_share.push_back(total ? static_cast<double>(sp[k] - spine_base[k]) / total : 0.0);
  const std::uint64_t fail = r.fail_tsc.load(), q = r.first_quarantine_tsc.load();
  if (fail && q >= fail) res.quarantine_ms = (q - fail) * 1e3 / rt.clock().hz();
  for (std::uint16_t p = 0; p < r.paths; ++p) {
    res.quarantined_in_outage.push_back(r.path_hit[p].load());
    res.quarantined_ever.push_back(r.path_ever[p].load());
  }
  for (std::size_t k = 0; k < r.switches.size(); ++k)
    for (std::size_t p = 0; p < f.plan.switches[k].ports.size(); ++p)
      if (const auto st = r.switches[k]->egress().stats(static_cast<std::uint16_t>(p))) {
        res.ce_marks += (*st)[tor::EgressCounter::kCeMarked];
        res.queue_drops += (*st)[tor::EgressCounter::kDroppedFull];
      }
  return res;
}

// Where packets died, per switch: the first place to look when a run is not
// clean.
void print_switch_lines(const Run& r, const DemoFabric& f) {
  for (std::size_t k = 0; k < r.switches.size(); ++k) {
    const auto st = r.switches[k]->l3_snapshot();
    std::string drops;
    for (std::size_t d = 0; d < tor::kL3DropCount; ++d)
      if (st.drops[d]) drops += " " + std::string(tor::kL3DropInfo[d].name) + "=" + std::to_string(st.drops[d]);
    std::printf("  %-7s routed %llu, arp entries %llu%s%s\n", f.plan.switches[k].name.c_str(),
                (unsigned long long)st[tor::L3Counter::kForwarded], (unsigned long long)st.neighbors,
                drops.empty() ? "" : ", dropped:", drops.c_str());
  }
}

// The failing spine's two ends down (0) or up (1).
void set_spine_link(const dp::Runtime& rt, const DemoPorts& ports, int up) {
  for (auto port : ports.fail) rte_pmd_impair_link_set(rt.ports()[port].id, up);
}

}  // namespace

int run_demo(const DemoOptions& opt) {
  const double run_s = opt.run_seconds();
  const DemoFabric f = plan_demo(opt);

  dp::RuntimeOptions ro = runtime_options(opt.common);
  ro.ring_links = f.plan.ring_links;
  ro.impaired = f.impaired;
  ro.progress_ports = false;
  ro.port.mtu = opt.mtu;
  if (ro.worker_cpus.empty()) ro.worker_cpus = {dp::usable_cpus().back()};
  if (ro.worker_cpus.size() != 1) throw UsageError("--lcores: the demo runs its fabric on one worker; give one CPU");
  if (!opt.common.idle_given) ro.worker.idle = dp::IdleMode::kPoll;
  ro.extra_mbufs = 8192 + (opt.fabric_rate_bps ? 4 * opt.spines * 1024 : 0);
  // The same bytes in jumbo buffers: the demo's few requests in flight never
  // fill the switches' 1024-packet queues with 9000-byte frames, and the
  // pool then fits --mem 512.
  ro.extra_mbufs = ro.extra_mbufs * RTE_MBUF_DEFAULT_BUF_SIZE / dp::mbuf_data_room(opt.mtu);
  dp::Runtime rt(ro);
  telemetry::Service tel(opt.common.metrics, opt.common.metrics_default);
  const DemoPorts ports = demo_ports(rt, f, opt.spines);
  const int failing = f.failing;

  std::printf("spray demo: 2 leaves, %u spines, generator 10.0.1.2 under leaf1 -> responder 10.0.2.2 under leaf2\n",
              opt.spines);
  std::printf("  link leaf1-spine%u loses %.2f%% of packets each way; spine%d fails at %.1f s for %.1f s of each "
              "%.1f s run\n", f.lossy, opt.loss * 100, failing, opt.fail_at_s, opt.fail_for_s, run_s);
  std::printf("  (the leaves' links to spine%d stay up: ECMP keeps sending to it until routing would "
              "reconverge; the transport has to notice on its own)\n", failing);
  if (const auto a = tel.address()) std::printf("  metrics http://%s/metrics\n", a->str().c_str());
  std::fflush(stdout);

  DemoReport report;
  report.spines = opt.spines;
  report.failed_spine = failing;
  report.lossy_spine = static_cast<int>(f.lossy);
  report.loss = opt.loss;
  report.run_seconds = run_s;
  report.shaped = opt.fabric_rate_bps != 0;
  std::vector<std::unique_ptr<Run>> runs;
  auto& sig = dp::signals();

  for (int phase = 0; phase < (opt.compare ? 2 : 1) && !sig.stop.load(); ++phase) {
    runs.push_back(build_run(opt, f, ports, rt, phase));
    Run& r = *runs.back();
    const std::string mode = phase == 0 ? "spray" : "single-path";
    install_path_sampler(r, rt.clock().hz());

    if (phase == 0) {
      // Metrics describe the spray run; the single-path run is in the summary.
      dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
      dp::add_switch_metrics(tel.registry(), r.switches, rt);
      dp::add_gen_metrics(tel.registry(), {r.gen.get()});
      dp::add_respond_metrics(tel.registry(), {r.resp.get()});
      dp::add_host_metrics(tel.registry(), {r.gen_host.get(), r.resp_host.get()});
      tel.refresh();
    }

    std::printf("\n== run %d: %s, %u path%s, %.1f s ==\n", phase + 1, mode.c_str(), r.paths, r.paths > 1 ? "s" : "",
                run_s);
    std::fflush(stdout);
    // Per-spine packets at the spines' ports, from this run's start.
    const auto spine_base = spine_packets(rt, ports);
    Progress prev;
    prev.spine = spine_base;

    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    bool failed = false, recovered = opt.fail_for_s <= 0, stop_sent = false;
    dp::Runtime::Hooks hooks;
    hooks.tick = [&] {
      const double t = elapsed();
      if (!failed && opt.fail_for_s > 0 && t >= opt.fail_at_s) {
        failed = true;
        set_spine_link(rt, ports, 0);
        r.fail_tsc.store(rte_rdtsc(), std::memory_order_relaxed);
        std::printf("[%6.1fs] spine%d FAILS\n", t, failing);
        std::fflush(stdout);
      }
      if (failed && !recovered && t >= opt.fail_at_s + opt.fail_for_s) {
        recovered = true;
        set_spine_link(rt, ports, 1);
        r.recover_tsc.store(rte_rdtsc(), std::memory_order_relaxed);
        std::printf("[%6.1fs] spine%d is back\n", t, failing);
        std::fflush(stdout);
      }
      for (std::size_t k = 0; k < r.switches.size(); ++k) r.switches[k]->set_link_mask(link_mask(rt, ports.of_switch[k]));
      tel.tick();
    };
    hooks.done = [&] {
      if (!stop_sent && (sig.stop.load() || elapsed() >= run_s)) {
        stop_sent = true;
        r.gen->request_stop();
      }
      return r.gen->finished() || (stop_sent && elapsed() > run_s + 3) ||
             r.gen_host->peer_state() == dp::NeighborState::kFailed;
    };
    hooks.progress = [&](double) {
      const std::string line = progress_line(r, f, opt, spine_packets(rt, ports), failed && !recovered, prev);
      if (r.gen_host->peer_state() == dp::NeighborState::kResolving) return std::string("resolving the gateway");
      return line;
    };
    rt.run([&](unsigned) { return static_cast<dp::Pipeline*>(r.fabric.get()); }, hooks);
    if (failed && !recovered) set_spine_link(rt, ports, 1);

    // Workers have stopped: everything is ours to read.
    DemoRun res = read_run(r, f, rt, spine_base, ports);
    res.mode = mode;
    res.failed_spine = opt.fail_for_s > 0 ? failing : -1;
    print_switch_lines(r, f);
    report.runs.push_back(std::move(res));
    sig.stop.store(false);
  }

  std::fputs(demo_text(report).c_str(), stdout);
  if (!opt.json_path.empty()) write_file(opt.json_path, demo_json(report), "--json");
  return report.clean() ? 0 : 3;
}

}  // namespace spray::roles
