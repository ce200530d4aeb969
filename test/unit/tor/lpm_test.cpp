// SPDX-License-Identifier: BSD-3-Clause
// IPv4 longest-prefix match: behaviour by prefix length, limits, and a
// randomized comparison with a linear-scan reference.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tor/lpm.h"

namespace spray::tor {
namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

TEST(Lpm, EmptyTableHasNoRoute) {
  Lpm lpm;
  EXPECT_EQ(lpm.lookup(ip(10, 0, 0, 1)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.size(), 0u);
}

TEST(Lpm, DefaultRouteMatchesEveryAddress) {
  Lpm lpm;
  ASSERT_EQ(lpm.add(0, 0, 7), "");
  for (std::uint32_t a : {0u, ip(10, 0, 0, 1), ip(192, 168, 255, 255), 0xffffffffu})
    EXPECT_EQ(lpm.lookup(a), 7u) << a;
  EXPECT_TRUE(lpm.remove(0, 0));
  EXPECT_EQ(lpm.lookup(ip(10, 0, 0, 1)), Lpm::kNoRoute);
}

TEST(Lpm, HostRouteMatchesOnlyItsAddress) {
  Lpm lpm;
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 3), 32, 5), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 4), 32, 6), "");
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 3)), 5u);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 4)), 6u);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 2)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 3, 3)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 2, 2, 3)), Lpm::kNoRoute);
}

TEST(Lpm, BitsBeyondTheLengthAreIgnored) {
  Lpm lpm;
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 3), 16, 4), "");
  EXPECT_EQ(lpm.lookup(ip(10, 1, 200, 200)), 4u);
  EXPECT_TRUE(lpm.remove(ip(10, 1, 9, 9), 16));
  EXPECT_EQ(lpm.size(), 0u);
}

// /8 /16 /24 /25 /32 all containing 10.1.2.3, each observable at its level.
class LpmNested : public ::testing::Test {
 protected:
  void SetUp() override {
    // Added shortest last, so adds must not overwrite longer prefixes.
    ASSERT_EQ(lpm.add(ip(10, 1, 2, 3), 32, 32), "");
    ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 25, 25), "");
    ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 24, 24), "");
    ASSERT_EQ(lpm.add(ip(10, 1, 0, 0), 16, 16), "");
    ASSERT_EQ(lpm.add(ip(10, 0, 0, 0), 8, 8), "");
  }
  Lpm lpm;
  static constexpr std::uint32_t kHost = ip(10, 1, 2, 3);
  static constexpr std::uint32_t kIn25 = ip(10, 1, 2, 100);
  static constexpr std::uint32_t kIn24 = ip(10, 1, 2, 200);
  static constexpr std::uint32_t kIn16 = ip(10, 1, 77, 1);
  static constexpr std::uint32_t kIn8 = ip(10, 99, 0, 1);
  static constexpr std::uint32_t kOutside = ip(11, 1, 2, 3);
};

TEST_F(LpmNested, EachAddressMatchesItsLongestPrefix) {
  EXPECT_EQ(lpm.lookup(kHost), 32u);
  EXPECT_EQ(lpm.lookup(kIn25), 25u);
  EXPECT_EQ(lpm.lookup(kIn24), 24u);
  EXPECT_EQ(lpm.lookup(kIn16), 16u);
  EXPECT_EQ(lpm.lookup(kIn8), 8u);
  EXPECT_EQ(lpm.lookup(kOutside), Lpm::kNoRoute);
  EXPECT_EQ(lpm.size(), 5u);
}

TEST_F(LpmNested, RemovingEachLevelReExposesTheCoveringPrefix) {
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 3), 32));
  EXPECT_EQ(lpm.lookup(kHost), 25u);
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 0), 25));
  EXPECT_EQ(lpm.lookup(kHost), 24u);
  EXPECT_EQ(lpm.lookup(kIn25), 24u);
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 0), 24));
  EXPECT_EQ(lpm.lookup(kHost), 16u);
  EXPECT_EQ(lpm.lookup(kIn24), 16u);
  ASSERT_TRUE(lpm.remove(ip(10, 1, 0, 0), 16));
  EXPECT_EQ(lpm.lookup(kHost), 8u);
  EXPECT_EQ(lpm.lookup(kIn16), 8u);
  ASSERT_TRUE(lpm.remove(ip(10, 0, 0, 0), 8));
  EXPECT_EQ(lpm.lookup(kHost), Lpm::kNoRoute);
  EXPECT_EQ(lpm.size(), 0u);
  EXPECT_EQ(lpm.groups_used(), 0u);
}

TEST_F(LpmNested, RemovingAShortPrefixLeavesLongerOnesAndFallsToTheNextShorter) {
  ASSERT_TRUE(lpm.remove(ip(10, 1, 0, 0), 16));
  EXPECT_EQ(lpm.lookup(kIn16), 8u);
  EXPECT_EQ(lpm.lookup(kIn24), 24u);
  EXPECT_EQ(lpm.lookup(kHost), 32u);
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 0), 24));
  EXPECT_EQ(lpm.lookup(kIn24), 8u);
  EXPECT_EQ(lpm.lookup(kIn25), 25u);
}

TEST_F(LpmNested, RemovingAnAbsentPrefixChangesNothing) {
  EXPECT_FALSE(lpm.remove(ip(10, 1, 2, 0), 23));
  EXPECT_FALSE(lpm.remove(ip(10, 1, 2, 4), 32));
  EXPECT_FALSE(lpm.remove(ip(10, 1, 2, 3), 33));
  EXPECT_EQ(lpm.size(), 5u);
  EXPECT_EQ(lpm.lookup(kHost), 32u);
}

TEST(Lpm, AddingAnExistingPrefixReplacesItsValue) {
  Lpm lpm;
  ASSERT_EQ(lpm.add(ip(10, 0, 0, 0), 8, 1), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 24, 2), "");
  ASSERT_EQ(lpm.add(ip(10, 0, 0, 0), 8, 3), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 24, 4), "");
  EXPECT_EQ(lpm.size(), 2u);
  EXPECT_EQ(lpm.lookup(ip(10, 9, 9, 9)), 3u);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 9)), 4u);
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 0), 24));
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 9)), 3u);
}

// Sibling prefixes with one value make a group look uniform; it must still
// keep them apart, since removing one later must not touch the other.
TEST(Lpm, SiblingsWithTheSameValueStayIndependent) {
  Lpm lpm;
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 25, 7), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 128), 25, 7), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 5), 32, 9), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 0, 0), 17, 3), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 128, 0), 17, 3), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 200, 0), 24, 4), "");
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 5), 32));
  ASSERT_TRUE(lpm.remove(ip(10, 1, 200, 0), 24));
  ASSERT_TRUE(lpm.remove(ip(10, 1, 2, 0), 25));
  ASSERT_TRUE(lpm.remove(ip(10, 1, 0, 0), 17));
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 5)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 200)), 7u);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 3, 1)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 200, 1)), 3u);
}

TEST(Lpm, RejectsALengthAbove32) {
  Lpm lpm;
  EXPECT_EQ(lpm.add(ip(10, 0, 0, 0), 33, 1), "prefix length 33 is out of range; accepted: 0..32");
  EXPECT_EQ(lpm.size(), 0u);
}

TEST(Lpm, RejectsAValueAbove24Bits) {
  Lpm lpm;
  EXPECT_EQ(lpm.add(ip(10, 0, 0, 0), 8, Lpm::kMaxValue), "");
  EXPECT_EQ(lpm.add(ip(11, 0, 0, 0), 8, Lpm::kMaxValue + 1),
            "value 16777216 for 11.0.0.0/8 is too large; accepted: 0..16777215");
  EXPECT_EQ(lpm.lookup(ip(11, 0, 0, 1)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 0, 0, 1)), Lpm::kMaxValue);
}

TEST(Lpm, RefusesANewRouteWhenFullButStillReplaces) {
  Lpm lpm(2, 16);
  ASSERT_EQ(lpm.add(ip(10, 0, 0, 0), 8, 1), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 0), 24, 2), "");
  EXPECT_EQ(lpm.add(ip(10, 1, 3, 0), 24, 3),
            "route table full (2 routes): cannot add 10.1.3.0/24");
  EXPECT_EQ(lpm.lookup(ip(10, 1, 3, 1)), 1u);
  EXPECT_EQ(lpm.add(ip(10, 1, 2, 0), 24, 9), "");
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 1)), 9u);
  EXPECT_EQ(lpm.size(), 2u);
}

TEST(Lpm, RefusesARouteWhenNoGroupIsLeftAndStaysUnchanged) {
  Lpm lpm(100, 3);
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 3), 32, 1), "");  // two groups
  ASSERT_EQ(lpm.add(ip(10, 1, 7, 0), 24, 2), "");  // shares the first
  ASSERT_EQ(lpm.add(ip(10, 1, 8, 9), 32, 3), "");  // needs the third
  EXPECT_EQ(lpm.groups_used(), 3u);
  EXPECT_EQ(lpm.add(ip(10, 2, 0, 0), 17, 4),
            "no free extension group for 10.2.0.0/17 (all 3 in use); a table built with more "
            "groups accepts it");
  EXPECT_NE(lpm.add(ip(10, 1, 9, 128), 25, 4), "");
  EXPECT_EQ(lpm.add(ip(10, 1, 2, 9), 32, 5), "");  // within an existing group: needs none
  EXPECT_EQ(lpm.add(ip(10, 3, 0, 0), 16, 6), "");  // /16 and shorter need none
  EXPECT_EQ(lpm.size(), 5u);
  EXPECT_EQ(lpm.lookup(ip(10, 2, 0, 1)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 9, 200)), Lpm::kNoRoute);
}

TEST(Lpm, RemovedRoutesReturnTheirGroups) {
  Lpm lpm(100, 2);
  for (std::uint32_t n = 0; n < 5000; ++n) {
    const std::uint32_t host = n * 0x9e3779b9u;
    ASSERT_EQ(lpm.add(host, 32, n & 0xffff), "") << n;
    ASSERT_EQ(lpm.lookup(host), n & 0xffff);
    ASSERT_TRUE(lpm.remove(host, 32));
    ASSERT_EQ(lpm.lookup(host), Lpm::kNoRoute);
  }
  EXPECT_EQ(lpm.groups_used(), 0u);
}

std::string construction_error(std::uint32_t max_rules, std::uint32_t max_groups) {
  try {
    Lpm lpm(max_rules, max_groups);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Lpm, ConstructorRejectsAbsurdSizes) {
  EXPECT_EQ(construction_error(0, 16),
            "route table size 0 is out of range; accepted: 1..16777216 routes");
  EXPECT_EQ(construction_error(Lpm::kMaxRules + 1, 16),
            "route table size 16777217 is out of range; accepted: 1..16777216 routes");
  EXPECT_EQ(construction_error(16, Lpm::kMaxGroups + 1),
            "extension group count 262145 is out of range; accepted: 0..262144");
  EXPECT_EQ(construction_error(1, 0), "");
}

TEST(Lpm, ClearRemovesEveryRouteAndGroup) {
  Lpm lpm(100, 4);
  ASSERT_EQ(lpm.add(0, 0, 1), "");
  ASSERT_EQ(lpm.add(ip(10, 1, 2, 3), 32, 2), "");
  lpm.clear();
  EXPECT_EQ(lpm.size(), 0u);
  EXPECT_EQ(lpm.groups_used(), 0u);
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 3)), Lpm::kNoRoute);
  EXPECT_EQ(lpm.add(ip(10, 1, 2, 3), 32, 3), "");
  EXPECT_EQ(lpm.lookup(ip(10, 1, 2, 3)), 3u);
}

TEST(Lpm, ForEachVisitsEveryRouteOnce) {
  Lpm lpm;
  std::map<std::pair<std::uint32_t, unsigned>, Lpm::Value> want{
      {{0, 0}, 1},
      {{ip(10, 0, 0, 0), 8}, 2},
      {{ip(10, 1, 2, 128), 25}, 3},
      {{ip(1, 2, 3, 4), 32}, 4}};
  for (const auto& [key, value] : want) ASSERT_EQ(lpm.add(key.first, key.second, value), "");
  std::map<std::pair<std::uint32_t, unsigned>, Lpm::Value> seen;
  lpm.for_each([&](std::uint32_t prefix, std::uint8_t len, Lpm::Value value) {
    EXPECT_TRUE(seen.emplace(std::pair{prefix, unsigned{len}}, value).second);
  });
  EXPECT_EQ(seen, want);
}

// Reference: every rule in a map; the longest match is found by scanning a
// flat copy of them all.
struct Reference {
  struct Rule {
    std::uint32_t prefix, mask;
    int len;
    Lpm::Value value;
  };
  std::map<std::pair<unsigned, std::uint32_t>, Lpm::Value> rules;  // (len, prefix)
  std::vector<Rule> flat;

  static std::uint32_t mask(unsigned len) { return len == 0 ? 0 : ~0u << (32 - len); }
  void snapshot() {
    flat.clear();
    for (const auto& [key, value] : rules)
      flat.push_back({key.second, mask(key.first), static_cast<int>(key.first), value});
  }
  Lpm::Value lookup(std::uint32_t a) const {
    int best_len = -1;
    Lpm::Value best = Lpm::kNoRoute;
    for (const Rule& r : flat) {
      if ((a & r.mask) == r.prefix && r.len > best_len) {
        best_len = r.len;
        best = r.value;
      }
    }
    return best;
  }
};

TEST(Lpm, AgreesWithALinearScanUnderRandomAddsAndRemoves) {
  std::mt19937 rng(20240611);
  // Prefixes cluster around a few anchors and favour the lengths that split
  // a level (/16, /24) or sit just past one, so many nest and overlap.
  std::vector<std::uint32_t> anchors;
  for (int i = 0; i < 12; ++i) anchors.push_back(rng());
  const unsigned lengths[] = {0, 1, 7, 8, 12, 15, 16, 16, 17, 20, 23, 24, 24,
                              25, 26, 28, 30, 31, 32, 32, 32};
  auto near_anchor = [&] {
    const std::uint32_t a = anchors[rng() % anchors.size()];
    const unsigned flip_bits = rng() % 33;  // perturb only the low bits
    const std::uint32_t noise = flip_bits == 0 ? 0 : rng() & (~0u >> (32 - flip_bits));
    return a ^ noise;
  };
  std::vector<std::pair<std::uint32_t, unsigned>> pool;
  for (int i = 0; i < 2000; ++i) {
    const unsigned len = lengths[rng() % std::size(lengths)];
    pool.emplace_back(near_anchor() & Reference::mask(len), len);
  }

  Lpm lpm(4096, 8192);
  Reference ref;
  std::vector<std::uint32_t> probes(10'000);
  std::vector<Lpm::Value> bulk(probes.size());
  for (int round = 0; round < 10; ++round) {
    // Adds outnumber removes early, removes dominate late, so the table
    // both fills and empties.
    const unsigned add_percent = round < 6 ? 75 : 30;
    for (int op = 0; op < 800; ++op) {
      const auto& [prefix, len] = pool[rng() % pool.size()];
      if (rng() % 100 < add_percent) {
        // Few distinct values half the time, so neighbours often share one.
        const Lpm::Value value = rng() % 2 ? rng() % 4 : rng() & Lpm::kMaxValue;
        ASSERT_EQ(lpm.add(prefix, static_cast<std::uint8_t>(len), value), "");
        ref.rules[{len, prefix}] = value;
      } else {
        ASSERT_EQ(lpm.remove(prefix, static_cast<std::uint8_t>(len)),
                  ref.rules.erase({len, prefix}) == 1);
      }
    }
    ASSERT_EQ(lpm.size(), ref.rules.size());
    ref.snapshot();
    for (auto& p : probes) p = rng() % 8 == 0 ? rng() : near_anchor();
    lpm.lookup_bulk(probes.data(), bulk.data(), probes.size());
    for (std::size_t i = 0; i < probes.size(); ++i) {
      const Lpm::Value want = ref.lookup(probes[i]);
      ASSERT_EQ(lpm.lookup(probes[i]), want) << "round " << round << " ip " << probes[i];
      ASSERT_EQ(bulk[i], want) << "round " << round << " ip " << probes[i];
    }
  }
  for (const auto& [key, value] : ref.rules)
    ASSERT_TRUE(lpm.remove(key.second, static_cast<std::uint8_t>(key.first)));
  EXPECT_EQ(lpm.size(), 0u);
  EXPECT_EQ(lpm.groups_used(), 0u);
}

}  // namespace
}  // namespace spray::tor
