// The generator and responder logic (lib/traffic) as HostApps on an
// SrdHostPipeline, plus what they publish for the control thread's progress
// line: figures that live in the endpoint, which only the worker may read,
// are copied out every 100 ms into single-writer counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/srd_host.h"
#include "telemetry/counter.h"
#include "traffic/generator.h"
#include "traffic/responder.h"

namespace spray::dp {

// Transport figures summed over a host's connections.
struct TransportSummary {
  explicit TransportSummary(std::uint16_t paths = 0)
      : path_count(paths), path_rtt(std::make_unique<telemetry::Histogram[]>(paths)) {}

  telemetry::SingleWriterCounter retx_nack, retx_same_path, retx_rack, retx_tlp, retx_rto;
  telemetry::SingleWriterCounter spurious_retx, rto_events, path_quarantines, tx_data_pkts;
  telemetry::SingleWriterCounter paths_active;       // gauge: ACTIVE paths over all connections
  telemetry::SingleWriterCounter paths_quarantined;  // gauge
  telemetry::SingleWriterCounter connections;        // gauge: established
  telemetry::SingleWriterCounter inflight_pkts;      // gauge: DATA packets in flight
  // Per path: each connection's smoothed RTT on that path, sampled at every
  // publication (100 ms). Sized once, so other threads may read it.
  std::uint16_t path_count;
  std::unique_ptr<telemetry::Histogram[]> path_rtt;
  std::uint64_t retx_total() const noexcept {
    return retx_nack.read() + retx_same_path.read() + retx_rack.read() + retx_tlp.read() + retx_rto.read();
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
