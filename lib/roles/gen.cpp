// SPDX-License-Identifier: BSD-3-Clause
// spray gen: a GenHostApp on an SrdHostPipeline on one port (and, with
// --local-responder, a responder on a second worker), progress, the report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/telemetry_dpdk.h"
#include "roles/report.h"
#include "roles/roles.h"
#include "roles/run_common.h"
#include "spray_version.h"
#include "telemetry/service.h"
#include "wire/ipv4.h"

namespace spray::roles {

namespace {

// The final report's figures: the generator's, and the transport's as the
// endpoint holds them now (the published summary may be up to 100 ms old,
// or gone with connections the generator closed: the larger one is right).
GenReport final_report(const dp::GenHostApp& app, dp::SrdHostPipeline& host, std::uint64_t now) {
  GenReport rep;
  GenFigures& r = rep.figures;
  r = read_generator(app, now);
  const auto conns = app.generator().connections();
  const auto paths = dp::summarize_paths(host.endpoint(), conns);
  for (const auto& s : paths.empty() ? app.last_paths() : paths)
    rep.paths.push_back({s.tx_pkts, s.acked_pkts, s.lost_pkts, s.ce_pkts, s.rto_events, s.quarantines, s.active,
                         s.quarantined, s.srtt_samples ? s.srtt_ns_sum / s.srtt_samples / 1000.0 : 0.0,
                         s.min_rtt_ns / 1000.0});
  dp::TransportSummary ts;
  dp::summarize_transport(host.endpoint(), conns, ts);
  for (std::size_t i = 0; i < r.retx.size(); ++i) r.retx[i] = std::max(ts.retx[i].read(), r.retx[i]);
  r.spurious = std::max(ts.spurious_retx.read(), r.spurious);
  r.rto_events = std::max(ts.rto_events.read(), r.rto_events);
  r.quarantines = std::max(ts.path_quarantines.read(), r.quarantines);
  r.shared_losses = std::max(ts.shared_losses.read(), r.shared_losses);
  r.silent_rtos = std::max(ts.silent_rtos.read(), r.silent_rtos);
  r.host_drop_acks = std::max(ts.host_drop_acks.read(), r.host_drop_acks);
  r.acks_lost = std::max(ts.acks_lost.read(), r.acks_lost);
  r.data_pkts = std::max(ts.tx_data_pkts.read(), r.data_pkts);
  return rep;
}

}  // namespace

int run_gen(const GenOptions& opt) {
  using dp::human;
  dp::RuntimeOptions ro = runtime_options(opt.host.common);
  ro.port.mtu = opt.host.endpoint.mtu;
  if (opt.local_responder) {
    ro.ring_links = {{"gen", "respond"}};
    ro.port_per_worker = true;
    if (ro.worker_cpus.empty()) {
      const auto cpus = dp::usable_cpus();
      if (cpus.size() < 2) throw UsageError("--local-responder needs two CPUs; this process may use one");
      ro.worker_cpus = {cpus[cpus.size() - 2], cpus.back()};
    }
  }
  dp::Runtime rt(ro);
  telemetry::Service tel(opt.host.common.metrics, opt.host.common.metrics_default);
  const dp::Port& port = rt.ports()[0];
  const auto& hc = opt.host.hosts[0];
  srd::EndpointConfig epc = endpoint_for(opt.host.endpoint, hc, opt.host.endpoint.seed);
  epc.max_connections = std::max<std::uint32_t>(opt.gen.connections + 16, 64);
  dp::SrdHostPipeline host(hc, epc, 0, port.mac, rt.pool(), rt.clock());
  dp::GenHostApp app(opt.gen, host.endpoint());
  host.set_app(&app);
  std::unique_ptr<dp::SrdHostPipeline> resp_host;
  std::unique_ptr<dp::RespondHostApp> resp_app;
  if (opt.local_responder) {
    const auto& rh = opt.host.hosts[1];
    srd::EndpointConfig rep = endpoint_for(opt.host.endpoint, rh, epc.seed + 1);
    rep.max_connections = epc.max_connections;
    resp_host = std::make_unique<dp::SrdHostPipeline>(rh, rep, 1, rt.ports()[1].mac, rt.pool(), rt.clock());
    resp_app = std::make_unique<dp::RespondHostApp>(traffic::RespondConfig{}, resp_host->endpoint());
    resp_host->set_app(resp_app.get());
  }

  const double link_bps = static_cast<double>(epc.link_rate_bps);
  if (opt.gen.load == traffic::LoadMode::kOpen) {
    const double offered_bps =
        opt.gen.rate_msgs_per_s *
        wire_bits_per_message(opt.gen.request.mean(), opt.host.endpoint.payload_per_pkt());
    if (offered_bps > link_bps)
      std::fprintf(stderr,
                   "spray gen: warning: --rate %s offers %s bit/s, more than the link's %s bit/s "
                   "(--link-rate); running at the rate achieved, the report shows both\n",
                   opt.rate_text.c_str(), human(offered_bps).c_str(), human(link_bps).c_str());
  }
  std::printf("spray gen: %s on port '%s' (%s) -> %s, %u connection(s) x %u path(s)\n",
              wire::format_ipv4(hc.ip).c_str(), port.spec.name.c_str(), wire::Mac{port.mac}.str().c_str(),
              wire::format_ipv4(opt.gen.peer.ip).c_str(), opt.gen.connections, epc.paths);
  if (const auto a = tel.address()) std::printf("  metrics http://%s/metrics\n", a->str().c_str());
  std::fflush(stdout);
  dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
  dp::add_gen_metrics(tel.registry(), {&app});
  dp::add_host_metrics(tel.registry(), {&host});
  if (resp_app) dp::add_respond_metrics(tel.registry(), {resp_app.get()});
  dp::EcosystemHooks ecosystem(tel.exchange());
  tel.refresh();

  auto& sig = dp::signals();
  bool stop_sent = false;
  std::chrono::steady_clock::time_point stop_at;
  std::uint64_t prev_completed = 0, prev_bytes = 0;
  dp::Runtime::Hooks hooks;
  hooks.done = [&] {
    if (sig.stop.load() && !stop_sent) {
      // First signal: stop sending, let what is in flight complete, close.
      stop_sent = true;
      stop_at = std::chrono::steady_clock::now();
      sig.stop.store(false);
      app.request_stop();
    }
    // A second signal, or a drain that overstays, ends the run regardless.
    const bool overdue = stop_sent && (sig.stop.load() || std::chrono::steady_clock::now() - stop_at >
                                                              std::chrono::duration<double>(opt.gen.drain_ns / 1e9 + 2));
    return app.finished() || overdue || host.peer_state() == dp::NeighborState::kFailed;
  };
  hooks.tick = [&] {
    tel.tick();
    if (sig.dump.exchange(false)) host.request_dump();
  };
  hooks.progress = [&](double) {
    const auto& c = app.generator().counters();
    const auto snap = app.generator().rtt().snapshot();
    const std::uint64_t done = c.completed.read();
    const std::uint64_t bytes = c.tx_bytes.read() + c.rx_bytes.read();
    const double period = opt.host.common.stats_period_s;
    char b[256];
    std::snprintf(b, sizeof b, "%s msg/s %sbit/s p50 %s us p99 %s us retx %llu paths %llu/%llu",
                  human((done - prev_completed) / period).c_str(), human((bytes - prev_bytes) * 8 / period).c_str(),
                  snap.empty() ? "-" : usec(snap.quantile(0.5)).c_str(),
                  snap.empty() ? "-" : usec(snap.quantile(0.99)).c_str(),
                  (unsigned long long)app.summary().retx_total(),
                  (unsigned long long)app.summary().paths_active.read(),
                  (unsigned long long)(app.summary().paths_active.read() + app.summary().paths_quarantined.read()));
    prev_completed = done;
    prev_bytes = bytes;
    if (host.peer_state() == dp::NeighborState::kResolving) return std::string("resolving ") + wire::format_ipv4(hc.peer_ip);
    return std::string(b);
  };
  rt.run([&](unsigned w) { return w == 0 ? static_cast<dp::Pipeline*>(&host) : resp_host.get(); }, hooks);

  if (host.peer_state() != dp::NeighborState::kResolved) {
    const std::uint32_t hop = hc.gateway && hc.peer_ip != hc.gateway ? hc.gateway : hc.peer_ip;
    std::fprintf(stderr,
                 "spray gen: no ARP answer from %s on port '%s' within %.1f s; is the responder running "
                 "with --ip %s on a connected port? (--peer-mac skips ARP)\n",
                 wire::format_ipv4(hop).c_str(), port.spec.name.c_str(), hc.arp_timeout_ns / 1e9,
                 wire::format_ipv4(hop).c_str());
    return 1;
  }

  // Workers have stopped: the endpoint is ours to read.
  GenReport rep = final_report(app, host, now_ns(rt));
  rep.offered_msgs = opt.gen.rate_msgs_per_s;
  std::fputs(gen_text(opt, rep).c_str(), stdout);
  rt.print_final_counters();
  if (resp_app && resp_app->responder().violations().total()) {
    std::fprintf(stderr, "spray gen: the local responder counted %llu verification violation(s)\n",
                 (unsigned long long)resp_app->responder().violations().total());
    rep.figures.bad_reply += resp_app->responder().violations().total();
  }

  rep.failure = gen_failure(rep.figures, app.generator().last_failure());
  rep.exit_code = rep.failure.empty() ? 0 : 3;
  if (!rep.failure.empty())
    std::fprintf(stderr, "spray gen: run not clean: %s (peer %s)\n", rep.failure.c_str(),
                 wire::format_ipv4(opt.gen.peer.ip).c_str());
  if (!opt.json_path.empty()) write_file(opt.json_path, gen_json(opt, rep), "--json");
  // A .hgrm file is for HdrHistogram's and wrk2's tools; any other name
  // gets the mergeable line that from_text() reads back.
  if (!opt.hdr_path.empty())
    write_file(opt.hdr_path,
               opt.hdr_path.ends_with(".hgrm") ? rep.figures.rtt.to_hgrm(1000.0) : rep.figures.rtt.to_text(), "--hdr");
  return rep.exit_code;
}

}  // namespace spray::roles
