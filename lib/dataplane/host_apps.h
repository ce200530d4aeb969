// SPDX-License-Identifier: BSD-3-Clause
// The generator and responder logic (lib/traffic) as HostApps on an
// SrdHostPipeline, plus what they publish for the control thread's progress
// line: figures that live in the endpoint, which only the worker may read,
// are copied out every 100 ms into single-writer counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/srd_host.h"
#include "srd/counters.h"
#include "srd/histograms.h"
#include "telemetry/counter.h"
#include "telemetry/histogram.h"
#include "telemetry/registry.h"
#include "traffic/generator.h"
#include "traffic/responder.h"

namespace spray::dp {

// A HistogramSnapshot that exports exactly `counts` in the classic buckets
// at `bounds` (counts[i]: values in (bounds[i-1], bounds[i]], the last one
// above every bound) with the given sum, once paired with
// bucketed_export(bounds, ...). Each bucket's count is placed 1% below its
// upper bound, so bounds must be 0, exact in the exported unit (per_unit
// 1), or at least 100 recorded units.
telemetry::HistogramSnapshot bucketed_snapshot(std::span<const std::uint64_t> bounds,
                                               std::span<const std::uint64_t> counts, std::uint64_t sum);
// Export settings for `bounds` recorded in 1/per_unit of the exported unit
// (ns and seconds: 1e9).
telemetry::HistogramExport bucketed_export(std::span<const std::uint64_t> bounds, double per_unit);

// A srd::BucketHistogram as its worker last published it, in relaxed
// atomics (SingleWriterCounter): the worker writes, any thread reads. A
// read racing a publication may pair one publication's buckets with
// another's sum, as telemetry::Histogram's may.
template <const auto& Bounds>
class PublishedHistogram {
 public:
  using Source = srd::BucketHistogram<Bounds>;

  // Worker: publish `h` in place of what was there / on top of it.
  void set(const Source& h) noexcept {
    for (std::size_t i = 0; i < Source::kBuckets; ++i) buckets_[i].set(h.buckets[i]);
    sum_.set(h.sum);
  }
  void add(const Source& h) noexcept {
    for (std::size_t i = 0; i < Source::kBuckets; ++i) buckets_[i].add(h.buckets[i]);
    sum_.add(h.sum);
  }
  // Any thread.
  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (const auto& b : buckets_) n += b.read();
    return n;
  }
  telemetry::HistogramSnapshot snapshot() const {
    std::array<std::uint64_t, Source::kBuckets> b;
    for (std::size_t i = 0; i < Source::kBuckets; ++i) b[i] = buckets_[i].read();
    return bucketed_snapshot(Bounds, b, sum_.read());
  }

 private:
  std::array<telemetry::SingleWriterCounter, Source::kBuckets> buckets_;
  telemetry::SingleWriterCounter sum_;
};

// Upper bounds of the congestion window histogram in millionths of a
// packet: 1-2-5 per decade from 0.01 to 10,000 packets (the window goes
// below one packet; millionths keep every bound >= 100 recorded units).
inline constexpr std::array<std::uint64_t, 19> kCwndBoundsMicroPkts = {
    10'000,        20'000,        50'000,         100'000,        200'000,       500'000,   1'000'000,
    2'000'000,     5'000'000,     10'000'000,     20'000'000,     50'000'000,    100'000'000,
    200'000'000,   500'000'000,   1'000'000'000,  2'000'000'000,  5'000'000'000, 10'000'000'000};

// Transport figures summed over a host's connections.
struct TransportSummary {
  explicit TransportSummary(std::uint16_t paths = 0)
      : path_count(paths),
        path_rtt(std::make_unique<telemetry::Histogram[]>(paths)),
        path_pkt_rtt(std::make_unique<PublishedHistogram<srd::kLatencyBoundsNs>[]>(paths)) {}

  // Retransmissions by cause, indexed by srd::RetxCause (SPRAY_SRD_RETX_CAUSES
  // names them), so a new cause needs no new field here.
  std::array<telemetry::SingleWriterCounter, srd::kRetxCauseCount> retx;
  telemetry::SingleWriterCounter spurious_retx, rto_events, path_quarantines, tx_data_pkts;
  // Losses no path was blamed for, the peers' HOST_DROP reports heard, and
  // our ACKs the peers never got (doc/transport.md, Drops and stalls in the
  // hosts).
  telemetry::SingleWriterCounter shared_losses, silent_rtos, host_drop_acks, acks_lost;
  telemetry::SingleWriterCounter paths_active;       // gauge: ACTIVE paths over all connections
  telemetry::SingleWriterCounter paths_quarantined;  // gauge
  telemetry::SingleWriterCounter connections;        // gauge: established
  telemetry::SingleWriterCounter inflight_pkts;      // gauge: DATA packets in flight
  // Per path: each connection's smoothed RTT on that path, sampled at every
  // publication (100 ms). Sized once, so other threads may read it.
  std::uint16_t path_count;
  std::unique_ptr<telemetry::Histogram[]> path_rtt;
  // The endpoint's own histograms (srd::TransportHistograms), copied at
  // every publication: every packet RTT sample by path, loss-recovery
  // latency, reorder depth. They span the endpoint's life, so closed
  // connections keep counting.
  std::unique_ptr<PublishedHistogram<srd::kLatencyBoundsNs>[]> path_pkt_rtt;
  PublishedHistogram<srd::kLatencyBoundsNs> loss_recovery;
  PublishedHistogram<srd::kReorderDepthBounds> reorder_depth;
  // Each established connection's cwnd (millionths of a packet), sampled at
  // every publication.
  PublishedHistogram<kCwndBoundsMicroPkts> cwnd;
  telemetry::SingleWriterCounter& retx_of(srd::RetxCause c) noexcept { return retx[static_cast<std::size_t>(c)]; }
  const telemetry::SingleWriterCounter& retx_of(srd::RetxCause c) const noexcept {
    return retx[static_cast<std::size_t>(c)];
  }
  std::uint64_t retx_total() const noexcept {
    std::uint64_t n = 0;
    for (const auto& c : retx) n += c.read();
    return n;
  }
};

// Per-path figures summed over connections (worker thread, or after the run).
struct PathSummary {
  std::uint64_t tx_pkts = 0, acked_pkts = 0, lost_pkts = 0, ce_pkts = 0, rto_events = 0, quarantines = 0;
  std::uint32_t active = 0, suspect = 0, quarantined = 0, probing = 0;  // connections per state
  double srtt_ns_sum = 0;
  std::uint64_t srtt_samples = 0;
  std::uint64_t min_rtt_ns = 0;  // lowest over connections, 0 = none
};

// Reads every path of `conns` from `ep` (owner thread only).
std::vector<PathSummary> summarize_paths(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns);
// The same into `out`, reusing its storage; false when no connection is open.
bool summarize_paths(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns,
                     std::vector<PathSummary>& out);
// Sums connection counters into `out` (owner thread only).
void summarize_transport(const srd::Endpoint& ep, const std::vector<srd::ConnId>& conns, TransportSummary& out);

class GenHostApp final : public HostApp {
 public:
  GenHostApp(const traffic::GenConfig& cfg, srd::Endpoint& ep)
      : gen_(cfg, ep), ep_(ep), summary_(ep.config().paths) {
    gen_.on_before_close([this] { publish(); });
  }

  void start(srd::Nanos now) override { gen_.start(now); }
  void on_event(const srd::Event& ev, srd::Nanos now) override { gen_.on_event(ev, now); }
  unsigned poll(srd::Nanos now) override;
  srd::Nanos next_deadline() const noexcept override;

  // Control thread: ask for an orderly stop (drain, close).
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

  const traffic::Generator& generator() const noexcept { return gen_; }
  const TransportSummary& summary() const noexcept { return summary_; }
  // Owner thread, or after the run: per-path figures as last seen while the
  // connections were open (closing them discards their statistics).
  const std::vector<PathSummary>& last_paths() const noexcept { return last_paths_; }

 private:
  traffic::Generator gen_;
  void publish();

  srd::Endpoint& ep_;
  TransportSummary summary_;
  std::vector<PathSummary> last_paths_;
  srd::Nanos next_publish_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
};

class RespondHostApp final : public HostApp {
 public:
  RespondHostApp(const traffic::RespondConfig& cfg, srd::Endpoint& ep)
      : resp_(cfg, ep), ep_(ep), summary_(ep.config().paths) {}

  void on_event(const srd::Event& ev, srd::Nanos now) override;
  unsigned poll(srd::Nanos now) override;
  srd::Nanos next_deadline() const noexcept override { return srd::kNever; }

  const traffic::Responder& responder() const noexcept { return resp_; }
  const TransportSummary& summary() const noexcept { return summary_; }
  // Owner thread: connections accepted and not yet closed.
  const std::vector<srd::ConnId>& open_connections() const noexcept { return open_; }

 private:
  traffic::Responder resp_;
  srd::Endpoint& ep_;
  TransportSummary summary_;
  std::vector<srd::ConnId> open_;
  srd::Nanos next_publish_ = 0;
};

// Several hosts (one per port) on one worker: dispatches by port.
class HostGroupPipeline final : public Pipeline {
 public:
  explicit HostGroupPipeline(std::vector<SrdHostPipeline*> hosts) : hosts_(std::move(hosts)) {}
  void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
          std::uint64_t now_tsc) noexcept override {
    hosts_[port_index]->rx(tx, port_index, pkts, n, now_tsc);
  }
  unsigned poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept override {
    unsigned w = 0;
    for (auto* h : hosts_) w += h->poll(tx, now_tsc);
    return w;
  }
  std::uint64_t next_deadline_tsc() const noexcept override {
    std::uint64_t d = ~std::uint64_t{0};
    for (auto* h : hosts_) d = std::min(d, h->next_deadline_tsc());
    return d;
  }
  void housekeeping(std::uint64_t now_tsc) noexcept override {
    for (auto* h : hosts_) h->housekeeping(now_tsc);
  }

 private:
  std::vector<SrdHostPipeline*> hosts_;
};

}  // namespace spray::dp
