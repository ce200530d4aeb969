// SPDX-License-Identifier: BSD-3-Clause
#include "roles/report.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dataplane/errors.h"
#include "dataplane/format.h"
#include "wire/ipv4.h"

namespace spray::roles {

namespace {

using Json = nlohmann::ordered_json;  // keys in the order written, as people read them

__attribute__((format(printf, 2, 3))) void appendf(std::string& out, const char* fmt, ...) {
  char b[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof b) {
    out += b;
    return;
  }
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  big.resize(static_cast<std::size_t>(n));
  out += big;
}

// Invalid UTF-8 (a failure message quoting bytes from the network) is
// replaced, not thrown over.
std::string dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

using ull = unsigned long long;

}  // namespace

std::string usec(std::uint64_t ns, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, static_cast<double>(ns) / 1000.0);
  return b;
}

std::string gen_failure(const GenFigures& f, const std::string& last_failure) {
  // With --reconnect on, a connection that failed and was replaced is not a
  // failure by itself: the run is clean when every request completed.
  if (f.conns_lost) return "connection failed: " + last_failure;
  if (f.failed) return std::to_string(f.failed) + " message(s) failed: " + last_failure;
  if (f.bad_reply || f.unexpected_reply) return "integrity: replies that do not match their requests";
  if (f.completed != f.sent) return std::to_string(f.sent - f.completed) + " message(s) never completed";
  if (f.sent == 0) return "no message was sent";
  return {};
}

std::string gen_text(const GenOptions& o, const GenReport& rep) {
  const auto& g = o.gen;
  const auto& r = rep.figures;
  std::string out;
  appendf(out, "\nspray gen report: %s -> %s, %u connection(s) x %u path(s), %s, request %s B, reply %s\n",
          wire::format_ipv4(o.host.hosts[0].ip).c_str(), wire::format_ipv4(g.peer.ip).c_str(), g.connections,
          o.host.endpoint.paths,
          g.load == traffic::LoadMode::kClosed
              ? ("closed loop, " + std::to_string(g.outstanding) + " outstanding per connection").c_str()
              : ("open loop " + dp::human(rep.offered_msgs) + " msg/s" + (g.poisson ? " Poisson" : "")).c_str(),
          g.request.text().c_str(), g.reply ? (g.reply->text() + " B").c_str() : "as the responder chooses");
  appendf(out, "  %-22s %llu sent, %llu completed, %llu failed; %llu measured over %.2f s\n", "messages",
          (ull)r.sent, (ull)r.completed, (ull)r.failed, (ull)r.measured, r.seconds);
  if (r.seconds > 0)
    appendf(out, "  %-22s %s msg/s, goodput %s bit/s (request + reply payload)\n", "rate",
            dp::human(r.msgs_per_s()).c_str(), dp::human(r.goodput_bps()).c_str());
  if (g.load == traffic::LoadMode::kOpen && r.seconds > 0)
    appendf(out, "  %-22s offered %s msg/s, achieved %s msg/s (%.1f%%), %llu late sends\n", "open loop",
            dp::human(rep.offered_msgs).c_str(), dp::human(r.msgs_per_s()).c_str(),
            100.0 * r.measured / r.seconds / rep.offered_msgs, (ull)r.late_sends);
  appendf(out, "  %-22s %10s %10s %10s %10s %10s %10s %10s %10s\n", "round trip (us)", "min", "p50", "p90", "p99",
          "p99.9", "p99.99", "max", "mean");
  if (r.rtt.empty()) {
    appendf(out, "  %-22s (no measured message)\n", "");
  } else {
    appendf(out, "  %-22s %10s %10s %10s %10s %10s %10s %10s %10.2f\n", "", usec(r.rtt.min).c_str(),
            usec(r.rtt.quantile(0.5)).c_str(), usec(r.rtt.quantile(0.9)).c_str(), usec(r.rtt.quantile(0.99)).c_str(),
            usec(r.rtt.quantile(0.999)).c_str(), usec(r.rtt.quantile(0.9999)).c_str(), usec(r.rtt.max).c_str(),
            r.rtt.mean() / 1000.0);
  }
  std::string causes;
  for (std::size_t i = 0; i < r.retx.size(); ++i) {
    std::string name = srd::kRetxCauseInfo[i].name;
    std::replace(name.begin(), name.end(), '_', '-');  // prose, not a key
    causes += (i ? ", " : "") + name + " " + std::to_string(r.retx[i]);
  }
  appendf(out, "  %-22s %s; spurious %llu; rto events %llu; our ACKs lost %llu\n", "retransmits", causes.c_str(),
          (ull)r.spurious, (ull)r.rto_events, (ull)r.acks_lost);
  appendf(out, "  %-22s %llu lost with no path to blame, %llu silent timeouts, %llu HOST_DROP ACKs\n", "host drops",
          (ull)r.shared_losses, (ull)r.silent_rtos, (ull)r.host_drop_acks);
  appendf(out, "  %-22s %llu bad replies, %llu unexpected replies, %llu failed connections\n", "integrity",
          (ull)r.bad_reply, (ull)r.unexpected_reply, (ull)r.conn_failed);
  if (r.conn_failed)
    appendf(out,
            "  %-22s %llu failed (reset %llu, unresponsive %llu, unreachable %llu); %llu reconnected, "
            "%llu request(s) re-issued, %u connection(s) lost%s\n",
            "connections", (ull)r.conn_failed, (ull)r.conn_failed_reset, (ull)r.conn_failed_unresponsive,
            (ull)r.conn_failed_unreachable, (ull)r.reconnects, (ull)r.reissued, r.conns_lost,
            g.reconnect ? "" : " (--reconnect off)");
  appendf(out, "  %-6s %12s %12s %10s %8s %10s %10s %12s\n", "path", "tx_packets", "acked", "lost", "rto", "srtt_us",
          "min_rtt_us", "quarantines");
  for (std::size_t p = 0; p < rep.paths.size(); ++p) {
    const auto& s = rep.paths[p];
    appendf(out, "  %-6zu %12llu %12llu %10llu %8llu %10.2f %10.2f %12llu\n", p, (ull)s.tx_pkts, (ull)s.acked_pkts,
            (ull)s.lost_pkts, (ull)s.rto_events, s.srtt_us, s.min_rtt_us, (ull)s.quarantines);
  }
  return out;
}

std::string gen_json(const GenOptions& o, const GenReport& rep) {
  const auto& g = o.gen;
  const auto& r = rep.figures;
  auto q = [&](double x) { return r.rtt.empty() ? 0.0 : r.rtt.quantile(x) / 1000.0; };
  Json j;
  j["role"] = "gen";
  j["peer"] = wire::format_ipv4(g.peer.ip);
  j["connections"] = g.connections;
  j["paths"] = o.host.endpoint.paths;
  j["load"] = g.load == traffic::LoadMode::kClosed ? "closed" : "open";
  j["outstanding"] = g.outstanding;
  j["offered_msgs_per_s"] = rep.offered_msgs;
  j["request_size"] = g.request.text();
  j["reply_size"] = g.reply ? g.reply->text() : "responder";
  j["duration_s"] = r.seconds;
  j["messages"] = {{"sent", r.sent},           {"completed", r.completed}, {"failed", r.failed},
                   {"measured", r.measured},   {"late_sends", r.late_sends}, {"reissued", r.reissued}};
  j["integrity"] = {{"bad_replies", r.bad_reply}, {"unexpected_replies", r.unexpected_reply}};
  j["connections_failed"] = r.conn_failed;
  j["connection_failures"] = {
      {"reset", r.conn_failed_reset}, {"unresponsive", r.conn_failed_unresponsive}, {"unreachable", r.conn_failed_unreachable}};
  j["reconnect"] = g.reconnect;
  j["reconnects"] = r.reconnects;
  j["connections_lost"] = r.conns_lost;
  j["rate_msgs_per_s"] = r.msgs_per_s();
  j["goodput_bps"] = r.goodput_bps();
  j["rtt_us"] = {{"count", r.rtt.count},
                 {"mean", r.rtt.mean() / 1000.0},
                 {"min", r.rtt.empty() ? 0 : r.rtt.min / 1000.0},
                 {"max", r.rtt.max / 1000.0},
                 {"p50", q(0.5)},
                 {"p90", q(0.9)},
                 {"p99", q(0.99)},
                 {"p99.9", q(0.999)},
                 {"p99.99", q(0.9999)}};
  Json retx = Json::object();
  for (std::size_t i = 0; i < r.retx.size(); ++i) retx[srd::kRetxCauseInfo[i].name] = r.retx[i];
  retx["spurious"] = r.spurious;
  retx["rto_events"] = r.rto_events;
  retx["silent_rtos"] = r.silent_rtos;
  retx["shared_losses"] = r.shared_losses;
  retx["host_drop_acks"] = r.host_drop_acks;
  retx["acks_lost"] = r.acks_lost;
  j["retransmits"] = std::move(retx);
  j["data_packets"] = r.data_pkts;
  j["path_quarantines"] = r.quarantines;
  Json paths = Json::array();
  for (std::size_t p = 0; p < rep.paths.size(); ++p) {
    const auto& s = rep.paths[p];
    paths.push_back({{"path", p},
                     {"tx_packets", s.tx_pkts},
                     {"acked_packets", s.acked_pkts},
                     {"lost_packets", s.lost_pkts},
                     {"ce_packets", s.ce_pkts},
                     {"rto_events", s.rto_events},
                     {"quarantines", s.quarantines},
                     {"srtt_us", s.srtt_us},
                     {"min_rtt_us", s.min_rtt_us},
                     {"active", s.active},
                     {"quarantined", s.quarantined}});
  }
  j["per_path"] = std::move(paths);
  j["exit_code"] = rep.exit_code;
  j["failure"] = rep.failure;
  return dump(j);
}

bool DemoRun::cut(std::size_t p) const { return path_spine[p] == failed_spine || back_spine[p] == failed_spine; }

bool DemoRun::lossy(std::size_t p) const {
  return !cut(p) && (path_spine[p] == lossy_spine || back_spine[p] == lossy_spine);
}

bool DemoRun::healthy(std::size_t p) const { return !cut(p) && !lossy(p); }

namespace {

// How many of the run's paths `in` holds for.
template <class Pred>
std::size_t count_paths(std::size_t paths, Pred in) {
  std::size_t n = 0;
  for (std::size_t p = 0; p < paths; ++p) n += in(p);
  return n;
}

}  // namespace

std::size_t DemoRun::cut_paths() const {
  return count_paths(path_spine.size(), [&](std::size_t p) { return cut(p); });
}

std::size_t DemoRun::cut_quarantined() const {
  return count_paths(quarantined_in_outage.size(), [&](std::size_t p) { return quarantined_in_outage[p] && cut(p); });
}

std::size_t DemoRun::other_quarantined() const {
  return count_paths(quarantined_in_outage.size(), [&](std::size_t p) { return quarantined_in_outage[p] && !cut(p); });
}

std::size_t DemoRun::lossy_paths() const {
  return count_paths(path_spine.size(), [&](std::size_t p) { return lossy(p); });
}

std::size_t DemoRun::lossy_quarantined() const {
  return count_paths(quarantined_ever.size(), [&](std::size_t p) { return quarantined_ever[p] && lossy(p); });
}

std::size_t DemoRun::healthy_paths() const {
  return count_paths(path_spine.size(), [&](std::size_t p) { return healthy(p); });
}

std::size_t DemoRun::healthy_quarantined() const {
  return count_paths(quarantined_ever.size(), [&](std::size_t p) { return quarantined_ever[p] && healthy(p); });
}

std::size_t DemoRun::spines_used() const {
  return static_cast<std::size_t>(std::count_if(spine_share.begin(), spine_share.end(), [](double x) { return x > 0.01; }));
}

bool DemoReport::clean() const {
  if (runs.empty()) return false;
  const DemoRun& s = runs.front();
  return s.lost == 0 && s.violations == 0 && s.failure.empty() && s.figures.completed > 0;
}

bool DemoReport::spread() const {
  if (runs.empty()) return false;
  bool spread = true;
  for (double x : runs.front().spine_share) spread = spread && x > 0.01;
  return spread;
}

std::string demo_text(const DemoReport& rep) {
  const auto& results = rep.runs;
  std::string out;
  auto pct = [](const telemetry::HistogramSnapshot& h, double q) {
    return h.empty() ? std::string("-") : usec(h.quantile(q), 1);
  };
  appendf(out, "\n== summary ==\n%-26s", "");
  for (const auto& r : results) {
    char h[40];
    std::snprintf(h, sizeof h, "%s (%u path%s)", r.mode.c_str(), r.paths, r.paths > 1 ? "s" : "");
    appendf(out, " %24s", h);
  }
  out += "\n";
  auto row = [&](const char* name, auto cell) {
    appendf(out, "%-26s", name);
    for (const auto& r : results) appendf(out, " %24s", cell(r).c_str());
    out += "\n";
  };
  row("messages completed", [](const DemoRun& r) { return std::to_string(r.figures.completed); });
  row("messages lost or failed", [](const DemoRun& r) { return std::to_string(r.lost); });
  row("msg/s (after warm-up)", [](const DemoRun& r) { return dp::human(r.figures.msgs_per_s()); });
  row("goodput bit/s", [](const DemoRun& r) { return dp::human(r.figures.goodput_bps()); });
  row("round trip p50 us", [&](const DemoRun& r) { return pct(r.figures.rtt, 0.5); });
  row("round trip p99 us", [&](const DemoRun& r) { return pct(r.figures.rtt, 0.99); });
  row("round trip p99.9 us", [&](const DemoRun& r) { return pct(r.figures.rtt, 0.999); });
  row("round trip max us",
      [&](const DemoRun& r) { return r.figures.rtt.empty() ? std::string("-") : usec(r.figures.rtt.max, 1); });
  // The table keeps to four columns, as the progress line does: same_path
  // (RACK's per-path inference) counts under rack. The JSON keeps every cause.
  row("retx nack/rack/tlp/rto", [](const DemoRun& r) {
    using C = srd::RetxCause;
    const auto& f = r.figures;
    return std::to_string(f.retx_of(C::kNack)) + "/" + std::to_string(f.retx_of(C::kSamePath) + f.retx_of(C::kRack)) +
           "/" + std::to_string(f.retx_of(C::kTlp)) + "/" + std::to_string(f.retx_of(C::kRto));
  });
  if (rep.shaped)
    row("ECN marks / queue drops",
        [](const DemoRun& r) { return std::to_string(r.ce_marks) + " / " + std::to_string(r.queue_drops); });
  row("traffic per spine %", [](const DemoRun& r) {
    std::string s;
    for (double x : r.spine_share) s += (s.empty() ? "" : " ") + std::to_string(static_cast<int>(std::lround(x * 100)));
    return s;
  });
  row("cut path quarantined after", [](const DemoRun& r) {
    if (r.quarantine_ms < 0) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, "%.2f ms", r.quarantine_ms);
    return std::string(b);
  });
  row("messages over 10 ms", [](const DemoRun& r) {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < r.figures.rtt.buckets.size(); ++i)
      if (telemetry::hist_lower(i) >= 10'000'000) n += r.figures.rtt.buckets[i];
    return std::to_string(n);
  });
  row("paths through failed spine", [](const DemoRun& r) {
    return std::to_string(r.cut_paths()) + " of " + std::to_string(r.paths) + " (either way)";
  });
  row("  quarantined in outage", [](const DemoRun& r) { return std::to_string(r.cut_quarantined()); });
  row("other paths quarantined", [](const DemoRun& r) { return std::to_string(r.other_quarantined()); });
  row("lossy-link paths quarantined", [](const DemoRun& r) {
    return std::to_string(r.lossy_quarantined()) + " of " + std::to_string(r.lossy_paths()) + " (whole run)";
  });
  row("healthy paths quarantined", [](const DemoRun& r) {
    return std::to_string(r.healthy_quarantined()) + " of " + std::to_string(r.healthy_paths()) + " (whole run)";
  });
  for (const auto& r : results)
    if (!r.failure.empty()) appendf(out, "%s: %s\n", r.mode.c_str(), r.failure.c_str());
  if (results.empty()) return out;

  const DemoRun& spray = results.front();
  appendf(out, "\n%s: %s over %zu spines, %s", rep.clean() ? "claim holds" : "claim does NOT hold",
          rep.spread() ? "traffic spread" : "traffic NOT spread", spray.spine_share.size(),
          spray.lost == 0 ? "no message lost" : "messages lost");
  if (spray.quarantine_ms >= 0)
    appendf(out, ", failed spine's paths quarantined %.2f ms after the failure", spray.quarantine_ms);
  if (results.size() > 1 && results[1].figures.rtt.count && spray.figures.rtt.count)
    appendf(out, "; p99.9 round trip %s us (spray) vs %s us (single path)", pct(spray.figures.rtt, 0.999).c_str(),
            pct(results[1].figures.rtt, 0.999).c_str());
  out += "\n";
  return out;
}

std::string demo_json(const DemoReport& rep) {
  Json j;
  j["spines"] = rep.spines;
  j["failed_spine"] = rep.failed_spine;
  j["lossy_spine"] = rep.lossy_spine;
  j["loss"] = rep.loss;
  j["run_seconds"] = rep.run_seconds;
  j["claim_holds"] = rep.claim_holds();
  Json runs = Json::array();
  for (const auto& r : rep.runs) {
    const auto& f = r.figures;
    auto q = [&](double x) { return f.rtt.empty() ? 0.0 : f.rtt.quantile(x) / 1000.0; };
    Json retx = Json::object();
    for (std::size_t c = 0; c < f.retx.size(); ++c) retx[srd::kRetxCauseInfo[c].name] = f.retx[c];
    Json run;
    run["mode"] = r.mode;
    run["paths"] = r.paths;
    run["sent"] = f.sent;
    run["completed"] = f.completed;
    run["failed"] = f.failed;
    run["lost"] = r.lost;
    run["violations"] = r.violations;
    run["seconds"] = f.seconds;
    run["goodput_bps"] = f.goodput_bps();
    run["rtt_us"] = {
        {"p50", q(0.5)}, {"p99", q(0.99)}, {"p999", q(0.999)}, {"max", f.rtt.empty() ? 0.0 : f.rtt.max / 1000.0}};
    run["retransmits"] = std::move(retx);
    run["quarantines"] = f.quarantines;
    run["spine_share"] = r.spine_share;
    run["spines_used"] = r.spines_used();
    run["failed_spine_quarantined"] = r.quarantine_ms >= 0;
    run["quarantine_ms"] = r.quarantine_ms >= 0 ? r.quarantine_ms : -1;
    run["path_spine"] = r.path_spine;
    run["back_spine"] = r.back_spine;
    run["quarantined_in_outage"] = r.quarantined_in_outage;
    run["quarantined_ever"] = r.quarantined_ever;
    run["cut_paths_quarantined"] = r.cut_quarantined();
    run["other_paths_quarantined"] = r.other_quarantined();
    run["lossy_paths"] = r.lossy_paths();
    run["lossy_paths_quarantined"] = r.lossy_quarantined();
    run["healthy_paths"] = r.healthy_paths();
    run["healthy_paths_quarantined"] = r.healthy_quarantined();
    run["failure"] = r.failure;
    runs.push_back(std::move(run));
  }
  j["runs"] = std::move(runs);
  return dump(j);
}

std::string respond_text(const RespondReport& r) {
  std::string out;
  for (const auto& h : r.hosts) {
    appendf(out, "host %s (port '%s')\n", wire::format_ipv4(h.ip).c_str(), h.port.c_str());
    for (const auto& c : h.counters) appendf(out, "  %-26s %14llu\n", c.name.c_str(), (ull)c.value);
    if (!h.last_failure.empty()) appendf(out, "  last failure: %s\n", h.last_failure.c_str());
    for (const auto& c : h.violations) appendf(out, "  violation %-16s %14llu\n", c.name.c_str(), (ull)c.value);
    for (const auto& c : h.host_counters) appendf(out, "  %-26s %14llu\n", c.name.c_str(), (ull)c.value);
  }
  return out;
}

std::string switch_text(const SwitchReport& r) {
  std::string out;
  appendf(out, "%-28s %14s\n", "switch counter", "value");
  for (std::size_t i = 0; i < tor::kL2CounterCount; ++i)
    appendf(out, "%-28s %14llu\n", tor::kL2CounterInfo[i].name, (ull)r.l2.counters[i]);
  appendf(out, "%-28s %14llu\n", "fdb_entries", (ull)r.l2.fdb_entries);
  for (std::size_t i = 0; i < tor::kL2DropCount; ++i)
    if (r.l2.drops[i]) appendf(out, "drop %-23s %14llu\n", tor::kL2DropInfo[i].name, (ull)r.l2.drops[i]);
  for (const auto& d : r.glue_drops)
    if (d.value) appendf(out, "drop %-23s %14llu\n", d.name.c_str(), (ull)d.value);
  if (r.routed) {
    appendf(out, "%-28s %14s\n", "router counter", "value");
    for (std::size_t i = 0; i < tor::kL3CounterCount; ++i)
      appendf(out, "%-28s %14llu\n", tor::kL3CounterInfo[i].name, (ull)r.l3.counters[i]);
    appendf(out, "%-28s %14llu\n", "arp_entries", (ull)r.l3.neighbors);
    for (std::size_t i = 0; i < tor::kL3DropCount; ++i)
      if (r.l3.drops[i]) appendf(out, "drop %-23s %14llu\n", tor::kL3DropInfo[i].name, (ull)r.l3.drops[i]);
  }
  return out;
}

void write_file(const std::string& path, const std::string& text, const char* option) {
  std::ofstream f(path);
  if (!f) throw RuntimeError(std::string(option) + " '" + path + "': cannot write the file");
  f << text;
}

}  // namespace spray::roles
