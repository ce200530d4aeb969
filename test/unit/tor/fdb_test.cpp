// SPDX-License-Identifier: BSD-3-Clause
// The FDB as a hash table: against a reference map under random operations.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "tor/fdb.h"

namespace spray::tor {
namespace {

std::uint64_t key_of(std::uint64_t n) {
  return fdb_key(1 + n % 4094, wire::Mac{n * 0x10001 % (1ULL << 47)});
}

TEST(Fdb, MatchesAReferenceMapUnderRandomInsertsAndErases) {
  constexpr std::uint32_t kCapacity = 3000;
  Fdb fdb(kCapacity, 0, 42);
  std::unordered_map<std::uint64_t, PortId> ref;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t key = key_of(rng() % 6000);
    const std::uint64_t h = fdb.hash(key);
    FdbEntry* e = fdb.find(key, h);
    ASSERT_EQ(e != nullptr, ref.count(key) == 1) << "step " << step;
    if (e != nullptr) {
      ASSERT_EQ(e->port, ref[key]);
      if (rng() % 2) {
        fdb.erase(e);
        ref.erase(key);
      }
    } else {
      const PortId port = static_cast<PortId>(rng() % 64);
      const Fdb::InsertResult r = fdb.insert(key, h, port, 0, 0);
      ASSERT_EQ(r.entry != nullptr, ref.size() < kCapacity);
      if (r.entry != nullptr) ref[key] = port;
    }
    ASSERT_EQ(fdb.size(), ref.size());
  }
  std::size_t visited = 0;
  fdb.for_each([&](const FdbEntry& e) {
    ++visited;
    EXPECT_EQ(ref.at(e.key), e.port);
  });
  EXPECT_EQ(visited, ref.size());
}

TEST(Fdb, SlotsAreAPowerOfTwoAtMostThreeQuartersFull) {
  for (std::uint32_t cap : {1u, 12u, 13u, 1000u, 10000u, 12288u, 12289u}) {
    Fdb fdb(cap, 0, 0);
    EXPECT_EQ(fdb.slot_count() & (fdb.slot_count() - 1), 0u) << cap;
    EXPECT_GE(fdb.slot_count() * 3, std::size_t{cap} * 4) << cap;
  }
}

TEST(Fdb, EraseIfRemovesExactlyTheMatchingEntries) {
  Fdb fdb(2000, 0, 3);
  for (std::uint64_t n = 0; n < 2000; ++n) {
    const std::uint64_t key = key_of(n);
    fdb.insert(key, fdb.hash(key), static_cast<PortId>(n % 5), 0, 0);
  }
  EXPECT_EQ(fdb.erase_if([](const FdbEntry& e) { return e.port == 2; }), 400u);
  for (std::uint64_t n = 0; n < 2000; ++n) {
    const std::uint64_t key = key_of(n);
    EXPECT_EQ(fdb.find(key, fdb.hash(key)) != nullptr, n % 5 != 2) << n;
  }
}

TEST(Fdb, SweepRemovesOnlyExpiredDynamicEntries) {
  const std::uint64_t age_ns = 10'000'000'000ULL;
  Fdb fdb(1000, age_ns, 9);
  // Odd n at 0 s, even n at 9 s: nothing has expired yet when inserted.
  for (std::uint64_t parity : {1, 0}) {
    const std::uint32_t seen_tick = fdb_tick(parity ? 0 : 9'000'000'000ULL);
    for (std::uint64_t n = parity; n < 1000; n += 2) {
      const std::uint64_t key = key_of(n);
      fdb.insert(key, fdb.hash(key), 0, seen_tick, n % 4 == 1 ? FdbEntry::kStatic : 0);
    }
  }
  ASSERT_EQ(fdb.size(), 1000u);
  std::size_t removed = 0;
  const std::uint32_t now = fdb_tick(12'000'000'000ULL);
  for (std::size_t i = 0; i < 2 * fdb.slot_count(); i += 16)
    removed += fdb.sweep(now, 16, [](const FdbEntry&) {});
  EXPECT_EQ(removed, 250u);  // odd n are old; half of those are static
  EXPECT_EQ(fdb.size(), 750u);
}

TEST(Fdb, PreparedAgeCheckAgreesWithExpired) {
  // Ageing times at the accepted ends (1 s, 10^6 s, off) and one tick; entry
  // ages around each boundary, and stamps "after" now (a clock stepped back).
  for (std::uint64_t age_ns : {0ULL, 1ULL, 1'000'000'000ULL, 1'000'000ULL * 1'000'000'000ULL}) {
    const Fdb fdb(16, age_ns, 1);
    const std::uint32_t a = fdb.age_ticks();
    for (std::uint32_t now : {0u, 5u, a, 0x7fff'ffffu, 0x8000'0000u, 0xffff'fff0u}) {
      const Fdb::AgeCheck check = fdb.age_check(now);
      for (std::uint32_t back : {0u, 1u, a - 1, a, a + 1, 0x7fff'ffffu, 0x8000'0000u, 0xffff'ffffu}) {
        for (std::uint16_t flags : {std::uint16_t{0}, FdbEntry::kStatic}) {
          const FdbEntry e{key_of(1), now - back, 0, flags};
          EXPECT_EQ(Fdb::expired(e, check), fdb.expired(e, now))
              << "age_ticks " << a << " now " << now << " seen " << e.seen_tick << " flags " << flags;
        }
      }
    }
  }
}

}  // namespace
}  // namespace spray::tor
