// SPDX-License-Identifier: BSD-3-Clause
// Pending simulator events in a binary min-heap on (time, insertion order).
//
// Ties break by insertion order so a run is a pure function of its inputs.
// The vector keeps its capacity once grown: no allocation per event in
// steady state.
//
// Every event is pushed and popped once, so this is the simulator's
// innermost loop: the order key is one 128-bit integer (time, then the
// insertion ordinal with the kind in its low bits), compared without a
// data-dependent branch, and the heap moves a hole instead of swapping.
#pragma once

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

class EventQueue {
 public:
  void push(srd::Nanos at_ns, EventKind kind, std::uint32_t a, std::uint32_t b = 0) {
    const std::size_t i = heap_.size();
    heap_.emplace_back();
    sift_up(i, Event{at_ns, seq_++ << 2 | static_cast<std::uint64_t>(kind), a, b});
  }
  bool empty() const noexcept { return heap_.empty(); }
  srd::Nanos next_at() const noexcept { return heap_.empty() ? srd::kNever : heap_.front().at_ns; }
  // Precondition: !empty().
  Event pop() noexcept {
    const Event top = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    const std::size_t n = heap_.size();
    if (n == 0) return top;
    // Floyd's pop: walk the hole down along the smaller children to a leaf
    // (one comparison per level), then let `last` climb back up from there;
    // it usually belongs near the bottom.
    std::size_t i = 0;
    for (std::size_t c = 1; c < n; c = 2 * i + 1) {
      if (c + 1 < n && before(heap_[c + 1], heap_[c])) ++c;
      heap_[i] = heap_[c];
      i = c;
    }
    sift_up(i, last);
    return top;
  }
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  // Places `e` at the hole `i` or above it, moving the hole up past every
  // parent that `e` comes before.
  void sift_up(std::size_t i, const Event& e) noexcept {
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  static bool before(const Event& x, const Event& y) noexcept {
    using U128 = unsigned __int128;
    return (U128{x.at_ns} << 64 | x.order) < (U128{y.at_ns} << 64 | y.order);
  }
  std::vector<Event> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace spray::sim
