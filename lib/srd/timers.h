// SPDX-License-Identifier: BSD-3-Clause
// Scheduling structures of the endpoint, both over connection slot numbers
// and sized once at creation:
//  - TimerHeap: one deadline per connection (the earliest of its RTO, TLP,
//    RACK, delayed-ACK, handshake, probe and liveness timers), an indexed
//    binary min-heap so re-arming is O(log n) and 10k connections stay cheap;
//  - TimingWheel: Carousel-style pacing wheel with fixed-width slots; a
//    connection waiting for its next paced send time sits in one slot.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "srd/types.h"

namespace spray::srd {

class TimerHeap {
 public:
  static constexpr std::uint32_t kNotQueued = ~std::uint32_t{0};

  explicit TimerHeap(std::size_t slots) : pos_(slots, kNotQueued) { heap_.reserve(slots); }

  // Sets (or moves) the deadline of `slot`; kNever removes it.
  void set(std::uint32_t slot, Nanos deadline) noexcept {
    std::uint32_t i = pos_[slot];
    if (deadline == kNever) {
      if (i != kNotQueued) remove_at(i);
      return;
    }
    if (i == kNotQueued) {
      i = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back(Node{deadline, slot});
      pos_[slot] = i;
      up(i);
      return;
    }
    const Nanos old = heap_[i].deadline;
    heap_[i].deadline = deadline;
    if (deadline < old) up(i); else down(i);
  }

  Nanos top_deadline() const noexcept { return heap_.empty() ? kNever : heap_[0].deadline; }
  std::uint32_t top_slot() const noexcept { return heap_[0].slot; }
  bool empty() const noexcept { return heap_.empty(); }
  Nanos deadline(std::uint32_t slot) const noexcept {
    return pos_[slot] == kNotQueued ? kNever : heap_[pos_[slot]].deadline;
  }

 private:
  struct Node {
    Nanos deadline;
    std::uint32_t slot;
  };
  void place(std::uint32_t i, const Node& n) noexcept {
    heap_[i] = n;
    pos_[n.slot] = i;
  }
  void up(std::uint32_t i) noexcept {
    const Node n = heap_[i];
    while (i > 0) {
      const std::uint32_t parent = (i - 1) / 2;
      if (heap_[parent].deadline <= n.deadline) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, n);
  }
  void down(std::uint32_t i) noexcept {
    const Node n = heap_[i];
    const auto size = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && heap_[c + 1].deadline < heap_[c].deadline) ++c;
      if (heap_[c].deadline >= n.deadline) break;
      place(i, heap_[c]);
      i = c;
    }
    place(i, n);
  }
  void remove_at(std::uint32_t i) noexcept {
    pos_[heap_[i].slot] = kNotQueued;
    const Node last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    const Nanos old = heap_[i].deadline;
    place(i, last);
    if (last.deadline < old) up(i); else down(i);
  }

  std::vector<Node> heap_;
  std::vector<std::uint32_t> pos_;
};

// Slot lists are intrusive: the caller keeps next/prev per connection slot in
// `links` (shared with the ready list, since a connection is in at most one).
struct SchedLink {
  static constexpr std::uint32_t kNil = ~std::uint32_t{0};
  std::uint32_t prev = kNil;
  std::uint32_t next = kNil;
  std::uint32_t where = kNil;  // kNil: nowhere; kReady; or a wheel slot
};

class SchedLists {
 public:
  static constexpr std::uint32_t kNil = SchedLink::kNil;
  static constexpr std::uint32_t kReady = 0xfffffffeu;

  SchedLists(std::size_t conns, std::uint32_t wheel_slots, Nanos slot_ns)
      : links_(conns), heads_(wheel_slots, kNil), tails_(wheel_slots, kNil),
        bits_((wheel_slots + 63) / 64, 0), slots_(wheel_slots), slot_ns_(slot_ns) {}

  bool in_ready(std::uint32_t c) const noexcept { return links_[c].where == kReady; }
  bool queued(std::uint32_t c) const noexcept { return links_[c].where != kNil; }
  bool ready_empty() const noexcept { return ready_head_ == kNil; }

  // Appends to the ready list (removing from the wheel if needed).
  void make_ready(std::uint32_t c) noexcept {
    if (links_[c].where == kReady) return;
    unlink(c);
    push_back(ready_head_, ready_tail_, c, kReady);
  }
  std::uint32_t pop_ready() noexcept {
    const std::uint32_t c = ready_head_;
    if (c != kNil) unlink(c);
    return c;
  }
  // Parks `c` until `at`; ready at once only when `at` <= `now`. A time
  // later within the current tick waits for the next one, so a caller that
  // pops ready entries in a loop never meets the same one again at `now`.
  void schedule(std::uint32_t c, Nanos at, Nanos now) noexcept {
    if (at <= now) {
      make_ready(c);
      return;
    }
    std::uint64_t tick = std::max(at / slot_ns_, now / slot_ns_ + 1);
    if (tick <= cur_tick_) tick = cur_tick_ + 1;
    // Beyond the horizon: park in the last slot and re-check when it fires.
    if (tick >= cur_tick_ + slots_) tick = cur_tick_ + slots_ - 1;
    const auto s = static_cast<std::uint32_t>(tick % slots_);
    if (links_[c].where == s) return;
    unlink(c);
    push_back(heads_[s], tails_[s], c, s);
    bits_[s / 64] |= 1ULL << (s % 64);
  }
  void remove(std::uint32_t c) noexcept { unlink(c); }

  // Moves every slot due at `now` to the ready list.
  void advance(Nanos now) noexcept {
    const std::uint64_t now_tick = now / slot_ns_;
    while (cur_tick_ < now_tick) {
      const std::uint64_t t = next_busy_tick();
      if (t == kNoTick || t > now_tick) break;
      const auto s = static_cast<std::uint32_t>(t % slots_);
      while (heads_[s] != kNil) {
        const std::uint32_t c = heads_[s];
        unlink(c);
        push_back(ready_head_, ready_tail_, c, kReady);
      }
      cur_tick_ = t;
    }
    if (now_tick > cur_tick_) cur_tick_ = now_tick;
  }
  // Earliest time a wheel slot comes due, kNever if the wheel is empty.
  Nanos next_due() const noexcept {
    const std::uint64_t t = next_busy_tick();
    return t == kNoTick ? kNever : t * slot_ns_;
  }

 private:
  static constexpr std::uint64_t kNoTick = ~std::uint64_t{0};

  // First non-empty slot strictly after the cursor, as an absolute tick.
  std::uint64_t next_busy_tick() const noexcept {
    if (wheel_count_ == 0) return kNoTick;
    const std::uint32_t start = static_cast<std::uint32_t>((cur_tick_ + 1) % slots_);
    for (std::uint32_t scanned = 0; scanned < slots_ + 64;) {
      const std::uint32_t s = (start + scanned) % slots_;
      const std::uint64_t word = bits_[s / 64] >> (s % 64);
      if (word != 0) {
        const std::uint32_t d = static_cast<std::uint32_t>(std::countr_zero(word));
        const std::uint32_t found = s + d;
        if (found < slots_) {
          const std::uint32_t dist = (found + slots_ - start) % slots_;
          return cur_tick_ + 1 + dist;
        }
      }
      scanned += 64 - (s % 64);
    }
    return kNoTick;
  }
  void push_back(std::uint32_t& head, std::uint32_t& tail, std::uint32_t c,
                 std::uint32_t where) noexcept {
    SchedLink& l = links_[c];
    l.where = where;
    l.next = kNil;
    l.prev = tail;
    if (tail != kNil) links_[tail].next = c; else head = c;
    tail = c;
    if (where != kReady) ++wheel_count_;
  }
  void unlink(std::uint32_t c) noexcept {
    SchedLink& l = links_[c];
    if (l.where == kNil) return;
    std::uint32_t& head = l.where == kReady ? ready_head_ : heads_[l.where];
    std::uint32_t& tail = l.where == kReady ? ready_tail_ : tails_[l.where];
    if (l.prev != kNil) links_[l.prev].next = l.next; else head = l.next;
    if (l.next != kNil) links_[l.next].prev = l.prev; else tail = l.prev;
    if (l.where != kReady) {
      --wheel_count_;
      if (head == kNil) bits_[l.where / 64] &= ~(1ULL << (l.where % 64));
    }
    l = SchedLink{};
  }

  std::vector<SchedLink> links_;
  std::vector<std::uint32_t> heads_, tails_;
  std::vector<std::uint64_t> bits_;
  std::uint32_t slots_;
  Nanos slot_ns_;
  std::uint64_t cur_tick_ = 0;
  std::uint32_t ready_head_ = kNil, ready_tail_ = kNil;
  std::uint32_t wheel_count_ = 0;
};

}  // namespace spray::srd
