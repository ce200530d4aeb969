// SPDX-License-Identifier: BSD-3-Clause
// Poll-mode workers: one per lcore, each owning a set of rx queues, one tx
// queue on every port, and one role pipeline.
//
// The loop has the l3fwd/eRPC shape (doc/architecture.md, "Threads"): read
// the TSC once per iteration; rx_burst(32) per assigned queue and hand the
// burst to the pipeline; buffer tx per port and flush when a buffer fills,
// at the end of any iteration that did not receive a full burst (light load:
// latency first), and at least every ~100 us; run the pipeline's timers once
// per iteration; housekeeping every 1024 iterations. No locks: the control
// thread sees the worker only through the relaxed-atomic snapshot the worker
// publishes during housekeeping.
#pragma once

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/host_config.h"

namespace spray::dp {

inline constexpr std::uint16_t kBurst = 32;
inline constexpr std::uint16_t kMaxPorts = 64;

// Worker-local counters; one writer (the worker). Published copies are read
// by the control thread.
#define SPRAY_WORKER_COUNTERS(X)                                              \
  X(rx_packets, "packets received by the worker")                            \
  X(tx_packets, "packets the worker handed to a port")                       \
  X(tx_dropped, "packets a full tx queue refused (freed and counted)")       \
  X(busy_cycles, "TSC cycles spent in iterations that did work")             \
  X(idle_cycles, "TSC cycles spent in iterations that found nothing to do")  \
  X(iterations, "loop iterations")                                           \
  X(sleeps, "times the idle backoff slept")

struct WorkerCounters {
#define X(name, help) std::uint64_t name = 0;
  SPRAY_WORKER_COUNTERS(X)
#undef X
};

enum class IdleMode : std::uint8_t {
  kPoll,     // spin: lowest latency, a core at 100% (benchmarks, dedicated cores)
  kBackoff,  // sleep after a stretch of empty polls (shared cores, laptops, tests)
};

class Worker;

// Per-worker transmit buffering: one buffer per port, flushed when full or by
// the worker's drain timer. Refused packets are freed and counted.
class TxBuffers {
 public:
  void init(std::uint16_t nb_ports, const std::uint16_t* port_ids, std::uint16_t queue) noexcept {
    nb_ports_ = nb_ports;
    queue_ = queue;
    for (std::uint16_t i = 0; i < nb_ports; ++i) bufs_[i].port_id = port_ids[i];
  }
  // Queues `m` for the port at `port_index` (the role's port numbering).
  void send(std::uint16_t port_index, rte_mbuf* m) noexcept {
    Buf& b = bufs_[port_index];
    b.pkts[b.n++] = m;
    if (unlikely(b.n == kBurst)) flush_one(b);
  }
  // Queues pkts[0..n) for one port, in order: the same as n send() calls,
  // with the buffer's fill level kept in a register across the run.
  void send_burst(std::uint16_t port_index, rte_mbuf* const* pkts, std::uint16_t n) noexcept {
    Buf& b = bufs_[port_index];
    std::uint16_t fill = b.n;
    while (n != 0) {
      const std::uint16_t take = n < kBurst - fill ? n : static_cast<std::uint16_t>(kBurst - fill);
      for (std::uint16_t i = 0; i < take; ++i) b.pkts[fill + i] = pkts[i];
      fill = static_cast<std::uint16_t>(fill + take);
      pkts += take;
      n = static_cast<std::uint16_t>(n - take);
      if (fill == kBurst) {
        b.n = fill;
        flush_one(b);
        fill = 0;
      }
    }
    b.n = fill;
  }
  void flush() noexcept {
    for (std::uint16_t i = 0; i < nb_ports_; ++i)
      if (bufs_[i].n) flush_one(bufs_[i]);
  }
  std::uint64_t take_sent() noexcept { return std::exchange(sent_, 0); }
  std::uint64_t take_dropped() noexcept { return std::exchange(dropped_, 0); }
  // Packets the ports refused since the worker started (never reset).
  std::uint64_t dropped_total() const noexcept { return dropped_total_; }
  std::uint16_t nb_ports() const noexcept { return nb_ports_; }

 private:
  struct Buf {
    std::uint16_t port_id = 0;
    std::uint16_t n = 0;
    rte_mbuf* pkts[kBurst];
  };
  void flush_one(Buf& b) noexcept {
    const std::uint16_t sent = rte_eth_tx_burst(b.port_id, queue_, b.pkts, b.n);
    sent_ += sent;
    if (unlikely(sent < b.n)) {
      dropped_ += b.n - sent;
      dropped_total_ += b.n - sent;
      rte_pktmbuf_free_bulk(b.pkts + sent, b.n - sent);
    }
    b.n = 0;
  }
  std::array<Buf, kMaxPorts> bufs_{};
  std::uint16_t nb_ports_ = 0;
  std::uint16_t queue_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_total_ = 0;
};

// A role's per-worker packet logic. Called only on the worker's lcore. One
// virtual call per burst, never per packet.
class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // Takes ownership of every mbuf: send it through `tx` or free it.
  virtual void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
                  std::uint64_t now_tsc) noexcept = 0;
  // Once per iteration after rx: timers, packet generation. Returns work done
  // (0 = idle), which drives the idle backoff.
  virtual unsigned poll(TxBuffers&, std::uint64_t /*now_tsc*/) noexcept { return 0; }
  // Earliest TSC at which poll() has work without new input (caps idle sleep).
  virtual std::uint64_t next_deadline_tsc() const noexcept { return ~std::uint64_t{0}; }
  // Every 1024 iterations: aging, config pick-up, stats publication.
  virtual void housekeeping(std::uint64_t /*now_tsc*/) noexcept {}
  // After the loop ends, before final tx flush: last words (e.g. CLOSE).
  virtual void drain(TxBuffers&, std::uint64_t /*now_tsc*/) noexcept {}
};

struct RxQueueRef {
  std::uint16_t port_index;  // the role's port numbering
  std::uint16_t port_id;     // DPDK's
  std::uint16_t queue;
};

struct WorkerOptions {
  IdleMode idle = IdleMode::kBackoff;
  std::uint32_t idle_spin_us = 50;   // keep spinning this long after the last work
  std::uint32_t idle_max_sleep_us = kIdleMaxSleepUs;
  std::uint32_t tx_drain_us = 100;
};

class alignas(64) Worker {
 public:
  Worker(unsigned lcore, std::string name, Pipeline* pipeline, std::vector<RxQueueRef> rxq,
         const std::vector<std::uint16_t>& tx_port_ids, std::uint16_t tx_queue,
         const WorkerOptions& opt, TscClock clock);

  unsigned lcore() const noexcept { return lcore_; }
  const std::string& name() const noexcept { return name_; }
  Pipeline* pipeline() const noexcept { return pipeline_; }

  // Runs on the worker lcore until stop() is seen.
  void run() noexcept;
  void stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

  // Control thread: the counters as last published (at most ~1 ms old).
  WorkerCounters published() const noexcept;
  // Control thread, after the worker has returned: exact final counters.
  const WorkerCounters& final_counters() const noexcept { return c_; }

 private:
  void publish() noexcept;
  void idle_sleep(std::uint64_t now_tsc) noexcept;

  unsigned lcore_;
  std::string name_;
  Pipeline* pipeline_;
  std::vector<RxQueueRef> rxq_;
  TxBuffers tx_;
  WorkerOptions opt_;
  TscClock clock_;
  WorkerCounters c_;
  std::atomic<bool> stop_{false};
#define X(name, help) std::atomic<std::uint64_t> pub_##name{0};
  SPRAY_WORKER_COUNTERS(X)
#undef X
};

}  // namespace spray::dp
