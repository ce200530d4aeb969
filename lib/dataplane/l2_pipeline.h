// The L2 switch on a worker: mbufs in, tor::L2Switch decisions, 802.1Q tag
// edits, copies for floods, mbufs out.
//
// One instance per worker (its own FDB shard). Worker-only except where
// noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/clock.h"
#include "dataplane/worker.h"
#include "tor/l2_switch.h"

struct rte_mempool;

namespace spray::dp {

// Drops that happen in the glue rather than in the switch logic.
#define SPRAY_L2_GLUE_DROPS(X)                                                 \
  X(flood_copy_failed, "flood copies the mempool could not supply")           \
  X(no_headroom, "frames that could not take an 802.1Q tag (no headroom)")

struct L2GlueCounters {
#define X(name, help) std::atomic<std::uint64_t> name{0};
  SPRAY_L2_GLUE_DROPS(X)
#undef X
};

class L2Pipeline final : public Pipeline {
 public:
  L2Pipeline(const tor::L2Config& config, rte_mempool* pool, TscClock clock);

  void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
          std::uint64_t now_tsc) noexcept override;
  void housekeeping(std::uint64_t now_tsc) noexcept override;

  // Control thread: link state as the ports report it (bit p = port p up).
  // The worker applies changes at its next housekeeping.
  void set_link_mask(std::uint64_t mask) noexcept { link_mask_.store(mask, std::memory_order_relaxed); }

  // Any thread.
  tor::L2Stats snapshot() const noexcept { return sw_.snapshot(); }
  const L2GlueCounters& glue() const noexcept { return glue_; }
  std::size_t fdb_size() const noexcept { return fdb_size_.load(std::memory_order_relaxed); }

  // Worker only (or after the worker stopped).
  const tor::L2Switch& logic() const noexcept { return sw_; }

 private:
  void send(TxBuffers& tx, tor::PortId port, rte_mbuf* m, const tor::L2Decision& d) noexcept;
  bool edits_tag(const tor::L2Decision& d) const noexcept;

  tor::L2Switch sw_;
  rte_mempool* pool_;
  TscClock clock_;
  std::uint64_t applied_link_mask_;
  std::atomic<std::uint64_t> link_mask_;
  std::atomic<std::size_t> fdb_size_{0};
  L2GlueCounters glue_;
};

}  // namespace spray::dp
