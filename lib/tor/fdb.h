// SPDX-License-Identifier: BSD-3-Clause
// Forwarding database: (VLAN, MAC) -> port, with ageing.
//
// Open addressing with linear probing over a power-of-two array of 16-byte
// entries (four per cache line), at most 75% full, and backward-shift
// deletion, so there are no tombstones and a miss always ends at an empty
// slot a few entries away. All memory is allocated by the constructor;
// nothing on the data path allocates.
//
// The hash is keyed multiply-shift (Dietzfelbinger et al., 1997): a key's
// home slot is the top bits of key * a, where a is an odd 64-bit multiplier
// drawn from the seed. MAC addresses are chosen by whoever sends frames; for
// any two distinct keys, the probability over the choice of a that they
// share a home slot is at most 2 / slots, so a sender who does not know a
// cannot pick addresses that collide more often than random ones would and
// build long probe chains. That holds only while a stays secret: the seed
// must come from a random source in production, and it is never exported.
// One multiply per key (a stronger mixer cost two more and bought nothing
// the universal family does not already give against chosen keys).
//
// Thread affinity: one owning thread (a worker), no internal locking.
// Policy (limits, moves, counters) lives in L2Switch; this class only
// stores entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "wire/ether.h"

namespace spray::tor {

using PortId = std::uint16_t;
using VlanId = std::uint16_t;

// Entries store time in ticks of 2^20 ns (~1.05 ms) so an entry is 16 bytes;
// ageing is therefore exact to about a millisecond, and a uint32 tick wraps
// after ~52 days, far beyond the largest accepted ageing time.
inline constexpr unsigned kFdbTickShift = 20;
inline constexpr std::uint32_t fdb_tick(std::uint64_t now_ns) noexcept {
  return static_cast<std::uint32_t>(now_ns >> kFdbTickShift);
}

// The key packs the VLAN (1..4094) above the 48-bit MAC. VLAN 0 is never
// stored, so key 0 marks an empty slot.
inline constexpr std::uint64_t fdb_key(VlanId vlan, wire::Mac mac) noexcept {
  return (std::uint64_t{vlan} << 48) | mac.bits;
}
inline constexpr VlanId fdb_key_vlan(std::uint64_t key) noexcept {
  return static_cast<VlanId>(key >> 48);
}
inline constexpr wire::Mac fdb_key_mac(std::uint64_t key) noexcept {
  return wire::Mac{key & 0xffff'ffff'ffffULL};
}

struct FdbEntry {
  static constexpr std::uint16_t kStatic = 1;  // never ages, never moves, not flushed

  std::uint64_t key;        // fdb_key(vlan, mac); 0 = empty
  std::uint32_t seen_tick;  // fdb_tick() of the last frame from this MAC
  PortId port;
  std::uint16_t flags;

  bool is_static() const noexcept { return flags & kStatic; }
};
static_assert(sizeof(FdbEntry) == 16);

class Fdb {
 public:
  // capacity: the most entries ever stored (>= 1). age_ns: 0 disables ageing.
  Fdb(std::uint32_t capacity, std::uint64_t age_ns, std::uint64_t seed);
  ~Fdb();
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  // Opaque to callers: pass it back to prefetch/find/insert with its key.
  std::uint64_t hash(std::uint64_t key) const noexcept { return key * multiplier_; }
  void prefetch(std::uint64_t hash) const noexcept {
    __builtin_prefetch(&slots_[slot_of(hash)], 1, 3);
  }

  // The entry for `key` (hash == hash(key)), expired or not; nullptr if absent.
  FdbEntry* find(std::uint64_t key, std::uint64_t hash) noexcept {
    for (std::size_t i = slot_of(hash);; i = (i + 1) & mask_) {
      FdbEntry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == 0) return nullptr;
    }
  }
  const FdbEntry* find(std::uint64_t key, std::uint64_t hash) const noexcept {
    return const_cast<Fdb*>(this)->find(key, hash);
  }

  // Signed difference: an entry stamped slightly "after" now (a caller whose
  // clock stepped back) reads as fresh, not as ancient. Requires entries to
  // be swept within 2^31 ticks (~26 days), which age() does.
  bool expired(const FdbEntry& e, std::uint32_t now_tick) const noexcept {
    return expired(e, now_tick, age_ticks_);
  }
  // The same with the ageing time (age_ticks()) in a register: a data path
  // that writes entries' seen_tick would otherwise reload the member after
  // every write, since both are uint32_t. An entry stamped in the current
  // tick is never expired (the ageing time is at least one tick), and that
  // one comparison settles the common case, a host that is sending now.
  static bool expired(const FdbEntry& e, std::uint32_t now_tick,
                      std::uint32_t age_ticks) noexcept {
    if (e.seen_tick == now_tick) return false;
    return age_ticks != 0 && !e.is_static() &&
           static_cast<std::int32_t>(now_tick - e.seen_tick) >= static_cast<std::int32_t>(age_ticks);
  }

  // The same test prepared once for many entries against one now_tick:
  // an entry is expired when now_tick - seen_tick, as a signed difference,
  // is at least the ageing time, that is when (now_tick - age) - seen_tick,
  // unsigned, falls below 2^31 - age. One subtraction and one comparison
  // per entry; window 0 (ageing disabled) matches nothing, and an entry
  // stamped now never matches (the ageing time is at least one tick).
  struct AgeCheck {
    std::uint32_t now_minus_age;
    std::uint32_t window;
  };
  AgeCheck age_check(std::uint32_t now_tick) const noexcept {
    return {now_tick - age_ticks_, age_ticks_ == 0 ? 0 : (std::uint32_t{1} << 31) - age_ticks_};
  }
  static bool expired(const FdbEntry& e, AgeCheck c) noexcept {
    return c.now_minus_age - e.seen_tick < c.window && !e.is_static();
  }

  struct InsertResult {
    FdbEntry* entry = nullptr;  // nullptr: the table is at capacity
    // An expired entry found on the probe path and overwritten, so its
    // owner can be uncounted; key 0 when none was.
    FdbEntry reclaimed{};
  };
  // Inserts a key known to be absent (find() returned nullptr). Reuses an
  // expired dynamic entry on the probe path when there is one; never
  // replaces a live entry. Out of line: it runs once per new MAC.
  InsertResult insert(std::uint64_t key, std::uint64_t hash, PortId port,
                      std::uint32_t now_tick, std::uint16_t flags) noexcept;

  // Removes the entry `e` points to (from find()); entries after it may move.
  void erase(FdbEntry* e) noexcept;

  // Visits up to `budget` slots from where the previous call stopped and
  // removes expired dynamic entries, calling on_removed(const FdbEntry&)
  // for each. Returns the number removed.
  template <class OnRemoved>
  std::size_t sweep(std::uint32_t now_tick, std::size_t budget, OnRemoved&& on_removed) noexcept;

  // Removes every entry for which pred(const FdbEntry&) holds (full scan).
  template <class Pred>
  std::size_t erase_if(Pred&& pred) noexcept;

  // Visits every stored entry in slot order; f(const FdbEntry&).
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i <= mask_; ++i)
      if (slots_[i].key != 0) f(slots_[i]);
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t slot_count() const noexcept { return mask_ + 1; }
  std::uint32_t age_ticks() const noexcept { return age_ticks_; }

 private:
  std::size_t slot_of(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(hash >> slot_shift_);
  }
  std::size_t home(std::uint64_t key) const noexcept { return slot_of(hash(key)); }
  void erase_slot(std::size_t i) noexcept;

  FdbEntry* slots_ = nullptr;  // 64-byte aligned, mask_ + 1 entries
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t sweep_cursor_ = 0;
  std::uint64_t multiplier_ = 1;  // odd, secret
  unsigned slot_shift_ = 63;      // 64 - log2(slot count)
  std::uint32_t age_ticks_ = 0;
};

template <class OnRemoved>
std::size_t Fdb::sweep(std::uint32_t now_tick, std::size_t budget,
                       OnRemoved&& on_removed) noexcept {
  std::size_t removed = 0;
  if (age_ticks_ == 0 || size_ == 0) return 0;
  std::size_t i = sweep_cursor_;
  for (; budget != 0; --budget) {
    FdbEntry& e = slots_[i];
    if (e.key != 0 && expired(e, now_tick)) {
      on_removed(static_cast<const FdbEntry&>(e));
      erase_slot(i);  // a later entry may shift into slot i: look at it again
      ++removed;
      continue;
    }
    i = (i + 1) & mask_;
  }
  sweep_cursor_ = i;
  return removed;
}

template <class Pred>
std::size_t Fdb::erase_if(Pred&& pred) noexcept {
  // Backward shifts only move entries towards lower (cyclic) slots, so an
  // entry that wraps from the front to the back has already been judged.
  std::size_t removed = 0;
  for (std::size_t i = 0; i <= mask_;) {
    if (slots_[i].key != 0 && pred(static_cast<const FdbEntry&>(slots_[i]))) {
      erase_slot(i);
      ++removed;
    } else {
      ++i;
    }
  }
  return removed;
}

}  // namespace spray::tor
