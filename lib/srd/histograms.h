// SPDX-License-Identifier: BSD-3-Clause
// The transport's histograms (doc/protocol.md section 6): per-path packet RTT,
// loss-recovery latency and reorder depth, recorded by the endpoint as
// packets and ACKs arrive.
//
// Fixed buckets, plain integers: a record is a search over a handful of
// bounds and two increments, no allocation, no atomics. The bounds are the
// ones the exporter publishes (classic Prometheus buckets), so nothing is
// re-binned on the way out. Thread affinity: written by the endpoint's owner
// only; other threads read copies the owner makes (as for the counters).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spray::srd {

// Inclusive upper bounds, log-spaced 1-2-5 per decade from 1 us to 100 ms,
// in ns: 16 bounds, so 17 buckets with the one above 100 ms.
inline constexpr std::array<std::uint64_t, 16> kLatencyBoundsNs = {
    1'000,      2'000,      5'000,      10'000,      20'000,      50'000,     100'000,
    200'000,    500'000,    1'000'000,  2'000'000,   5'000'000,   10'000'000, 20'000'000,
    50'000'000, 100'000'000};

// Inclusive upper bounds of the reorder depth, in packets: 0 (in order) and
// powers of two to 1024 (12 bounds). Depths are small integers whose
// interesting range starts at 1, where 1-2-5 steps would waste buckets.
inline constexpr std::array<std::uint64_t, 12> kReorderDepthBounds = {0,  1,  2,   4,   8,   16,
                                                                      32, 64, 128, 256, 512, 1024};

// Counts of recorded values by bucket, and their sum. buckets[i] counts the
// values v with Bounds[i-1] < v <= Bounds[i] (Prometheus `le`); the last
// bucket counts those above every bound.
template <const auto& Bounds>
struct BucketHistogram {
  static constexpr std::size_t kBuckets = Bounds.size() + 1;
  static constexpr const auto& bounds = Bounds;

  std::array<std::uint64_t, kBuckets> buckets{};
  std::uint64_t sum = 0;

  void record(std::uint64_t v) noexcept {
    const auto i = std::lower_bound(Bounds.begin(), Bounds.end(), v) - Bounds.begin();
    ++buckets[static_cast<std::size_t>(i)];
    sum += v;
  }
  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t b : buckets) n += b;
    return n;
  }
};

using LatencyHistogram = BucketHistogram<kLatencyBoundsNs>;
using DepthHistogram = BucketHistogram<kReorderDepthBounds>;

// Everything one endpoint records, over all its connections, since it was
// created (closing a connection keeps what it recorded).
struct TransportHistograms {
  // Sized once, from EndpointConfig::paths (a connection's path ids are
  // below it); never resized.
  explicit TransportHistograms(std::uint16_t paths) : path_rtt_ns(paths) {}

  // Every RTT sample an ACK gives (echoed timestamp less the receiver's
  // hold time), by the path the acknowledged packet took.
  std::vector<LatencyHistogram> path_rtt_ns;
  // For each packet that was retransmitted (any cause, TLP included) and
  // then acknowledged: the time from its FIRST transmission to the ACK that
  // delivered it, whichever copy arrived. Once per packet. The sender cannot
  // see when a packet was dropped, so this is the loss as the application
  // feels it: detection plus repair.
  LatencyHistogram loss_recovery_ns;
  // Receiver side, each DATA packet accepted that is not a retransmission:
  // how far its PSN lies below the highest PSN already received on its
  // connection (0 when it is the highest so far). Retransmissions are left
  // out: their lateness is loss recovery, not reordering.
  DepthHistogram reorder_depth_pkts;
};

}  // namespace spray::srd
