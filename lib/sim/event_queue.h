// SPDX-License-Identifier: BSD-3-Clause
// Pending simulator events, popped in (time, insertion order).
//
// Ties break by insertion order so a run is a pure function of its inputs.
// Vectors keep their capacity once grown: no allocation per event in
// steady state.
//
// Every event is pushed and popped once, so this is the simulator's
// innermost loop: the order key is one 128-bit integer (time, then the
// insertion ordinal with the kind in its low bits), compared without a
// data-dependent branch, and heaps move a hole instead of swapping.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "srd/types.h"

namespace spray::sim {

enum class EventKind : std::uint8_t {
  kArrive,   // a packet reaches the far end of link `a`; packet index `b`
  kHostWake, // host `a` polls (lazy: ignored unless it is the host's current wake)
  kAction,   // scheduled callback `a`
};

struct Event {
  srd::Nanos at_ns;
  std::uint64_t order;  // insertion ordinal << 2 | kind
  std::uint32_t a;
  std::uint32_t b;

  EventKind kind() const noexcept { return static_cast<EventKind>(order & 3); }
};

// The near future, where nearly every event of a busy fabric falls (a
// packet's next hop, a host's next poll), is a ring of time buckets; only
// the bucket being drained is kept as a heap, so a pop works on a heap of
// the events of a few nanoseconds instead of on every pending event. A
// 16,000-host fabric has a million events pending: one heap over all of
// them spent most of the run on cache misses down its 20 levels. Events
// beyond the ring's horizon (timers) wait in a plain heap and move into the
// ring as it reaches them. The order is the same total order either way:
// (time, insertion ordinal), so a run does not depend on the structure.
class EventQueue {
 public:
  EventQueue() : ring_(kBuckets) {}

  void push(srd::Nanos at_ns, EventKind kind, std::uint32_t a, std::uint32_t b = 0) {
    place(Event{at_ns, seq_++ << 2 | static_cast<std::uint64_t>(kind), a, b});
  }
  bool empty() const noexcept { return near_ == 0 && far_.empty(); }
  // Precondition for both: !empty().
  srd::Nanos next_at() noexcept {
    ready();
    return ring_[cur_ & kMask].front().at_ns;
  }
  Event pop() noexcept {
    ready();
    std::vector<Event>& h = ring_[cur_ & kMask];
    const Event top = h.front();
    const Event last = h.back();
    h.pop_back();
    --near_;
    if (!h.empty()) pop_into(h, last);
    return top;
  }
  std::size_t size() const noexcept { return near_ + far_.size(); }

 private:
  static constexpr unsigned kWidthShift = 4;  // 16 ns per bucket
  static constexpr std::size_t kBuckets = 4096;  // a horizon of 65 us
  static constexpr std::size_t kMask = kBuckets - 1;

  static std::uint64_t slot(srd::Nanos t) noexcept { return t >> kWidthShift; }

  void place(const Event& e) {
    // An event before the bucket being drained (next_at() moved on to the
    // next event, then the caller set the clock back to an earlier end of
    // run and scheduled at it) joins that bucket: its heap orders by the
    // whole key, and every other bucket is later.
    const std::uint64_t s = std::max(slot(e.at_ns), cur_);
    if (s >= cur_ + kBuckets) {
      far_.push_back(e);
      sift_up(far_, far_.size() - 1, e);
      return;
    }
    std::vector<Event>& b = ring_[s & kMask];
    b.push_back(e);
    ++near_;
    if (s == cur_ && heaped_) sift_up(b, b.size() - 1, e);
    else mark(s & kMask);
  }

  // Makes bucket cur_ the earliest non-empty one, as a heap.
  void ready() noexcept {
    if (!ring_[cur_ & kMask].empty() && heaped_) return;
    if (ring_[cur_ & kMask].empty()) {
      unmark(cur_ & kMask);
      cur_ = near_ ? next_marked() : slot(far_.front().at_ns);
      // The horizon moved: what the far heap holds before it joins the ring.
      while (!far_.empty() && slot(far_.front().at_ns) < cur_ + kBuckets) {
        const Event e = far_.front();
        const Event last = far_.back();
        far_.pop_back();
        if (!far_.empty()) pop_into(far_, last);
        ring_[slot(e.at_ns) & kMask].push_back(e);
        mark(slot(e.at_ns) & kMask);
        ++near_;
      }
    }
    std::vector<Event>& h = ring_[cur_ & kMask];
    for (std::size_t i = h.size() / 2; i-- > 0;) sift_down(h, i);
    heaped_ = true;
  }

  void mark(std::size_t i) noexcept { bits_[i / 64] |= std::uint64_t{1} << (i % 64); }
  void unmark(std::size_t i) noexcept {
    bits_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
    heaped_ = false;
  }
  // The absolute slot of the first marked bucket after cur_ (one exists).
  std::uint64_t next_marked() const noexcept {
    const std::size_t from = (cur_ + 1) & kMask;
    for (std::size_t k = 0; k <= kBuckets / 64; ++k) {
      const std::size_t w = (from / 64 + k) % (kBuckets / 64);
      std::uint64_t bits = bits_[w];
      if (k == 0) bits &= ~std::uint64_t{0} << (from % 64);
      if (bits) {
        const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
        return cur_ + ((i - cur_) & kMask);
      }
    }
    return cur_;
  }

  // Floyd's pop: walk the hole at the root down along the smaller children
  // to a leaf (one comparison per level), then let `last` climb back up
  // from there; it usually belongs near the bottom.
  static void pop_into(std::vector<Event>& h, const Event& last) noexcept {
    const std::size_t n = h.size();
    std::size_t i = 0;
    for (std::size_t c = 1; c < n; c = 2 * i + 1) {
      if (c + 1 < n && before(h[c + 1], h[c])) ++c;
      h[i] = h[c];
      i = c;
    }
    sift_up(h, i, last);
  }
  // Places `e` at the hole `i` or above it, moving the hole up past every
  // parent that `e` comes before.
  static void sift_up(std::vector<Event>& h, std::size_t i, const Event& e) noexcept {
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(e, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }
  static void sift_down(std::vector<Event>& h, std::size_t i) noexcept {
    const Event e = h[i];
    const std::size_t n = h.size();
    for (std::size_t c = 2 * i + 1; c < n; c = 2 * i + 1) {
      if (c + 1 < n && before(h[c + 1], h[c])) ++c;
      if (!before(h[c], e)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = e;
  }
  static bool before(const Event& x, const Event& y) noexcept {
    using U128 = unsigned __int128;
    return (U128{x.at_ns} << 64 | x.order) < (U128{y.at_ns} << 64 | y.order);
  }

  std::vector<std::vector<Event>> ring_;     // bucket s & kMask holds slot s, cur_ <= s < cur_ + kBuckets
  std::array<std::uint64_t, kBuckets / 64> bits_{};  // non-empty buckets
  std::uint64_t cur_ = 0;                    // slot of the bucket being drained
  bool heaped_ = false;                      // ring_[cur_] is a heap
  std::size_t near_ = 0;                     // events in the ring
  std::vector<Event> far_;                   // heap of events beyond the horizon
  std::uint64_t seq_ = 0;
};

}  // namespace spray::sim
