// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <time.h>

#include <algorithm>

namespace spray::dp {

Worker::Worker(unsigned lcore, std::string name, Pipeline* pipeline, std::vector<RxQueueRef> rxq,
               const std::vector<std::uint16_t>& tx_port_ids, std::uint16_t tx_queue,
               const WorkerOptions& opt, TscClock clock)
    : lcore_(lcore), name_(std::move(name)), pipeline_(pipeline), rxq_(std::move(rxq)),
      opt_(opt), clock_(clock) {
  tx_.init(static_cast<std::uint16_t>(tx_port_ids.size()), tx_port_ids.data(), tx_queue);
}

void Worker::run() noexcept {
  const std::uint64_t drain_tsc = clock_.from_us(opt_.tx_drain_us);
  const std::uint64_t spin_tsc = clock_.from_us(opt_.idle_spin_us);
  std::uint64_t prev = rte_rdtsc();
  std::uint64_t last_drain = prev;
  std::uint64_t last_work = prev;
  std::uint32_t iter = 0;
  rte_mbuf* pkts[kBurst];

  while (!stop_.load(std::memory_order_relaxed)) {
    const std::uint64_t now = rte_rdtsc();
    unsigned work = 0;
    bool saturated = false;
    for (const RxQueueRef& q : rxq_) {
      const std::uint16_t n = rte_eth_rx_burst(q.port_id, q.queue, pkts, kBurst);
      if (n) {
        c_.rx_packets += n;
        work += n;
        saturated |= n == kBurst;
        pipeline_->rx(tx_, q.port_index, pkts, n, now);
      }
    }
    work += pipeline_->poll(tx_, now);
    // Under load (a full burst came in) buffers fill and leave in full
    // bursts; otherwise waiting for the drain timer would add up to
    // tx_drain_us to every packet's latency, so what is queued leaves now.
    if (!saturated || now - last_drain >= drain_tsc) {
      tx_.flush();
      last_drain = now;
    }
    c_.tx_packets += tx_.take_sent();
    c_.tx_dropped += tx_.take_dropped();
    ++c_.iterations;

    const std::uint64_t spent = now - prev;
    prev = now;
    if (work) {
      c_.busy_cycles += spent;
      last_work = now;
    } else {
      c_.idle_cycles += spent;
      if (opt_.idle == IdleMode::kBackoff && now - last_work > spin_tsc) {
        tx_.flush();
        idle_sleep(now);
      }
    }
    if (unlikely((++iter & 1023) == 0)) {
      pipeline_->housekeeping(now);
      publish();
    }
  }
  const std::uint64_t now = rte_rdtsc();
  pipeline_->drain(tx_, now);
  tx_.flush();
  c_.tx_packets += tx_.take_sent();
  c_.tx_dropped += tx_.take_dropped();
  publish();
}

void Worker::idle_sleep(std::uint64_t now_tsc) noexcept {
  // Sleep no longer than the pipeline's next timer, so backoff never delays a
  // retransmission or a paced send by more than the kernel's wake-up slack.
  std::uint64_t sleep_ns = std::uint64_t{opt_.idle_max_sleep_us} * 1000;
  const std::uint64_t deadline = pipeline_->next_deadline_tsc();
  if (deadline != ~std::uint64_t{0}) {
    const std::uint64_t until = deadline > now_tsc ? clock_.to_ns(deadline - now_tsc) : 0;
    sleep_ns = std::min(sleep_ns, until);
  }
  if (sleep_ns < 2000) return;
  timespec ts{static_cast<time_t>(sleep_ns / 1000000000u), static_cast<long>(sleep_ns % 1000000000u)};
  nanosleep(&ts, nullptr);
  ++c_.sleeps;
}

void Worker::publish() noexcept {
#define X(name, help) pub_##name.store(c_.name, std::memory_order_relaxed);
  SPRAY_WORKER_COUNTERS(X)
#undef X
}

WorkerCounters Worker::published() const noexcept {
  WorkerCounters w;
#define X(name, help) w.name = pub_##name.load(std::memory_order_relaxed);
  SPRAY_WORKER_COUNTERS(X)
#undef X
  return w;
}

}  // namespace spray::dp
