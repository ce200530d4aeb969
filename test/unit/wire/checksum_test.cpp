// SPDX-License-Identifier: BSD-3-Clause
#include "wire/checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "wire/ipv4.h"
#include "wire_test_util.h"

namespace spray::wire {
namespace {

using test::reference_sum;

TEST(Checksum, MatchesRfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const std::array<std::uint8_t, 8> data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csum_partial(data), 0xddf2);
  EXPECT_EQ(internet_checksum(data), 0x220d);
}

TEST(Checksum, MatchesKnownIpv4HeaderVector) {
  // 192.168.0.1 -> 192.168.0.199, UDP, total length 115, DF, TTL 64.
  std::array<std::uint8_t, 20> hdr{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(hdr), 0xb861);
  store_be16(hdr.data() + 10, 0xb861);
  EXPECT_TRUE(checksum_ok(hdr));
  hdr[8] ^= 1;
  EXPECT_FALSE(checksum_ok(hdr));
}

TEST(Checksum, OddLengthPadsTheLastByteWithZero) {
  const std::array<std::uint8_t, 3> odd{0x12, 0x34, 0x56};
  const std::array<std::uint8_t, 4> padded{0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(csum_partial(odd), csum_partial(padded));
  EXPECT_EQ(csum_partial(odd), 0x6834);
}

TEST(Checksum, EqualsWordAtATimeReferenceForAnyLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<std::uint8_t> buf(1600);
  for (int iter = 0; iter < 4000; ++iter) {
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
    const std::size_t off = rng() % 8;
    const std::size_t len = rng() % (buf.size() - off);
    const std::uint32_t initial = rng() % 4 == 0 ? rng() : 0;
    const std::span<const std::uint8_t> s(buf.data() + off, len);
    ASSERT_EQ(csum_partial(s, initial), reference_sum(s, initial)) << "len " << len << " off " << off;
  }
}

TEST(Checksum, AllOnesDataSumsWithEndAroundCarry) {
  const std::vector<std::uint8_t> ones(1500, 0xff);
  EXPECT_EQ(csum_partial(ones), 0xffff);
  EXPECT_EQ(csum_partial(ones), reference_sum(ones));
}

TEST(Checksum, PartialSumsChainOverEvenLengthPrefixes) {
  const auto data = test::iota_payload(301, 7);
  const std::span<const std::uint8_t> all(data);
  for (std::size_t cut = 0; cut <= data.size(); cut += 2) {
    const std::uint16_t head = csum_partial(all.first(cut));
    ASSERT_EQ(csum_partial(all.subspan(cut), head), csum_partial(all)) << "cut " << cut;
  }
}

// A random valid 20-byte header with its checksum filled in.
std::array<std::uint8_t, 20> random_header(std::mt19937& rng) {
  std::array<std::uint8_t, 20> h{};
  for (auto& b : h) b = static_cast<std::uint8_t>(rng());
  h[0] = 0x45;
  store_be16(h.data() + 10, 0);
  store_be16(h.data() + 10, internet_checksum(h));
  return h;
}

TEST(Checksum, Update16AgreesWithFullRecomputeOverRandomHeaders) {
  std::mt19937 rng(1624);
  for (int iter = 0; iter < 200000; ++iter) {
    auto h = random_header(rng);
    std::size_t word = 2 * (rng() % 10);
    if (word == 10) word = 8;  // not the checksum itself
    const std::uint16_t old_word = load_be16(h.data() + word);
    const auto new_word = static_cast<std::uint16_t>(rng());
    store_be16(h.data() + word, new_word);
    const std::uint16_t incremental = csum_update16(load_be16(h.data() + 10), old_word, new_word);
    store_be16(h.data() + 10, 0);
    ASSERT_EQ(incremental, internet_checksum(h)) << "iteration " << iter;
  }
}

TEST(Checksum, Update16ReachesZeroExactlyAsFullRecomputeDoes) {
  // Pick the new TTL/protocol word so that the header sums to 0xffff without
  // its checksum: a full recompute then gives 0x0000, where RFC 1624 eqn. 2
  // would give 0xffff.
  std::mt19937 rng(3);
  int zeros = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    auto h = random_header(rng);
    const std::uint16_t old_word = load_be16(h.data() + 8);
    store_be16(h.data() + 8, 0);
    store_be16(h.data() + 10, 0);
    const std::uint16_t others = csum_partial(h);
    const auto new_word = static_cast<std::uint16_t>(0xffff - others);
    store_be16(h.data() + 8, old_word);
    store_be16(h.data() + 10, internet_checksum(h));
    const std::uint16_t incremental = csum_update16(load_be16(h.data() + 10), old_word, new_word);
    store_be16(h.data() + 8, new_word);
    store_be16(h.data() + 10, 0);
    const std::uint16_t full = internet_checksum(h);
    ASSERT_EQ(full, 0x0000);
    ASSERT_EQ(incremental, full);
    store_be16(h.data() + 10, incremental);
    ASSERT_TRUE(checksum_ok(h));
    ++zeros;
  }
  EXPECT_EQ(zeros, 1000);
}

TEST(Checksum, Update16LeavesAZeroChecksumValid) {
  // Start from a header whose checksum is 0x0000 and change a word away.
  std::mt19937 rng(4);
  for (int iter = 0; iter < 1000; ++iter) {
    auto h = random_header(rng);
    store_be16(h.data() + 8, 0);
    store_be16(h.data() + 10, 0);
    store_be16(h.data() + 8, static_cast<std::uint16_t>(0xffff - csum_partial(h)));
    ASSERT_EQ(internet_checksum(h), 0x0000);
    const std::uint16_t old_word = load_be16(h.data() + 8);
    const auto new_word = static_cast<std::uint16_t>(old_word - 0x0100);  // a TTL decrement
    store_be16(h.data() + 8, new_word);
    const std::uint16_t incremental = csum_update16(0x0000, old_word, new_word);
    store_be16(h.data() + 10, 0);
    ASSERT_EQ(incremental, internet_checksum(h));
  }
}

TEST(Checksum, Update32AgreesWithFullRecomputeForAddressRewrites) {
  std::mt19937 rng(32);
  for (int iter = 0; iter < 100000; ++iter) {
    auto h = random_header(rng);
    const std::size_t field = rng() % 2 ? 12 : 16;
    const std::uint32_t old_addr = load_be32(h.data() + field);
    const std::uint32_t new_addr = rng();
    store_be32(h.data() + field, new_addr);
    const std::uint16_t incremental = csum_update32(load_be16(h.data() + 10), old_addr, new_addr);
    store_be16(h.data() + 10, 0);
    ASSERT_EQ(incremental, internet_checksum(h)) << "iteration " << iter;
  }
}

}  // namespace
}  // namespace spray::wire
