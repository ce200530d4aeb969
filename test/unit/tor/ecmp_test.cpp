// SPDX-License-Identifier: BSD-3-Clause
// The ECMP flow hash: SRD's paths spread evenly, seeds decorrelate switches,
// every input bit matters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tor/ecmp.h"
#include "wire/srd.h"

namespace spray::tor {
namespace {

constexpr std::uint16_t kPathBase = 49152;  // SRD: src_port = base + path id
constexpr std::uint64_t kSeeds[] = {0, 1, 0x5eed, 0x0123456789abcdefULL, 0xfedcba9876543210ULL};
constexpr std::uint32_t kNextHops[] = {2, 3, 4, 8, 16, 64};

// The 99.9% quantile of chi-square with k degrees of freedom, by the
// Wilson-Hilferty approximation: for the k used here it lies 0.1% to 3% above
// the exact value, so the bound is slightly lenient, never stricter.
double chi_square_critical_999(unsigned k) {
  constexpr double z = 3.090232306167813;  // standard normal 99.9% quantile
  const double v = 2.0 / (9.0 * k);
  const double c = 1.0 - v + z * std::sqrt(v);
  return k * c * c * c;
}

double chi_square(const std::vector<std::uint64_t>& counts, double expected) {
  double x = 0;
  for (const std::uint64_t c : counts) {
    const double d = static_cast<double>(c) - expected;
    x += d * d / expected;
  }
  return x;
}

TEST(Ecmp, WilsonHilfertyIsAtMostFourPercentAboveTheTabulatedQuantiles) {
  const struct {
    unsigned k;
    double exact;
  } table[] = {{1, 10.828}, {2, 13.816}, {3, 16.266}, {7, 24.322}, {15, 37.697}, {63, 103.442}};
  for (const auto& row : table) {
    EXPECT_GE(chi_square_critical_999(row.k), row.exact) << "k " << row.k;
    EXPECT_LE(chi_square_critical_999(row.k), row.exact * 1.04) << "k " << row.k;
  }
}

TEST(Ecmp, PathsOfOneConnectionSpreadEvenlyOverNextHops) {
  for (const unsigned paths : {16u, 64u, 1024u}) {
    for (const std::uint32_t n : kNextHops) {
      // With fewer than 5 expected flows per next hop the statistic means
      // little: then 64 hosts each open the same paths to one destination.
      const unsigned hosts = paths / n >= 5 ? 1 : 64;
      const double expected = static_cast<double>(paths) * hosts / n;
      ASSERT_GE(expected, 5.0);
      for (const std::uint64_t seed : kSeeds) {
        std::vector<std::uint64_t> counts(n);
        for (unsigned h = 0; h < hosts; ++h) {
          for (unsigned p = 0; p < paths; ++p) {
            const FlowKey k{0x0a000001u + h, 0x0a010001u,
                            static_cast<std::uint16_t>(kPathBase + p), wire::kSrdUdpPort, 17};
            ++counts[ecmp_pick(flow_hash(k, seed), n)];
          }
        }
        EXPECT_LT(chi_square(counts, expected), chi_square_critical_999(n - 1))
            << paths << " paths x " << hosts << " hosts over " << n << " next hops, seed "
            << seed;
      }
    }
  }
}

TEST(Ecmp, DifferentSeedsMapFlowsDifferently) {
  constexpr std::uint32_t n = 8;
  constexpr unsigned kPaths = 1024;
  for (std::size_t a = 0; a < std::size(kSeeds); ++a) {
    for (std::size_t b = a + 1; b < std::size(kSeeds); ++b) {
      unsigned differ = 0;
      for (unsigned p = 0; p < kPaths; ++p) {
        const FlowKey k{0x0a000001u, 0x0a010001u, static_cast<std::uint16_t>(kPathBase + p),
                        wire::kSrdUdpPort, 17};
        differ += ecmp_pick(flow_hash(k, kSeeds[a]), n) != ecmp_pick(flow_hash(k, kSeeds[b]), n);
      }
      // Independent mappings differ for 7/8 of the flows (896 of 1024).
      EXPECT_GT(differ, kPaths * 3 / 4) << "seeds " << kSeeds[a] << " and " << kSeeds[b];
    }
  }
}

// Polarisation: the flows a leaf sends up one uplink must spread over all
// of the spine's next hops, not follow the leaf's choice.
TEST(Ecmp, FlowsSharingALeafUplinkSpreadEvenlyAtTheSpine) {
  constexpr std::uint32_t n = 4;
  constexpr std::uint64_t kLeafSeed = 0x1eaf, kSpineSeed = 0x5b1e;
  std::vector<std::uint64_t> counts(n);
  std::uint64_t total = 0;
  for (unsigned h = 0; h < 64; ++h) {
    for (unsigned p = 0; p < 256; ++p) {
      const FlowKey k{0x0a000001u + h, 0x0a010001u, static_cast<std::uint16_t>(kPathBase + p),
                      wire::kSrdUdpPort, 17};
      if (ecmp_pick(flow_hash(k, kLeafSeed), n) != 0) continue;
      ++counts[ecmp_pick(flow_hash(k, kSpineSeed), n)];
      ++total;
    }
  }
  ASSERT_GT(total, 3000u);
  EXPECT_LT(chi_square(counts, static_cast<double>(total) / n), chi_square_critical_999(n - 1));
}

TEST(Ecmp, PickStaysBelowNAndReachesEveryMember) {
  static_assert(ecmp_pick(0, 5) == 0);
  static_assert(ecmp_pick(0xffffffffu, 5) == 4);
  static_assert(ecmp_pick(0xffffffffu, 1) == 0);
  static_assert(ecmp_pick(0xffffffffu, 0xffffffffu) == 0xfffffffeu);
  std::mt19937 rng(3);
  for (const std::uint32_t n : {1u, 2u, 3u, 5u, 7u, 16u, 64u, 100u, 255u}) {
    std::vector<bool> seen(n);
    for (int i = 0; i < 20'000; ++i) {
      const std::uint32_t m = ecmp_pick(rng(), n);
      ASSERT_LT(m, n);
      seen[m] = true;
    }
    for (std::uint32_t m = 0; m < n; ++m) EXPECT_TRUE(seen[m]) << "member " << m << " of " << n;
  }
}

// Flipping any one input bit flips each output bit with probability ~1/2.
TEST(Ecmp, EveryInputBitAvalanchesIntoEveryOutputBit) {
  constexpr int kKeys = 10'000;
  constexpr int kInputBits = 32 + 32 + 16 + 16 + 8;
  std::vector<std::uint32_t> flips(kInputBits * 32);
  std::mt19937_64 rng(11);
  auto flipped = [](FlowKey k, int bit) {
    if (bit < 32)
      k.src_ip ^= 1u << bit;
    else if (bit < 64)
      k.dst_ip ^= 1u << (bit - 32);
    else if (bit < 80)
      k.src_port ^= static_cast<std::uint16_t>(1u << (bit - 64));
    else if (bit < 96)
      k.dst_port ^= static_cast<std::uint16_t>(1u << (bit - 80));
    else
      k.proto ^= static_cast<std::uint8_t>(1u << (bit - 96));
    return k;
  };
  int unchanged = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::uint64_t r = rng();
    const FlowKey k{static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(r >> 32),
                    static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng()),
                    static_cast<std::uint8_t>(rng())};
    const std::uint64_t seed = rng();
    const std::uint32_t h = flow_hash(k, seed);
    for (int bit = 0; bit < kInputBits; ++bit) {
      const std::uint32_t d = h ^ flow_hash(flipped(k, bit), seed);
      unchanged += d == 0;
      for (int out = 0; out < 32; ++out) flips[bit * 32 + out] += (d >> out) & 1;
    }
  }
  EXPECT_EQ(unchanged, 0);
  for (int bit = 0; bit < kInputBits; ++bit) {
    for (int out = 0; out < 32; ++out) {
      const double p = static_cast<double>(flips[bit * 32 + out]) / kKeys;
      EXPECT_GE(p, 0.4) << "input bit " << bit << " output bit " << out;
      EXPECT_LE(p, 0.6) << "input bit " << bit << " output bit " << out;
    }
  }
}

}  // namespace
}  // namespace spray::tor
