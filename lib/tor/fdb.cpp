// SPDX-License-Identifier: BSD-3-Clause
#include "tor/fdb.h"

#include <bit>
#include <new>

namespace spray::tor {

namespace {
// Linear probing stays short up to about 75% occupancy.
std::size_t slots_for(std::uint32_t capacity) {
  const std::uint64_t want = (std::uint64_t{capacity} * 4 + 2) / 3;
  return std::bit_ceil(want < 16 ? std::uint64_t{16} : want);
}
constexpr std::align_val_t kLine{64};
}  // namespace

Fdb::Fdb(std::uint32_t capacity, std::uint64_t age_ns, std::uint64_t seed)
    : capacity_(capacity) {
  // The seed is spread by a bijective mixer (splitmix64's finaliser) so that
  // every seed, 0 included, gives a multiplier with well-mixed bits; forcing
  // it odd keeps multiplication a bijection on keys.
  std::uint64_t a = seed + 0x9e3779b97f4a7c15ULL;
  a = (a ^ (a >> 30)) * 0xbf58476d1ce4e5b9ULL;
  a = (a ^ (a >> 27)) * 0x94d049bb133111ebULL;
  multiplier_ = (a ^ (a >> 31)) | 1;
  const std::size_t n = slots_for(capacity);
  slot_shift_ = 64 - static_cast<unsigned>(std::countr_zero(n));
  slots_ = static_cast<FdbEntry*>(::operator new(n * sizeof(FdbEntry), kLine));
  for (std::size_t i = 0; i < n; ++i) slots_[i] = FdbEntry{0, 0, 0, 0};
  mask_ = n - 1;
  const std::uint64_t tick_ns = std::uint64_t{1} << kFdbTickShift;
  age_ticks_ = static_cast<std::uint32_t>((age_ns + tick_ns - 1) / tick_ns);
}

Fdb::~Fdb() { ::operator delete(slots_, kLine); }

Fdb::InsertResult Fdb::insert(std::uint64_t key, std::uint64_t hash, PortId port,
                              std::uint32_t now_tick, std::uint16_t flags) noexcept {
  InsertResult r;
  std::size_t i = slot_of(hash);
  std::size_t reuse = mask_ + 1;  // none
  for (; slots_[i].key != 0; i = (i + 1) & mask_) {
    if (reuse > mask_ && expired(slots_[i], now_tick)) reuse = i;
  }
  // Any slot on the probe path keeps every other key reachable: the chains
  // that cross it still find it occupied.
  if (reuse <= mask_) {
    r.reclaimed = slots_[reuse];
    i = reuse;
  } else if (size_ >= capacity_) {
    return r;
  } else {
    ++size_;
  }
  slots_[i] = FdbEntry{key, now_tick, port, flags};
  r.entry = &slots_[i];
  return r;
}

void Fdb::erase(FdbEntry* e) noexcept { erase_slot(static_cast<std::size_t>(e - slots_)); }

void Fdb::erase_slot(std::size_t i) noexcept {
  // Backward-shift deletion: pull later entries of the run into the hole
  // when their home slot does not lie cyclically in (hole, their slot].
  for (std::size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
    const std::size_t h = home(slots_[j].key);
    if (((j - h) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = FdbEntry{0, 0, 0, 0};
  --size_;
}

}  // namespace spray::tor
