// SPDX-License-Identifier: BSD-3-Clause
// spray gen: the traffic generator. Parses, wires a GenHostApp onto an
// SrdHostPipeline on one port, shows progress, prints the report.
#include <rte_cycles.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/telemetry_dpdk.h"
#include "host_options.h"
#include "role_common.h"
#include "roles.h"
#include "spray_version.h"
#include "srd/counters.h"
#include "telemetry/service.h"
#include "wire/ipv4.h"

namespace spray::app {

namespace {

struct Report {
  double seconds = 0;
  std::uint64_t sent = 0, completed = 0, failed = 0, measured = 0, tx_bytes = 0, rx_bytes = 0;
  std::uint64_t bad_reply = 0, unexpected = 0, conn_failed = 0, late = 0;
  std::uint64_t failed_reset = 0, failed_unresponsive = 0, failed_unreachable = 0, reconnects = 0, reissued = 0;
  std::uint32_t conns_lost = 0;
  telemetry::HistogramSnapshot rtt;
  std::vector<dp::PathSummary> paths;
  std::array<std::uint64_t, srd::kRetxCauseCount> retx{};  // by srd::RetxCause
  std::uint64_t spurious = 0, rto_events = 0, quarantines = 0;
  std::uint64_t shared_losses = 0, silent_rtos = 0, host_drop_acks = 0, acks_lost = 0;
  std::uint64_t data_pkts = 0;  // DATA packets sent, retransmissions included
  double offered_msgs = 0;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o;
}

void write_json(const std::string& path, const GenOptions& o, const Report& r, int exit_code,
                const std::string& failure) {
  std::ofstream f(path);
  if (!f) throw RuntimeError("--json '" + path + "': cannot write the file");
  const auto& g = o.gen;
  auto q = [&](double x) { return r.rtt.empty() ? 0.0 : r.rtt.quantile(x) / 1000.0; };
  f << "{\n  \"role\": \"gen\",\n"
    << "  \"peer\": \"" << wire::format_ipv4(g.peer.ip) << "\",\n"
    << "  \"connections\": " << g.connections << ",\n"
    << "  \"paths\": " << o.host.endpoint.paths << ",\n"
    << "  \"load\": \"" << (g.load == traffic::LoadMode::kClosed ? "closed" : "open") << "\",\n"
    << "  \"outstanding\": " << g.outstanding << ",\n"
    << "  \"offered_msgs_per_s\": " << r.offered_msgs << ",\n"
    << "  \"request_size\": \"" << json_escape(g.request.text()) << "\",\n"
    << "  \"reply_size\": \"" << (g.reply ? json_escape(g.reply->text()) : "responder") << "\",\n"
    << "  \"duration_s\": " << r.seconds << ",\n"
    << "  \"messages\": {\"sent\": " << r.sent << ", \"completed\": " << r.completed << ", \"failed\": " << r.failed
    << ", \"measured\": " << r.measured << ", \"late_sends\": " << r.late << ", \"reissued\": " << r.reissued
    << "},\n"
    << "  \"integrity\": {\"bad_replies\": " << r.bad_reply << ", \"unexpected_replies\": " << r.unexpected
    << "},\n"
    << "  \"connections_failed\": " << r.conn_failed << ",\n"
    << "  \"connection_failures\": {\"reset\": " << r.failed_reset << ", \"unresponsive\": " << r.failed_unresponsive
    << ", \"unreachable\": " << r.failed_unreachable << "},\n"
    << "  \"reconnect\": " << (g.reconnect ? "true" : "false") << ",\n"
    << "  \"reconnects\": " << r.reconnects << ",\n"
    << "  \"connections_lost\": " << r.conns_lost << ",\n"
    << "  \"rate_msgs_per_s\": " << (r.seconds > 0 ? r.measured / r.seconds : 0) << ",\n"
    << "  \"goodput_bps\": " << (r.seconds > 0 ? (r.tx_bytes + r.rx_bytes) * 8 / r.seconds : 0) << ",\n"
    << "  \"rtt_us\": {\"count\": " << r.rtt.count << ", \"mean\": " << r.rtt.mean() / 1000.0
    << ", \"min\": " << (r.rtt.empty() ? 0 : r.rtt.min / 1000.0) << ", \"max\": " << r.rtt.max / 1000.0
    << ", \"p50\": " << q(0.5) << ", \"p90\": " << q(0.9) << ", \"p99\": " << q(0.99) << ", \"p99.9\": " << q(0.999)
    << ", \"p99.99\": " << q(0.9999) << "},\n"
    << "  \"retransmits\": {";
  for (std::size_t i = 0; i < r.retx.size(); ++i)
    f << (i ? ", " : "") << "\"" << srd::kRetxCauseInfo[i].name << "\": " << r.retx[i];
  f << ", \"spurious\": " << r.spurious << ", \"rto_events\": " << r.rto_events
    << ", \"silent_rtos\": " << r.silent_rtos << ", \"shared_losses\": " << r.shared_losses
    << ", \"host_drop_acks\": " << r.host_drop_acks << ", \"acks_lost\": " << r.acks_lost << "},\n"
    << "  \"data_packets\": " << r.data_pkts << ",\n"
    << "  \"path_quarantines\": " << r.quarantines << ",\n  \"per_path\": [";
  for (std::size_t p = 0; p < r.paths.size(); ++p) {
    const auto& s = r.paths[p];
    f << (p ? ",\n    " : "\n    ") << "{\"path\": " << p << ", \"tx_packets\": " << s.tx_pkts
      << ", \"acked_packets\": " << s.acked_pkts << ", \"lost_packets\": " << s.lost_pkts
      << ", \"ce_packets\": " << s.ce_pkts << ", \"rto_events\": " << s.rto_events
      << ", \"quarantines\": " << s.quarantines << ", \"srtt_us\": "
      << (s.srtt_samples ? s.srtt_ns_sum / s.srtt_samples / 1000.0 : 0) << ", \"min_rtt_us\": " << s.min_rtt_ns / 1000.0
      << ", \"active\": " << s.active << ", \"quarantined\": " << s.quarantined << "}";
  }
  f << "\n  ],\n  \"exit_code\": " << exit_code << ",\n  \"failure\": \"" << json_escape(failure) << "\"\n}\n";
}

void print_report(const GenOptions& o, const Report& r) {
  const auto& g = o.gen;
  std::printf("\nspray gen report: %s -> %s, %u connection(s) x %u path(s), %s, request %s B, reply %s\n",
              wire::format_ipv4(o.host.hosts[0].ip).c_str(), wire::format_ipv4(g.peer.ip).c_str(), g.connections,
              o.host.endpoint.paths,
              g.load == traffic::LoadMode::kClosed
                  ? ("closed loop, " + std::to_string(g.outstanding) + " outstanding per connection").c_str()
                  : ("open loop " + human(r.offered_msgs) + " msg/s" + (g.poisson ? " Poisson" : "")).c_str(),
              g.request.text().c_str(), g.reply ? (g.reply->text() + " B").c_str() : "as the responder chooses");
  std::printf("  %-22s %llu sent, %llu completed, %llu failed; %llu measured over %.2f s\n", "messages",
              (unsigned long long)r.sent, (unsigned long long)r.completed, (unsigned long long)r.failed,
              (unsigned long long)r.measured, r.seconds);
  if (r.seconds > 0)
    std::printf("  %-22s %s msg/s, goodput %s bit/s (request + reply payload)\n", "rate",
                human(r.measured / r.seconds).c_str(), human((r.tx_bytes + r.rx_bytes) * 8 / r.seconds).c_str());
  if (g.load == traffic::LoadMode::kOpen && r.seconds > 0)
    std::printf("  %-22s offered %s msg/s, achieved %s msg/s (%.1f%%), %llu late sends\n", "open loop",
                human(r.offered_msgs).c_str(), human(r.measured / r.seconds).c_str(),
                100.0 * r.measured / r.seconds / r.offered_msgs, (unsigned long long)r.late);
  std::printf("  %-22s %10s %10s %10s %10s %10s %10s %10s %10s\n", "round trip (us)", "min", "p50", "p90", "p99",
              "p99.9", "p99.99", "max", "mean");
  if (r.rtt.empty()) {
    std::printf("  %-22s (no measured message)\n", "");
  } else {
    std::printf("  %-22s %10s %10s %10s %10s %10s %10s %10s %10.2f\n", "", usec(r.rtt.min).c_str(),
                usec(r.rtt.quantile(0.5)).c_str(), usec(r.rtt.quantile(0.9)).c_str(),
                usec(r.rtt.quantile(0.99)).c_str(), usec(r.rtt.quantile(0.999)).c_str(),
                usec(r.rtt.quantile(0.9999)).c_str(), usec(r.rtt.max).c_str(), r.rtt.mean() / 1000.0);
  }
  std::string causes;
  for (std::size_t i = 0; i < r.retx.size(); ++i) {
    std::string name = srd::kRetxCauseInfo[i].name;
    std::replace(name.begin(), name.end(), '_', '-');  // prose, not a key
    causes += (i ? ", " : "") + name + " " + std::to_string(r.retx[i]);
  }
  std::printf("  %-22s %s; spurious %llu; rto events %llu; our ACKs lost %llu\n", "retransmits", causes.c_str(),
              (unsigned long long)r.spurious, (unsigned long long)r.rto_events, (unsigned long long)r.acks_lost);
  std::printf("  %-22s %llu lost with no path to blame, %llu silent timeouts, %llu HOST_DROP ACKs\n", "host drops",
              (unsigned long long)r.shared_losses, (unsigned long long)r.silent_rtos,
              (unsigned long long)r.host_drop_acks);
  std::printf("  %-22s %llu bad replies, %llu unexpected replies, %llu failed connections\n", "integrity",
              (unsigned long long)r.bad_reply, (unsigned long long)r.unexpected, (unsigned long long)r.conn_failed);
  if (r.conn_failed)
    std::printf("  %-22s %llu failed (reset %llu, unresponsive %llu, unreachable %llu); %llu reconnected, "
                "%llu request(s) re-issued, %u connection(s) lost%s\n",
                "connections", (unsigned long long)r.conn_failed, (unsigned long long)r.failed_reset,
                (unsigned long long)r.failed_unresponsive, (unsigned long long)r.failed_unreachable,
                (unsigned long long)r.reconnects, (unsigned long long)r.reissued, r.conns_lost,
                g.reconnect ? "" : " (--reconnect off)");
  std::printf("  %-6s %12s %12s %10s %8s %10s %10s %12s\n", "path", "tx_packets", "acked", "lost", "rto",
              "srtt_us", "min_rtt_us", "quarantines");
  for (std::size_t p = 0; p < r.paths.size(); ++p) {
    const auto& s = r.paths[p];
    std::printf("  %-6zu %12llu %12llu %10llu %8llu %10.2f %10.2f %12llu\n", p, (unsigned long long)s.tx_pkts,
                (unsigned long long)s.acked_pkts, (unsigned long long)s.lost_pkts, (unsigned long long)s.rto_events,
                s.srtt_samples ? s.srtt_ns_sum / s.srtt_samples / 1000.0 : 0.0, s.min_rtt_ns / 1000.0,
                (unsigned long long)s.quarantines);
  }
}

}  // namespace

int gen_main(const std::vector<std::string>& args) {
  RoleParser parser("gen",
                    "Traffic generator: opens SRD connections to a responder, sends request messages in "
                    "closed or open loop, sprays them over paths, measures round trips.\n"
                    "Example: spray gen --port p=net_tap0,iface=gen0 --ip 10.0.0.1/24 --peer 10.0.0.2 "
                    "--outstanding 32 --duration 10");
  describe_gen_options(parser);
  if (!parser.parse(args)) return 0;
  GenOptions opt = gen_options_from(parser);

  dp::RuntimeOptions ro = runtime_options(opt.host.common);
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
  auto& hc = opt.host.hosts[0];
  srd::EndpointConfig epc = opt.host.endpoint;
  epc.local = {hc.ip, hc.udp_port};
  epc.max_connections = std::max<std::uint32_t>(opt.gen.connections + 16, 64);
  dp::SrdHostPipeline host(hc, epc, 0, port.mac, rt.pool(), rt.clock());
  dp::GenHostApp app(opt.gen, host.endpoint());
  host.set_app(&app);
  std::unique_ptr<dp::SrdHostPipeline> resp_host;
  std::unique_ptr<dp::RespondHostApp> resp_app;
  if (opt.local_responder) {
    const auto& rh = opt.host.hosts[1];
    srd::EndpointConfig rep = opt.host.endpoint;
    rep.local = {rh.ip, rh.udp_port};
    rep.seed = epc.seed + 1;
    rep.max_connections = epc.max_connections;
    resp_host = std::make_unique<dp::SrdHostPipeline>(rh, rep, 1, rt.ports()[1].mac, rt.pool(), rt.clock());
    resp_app = std::make_unique<dp::RespondHostApp>(traffic::RespondConfig{}, resp_host->endpoint());
    resp_host->set_app(resp_app.get());
  }

  const double link_bps = static_cast<double>(epc.link_rate_bps);
  if (opt.gen.load == traffic::LoadMode::kOpen) {
    const double offered_bps = opt.gen.rate_msgs_per_s * wire_bits_per_message(opt.gen.request.mean());
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
  const auto& gen = app.generator();
  const auto& c = gen.counters();
  Report r;
  r.sent = c.sent.read();
  r.completed = c.completed.read();
  r.failed = c.failed.read();
  r.measured = c.measured.read();
  r.tx_bytes = c.tx_bytes.read();
  r.rx_bytes = c.rx_bytes.read();
  r.bad_reply = c.bad_reply.read();
  r.unexpected = c.unexpected_reply.read();
  r.conn_failed = c.conn_failed.read();
  r.late = c.late_sends.read();
  r.failed_reset = c.conn_failed_reset.read();
  r.failed_unresponsive = c.conn_failed_unresponsive.read();
  r.failed_unreachable = c.conn_failed_unreachable.read();
  r.reconnects = c.reconnects.read();
  r.reissued = c.reissued.read();
  r.conns_lost = gen.connections_lost();
  r.rtt = gen.rtt().snapshot();
  const srd::Nanos end = gen.measure_end_ns() ? gen.measure_end_ns() : rt.clock().to_ns(rte_rdtsc_precise());
  r.seconds = end > gen.measure_start_ns() ? (end - gen.measure_start_ns()) / 1e9 : 0;
  r.offered_msgs = opt.gen.rate_msgs_per_s;
  const auto conns = gen.connections();
  r.paths = dp::summarize_paths(host.endpoint(), conns);
  if (r.paths.empty()) r.paths = app.last_paths();
  dp::TransportSummary ts;
  dp::summarize_transport(host.endpoint(), conns, ts);
  const auto& s = app.summary();
  for (std::size_t i = 0; i < r.retx.size(); ++i) r.retx[i] = std::max(ts.retx[i].read(), s.retx[i].read());
  r.spurious = std::max(ts.spurious_retx.read(), s.spurious_retx.read());
  r.rto_events = std::max(ts.rto_events.read(), s.rto_events.read());
  r.quarantines = std::max(ts.path_quarantines.read(), s.path_quarantines.read());
  r.shared_losses = std::max(ts.shared_losses.read(), s.shared_losses.read());
  r.silent_rtos = std::max(ts.silent_rtos.read(), s.silent_rtos.read());
  r.host_drop_acks = std::max(ts.host_drop_acks.read(), s.host_drop_acks.read());
  r.acks_lost = std::max(ts.acks_lost.read(), s.acks_lost.read());
  r.data_pkts = std::max(ts.tx_data_pkts.read(), s.tx_data_pkts.read());
  print_report(opt, r);
  rt.print_final_counters();
  if (resp_app && resp_app->responder().violations().total()) {
    std::fprintf(stderr, "spray gen: the local responder counted %llu verification violation(s)\n",
                 (unsigned long long)resp_app->responder().violations().total());
    r.bad_reply += resp_app->responder().violations().total();
  }

  std::string failure;
  // With --reconnect on, a connection that failed and was replaced is not a
  // failure by itself: the run is clean when every request completed.
  if (r.conns_lost) failure = "connection failed: " + gen.last_failure();
  else if (r.failed) failure = std::to_string(r.failed) + " message(s) failed: " + gen.last_failure();
  else if (r.bad_reply || r.unexpected) failure = "integrity: replies that do not match their requests";
  else if (r.completed != r.sent) failure = std::to_string(r.sent - r.completed) + " message(s) never completed";
  else if (r.sent == 0) failure = "no message was sent";
  const int rc = failure.empty() ? 0 : 3;
  if (!failure.empty())
    std::fprintf(stderr, "spray gen: run not clean: %s (peer %s)\n", failure.c_str(),
                 wire::format_ipv4(opt.gen.peer.ip).c_str());
  if (!opt.json_path.empty()) write_json(opt.json_path, opt, r, rc, failure);
  if (!opt.hdr_path.empty()) {
    std::ofstream f(opt.hdr_path);
    if (!f) throw RuntimeError("--hdr '" + opt.hdr_path + "': cannot write the file");
    // A .hgrm file is for HdrHistogram's and wrk2's tools; any other name
    // gets the mergeable line that from_text() reads back.
    f << (opt.hdr_path.ends_with(".hgrm") ? r.rtt.to_hgrm(1000.0) : r.rtt.to_text());
  }
  return rc;
}

}  // namespace spray::app
