// SPDX-License-Identifier: BSD-3-Clause
// spray demo: a leaf-spine fabric in one process (dp::plan_fabric), a
// generator spraying over P paths to a responder, a lossy spine link, a spine
// that fails mid-run and comes back; then the same run over one path, and
// both side by side.
#include <rte_cycles.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "dataplane/fabric.h"
#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/switch_pipeline.h"
#include "dataplane/telemetry_dpdk.h"
#include "host_options.h"
#include "switch_options.h"
#include "role_common.h"
#include "roles.h"
#include "rte_pmd_impair.h"
#include "spray_version.h"
#include "srd/counters.h"
#include "telemetry/service.h"
#include "tor/l3_router.h"

namespace spray::app {

namespace {

struct DemoOptions {
  CommonOptions common;
  double duration_s = 20;  // both runs together
  unsigned spines = 4;
  std::uint16_t paths = 16;
  double loss = 0.01;
  double fail_at_s = -1;   // into each run; < 0: 35% of it
  double fail_for_s = -1;  // < 0: 30% of the run
  std::uint32_t connections = 2;
  std::uint32_t outstanding = 8;
  std::uint32_t request_bytes = 8192;
  std::uint32_t reply_bytes = 256;
  std::uint64_t seed = 1;
  bool compare = true;
  std::string json_path;
  std::uint64_t fabric_rate_bps = 0;  // 0: links unshaped
};

void describe(RoleParser& p) {
  auto add = p.role_options().add_options();
  add("duration", po::value<double>()->default_value(20)->value_name("SECONDS"),
      "total run time, both runs together (spray, then single path), 2..3600");
  add("spines", po::value<unsigned>()->default_value(4)->value_name("N"), "spine switches (2..16)");
  add("paths", po::value<unsigned>()->default_value(16)->value_name("P"),
      "paths the generator sprays over in the first run (2..256)");
  add("loss", po::value<double>()->default_value(0.01)->value_name("FRACTION"),
      "packet loss on one leaf-spine link, each direction (0..0.5)");
  add("fail-at", po::value<double>()->value_name("SECONDS"),
      "when the spine fails, seconds into each run (default: 35% of the run)");
  add("fail-for", po::value<double>()->value_name("SECONDS"),
      "how long it stays down (default: 30% of the run; 0 = no failure)");
  add("connections", po::value<std::uint32_t>()->default_value(2)->value_name("C"), "connections (1..64)");
  add("outstanding", po::value<std::uint32_t>()->default_value(8)->value_name("N"),
      "requests in flight per connection (1..256)");
  add("size", po::value<std::uint32_t>()->default_value(8192)->value_name("BYTES"),
      "request size (64..1048576)");
  add("reply-size", po::value<std::uint32_t>()->default_value(256)->value_name("BYTES"),
      "reply size (0..1048576)");
  add("seed", po::value<std::uint64_t>()->default_value(1)->value_name("N"),
      "seed of the fabric's ECMP hashes, the impaired link and the transport");
  add("compare", po::value<std::string>()->default_value("yes")->value_name("yes|no"),
      "repeat the run over a single path (like TCP over ECMP) and show both side by side");
  add("json", po::value<std::string>()->value_name("FILE"), "write the summary as JSON");
  add("fabric-rate", po::value<std::string>()->default_value("2Gbps")->value_name("RATE"),
      "shape every leaf-spine link to this rate, with a 1024-packet queue marking ECN above 32 "
      "packets or 20 us, so a single path has one link's capacity and spraying has all of them; "
      "'line': unshaped (in-memory links are then as fast as the core)");
}

template <class T>
T ranged(const po::variables_map& vm, const char* name, T lo, T hi, const char* what) {
  const T v = vm[name].as<T>();
  if (!(v >= lo && v <= hi)) {
    std::ostringstream s;
    s << "--" << name << " " << v << ": " << what << " in " << lo << ".." << hi;
    throw UsageError(s.str());
  }
  return v;
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

DemoOptions options_from(const RoleParser& p) {
  DemoOptions o;
  o.common = p.common();
  if (!o.common.ports.empty())
    throw UsageError("the demo builds its own fabric of in-memory ports; give no --port");
  const auto& vm = p.vm();
  o.duration_s = ranged(vm, "duration", 2.0, 3600.0, "expected seconds");
  o.spines = ranged(vm, "spines", 2u, 16u, "expected a spine count");
  o.paths = static_cast<std::uint16_t>(ranged(vm, "paths", 2u, 256u, "expected a path count"));
  o.loss = ranged(vm, "loss", 0.0, 0.5, "expected a loss fraction");
  o.connections = ranged(vm, "connections", 1u, 64u, "expected a connection count");
  o.outstanding = ranged(vm, "outstanding", 1u, 256u, "expected requests per connection");
  o.request_bytes = ranged(vm, "size", 64u, 1u << 20, "expected bytes");
  o.reply_bytes = ranged(vm, "reply-size", 0u, 1u << 20, "expected bytes");
  o.seed = vm["seed"].as<std::uint64_t>();
  const std::string cmp = vm["compare"].as<std::string>();
  if (cmp != "yes" && cmp != "no") throw UsageError("--compare '" + cmp + "': expected yes or no");
  o.compare = cmp == "yes";
  const double run_s = o.duration_s / (o.compare ? 2 : 1);
  o.fail_at_s = vm.count("fail-at") ? vm["fail-at"].as<double>() : 0.35 * run_s;
  o.fail_for_s = vm.count("fail-for") ? vm["fail-for"].as<double>() : 0.30 * run_s;
  if (!(o.fail_at_s >= 0 && o.fail_at_s < run_s))
    throw UsageError("--fail-at " + num(o.fail_at_s) + ": expected seconds in 0.." + num(run_s) +
                     " (each run lasts " + num(run_s) + " s: --duration " + num(o.duration_s) +
                     (o.compare ? " split over two runs)" : ")"));
  if (!(o.fail_for_s >= 0 && o.fail_for_s <= 3600))
    throw UsageError("--fail-for " + num(o.fail_for_s) + ": expected seconds in 0..3600");
  if (vm.count("json")) o.json_path = vm["json"].as<std::string>();
  o.fabric_rate_bps = parse_bit_rate(vm["fabric-rate"].as<std::string>(), "--fabric-rate");
  return o;
}

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

// What one run measured.
struct RunResult {
  std::string mode;
  std::uint16_t paths = 0;
  double seconds = 0;
  std::uint64_t sent = 0, completed = 0, failed = 0, lost = 0, measured = 0, violations = 0;
  double goodput_bps = 0;
  telemetry::HistogramSnapshot rtt;
  std::array<std::uint64_t, srd::kRetxCauseCount> retx{};  // by srd::RetxCause
  std::uint64_t retx_of(srd::RetxCause c) const { return retx[static_cast<std::size_t>(c)]; }
  std::uint64_t quarantines = 0;
  std::uint64_t ce_marks = 0, queue_drops = 0;  // in the fabric's egress queues (--fabric-rate)
  std::vector<double> spine_share;  // fraction of fabric packets per spine
  std::string failure;
  int failed_spine = -1;
  double quarantine_ms = -1;  // first path quarantined after the failure
  std::vector<int> path_spine;  // forward spine of each path
  std::vector<int> back_spine;  // spine its acknowledgements come back through
  int lossy_spine = -1;  // the spine of leaf 1's lossy link
  std::vector<bool> quarantined_in_outage;
  std::vector<bool> quarantined_ever;  // at any time in the run
};

// One run's objects. The worker writes the path watch; the control thread reads it.
struct Run {
  std::vector<std::unique_ptr<dp::SwitchPipeline>> switches;
  std::unique_ptr<dp::SrdHostPipeline> gen_host, resp_host;
  std::unique_ptr<dp::GenHostApp> gen;
  std::unique_ptr<dp::RespondHostApp> resp;
  std::unique_ptr<dp::FabricPipeline> fabric;
  std::uint16_t paths = 0;
  std::unique_ptr<std::atomic<std::uint8_t>[]> path_state;
  std::unique_ptr<std::atomic<bool>[]> path_hit;  // quarantined at some point after the failure
  std::unique_ptr<std::atomic<bool>[]> path_ever;  // quarantined at some point in the run
  std::vector<bool> path_cut;  // crosses the failing spine, either way (set before the run)
  std::atomic<std::uint64_t> fail_tsc{0};
  std::atomic<std::uint64_t> recover_tsc{0};
  std::atomic<std::uint64_t> first_quarantine_tsc{0};
  // Worker only.
  std::vector<srd::ConnId> conns;
  std::uint64_t next_sample_tsc = 0, next_conns_tsc = 0;
};

std::string fmt_us(std::uint64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", ns / 1000.0);
  return b;
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

}  // namespace

int demo_main(const std::vector<std::string>& args) {
  RoleParser parser("demo",
                    "A leaf-spine fabric in one process: 2 leaves, S spines (the switch of `spray switch`, "
                    "routed, ECMP), a generator under leaf 1 spraying over P paths to a responder under "
                    "leaf 2. One leaf-spine link loses packets; one spine fails mid-run and comes back. "
                    "Then the same over a single path (like TCP over ECMP), side by side. No NIC, no "
                    "hugepages needed.\n"
                    "Example: spray demo --duration 20 --spines 4 --paths 16");
  describe(parser);
  if (!parser.parse(args)) return 0;
  const DemoOptions opt = options_from(parser);
  const double run_s = opt.duration_s / (opt.compare ? 2 : 1);

  // Which spine a single path crosses decides which spine fails: the
  // comparison shows what a hash collision with a failure costs a flow that
  // cannot leave its path, and what it costs one that sprays.
  dp::FabricSpec spec;
  spec.spines = opt.spines;
  spec.ecmp_seed = opt.seed;
  if (opt.fabric_rate_bps) {
    tor::EgressConfig e;
    e.rate_bps = opt.fabric_rate_bps;
    spec.fabric_egress = e;
  }
  dp::FabricPlan probe = dp::plan_fabric(spec);
  const std::uint16_t src_base = probe.gen_host.src_port_base;
  const std::uint16_t dst_port = probe.gen_host.udp_port;
  std::vector<int> path_spine(opt.paths), back_spine(opt.paths);
  int failing = 0;
  {
    // Forward: leaf 1 hashes the generator's packets; back: leaf 2 hashes
    // the responder's acknowledgements and replies, which carry the same
    // path id in their source port.
    tor::L3Router leaf1(probe.switches[0].config.l3, probe.switches[0].ports.size());
    tor::L3Router leaf2(probe.switches[1].config.l3, probe.switches[1].ports.size());
    for (std::uint16_t p = 0; p < opt.paths; ++p) {
      path_spine[p] = leaf1.egress_for(probe.gen_host.ip, probe.gen_host.peer_ip, wire::kIpProtoUdp,
                                       static_cast<std::uint16_t>(src_base + p), dst_port) - 1;
      back_spine[p] = leaf2.egress_for(probe.resp_host.ip, probe.gen_host.ip, wire::kIpProtoUdp,
                                       static_cast<std::uint16_t>(probe.resp_host.src_port_base + p), dst_port) - 1;
    }
    failing = path_spine[0];
  }
  const unsigned lossy = failing == 0 ? 1 : 0;
  char loss_params[64];
  std::snprintf(loss_params, sizeof loss_params, "seed=%llu,loss=%.6f", (unsigned long long)opt.seed, opt.loss);
  spec.impaired.push_back({1, lossy, loss_params});
  spec.impaired.push_back({1, static_cast<unsigned>(failing), "link=up"});
  spec.impaired.push_back({2, static_cast<unsigned>(failing), "link=up"});
  const dp::FabricPlan plan = dp::plan_fabric(spec);
  // Only the spine's ends fail: the leaves' ends stay up, as when a switch's
  // forwarding dies or a failure sits one hop away, so ECMP at the leaves
  // keeps hashing flows onto the dead spine until routing reconverges.
  std::vector<std::pair<std::string, std::string>> impaired;
  for (const auto& [name, params] : plan.impaired) {
    const bool spine_end = name[0] == 's';
    const bool failing_link = name.find("s" + std::to_string(failing)) != std::string::npos;
    if (failing_link ? spine_end : !spine_end) impaired.push_back({name, params});
  }

  dp::RuntimeOptions ro = runtime_options(opt.common);
  ro.ring_links = plan.ring_links;
  ro.impaired = impaired;
  ro.progress_ports = false;
  if (ro.worker_cpus.empty()) ro.worker_cpus = {dp::usable_cpus().back()};
  if (ro.worker_cpus.size() != 1) throw UsageError("--lcores: the demo runs its fabric on one worker; give one CPU");
  if (parser.vm()["idle"].defaulted()) ro.worker.idle = dp::IdleMode::kPoll;
  ro.extra_mbufs = 8192 + (opt.fabric_rate_bps ? 4 * opt.spines * 1024 : 0);
  dp::Runtime rt(ro);
  telemetry::Service tel(opt.common.metrics, opt.common.metrics_default);

  auto port_index = [&](const std::string& name) -> std::uint16_t {
    for (std::size_t i = 0; i < rt.ports().size(); ++i)
      if (rt.ports()[i].spec.name == name) return static_cast<std::uint16_t>(i);
    throw RuntimeError("demo: port '" + name + "' missing");
  };
  std::vector<std::uint16_t> port_ids;
  for (const auto& p : rt.ports()) port_ids.push_back(p.id);
  // Each switch's ports in its own order, as the Runtime numbers them.
  std::vector<std::vector<std::uint16_t>> switch_ports;
  for (const auto& sw : plan.switches) {
    switch_ports.emplace_back();
    for (const auto& name : sw.ports) switch_ports.back().push_back(port_index(name));
  }
  std::vector<std::uint16_t> fail_ports = {port_index(dp::FabricPlan::link_port(1, failing, false)),
                                           port_index(dp::FabricPlan::link_port(2, failing, false))};

  std::printf("spray demo: 2 leaves, %u spines, generator 10.0.1.2 under leaf1 -> responder 10.0.2.2 under leaf2\n",
              opt.spines);
  std::printf("  link leaf1-spine%u loses %.2f%% of packets each way; spine%d fails at %.1f s for %.1f s of each "
              "%.1f s run\n", lossy, opt.loss * 100, failing, opt.fail_at_s, opt.fail_for_s, run_s);
  std::printf("  (the leaves' links to spine%d stay up: ECMP keeps sending to it until routing would "
              "reconverge; the transport has to notice on its own)\n", failing);
  if (const auto a = tel.address()) std::printf("  metrics http://%s/metrics\n", a->str().c_str());
  std::fflush(stdout);

  std::vector<std::unique_ptr<Run>> runs;
  std::vector<RunResult> results;
  auto& sig = dp::signals();
  const std::uint64_t hz = rte_get_tsc_hz();

  for (int phase = 0; phase < (opt.compare ? 2 : 1) && !sig.stop.load(); ++phase) {
    auto run = std::make_unique<Run>();
    Run& r = *run;
    r.paths = phase == 0 ? opt.paths : 1;
    r.path_state = std::make_unique<std::atomic<std::uint8_t>[]>(r.paths);
    r.path_hit = std::make_unique<std::atomic<bool>[]>(r.paths);
    r.path_ever = std::make_unique<std::atomic<bool>[]>(r.paths);
    RunResult res;
    res.mode = phase == 0 ? "spray" : "single-path";
    res.paths = r.paths;
    res.failed_spine = opt.fail_for_s > 0 ? failing : -1;
    res.path_spine.assign(path_spine.begin(), path_spine.begin() + r.paths);
    res.back_spine.assign(back_spine.begin(), back_spine.begin() + r.paths);
    res.lossy_spine = static_cast<int>(lossy);
    for (std::uint16_t p = 0; p < r.paths; ++p) r.path_cut.push_back(path_spine[p] == failing || back_spine[p] == failing);

    // Switches: the planned configuration with the ports' real MACs.
    r.fabric = std::make_unique<dp::FabricPipeline>(port_ids);
    for (std::size_t k = 0; k < plan.switches.size(); ++k) {
      tor::SwitchConfig c = plan.switches[k].config;
      for (auto& i : c.l3.interfaces) i.mac = wire::Mac{rt.ports()[switch_ports[k][i.port]].mac};
      r.switches.push_back(std::make_unique<dp::SwitchPipeline>(c, rt.pool(), rt.clock()));
      r.fabric->add(r.switches.back().get(), switch_ports[k]);
    }
    srd::EndpointConfig epc;
    epc.paths = r.paths;
    epc.seed = opt.seed * 2 + phase;
    epc.max_connections = 64;
    // Both runs outlive the outage (a single path would otherwise give up
    // after 100 ms): the comparison is then the stall, not a failure.
    epc.conn_timeout_ns = std::max<srd::Nanos>(epc.conn_timeout_ns, static_cast<srd::Nanos>((opt.fail_for_s + 2) * 1e9));
    epc.max_attempts = 255;
    epc.rto_max_ns = 100'000'000;
    epc.local = {plan.gen_host.ip, plan.gen_host.udp_port};
    const std::uint16_t gp = port_index(plan.gen_port), rp = port_index(plan.resp_port);
    r.gen_host = std::make_unique<dp::SrdHostPipeline>(plan.gen_host, epc, 0, rt.ports()[gp].mac, rt.pool(), rt.clock());
    traffic::GenConfig g;
    g.peer = {plan.gen_host.peer_ip, plan.resp_host.udp_port};
    g.connections = opt.connections;
    g.outstanding = opt.outstanding;
    g.request = traffic::SizeDist::fixed(opt.request_bytes);
    g.reply = traffic::SizeDist::fixed(opt.reply_bytes);
    g.warmup_ns = 200'000'000;
    g.duration_ns = static_cast<srd::Nanos>(run_s * 1e9);
    g.drain_ns = 1'000'000'000;
    // A reply held up by the outage is still on its way (the connections
    // outlive it), not lost by a restarted responder.
    g.reply_timeout_ns = epc.conn_timeout_ns + 2'000'000'000;
    g.seed = epc.seed;
    r.gen = std::make_unique<dp::GenHostApp>(g, r.gen_host->endpoint());
    r.gen_host->set_app(r.gen.get());
    srd::EndpointConfig rep = epc;
    rep.local = {plan.resp_host.ip, plan.resp_host.udp_port};
    rep.seed = epc.seed + 1000;
    r.resp_host = std::make_unique<dp::SrdHostPipeline>(plan.resp_host, rep, 0, rt.ports()[rp].mac, rt.pool(), rt.clock());
    traffic::RespondConfig rc;
    rc.reply_size = opt.reply_bytes;
    r.resp = std::make_unique<dp::RespondHostApp>(rc, r.resp_host->endpoint());
    r.resp_host->set_app(r.resp.get());
    r.fabric->add(r.gen_host.get(), {gp});
    r.fabric->add(r.resp_host.get(), {rp});

    // Path states sampled every 20 us on the worker: the summary's
    // "quarantined within" needs finer time than the 100 ms publication.
    const std::uint64_t sample_tsc = hz / 50'000, conns_tsc = hz / 100;
    r.fabric->set_after_poll([&r, sample_tsc, conns_tsc](std::uint64_t now) {
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

    if (phase == 0) {
      // Metrics describe the spray run; the single-path run is in the summary.
      dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
      dp::add_switch_metrics(tel.registry(), r.switches, rt);
      dp::add_gen_metrics(tel.registry(), {r.gen.get()});
      dp::add_respond_metrics(tel.registry(), {r.resp.get()});
      dp::add_host_metrics(tel.registry(), {r.gen_host.get(), r.resp_host.get()});
      tel.refresh();
    }

    std::printf("\n== run %d: %s, %u path%s, %.1f s ==\n", phase + 1, res.mode.c_str(), r.paths, r.paths > 1 ? "s" : "",
                run_s);
    std::fflush(stdout);
    // Per-spine packets at the spines' ports, from this run's start.
    std::vector<std::uint16_t> spine_in[2];
    for (unsigned s = 0; s < opt.spines; ++s) {
      spine_in[0].push_back(port_index(dp::FabricPlan::link_port(1, s, false)));
      spine_in[1].push_back(port_index(dp::FabricPlan::link_port(2, s, false)));
    }
    auto spine_packets = [&] {
      std::vector<std::uint64_t> v(opt.spines);
      for (unsigned s = 0; s < opt.spines; ++s)
        for (const auto& side : spine_in) {
          const auto st = rt.port_stats(side[s]);
          v[s] += st.rx_packets + st.tx_packets;
        }
      return v;
    };
    const auto spine_base = spine_packets();
    auto prev_spine = spine_base;

    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    bool failed = false, recovered = opt.fail_for_s <= 0, stop_sent = false;
    std::uint64_t prev_done = 0, prev_bytes = 0;
    telemetry::HistogramSnapshot prev_rtt;
    dp::Runtime::Hooks hooks;
    hooks.tick = [&] {
      const double t = elapsed();
      if (!failed && opt.fail_for_s > 0 && t >= opt.fail_at_s) {
        failed = true;
        for (auto port : fail_ports) rte_pmd_impair_link_set(rt.ports()[port].id, 0);
        r.fail_tsc.store(rte_rdtsc(), std::memory_order_relaxed);
        std::printf("[%6.1fs] spine%d FAILS\n", t, failing);
        std::fflush(stdout);
      }
      if (failed && !recovered && t >= opt.fail_at_s + opt.fail_for_s) {
        recovered = true;
        for (auto port : fail_ports) rte_pmd_impair_link_set(rt.ports()[port].id, 1);
        r.recover_tsc.store(rte_rdtsc(), std::memory_order_relaxed);
        std::printf("[%6.1fs] spine%d is back\n", t, failing);
        std::fflush(stdout);
      }
      for (std::size_t k = 0; k < r.switches.size(); ++k) {
        std::uint64_t mask = 0;
        for (std::size_t i = 0; i < switch_ports[k].size(); ++i)
          if (dp::link_up_for_forwarding(rt.ports()[switch_ports[k][i]])) mask |= std::uint64_t{1} << i;
        r.switches[k]->set_link_mask(mask);
      }
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
      const auto& c = r.gen->generator().counters();
      const auto rtt = r.gen->generator().rtt().snapshot();
      const auto win = minus(rtt, prev_rtt);
      prev_rtt = rtt;
      const std::uint64_t done = c.completed.read(), bytes = c.tx_bytes.read() + c.rx_bytes.read();
      const double period = opt.common.stats_period_s > 0 ? opt.common.stats_period_s : 1;
      const auto& s = r.gen->summary();
      const auto sp = spine_packets();
      std::uint64_t total = 0;
      for (unsigned k = 0; k < opt.spines; ++k) total += sp[k] - prev_spine[k];
      std::ostringstream out;
      char b[256];
      std::snprintf(b, sizeof b, "%6s msg/s %7sbit/s  rtt p50 %6s p99 %7s us  retx nack %llu rack %llu tlp %llu rto %llu",
                    human((done - prev_done) / period).c_str(), human((bytes - prev_bytes) * 8.0 / period).c_str(),
                    win.empty() ? "-" : fmt_us(win.quantile(0.5)).c_str(), win.empty() ? "-" : fmt_us(win.quantile(0.99)).c_str(),
                    (unsigned long long)s.retx_of(srd::RetxCause::kNack).read(),
                    (unsigned long long)(s.retx_of(srd::RetxCause::kRack).read() +
                                         s.retx_of(srd::RetxCause::kSamePath).read()),
                    (unsigned long long)s.retx_of(srd::RetxCause::kTlp).read(),
                    (unsigned long long)s.retx_of(srd::RetxCause::kRto).read());
      out << b << "\n          spines";
      for (unsigned k = 0; k < opt.spines; ++k) {
        std::snprintf(b, sizeof b, " s%u %3.0f%%%s", k, total ? 100.0 * (sp[k] - prev_spine[k]) / total : 0.0,
                      (static_cast<int>(k) == failing && failed && !recovered) ? "(DOWN)" : "");
        out << b;
      }
      out << "   paths";
      for (unsigned k = 0; k < opt.spines; ++k) {
        std::string cell;
        for (std::uint16_t p = 0; p < r.paths; ++p)
          if (path_spine[p] == static_cast<int>(k)) cell += "ASQP"[r.path_state[p].load(std::memory_order_relaxed)];
        if (!cell.empty()) out << " s" << k << "[" << cell << "]";
      }
      prev_spine = sp;
      prev_done = done;
      prev_bytes = bytes;
      if (r.gen_host->peer_state() == dp::NeighborState::kResolving) return std::string("resolving the gateway");
      return out.str();
    };
    rt.run([&](unsigned) { return static_cast<dp::Pipeline*>(r.fabric.get()); }, hooks);
    if (failed && !recovered)
      for (auto port : fail_ports) rte_pmd_impair_link_set(rt.ports()[port].id, 1);

    // Workers have stopped: everything is ours to read.
    const auto& gen = r.gen->generator();
    const auto& c = gen.counters();
    res.sent = c.sent.read();
    res.completed = c.completed.read();
    res.failed = c.failed.read();
    res.measured = c.measured.read();
    res.lost = res.failed + (res.sent - std::min(res.sent, res.completed + res.failed));
    res.violations = r.resp->responder().violations().total() + c.bad_reply.read() + c.unexpected_reply.read();
    const srd::Nanos end = gen.measure_end_ns() ? gen.measure_end_ns() : rt.clock().to_ns(rte_rdtsc());
    res.seconds = end > gen.measure_start_ns() ? (end - gen.measure_start_ns()) / 1e9 : 0;
    if (res.seconds > 0) res.goodput_bps = (c.tx_bytes.read() + c.rx_bytes.read()) * 8.0 / res.seconds;
    res.rtt = gen.rtt().snapshot();
    const auto& s = r.gen->summary();
    for (std::size_t k = 0; k < res.retx.size(); ++k) res.retx[k] = s.retx[k].read();
    res.quarantines = s.path_quarantines.read();
    if (c.conn_failed.read()) res.failure = "connection failed: " + gen.last_failure();
    else if (res.failed) res.failure = std::to_string(res.failed) + " message(s) failed: " + gen.last_failure();
    if (r.gen_host->peer_state() != dp::NeighborState::kResolved) res.failure = "the gateway never answered ARP";
    const auto sp = spine_packets();
    std::uint64_t total = 0;
    for (unsigned k = 0; k < opt.spines; ++k) total += sp[k] - spine_base[k];
    for (unsigned k = 0; k < opt.spines; ++k)
      res.spine_share.push_back(total ? static_cast<double>(sp[k] - spine_base[k]) / total : 0.0);
    const std::uint64_t f = r.fail_tsc.load(), q = r.first_quarantine_tsc.load();
    if (f && q >= f) res.quarantine_ms = (q - f) * 1e3 / hz;
    for (std::uint16_t p = 0; p < r.paths; ++p) {
      res.quarantined_in_outage.push_back(r.path_hit[p].load());
      res.quarantined_ever.push_back(r.path_ever[p].load());
    }
    for (std::size_t k = 0; k < r.switches.size(); ++k)
      for (std::size_t p = 0; p < plan.switches[k].ports.size(); ++p)
        if (const auto st = r.switches[k]->egress().stats(static_cast<std::uint16_t>(p))) {
          res.ce_marks += (*st)[tor::EgressCounter::kCeMarked];
          res.queue_drops += (*st)[tor::EgressCounter::kDroppedFull];
        }
    // Where packets died, per switch: the first place to look when a run is not clean.
    for (std::size_t k = 0; k < r.switches.size(); ++k) {
      const auto st = r.switches[k]->l3_snapshot();
      std::string drops;
      for (std::size_t d = 0; d < tor::kL3DropCount; ++d)
        if (st.drops[d]) drops += " " + std::string(tor::kL3DropInfo[d].name) + "=" + std::to_string(st.drops[d]);
      std::printf("  %-7s routed %llu, arp entries %llu%s%s\n", plan.switches[k].name.c_str(),
                  (unsigned long long)st[tor::L3Counter::kForwarded], (unsigned long long)st.neighbors,
                  drops.empty() ? "" : ", dropped:", drops.c_str());
    }
    results.push_back(res);
    runs.push_back(std::move(run));
    sig.stop.store(false);
  }

  // ---- the summary ----
  auto pct = [](const telemetry::HistogramSnapshot& h, double q) { return h.empty() ? std::string("-") : fmt_us(h.quantile(q)); };
  std::printf("\n== summary ==\n%-26s", "");
  for (const auto& r : results) {
    char h[40];
    std::snprintf(h, sizeof h, "%s (%u path%s)", r.mode.c_str(), r.paths, r.paths > 1 ? "s" : "");
    std::printf(" %24s", h);
  }
  std::printf("\n");
  auto row = [&](const char* name, auto cell) {
    std::printf("%-26s", name);
    for (const auto& r : results) std::printf(" %24s", cell(r).c_str());
    std::printf("\n");
  };
  row("messages completed", [](const RunResult& r) { return std::to_string(r.completed); });
  row("messages lost or failed", [](const RunResult& r) { return std::to_string(r.lost); });
  row("msg/s (after warm-up)", [](const RunResult& r) { return human(r.seconds > 0 ? r.measured / r.seconds : 0); });
  row("goodput bit/s", [](const RunResult& r) { return human(r.goodput_bps); });
  row("round trip p50 us", [&](const RunResult& r) { return pct(r.rtt, 0.5); });
  row("round trip p99 us", [&](const RunResult& r) { return pct(r.rtt, 0.99); });
  row("round trip p99.9 us", [&](const RunResult& r) { return pct(r.rtt, 0.999); });
  row("round trip max us", [&](const RunResult& r) { return r.rtt.empty() ? std::string("-") : fmt_us(r.rtt.max); });
  // The table keeps to four columns, as the progress line does: same_path
  // (RACK's per-path inference) counts under rack. The JSON keeps every cause.
  row("retx nack/rack/tlp/rto", [](const RunResult& r) {
    using C = srd::RetxCause;
    return std::to_string(r.retx_of(C::kNack)) + "/" + std::to_string(r.retx_of(C::kSamePath) + r.retx_of(C::kRack)) +
           "/" + std::to_string(r.retx_of(C::kTlp)) + "/" + std::to_string(r.retx_of(C::kRto));
  });
  if (opt.fabric_rate_bps)
    row("ECN marks / queue drops", [](const RunResult& r) {
      return std::to_string(r.ce_marks) + " / " + std::to_string(r.queue_drops);
    });
  row("traffic per spine %", [](const RunResult& r) {
    std::string s;
    for (double x : r.spine_share) s += (s.empty() ? "" : " ") + std::to_string(static_cast<int>(std::lround(x * 100)));
    return s;
  });
  row("cut path quarantined after", [](const RunResult& r) {
    if (r.quarantine_ms < 0) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.2f ms", r.quarantine_ms);
    return std::string(b);
  });
  row("messages over 10 ms", [](const RunResult& r) {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < r.rtt.buckets.size(); ++i)
      if (telemetry::hist_lower(i) >= 10'000'000) n += r.rtt.buckets[i];
    return std::to_string(n);
  });
  // A path is cut when either direction crosses the failed spine, and
  // healthy when it crosses neither that spine nor the lossy link (which
  // leaf 1's data and leaf 1's incoming acknowledgements both cross).
  auto cut = [](const RunResult& r, std::size_t p) {
    return r.path_spine[p] == r.failed_spine || r.back_spine[p] == r.failed_spine;
  };
  auto healthy = [&](const RunResult& r, std::size_t p) {
    return !cut(r, p) && r.path_spine[p] != r.lossy_spine && r.back_spine[p] != r.lossy_spine;
  };
  auto cut_quarantined = [&](const RunResult& r) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < r.quarantined_in_outage.size(); ++p) n += r.quarantined_in_outage[p] && cut(r, p);
    return n;
  };
  auto other_quarantined = [&](const RunResult& r) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < r.quarantined_in_outage.size(); ++p) n += r.quarantined_in_outage[p] && !cut(r, p);
    return n;
  };
  auto healthy_paths = [&](const RunResult& r) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < r.path_spine.size(); ++p) n += healthy(r, p);
    return n;
  };
  auto healthy_quarantined = [&](const RunResult& r) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < r.quarantined_ever.size(); ++p) n += r.quarantined_ever[p] && healthy(r, p);
    return n;
  };
  row("paths through failed spine", [&](const RunResult& r) {
    std::size_t n = 0;
    for (std::size_t p = 0; p < r.path_spine.size(); ++p) n += cut(r, p);
    return std::to_string(n) + " of " + std::to_string(r.paths) + " (either way)";
  });
  row("  quarantined in outage", [&](const RunResult& r) { return std::to_string(cut_quarantined(r)); });
  row("other paths quarantined", [&](const RunResult& r) { return std::to_string(other_quarantined(r)); });
  row("healthy paths quarantined", [&](const RunResult& r) {
    return std::to_string(healthy_quarantined(r)) + " of " + std::to_string(healthy_paths(r)) + " (whole run)";
  });
  for (const auto& r : results)
    if (!r.failure.empty()) std::printf("%s: %s\n", r.mode.c_str(), r.failure.c_str());

  const RunResult& spray = results.front();
  bool spread = true;
  for (double x : spray.spine_share) spread = spread && x > 0.01;
  const bool clean = spray.lost == 0 && spray.violations == 0 && spray.failure.empty() && spray.completed > 0;
  std::printf("\n%s: %s over %zu spines, %s",
              clean ? "claim holds" : "claim does NOT hold", spread ? "traffic spread" : "traffic NOT spread",
              spray.spine_share.size(), spray.lost == 0 ? "no message lost" : "messages lost");
  if (spray.quarantine_ms >= 0) std::printf(", failed spine's paths quarantined %.2f ms after the failure", spray.quarantine_ms);
  if (results.size() > 1 && results[1].rtt.count && spray.rtt.count)
    std::printf("; p99.9 round trip %s us (spray) vs %s us (single path)", pct(spray.rtt, 0.999).c_str(),
                pct(results[1].rtt, 0.999).c_str());
  std::printf("\n");

  if (!opt.json_path.empty()) {
    std::ofstream j(opt.json_path);
    if (!j) throw RuntimeError("--json '" + opt.json_path + "': cannot write the file");
    j << "{\n  \"spines\": " << opt.spines << ", \"failed_spine\": " << failing << ", \"lossy_spine\": " << lossy
      << ", \"loss\": " << opt.loss << ", \"run_seconds\": " << run_s << ",\n  \"claim_holds\": " << (clean && spread ? "true" : "false")
      << ",\n  \"runs\": [\n";
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& r = results[k];
      j << "    {\"mode\": \"" << r.mode << "\", \"paths\": " << r.paths << ", \"sent\": " << r.sent
        << ", \"completed\": " << r.completed << ", \"failed\": " << r.failed << ", \"lost\": " << r.lost
        << ", \"violations\": " << r.violations << ", \"seconds\": " << r.seconds
        << ", \"goodput_bps\": " << r.goodput_bps;
      auto q = [&](double x) { return r.rtt.empty() ? 0.0 : r.rtt.quantile(x) / 1000.0; };
      j << ", \"rtt_us\": {\"p50\": " << q(0.5) << ", \"p99\": " << q(0.99) << ", \"p999\": " << q(0.999)
        << ", \"max\": " << (r.rtt.empty() ? 0.0 : r.rtt.max / 1000.0) << "}";
      j << ", \"retransmits\": {";
      for (std::size_t c = 0; c < r.retx.size(); ++c)
        j << (c ? ", " : "") << "\"" << srd::kRetxCauseInfo[c].name << "\": " << r.retx[c];
      j << "}, \"quarantines\": " << r.quarantines;
      j << ", \"spine_share\": [";
      for (std::size_t s = 0; s < r.spine_share.size(); ++s) j << (s ? ", " : "") << r.spine_share[s];
      j << "], \"spines_used\": " << std::count_if(r.spine_share.begin(), r.spine_share.end(), [](double x) { return x > 0.01; });
      j << ", \"failed_spine_quarantined\": " << (r.quarantine_ms >= 0 ? "true" : "false")
        << ", \"quarantine_ms\": " << (r.quarantine_ms >= 0 ? r.quarantine_ms : -1);
      j << ", \"path_spine\": [";
      for (std::size_t p = 0; p < r.path_spine.size(); ++p) j << (p ? ", " : "") << r.path_spine[p];
      j << "], \"back_spine\": [";
      for (std::size_t p = 0; p < r.back_spine.size(); ++p) j << (p ? ", " : "") << r.back_spine[p];
      j << "], \"quarantined_in_outage\": [";
      for (std::size_t p = 0; p < r.quarantined_in_outage.size(); ++p) j << (p ? ", " : "") << (r.quarantined_in_outage[p] ? "true" : "false");
      j << "], \"quarantined_ever\": [";
      for (std::size_t p = 0; p < r.quarantined_ever.size(); ++p) j << (p ? ", " : "") << (r.quarantined_ever[p] ? "true" : "false");
      j << "], \"cut_paths_quarantined\": " << cut_quarantined(r) << ", \"other_paths_quarantined\": " << other_quarantined(r)
        << ", \"healthy_paths\": " << healthy_paths(r) << ", \"healthy_paths_quarantined\": " << healthy_quarantined(r);
      j << ", \"failure\": \"" << r.failure << "\"}" << (k + 1 < results.size() ? "," : "") << "\n";
    }
    j << "  ]\n}\n";
  }
  return clean ? 0 : 3;
}

}  // namespace spray::app
