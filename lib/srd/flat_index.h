// SPDX-License-Identifier: BSD-3-Clause
// Fixed-capacity open-addressing map from a 64-bit key to a 32-bit index,
// sized once (no allocation after construction). Keys that differ only in
// their two lowest bits start in the same 64-byte block. Linear probing with
// backward-shift deletion, so there are no tombstones and lookups stay short
// at the load factor we size for (<= 50%).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spray::srd {

class FlatIndex {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  // Holds up to `max_entries`; the table is the next power of two >= 2x.
  explicit FlatIndex(std::size_t max_entries) {
    std::size_t cap = 16;
    while (cap < 2 * max_entries) cap <<= 1;
    mask_ = cap - 1;
    for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
    slots_.assign(cap, Slot{0, kNone});
  }

  std::uint32_t find(std::uint64_t key) const noexcept {
    for (std::size_t i = hash(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.val == kNone) return kNone;
      if (s.key == key) return s.val;
    }
  }

  // The key must not be present and size() < max_entries.
  void insert(std::uint64_t key, std::uint32_t val) noexcept {
    std::size_t i = hash(key);
    while (slots_[i].val != kNone) i = (i + 1) & mask_;
    slots_[i] = Slot{key, val};
    ++size_;
  }

  // Returns false if the key is absent.
  bool erase(std::uint64_t key) noexcept {
    std::size_t i = hash(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].val == kNone) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: pull later members of the probe run into the hole.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].val != kNone; j = (j + 1) & mask_) {
      const std::size_t home = hash(slots_[j].key);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{0, kNone};
    --size_;
    return true;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t val;
  };
  // Four consecutive keys (a connection's PSNs or message ids, in the low
  // bits) share a home block of four slots, 64 bytes: a burst of them
  // touches one or two cache lines instead of four. The blocks themselves
  // are spread by the multiplicative hash.
  std::size_t hash(std::uint64_t key) const noexcept {
    const auto block = static_cast<std::size_t>(((key >> 2) * 0x9e3779b97f4a7c15ULL) >> shift_);
    return ((block & ~std::size_t{3}) | static_cast<std::size_t>(key & 3)) & mask_;
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace spray::srd
