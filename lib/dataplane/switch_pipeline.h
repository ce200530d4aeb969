// SPDX-License-Identifier: BSD-3-Clause
// The switch on a worker: mbufs in, tor::L2Switch / tor::L3Router decisions,
// 802.1Q tag edits, copies for floods, egress queues (shaper, ECN), mbufs
// out.
//
// A port with an L3 interface is routed (tor::L3Router); every other port is
// a bridge port (tor::L2Switch). One instance per worker (its own FDB shard
// and ARP table). Worker-only except where noted.
//
// Reload: the control thread posts a new configuration (post_config); the
// worker builds the new bridge and router at its next poll, carrying over
// learned MACs, ARP entries, counters and link states, and swaps them in
// between two bursts, so unchanged ports lose no frame. The replaced objects
// are handed back and freed by the control thread (collect_retired), which is
// also the only thread that reads snapshots.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/clock.h"
#include "dataplane/egress.h"
#include "dataplane/worker.h"
#include "tor/l2_switch.h"
#include "tor/l3_router.h"
#include "tor/switch_config.h"

struct rte_mempool;

namespace spray::dp {

// Drops that happen in the glue rather than in the switch logic.
#define SPRAY_L2_GLUE_DROPS(X)                                                 \
  X(flood_copy_failed, "flood copies the mempool could not supply")           \
  X(no_headroom, "frames that could not take an 802.1Q tag (no headroom)")    \
  X(generated_no_mbuf, "ARP requests or ICMP errors not sent: mempool empty")

struct L2GlueCounters {
#define X(name, help) std::atomic<std::uint64_t> name{0};
  SPRAY_L2_GLUE_DROPS(X)
#undef X
};

class SwitchPipeline final : public Pipeline {
 public:
  // Throws std::invalid_argument with config.validate()'s message.
  SwitchPipeline(const tor::SwitchConfig& config, rte_mempool* pool, TscClock clock);
  // A bridge only (every port bridged, no egress queue).
  SwitchPipeline(const tor::L2Config& l2, rte_mempool* pool, TscClock clock)
      : SwitchPipeline(tor::SwitchConfig{l2, {}, {}}, pool, clock) {}
  ~SwitchPipeline() override;

  void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
          std::uint64_t now_tsc) noexcept override;
  unsigned poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept override;
  std::uint64_t next_deadline_tsc() const noexcept override;
  void housekeeping(std::uint64_t now_tsc) noexcept override;
  void drain(TxBuffers& tx, std::uint64_t now_tsc) noexcept override;

  // Control thread: link state as the ports report it (bit p = port p up).
  // The worker applies changes at its next poll.
  void set_link_mask(std::uint64_t mask) noexcept { link_mask_.store(mask, std::memory_order_relaxed); }

  // Control thread: a validated configuration with the same ports. Returns
  // false if the previous one has not been applied yet (try again later).
  bool post_config(std::unique_ptr<tor::SwitchConfig> config) noexcept;
  // Control thread: true once the last posted configuration is in use.
  bool config_applied() const noexcept { return pending_.load(std::memory_order_acquire) == nullptr; }
  // Control thread: frees what a reload replaced. Call every tick.
  void collect_retired() noexcept;

  // Control thread (or any thread while no reload runs).
  tor::L2Stats snapshot() const noexcept { return pub_l2_.load(std::memory_order_acquire)->snapshot(); }
  tor::L3Stats l3_snapshot() const noexcept { return pub_l3_.load(std::memory_order_acquire)->snapshot(); }
  const L2GlueCounters& glue() const noexcept { return glue_; }
  const EgressPorts& egress() const noexcept { return egress_; }
  std::size_t fdb_size() const noexcept { return fdb_size_.load(std::memory_order_relaxed); }
  bool has_routed_ports() const noexcept { return routed_mask_ != 0; }

  // Worker only (or after the worker stopped).
  const tor::L2Switch& logic() const noexcept { return *l2_; }
  const tor::L3Router& router() const noexcept { return *l3_; }

 private:
  void rx_bridged(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts, std::uint16_t n) noexcept;
  void rx_routed(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts, std::uint16_t n) noexcept;
  void send(TxBuffers& tx, tor::PortId port, rte_mbuf* m, const tor::L2Decision& d) noexcept;
  void out(TxBuffers& tx, tor::PortId port, rte_mbuf* m) noexcept { egress_.send(tx, port, m, now_ns_); }
  bool edits_tag(const tor::L2Decision& d) const noexcept;
  void apply_links() noexcept;
  void apply_pending(std::uint64_t now_ns) noexcept;
  unsigned send_generated(TxBuffers& tx) noexcept;

  std::unique_ptr<tor::L2Switch> l2_;
  std::unique_ptr<tor::L3Router> l3_;
  std::unique_ptr<tor::SwitchConfig> config_;
  std::uint64_t routed_mask_ = 0;
  rte_mempool* pool_;
  TscClock clock_;
  EgressPorts egress_;
  std::uint64_t applied_link_mask_;
  std::uint64_t next_tick_ns_ = 0;
  std::uint64_t now_ns_ = 0;  // of the burst or poll in progress
  std::atomic<std::uint64_t> link_mask_;
  std::atomic<std::size_t> fdb_size_{0};
  std::atomic<tor::SwitchConfig*> pending_{nullptr};
  // What readers see; replaced objects wait in retired_ for the control thread.
  std::atomic<const tor::L2Switch*> pub_l2_{nullptr};
  std::atomic<const tor::L3Router*> pub_l3_{nullptr};
  struct Retired {
    std::unique_ptr<tor::L2Switch> l2;
    std::unique_ptr<tor::L3Router> l3;
    std::unique_ptr<tor::SwitchConfig> config;
  };
  std::atomic<Retired*> retired_{nullptr};
  L2GlueCounters glue_;
};

// The bridge's view of a switch configuration: routed ports taken out of it
// (administratively down: never flooded to, never learned on).
tor::L2Config bridge_config(const tor::SwitchConfig& c);

}  // namespace spray::dp
