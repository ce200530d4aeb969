// SPDX-License-Identifier: BSD-3-Clause
// An egress port's queue: FIFO with tail drop, a token-bucket shaper and
// ECN marking (DCTCP-style queue-length threshold K, or a sojourn threshold).
//
// Ring, vhost and tap links take frames as fast as the switch can hand them
// over, so a software switch sees congestion only where it shapes its own
// egress. The queue holds opaque items (rte_mbuf* in the data plane) with
// the wire bytes each one costs and whether its sender is ECN-capable; it
// never reads a packet. The caller sets CE on the items dequeue() tells it to.
//
//   EgressQueue<rte_mbuf*> q(cfg);
//   q.enqueue(m, m->pkt_len + kWireOverheadBytes, ect, now_ns);  // kDropped: free m
//   n = q.dequeue(now_ns, out, mark, 32);   // out[i] may leave now; mark[i]: set CE
//   sleep at most until q.next_departure_ns()
//
// Shaper: tokens, in bytes, refill continuously at rate_bps up to the burst
// size, in exact integer arithmetic (1/8e9 byte units, so any rate is exact
// and the long-run rate never drifts). The head item leaves when the tokens
// cover its bytes, and takes them. An item larger than the burst could never
// be covered; it leaves when the bucket is full and takes the tokens negative
// by its excess, the only way they go below zero. So the bytes released by
// time t never exceed burst + rate * t, except by one such oversize item.
//
// ECN, decided at dequeue so that the sojourn is known: an item is over
// threshold when the queue it joined already held more than
// ecn_threshold_pkts items, or when it waited longer than ecn_sojourn_ns
// (each criterion off when 0; both off when ecn is false). Over threshold and
// ECN-capable: marked (ce_marked). Over threshold and not ECN-capable: sent
// unmarked and counted (over_threshold_not_ect); the tail drop at depth_pkts
// is what bounds such traffic.
//
// Threads: one owner thread calls everything except stats(), which any
// thread may call at any time (single-writer relaxed atomics: each value is
// exact, the set is not a consistent cut). Time is an argument, nanoseconds
// of one monotonic clock shared by every call. Allocates only in the
// constructor and in reconfigure(); enqueue, dequeue and drain never do.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "telemetry/counter.h"
#include "tor/egress_counters.h"

namespace spray::tor {

// Preamble and start delimiter (8), inter-frame gap (12) and FCS (4): what an
// Ethernet frame costs on the wire beyond the bytes a port hands over.
inline constexpr std::uint32_t kWireOverheadBytes = 24;

inline constexpr std::uint32_t kMaxEgressDepthPkts = 65536;
inline constexpr std::uint64_t kMaxEgressRateBps = 10'000'000'000'000;  // 10 Tbit/s
inline constexpr std::uint32_t kMaxEgressBurstBytes = 1u << 30;
inline constexpr std::uint64_t kMaxEcnSojournNs = 1'000'000'000;  // 1 s
// The default burst: two full-size frames (1500 B MTU + 14 + 4 + 24), or
// what the rate sends in 10 us if that is more.
inline constexpr std::uint32_t kMinDefaultBurstBytes = 2 * 1538;
// Wire bytes beyond this are charged as this (no real frame comes close);
// it bounds the tokens' range so they never overflow.
inline constexpr std::uint32_t kMaxItemWireBytes = 1u << 20;

struct EgressConfig {
  std::uint64_t rate_bps = 0;        // bits/s of wire bytes; 0 = line rate (no shaping)
  std::uint32_t burst_bytes = 0;     // 0 = max(kMinDefaultBurstBytes, rate * 10 us)
  std::uint32_t depth_pkts = 1024;   // 1..65536
  bool ecn = true;
  std::uint32_t ecn_threshold_pkts = 32;  // K; 0 = no queue-length criterion
  std::uint64_t ecn_sojourn_ns = 20'000;  // 0 = no sojourn criterion

  bool shaped() const noexcept { return rate_bps != 0; }
  std::uint32_t effective_burst_bytes() const noexcept {
    if (burst_bytes != 0) return burst_bytes;
    return static_cast<std::uint32_t>(
        std::max<std::uint64_t>(kMinDefaultBurstBytes, rate_bps / 800'000));
  }

  // "" when valid, else a message naming the field, its value and what is accepted.
  std::string validate() const {
    if (depth_pkts < 1 || depth_pkts > kMaxEgressDepthPkts)
      return "depth_pkts " + std::to_string(depth_pkts) + " is out of range; accepted: 1.." +
             std::to_string(kMaxEgressDepthPkts) + " packets";
    if (rate_bps > kMaxEgressRateBps)
      return "rate_bps " + std::to_string(rate_bps) + " is out of range; accepted: 0 (line rate, " +
             "no shaping) to " + std::to_string(kMaxEgressRateBps) + " bits/s";
    if (burst_bytes > kMaxEgressBurstBytes)
      return "burst_bytes " + std::to_string(burst_bytes) + " is out of range; accepted: 1.." +
             std::to_string(kMaxEgressBurstBytes) + " bytes, or 0 for max(" +
             std::to_string(kMinDefaultBurstBytes) + ", rate * 10 us)";
    if (ecn_threshold_pkts > kMaxEgressDepthPkts)
      return "ecn_threshold_pkts " + std::to_string(ecn_threshold_pkts) +
             " is out of range; accepted: 1.." + std::to_string(kMaxEgressDepthPkts) +
             " packets, or 0 to mark on sojourn only";
    if (ecn_sojourn_ns > kMaxEcnSojournNs)
      return "ecn_sojourn_ns " + std::to_string(ecn_sojourn_ns) +
             " is out of range; accepted: 1.." + std::to_string(kMaxEcnSojournNs) +
             " ns, or 0 to mark on queue length only";
    return {};
  }
};

template <class T>
class EgressQueue {
 public:
  enum class Enq : std::uint8_t { kQueued, kDropped };

  // Allocates the ring (depth_pkts rounded up to a power of two); the bucket
  // starts full. Throws std::invalid_argument carrying config.validate().
  explicit EgressQueue(const EgressConfig& config) {
    check(config);
    ring_ = std::make_unique<Slot[]>(std::bit_ceil(config.depth_pkts));
    mask_ = std::bit_ceil(config.depth_pkts) - 1;
    apply(config);
    tokens_ = cap_;
  }
  EgressQueue(const EgressQueue&) = delete;
  EgressQueue& operator=(const EgressQueue&) = delete;

  // Appends `item`, or refuses it (kDropped, counted) when depth_pkts items
  // are waiting; the caller keeps a refused item. `wire_bytes` is what the
  // item costs the shaper (frame + kWireOverheadBytes for Ethernet); `ect`
  // says its sender is ECN-capable.
  Enq enqueue(T item, std::uint32_t wire_bytes, bool ect, std::uint64_t now_ns) noexcept {
    const std::uint32_t ahead = tail_ - head_;
    if (ahead >= depth_) {
      count(EgressCounter::kDroppedFull);
      return Enq::kDropped;
    }
    Slot& s = ring_[tail_ & mask_];
    s.item = std::move(item);
    s.enq_ns = now_ns;
    s.bytes = std::min(wire_bytes, kMaxItemWireBytes);
    s.ahead = static_cast<std::uint16_t>(ahead);  // < depth <= 65536
    s.ect = ect;
    ++tail_;
    count(EgressCounter::kEnqueued);
    gauge(EgressGauge::kQueuePkts).set(ahead + 1);
    if (ahead + 1 > gauge(EgressGauge::kQueuePeakPkts).read())
      gauge(EgressGauge::kQueuePeakPkts).set(ahead + 1);
    return Enq::kQueued;
  }

  // Moves up to `max` items that may leave at now_ns, in FIFO order, into
  // out[0..n), with mark[i] true when the caller must set CE on out[i].
  // Returns n; 0 when empty or the shaper holds the head back.
  std::size_t dequeue(std::uint64_t now_ns, T* out, bool* mark, std::size_t max) noexcept {
    refill(now_ns);
    std::size_t n = 0;
    std::uint64_t marked = 0, not_ect = 0;
    while (n < max && head_ != tail_) {
      Slot& s = ring_[head_ & mask_];
      if (rate_bps_ != 0) {
        if (tokens_ < need(s.bytes)) break;
        tokens_ -= static_cast<std::int64_t>(s.bytes) * kUnitsPerByte;
      }
      bool m = false;
      if (ecn_ && over_threshold(s, now_ns)) {
        m = s.ect;
        if (m)
          ++marked;
        else
          ++not_ect;
      }
      out[n] = std::move(s.item);
      mark[n] = m;
      ++head_;
      ++n;
    }
    if (n != 0) {
      count(EgressCounter::kDequeued, n);
      if (marked) count(EgressCounter::kCeMarked, marked);
      if (not_ect) count(EgressCounter::kOverThresholdNotEct, not_ect);
      gauge(EgressGauge::kQueuePkts).set(tail_ - head_);
    }
    return n;
  }

  // The earliest time the head item may leave: its enqueue time when the
  // tokens already cover it (unshaped, or shaped with tokens), the exact
  // nanosecond they will otherwise; UINT64_MAX when empty. dequeue() at this
  // time releases the head, one nanosecond earlier it does not.
  std::uint64_t next_departure_ns() const noexcept {
    if (head_ == tail_) return std::numeric_limits<std::uint64_t>::max();
    const Slot& s = ring_[head_ & mask_];
    if (rate_bps_ == 0) return s.enq_ns;
    const std::int64_t need_units = need(s.bytes);
    if (tokens_ >= need_units) return s.enq_ns;
    const auto deficit = static_cast<std::uint64_t>(need_units - tokens_);
    return std::max(s.enq_ns, last_ns_ + (deficit + rate_bps_ - 1) / rate_bps_);
  }

  std::size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return head_ == tail_; }
  std::size_t depth() const noexcept { return depth_; }

  // Applies a new configuration at a quiescent point of the owner (control
  // path: may allocate). Keeps every waiting item, in order, with its
  // enqueue time and queue length for the new thresholds. A smaller depth
  // drops nothing: new items are refused until the queue is below it. The
  // tokens keep their value, capped by the new burst (full if the queue was
  // unshaped); tokens accrued since the last dequeue count at the new rate.
  // Throws std::invalid_argument carrying config.validate(), changing nothing.
  void reconfigure(const EgressConfig& config) {
    check(config);
    const std::uint32_t capacity = std::bit_ceil(config.depth_pkts);
    if (capacity > mask_ + 1) {
      auto ring = std::make_unique<Slot[]>(capacity);
      std::uint32_t n = 0;
      for (; head_ != tail_; ++head_, ++n) ring[n] = std::move(ring_[head_ & mask_]);
      ring_ = std::move(ring);
      mask_ = capacity - 1;
      head_ = 0;
      tail_ = n;
    }
    const bool was_shaped = rate_bps_ != 0;
    apply(config);
    if (!was_shaped || tokens_ > cap_) tokens_ = cap_;
  }

  // Removes every waiting item, in order, through f(T&&) (shutdown: free
  // the mbufs). Counted as drained.
  template <class F>
  void drain(F&& f) noexcept {
    std::uint64_t n = 0;
    for (; head_ != tail_; ++head_, ++n) f(std::move(ring_[head_ & mask_].item));
    count(EgressCounter::kDrained, n);
    gauge(EgressGauge::kQueuePkts).set(0);
  }

  // Any thread.
  EgressStats stats() const noexcept {
    EgressStats st;
    for (std::size_t i = 0; i < kEgressCounterCount; ++i) st.counters[i] = counters_[i].read();
    for (std::size_t i = 0; i < kEgressGaugeCount; ++i) st.gauges[i] = gauges_[i].read();
    return st;
  }

 private:
  // Token units per byte: rate_bps * dt_ns units accrue in dt_ns, so the
  // refill is one exact integer product.
  static constexpr std::int64_t kUnitsPerByte = 8'000'000'000;

  struct Slot {
    T item{};
    std::uint64_t enq_ns = 0;
    std::uint32_t bytes = 0;
    std::uint16_t ahead = 0;  // items in the queue when this one joined
    bool ect = false;
  };

  static void check(const EgressConfig& config) {
    if (std::string e = config.validate(); !e.empty()) throw std::invalid_argument(e);
  }

  void apply(const EgressConfig& config) noexcept {
    depth_ = config.depth_pkts;
    rate_bps_ = config.rate_bps;
    burst_bytes_ = config.effective_burst_bytes();
    cap_ = static_cast<std::int64_t>(burst_bytes_) * kUnitsPerByte;  // <= 2^30 * 8e9 < 2^63
    ecn_ = config.ecn && (config.ecn_threshold_pkts != 0 || config.ecn_sojourn_ns != 0);
    ecn_threshold_pkts_ = config.ecn_threshold_pkts;
    ecn_sojourn_ns_ = config.ecn_sojourn_ns;
  }

  // Tokens the head needs before it may leave: its bytes, or a full bucket
  // when it is larger than the bucket.
  std::int64_t need(std::uint32_t bytes) const noexcept {
    return static_cast<std::int64_t>(std::min(bytes, burst_bytes_)) * kUnitsPerByte;
  }

  void refill(std::uint64_t now_ns) noexcept {
    if (now_ns <= last_ns_) return;
    const std::uint64_t dt = now_ns - last_ns_;
    last_ns_ = now_ns;
    if (rate_bps_ == 0 || tokens_ >= cap_) return;
    const auto deficit = static_cast<std::uint64_t>(cap_ - tokens_);
    std::uint64_t gained;
    if (__builtin_mul_overflow(rate_bps_, dt, &gained) || gained >= deficit)
      tokens_ = cap_;
    else
      tokens_ += static_cast<std::int64_t>(gained);
  }

  bool over_threshold(const Slot& s, std::uint64_t now_ns) const noexcept {
    if (ecn_threshold_pkts_ != 0 && s.ahead > ecn_threshold_pkts_) return true;
    return ecn_sojourn_ns_ != 0 && now_ns > s.enq_ns && now_ns - s.enq_ns > ecn_sojourn_ns_;
  }

  void count(EgressCounter c, std::uint64_t n = 1) noexcept {
    counters_[static_cast<std::size_t>(c)].add(n);
  }
  telemetry::SingleWriterCounter& gauge(EgressGauge g) noexcept {
    return gauges_[static_cast<std::size_t>(g)];
  }

  // Hot, owner thread only.
  std::unique_ptr<Slot[]> ring_;
  std::uint32_t mask_ = 0;
  std::uint32_t head_ = 0;  // free-running; slot = index & mask_
  std::uint32_t tail_ = 0;
  std::uint32_t depth_ = 0;
  std::int64_t tokens_ = 0;  // kUnitsPerByte per byte; >= -kMaxItemWireBytes bytes
  std::int64_t cap_ = 0;
  std::uint64_t last_ns_ = 0;  // time of the last refill
  std::uint64_t rate_bps_ = 0;
  std::uint32_t burst_bytes_ = 0;
  std::uint32_t ecn_threshold_pkts_ = 0;
  std::uint64_t ecn_sojourn_ns_ = 0;
  bool ecn_ = false;

  // Written by the owner, read by any thread: on lines of their own so that
  // a reader does not pull the hot fields away from the owner.
  alignas(64) telemetry::SingleWriterCounter counters_[kEgressCounterCount];
  telemetry::SingleWriterCounter gauges_[kEgressGaugeCount];
};

}  // namespace spray::tor
