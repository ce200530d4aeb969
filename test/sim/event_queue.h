// Pending simulator events in a binary min-heap on (time, insertion order).
//
// Ties break by insertion order so a run is a pure function of its inputs.
// The vector keeps its capacity once grown: no allocation per event in
// steady state.
#pragma once

#include <algorithm>
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
  std::uint64_t seq;
  std::uint32_t a;
  std::uint32_t b;
  EventKind kind;
};

class EventQueue {
 public:
  void push(srd::Nanos at_ns, EventKind kind, std::uint32_t a, std::uint32_t b = 0) {
    heap_.push_back(Event{at_ns, seq_++, a, b, kind});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const noexcept { return heap_.empty(); }
  srd::Nanos next_at() const noexcept { return heap_.empty() ? srd::kNever : heap_.front().at_ns; }
  Event pop() noexcept {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Event e = heap_.back();
    heap_.pop_back();
    return e;
  }
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  static bool later(const Event& x, const Event& y) noexcept {
    return x.at_ns != y.at_ns ? x.at_ns > y.at_ns : x.seq > y.seq;
  }
  std::vector<Event> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace spray::sim
