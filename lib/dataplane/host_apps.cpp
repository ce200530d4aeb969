// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/host_apps.h"

#include <algorithm>
#include <cmath>

namespace spray::dp {

namespace {
constexpr srd::Nanos kPublishNs = 100'000'000;
}

std::vector<PathSummary> summarize_paths(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns) {
  std::vector<PathSummary> paths;
  summarize_paths(ep, conns, paths);
  return paths;
}

bool summarize_paths(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns,
                     std::vector<PathSummary>& paths) {
  bool any = false;
  for (srd::ConnId id : conns) {
    srd::ConnStats cs;
    if (!ep.conn_stats(id, cs)) continue;
    if (!any) {
      paths.assign(paths.size(), PathSummary{});
      any = true;
    }
    if (paths.size() < cs.paths) paths.resize(cs.paths);
    for (std::uint16_t p = 0; p < cs.paths; ++p) {
      srd::PathStats ps;
      if (!ep.path_stats(id, p, ps)) continue;
      PathSummary& s = paths[p];
      s.tx_pkts += ps.tx_pkts;
      s.acked_pkts += ps.acked_pkts;
      s.lost_pkts += ps.lost_pkts;
      s.ce_pkts += ps.ce_pkts;
      s.rto_events += ps.rto_events;
      s.quarantines += ps.quarantines;
      switch (ps.state) {
        case srd::PathState::kActive: ++s.active; break;
        case srd::PathState::kSuspect: ++s.suspect; break;
        case srd::PathState::kQuarantined: ++s.quarantined; break;
        case srd::PathState::kProbing: ++s.probing; break;
      }
      if (ps.srtt_ns) {
        s.srtt_ns_sum += static_cast<double>(ps.srtt_ns);
        ++s.srtt_samples;
      }
      if (ps.min_rtt_ns && (s.min_rtt_ns == 0 || ps.min_rtt_ns < s.min_rtt_ns)) s.min_rtt_ns = ps.min_rtt_ns;
    }
  }
  return any;
}

telemetry::HistogramSnapshot bucketed_snapshot(std::span<const std::uint64_t> bounds,
                                               std::span<const std::uint64_t> counts, std::uint64_t sum) {
  // The exporter counts a value toward bound b when its log-linear bucket
  // starts at or below b (HistogramSnapshot::cumulative). A value 1% below
  // b sits in a bucket that starts above the previous bound (at most b/2
  // for 1-2-5 steps and powers of two; buckets are b/128 wide) and at or
  // below b even after b has been scaled to seconds and back.
  telemetry::HistogramSnapshot s;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const std::uint64_t v = i < bounds.size() ? bounds[i] - bounds[i] / 100
                                              : (bounds.empty() ? 1 : 2 * bounds.back() + 1);
    s.add(v, counts[i]);
  }
  s.sum = sum;
  return s;
}

telemetry::HistogramExport bucketed_export(std::span<const std::uint64_t> bounds, double per_unit) {
  telemetry::HistogramExport ex;
  ex.bounds.clear();
  // A division, not a product with 1/per_unit: 1000 / 1e9 is the double
  // nearest 1e-6, so the `le` labels read "1e-06".
  for (std::uint64_t b : bounds) ex.bounds.push_back(static_cast<double>(b) / per_unit);
  ex.scale = 1.0 / per_unit;
  return ex;
}

void summarize_transport(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns, TransportSummary& out) {
  std::array<std::uint64_t, srd::kRetxCauseCount> retx{};
  std::uint64_t spurious = 0, rto_ev = 0, quar = 0;
  std::uint64_t shared = 0, silent = 0, host_acks = 0, acks_lost = 0;
  std::uint64_t data = 0, active = 0, quarantined = 0, established = 0, inflight = 0;
  srd::BucketHistogram<kCwndBoundsMicroPkts> cwnd;
  for (srd::ConnId id : conns) {
    srd::ConnStats cs;
    if (!ep.conn_stats(id, cs)) continue;
    const auto& c = cs.counters;
    for (std::size_t k = 0; k < srd::kRetxCauseCount; ++k) retx[k] += c.*srd::kRetxCounter[k];
    spurious += c.spurious_retx;
    rto_ev += c.rto_events;
    quar += c.path_quarantines;
    shared += c.shared_losses;
    silent += c.silent_rtos;
    host_acks += c.host_drop_acks;
    acks_lost += c.acks_lost;
    data += c.tx_data_pkts;
    inflight += cs.inflight_pkts;
    if (cs.state == srd::ConnState::kEstablished) {
      ++established;
      cwnd.record(static_cast<std::uint64_t>(std::llround(cs.cwnd_pkts * 1e6)));
    }
    for (std::uint16_t p = 0; p < cs.paths; ++p) {
      srd::PathStats ps;
      if (!ep.path_stats(id, p, ps)) continue;
      if (ps.state == srd::PathState::kQuarantined) ++quarantined;
      else if (ps.state == srd::PathState::kActive) ++active;
      if (ps.srtt_ns && p < out.path_count) out.path_rtt[p].record(ps.srtt_ns);
    }
  }
  // Connection counters vanish with their connection; keep the running
  // totals monotonic for the progress line and metrics.
  auto keep = [](telemetry::SingleWriterCounter& c, std::uint64_t v) {
    if (v > c.read()) c.set(v);
  };
  for (std::size_t k = 0; k < srd::kRetxCauseCount; ++k) keep(out.retx[k], retx[k]);
  keep(out.spurious_retx, spurious);
  keep(out.rto_events, rto_ev);
  keep(out.path_quarantines, quar);
  keep(out.shared_losses, shared);
  keep(out.silent_rtos, silent);
  keep(out.host_drop_acks, host_acks);
  keep(out.acks_lost, acks_lost);
  keep(out.tx_data_pkts, data);
  out.inflight_pkts.set(inflight);
  out.paths_active.set(active);
  out.paths_quarantined.set(quarantined);
  out.connections.set(established);
  out.cwnd.add(cwnd);
  const srd::TransportHistograms& h = ep.histograms();
  for (std::size_t p = 0; p < std::min<std::size_t>(out.path_count, h.path_rtt_ns.size()); ++p)
    out.path_pkt_rtt[p].set(h.path_rtt_ns[p]);
  out.loss_recovery.set(h.loss_recovery_ns);
  out.reorder_depth.set(h.reorder_depth_pkts);
}

unsigned GenHostApp::poll(srd::Nanos now) {
  if (stop_.load(std::memory_order_relaxed)) gen_.stop(now);
  const unsigned n = gen_.poll(now);
  if (now >= next_publish_) {
    next_publish_ = now + kPublishNs;
    publish();
  }
  if (gen_.finished()) finished_.store(true, std::memory_order_release);
  return n;
}

void GenHostApp::publish() {
  summarize_transport(ep_, gen_.connections(), summary_);
  summarize_paths(ep_, gen_.connections(), last_paths_);
}

srd::Nanos GenHostApp::next_deadline() const noexcept {
  return std::min(gen_.next_deadline(), next_publish_);
}

void RespondHostApp::on_event(const srd::Event& ev, srd::Nanos now) {
  if (ev.kind == srd::EventKind::kAccepted) open_.push_back(ev.conn);
  if (ev.kind == srd::EventKind::kClosed || ev.kind == srd::EventKind::kConnectionFailed)
    open_.erase(std::remove(open_.begin(), open_.end(), ev.conn), open_.end());
  resp_.on_event(ev, now);
}

unsigned RespondHostApp::poll(srd::Nanos now) {
  const unsigned n = resp_.poll(now);
  if (now >= next_publish_) {
    next_publish_ = now + kPublishNs;
    summarize_transport(ep_, open_, summary_);
  }
  return n;
}

}  // namespace spray::dp
