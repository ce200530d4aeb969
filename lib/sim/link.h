// SPDX-License-Identifier: BSD-3-Clause
// A unidirectional simulated link: an egress FIFO in front of a wire.
//
// The queue is a work-conserving server: a packet starts serialising when
// the previous one has finished (`busy_until`), so queueing delay (sojourn)
// is known at enqueue and no dequeue event is needed. Serialisation counts
// the SRD packet plus Ethernet/IPv4/UDP headers and the preamble/IFG.
//
// Impairments act in this order: administrative state (down, blackhole),
// tail drop, then on the wire (pattern, random, bursty loss, corruption,
// duplication, reordering). A packet lost on the wire still used the link's
// time, as on a real cable.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "histogram.h"
#include "packet_pool.h"
#include "rng.h"
#include "srd/types.h"

namespace spray::sim {

inline constexpr std::uint32_t kEthIpUdpBytes = 42;   // Ethernet 14 + IPv4 20 + UDP 8
inline constexpr std::uint32_t kPreambleIfgBytes = 20; // preamble/SFD 8 + inter-frame gap 12

// Bytes a packet of `srd_bytes` occupies on the wire.
constexpr std::uint64_t wire_bytes(std::uint32_t srd_bytes) noexcept {
  return std::uint64_t{srd_bytes} + kEthIpUdpBytes + kPreambleIfgBytes;
}

// Gilbert-Elliott two-state loss: a good and a bad state with their own loss
// probability; transitions are drawn once per packet.
struct GilbertElliott {
  double p_good_to_bad = 0;   // 0 disables the model
  double p_bad_to_good = 0.25;
  double loss_in_good = 0;
  double loss_in_bad = 0.5;
  // > 0: the bad state also ends this long after it began. Transitions
  // drawn per packet make a burst's length in time grow as the traffic
  // thins: a sender backing off after the burst's first losses sends one
  // packet per timeout, and a burst of a few packets then lasts longer than
  // any real one, past the connection timeout.
  srd::Nanos max_bad_ns = 0;
};

struct LinkConfig {
  std::uint64_t rate_bps = 100'000'000'000ULL;
  srd::Nanos delay_ns = 1'000;          // propagation
  srd::Nanos jitter_ns = 0;             // extra uniform [0, jitter_ns]; keeps FIFO order
  std::uint32_t queue_limit_pkts = 1024;  // tail drop above this many queued packets
  std::uint64_t queue_limit_bytes = 0;  // and above this many queued SRD bytes; 0 = no byte limit
  std::uint32_t ecn_mark_pkts = 0;      // mark CE when this many are queued ahead; 0 = off
  srd::Nanos ecn_mark_sojourn_ns = 0;   // mark CE when the queueing delay reaches this; 0 = off
  double loss_rate = 0;                 // independent random loss per packet
  GilbertElliott bursty;
  double reorder_rate = 0;              // this share of packets is held back...
  srd::Nanos reorder_delay_ns = 0;      // ...by this much extra, overtaking FIFO order
  double dup_rate = 0;                  // delivered twice
  double corrupt_rate = 0;              // one byte flipped
  std::uint32_t corrupt_within = 0;     // flip within the first N bytes; 0 = anywhere
  bool histograms = true;               // keep Link::hist (16 KB per link)
};

struct LinkHistograms {
  LogHistogram queue_pkts;             // backlog seen by each arriving packet
  LogHistogram sojourn_ns;             // queueing delay of each accepted packet
};

#define SPRAY_SIM_DROP_CAUSES(X) \
  X(kQueueFull, "queue_full")    \
  X(kRandom, "random")           \
  X(kBursty, "bursty")           \
  X(kPattern, "pattern")         \
  X(kBlackhole, "blackhole")     \
  X(kDown, "down")

enum class DropCause : std::uint8_t {
#define X(e, s) e,
  SPRAY_SIM_DROP_CAUSES(X)
#undef X
  kCount
};
const char* to_string(DropCause c) noexcept;

struct LinkStats {
  std::uint64_t offered_pkts = 0;      // handed to the link
  std::uint64_t tx_pkts = 0;           // serialised onto the wire
  std::uint64_t tx_bytes = 0;          // SRD bytes serialised
  std::uint64_t delivered_pkts = 0;    // reached the far end (duplicates included)
  std::array<std::uint64_t, static_cast<std::size_t>(DropCause::kCount)> drops{};
  std::uint64_t ce_marks = 0;
  std::uint64_t reordered = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupted = 0;

  std::uint64_t drop(DropCause c) const noexcept { return drops[static_cast<std::size_t>(c)]; }
  std::uint64_t total_drops() const noexcept {
    std::uint64_t n = 0;
    for (auto d : drops) n += d;
    return n;
  }
};

// Packet predicate for scripted loss. Called only when set.
using DropPredicate = std::function<bool(const Packet&, srd::Nanos now_ns)>;

struct Link {
  std::uint32_t id = 0;
  std::uint32_t from_node = 0;
  std::uint32_t to_node = 0;
  std::string name;
  LinkConfig cfg;

  bool up = true;
  bool blackhole = false;
  std::vector<std::uint64_t> drop_nth;  // 1-based ordinals among offered packets, ascending
  DropPredicate drop_if;

  // Server state.
  srd::Nanos busy_until_ns = 0;
  std::uint64_t ser_remainder = 0;      // carries the sub-ns part of serialisation times
  struct SerCache {                     // bits * 1e9 of the last packet size, divided by the rate
    std::uint64_t rate_bps = 0;
    std::uint64_t quot = 0;
    std::uint64_t rem = 0;
    std::uint32_t len = 0;
  } ser_cache;
  srd::Nanos last_arrival_ns = 0;       // FIFO order under jitter
  bool ge_bad = false;
  srd::Nanos ge_bad_since_ns = 0;
  Rng rng;
  // Finish times and sizes of queued packets, oldest first (ring).
  struct Slot {
    srd::Nanos finish_ns;
    std::uint32_t bytes;
  };
  std::vector<Slot> ring;
  std::uint32_t ring_head = 0;
  std::uint32_t ring_len = 0;
  std::uint64_t queued_bytes = 0;
  std::size_t next_nth = 0;
  LinkStats stats;
  // Apart from the link: 16 KB that a packet touches in two places, while
  // everything above fits a few cache lines. Inside the link they spread
  // each hop over four pages, and a fabric of 10,000 links and more spent
  // most of its time in cache and TLB misses there. Null when
  // LinkConfig::histograms is off.
  std::unique_ptr<LinkHistograms> hist;

  // Forgets packets that have finished serialising by `now`.
  void retire(srd::Nanos now_ns) noexcept {
    while (ring_len && ring[ring_head].finish_ns <= now_ns) {
      queued_bytes -= ring[ring_head].bytes;
      ring_head = ring_head + 1 == ring.size() ? 0 : ring_head + 1;
      --ring_len;
    }
  }
  std::uint32_t queued_pkts(srd::Nanos now_ns) noexcept {
    retire(now_ns);
    return ring_len;
  }
};

}  // namespace spray::sim
