// SPDX-License-Identifier: BSD-3-Clause
#include "wire/ipv4.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

Ipv4Fields sample_fields() {
  Ipv4Fields f;
  f.src = 0xc0a80001;
  f.dst = 0x0a000002;
  f.proto = kIpProtoUdp;
  f.ttl = 17;
  f.dscp = 46;
  f.ecn = Ecn::kEct1;
  f.id = 0x1234;
  f.dont_fragment = true;
  return f;
}

// A datagram: 20-byte header plus `payload_len` zero bytes.
Bytes datagram(const Ipv4Fields& f, std::size_t payload_len) {
  Bytes d(kIpv4MinHdrLen + payload_len);
  EXPECT_EQ(write_ipv4(d, f, payload_len), kIpv4MinHdrLen);
  return d;
}

WireError parse(const Bytes& d, Ipv4View& v) { return parse_ipv4(d, v); }
WireError parse(const Bytes& d) {
  Ipv4View v;
  return parse_ipv4(d, v);
}

TEST(Ipv4, WrittenHeaderParsesBackToTheSameFields) {
  const Ipv4Fields f = sample_fields();
  const Bytes d = datagram(f, 100);
  Ipv4View v;
  ASSERT_EQ(parse(d, v), WireError::kOk);
  EXPECT_EQ(v.src, f.src);
  EXPECT_EQ(v.dst, f.dst);
  EXPECT_EQ(v.proto, f.proto);
  EXPECT_EQ(v.ttl, f.ttl);
  EXPECT_EQ(v.dscp(), f.dscp);
  EXPECT_EQ(v.ecn(), f.ecn);
  EXPECT_EQ(v.id, f.id);
  EXPECT_EQ(v.frag, kIpv4FlagDf);
  EXPECT_EQ(v.hdr_len, 20);
  EXPECT_EQ(v.total_len, 120);
  EXPECT_EQ(v.payload_len(), 100);
  EXPECT_FALSE(v.is_fragment());
}

TEST(Ipv4, WriterRefusesShortBufferAndOversizedPayload) {
  std::array<std::uint8_t, 19> small{};
  EXPECT_EQ(write_ipv4(small, sample_fields(), 0), 0u);
  std::array<std::uint8_t, 20> hdr{};
  EXPECT_EQ(write_ipv4(hdr, sample_fields(), 65516), 0u);
  EXPECT_EQ(write_ipv4(hdr, sample_fields(), 65515), 20u);
}

TEST(Ipv4, EachEcnCodepointRoundTrips) {
  for (Ecn e : {Ecn::kNotEct, Ecn::kEct1, Ecn::kEct0, Ecn::kCe}) {
    Ipv4Fields f = sample_fields();
    f.ecn = e;
    Ipv4View v;
    ASSERT_EQ(parse(datagram(f, 0), v), WireError::kOk);
    EXPECT_EQ(v.ecn(), e) << to_string(e);
    EXPECT_EQ(v.dscp(), 46);
  }
  EXPECT_STREQ(to_string(Ecn::kCe), "ce");
  EXPECT_STREQ(to_string(Ecn::kNotEct), "not_ect");
}

TEST(Ipv4, OptionsAreAcceptedAndSkipped) {
  // IHL 6: one word of options (four NOPs) between header and payload.
  Bytes d(24 + 8);
  Ipv4Fields f = sample_fields();
  write_ipv4(d, f, 12);
  d[0] = 0x46;
  std::fill(d.begin() + 20, d.begin() + 24, 0x01);
  d[24] = 0xee;
  ASSERT_TRUE(refresh_ipv4_checksum(d));
  Ipv4View v;
  ASSERT_EQ(parse(d, v), WireError::kOk);
  EXPECT_EQ(v.hdr_len, 24);
  EXPECT_EQ(v.payload_len(), 8);
  EXPECT_EQ(d[v.hdr_len], 0xee);
}

TEST(Ipv4, BytesAfterTotalLengthAreIgnored) {
  Bytes d = datagram(sample_fields(), 6);
  d.resize(46, 0);  // Ethernet minimum-size padding
  Ipv4View v;
  ASSERT_EQ(parse(d, v), WireError::kOk);
  EXPECT_EQ(v.total_len, 26);
}

TEST(Ipv4, RejectsFewerThanTwentyBytesAsTruncated) {
  const Bytes d = datagram(sample_fields(), 0);
  for (std::size_t n = 0; n < 20; ++n)
    EXPECT_EQ(parse(Bytes(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n))), WireError::kTruncated) << n;
}

TEST(Ipv4, RejectsVersionOtherThanFour) {
  Bytes d = datagram(sample_fields(), 0);
  d[0] = 0x65;
  refresh_ipv4_checksum(d);
  EXPECT_EQ(parse(d), WireError::kBadVersion);
}

TEST(Ipv4, RejectsIhlBelowFive) {
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes d = datagram(sample_fields(), 40);
    d[0] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(parse(d), WireError::kBadIhl) << int(ihl);
  }
}

TEST(Ipv4, RejectsIhlBeyondTheBufferAsTruncated) {
  Bytes d = datagram(sample_fields(), 0);
  d[0] = 0x4f;  // 60-byte header in a 20-byte buffer
  EXPECT_EQ(parse(d), WireError::kTruncated);
}

TEST(Ipv4, RejectsTotalLengthBelowHeaderLength) {
  Bytes d = datagram(sample_fields(), 10);
  store_be16(d.data() + kIpv4OffTotalLen, 19);
  refresh_ipv4_checksum(d);
  EXPECT_EQ(parse(d), WireError::kBadLength);
}

TEST(Ipv4, RejectsTotalLengthBeyondTheBufferAsTruncated) {
  Bytes d = datagram(sample_fields(), 10);
  d.pop_back();
  EXPECT_EQ(parse(d), WireError::kTruncated);
}

TEST(Ipv4, RejectsBadHeaderChecksumUnlessAskedToSkip) {
  Bytes d = datagram(sample_fields(), 0);
  d[kIpv4OffTtl] ^= 0x80;
  Ipv4View v;
  EXPECT_EQ(parse_ipv4(d, v), WireError::kBadIpChecksum);
  EXPECT_EQ(parse_ipv4(d, v, Ipv4Verify::kSkipChecksum), WireError::kOk);
  EXPECT_EQ(v.ttl, 17 ^ 0x80);
}

TEST(Ipv4, ReportsFragmentsWithTheHeaderFilled) {
  for (std::uint16_t frag : {kIpv4FlagMf, std::uint16_t{1}, std::uint16_t{kIpv4FlagMf | 185},
                             std::uint16_t{kIpv4FragOffsetMask}}) {
    Bytes d = datagram(sample_fields(), 8);
    store_be16(d.data() + kIpv4OffFrag, frag);
    refresh_ipv4_checksum(d);
    Ipv4View v;
    ASSERT_EQ(parse(d, v), WireError::kFragment) << frag;
    EXPECT_TRUE(v.is_fragment());
    EXPECT_EQ(v.is_first_fragment(), (frag & kIpv4FragOffsetMask) == 0);
    EXPECT_EQ(v.src, 0xc0a80001u);
    EXPECT_EQ(v.total_len, 28);
  }
}

TEST(Ipv4, DontFragmentAloneIsNotAFragment) {
  Ipv4Fields f = sample_fields();
  f.dont_fragment = false;
  EXPECT_EQ(parse(datagram(f, 0)), WireError::kOk);
  f.dont_fragment = true;
  EXPECT_EQ(parse(datagram(f, 0)), WireError::kOk);
}

TEST(Ipv4, CeMarkingSetsBothEcnBitsAndKeepsTheChecksumValid) {
  for (Ecn e : {Ecn::kEct0, Ecn::kEct1}) {
    Ipv4Fields f = sample_fields();
    f.ecn = e;
    Bytes d = datagram(f, 0);
    ASSERT_EQ(set_ecn_ce(d), CeMark::kMarked);
    Ipv4View v;
    ASSERT_EQ(parse(d, v), WireError::kOk);
    EXPECT_EQ(v.ecn(), Ecn::kCe);
    EXPECT_EQ(v.dscp(), f.dscp);
  }
}

TEST(Ipv4, CeMarkingLeavesNotEctAndCePacketsUnchanged) {
  Ipv4Fields f = sample_fields();
  f.ecn = Ecn::kNotEct;
  Bytes d = datagram(f, 0);
  const Bytes before = d;
  EXPECT_EQ(set_ecn_ce(d), CeMark::kNotEct);
  EXPECT_EQ(d, before);
  f.ecn = Ecn::kCe;
  d = datagram(f, 0);
  const Bytes ce = d;
  EXPECT_EQ(set_ecn_ce(d), CeMark::kAlreadyCe);
  EXPECT_EQ(d, ce);
  Bytes tiny(19, 0x46);
  EXPECT_EQ(set_ecn_ce(tiny), CeMark::kTooShort);
}

TEST(Ipv4, TtlDecrementKeepsTheChecksumValid) {
  Bytes d = datagram(sample_fields(), 0);
  ASSERT_TRUE(decrement_ttl(d));
  Ipv4View v;
  ASSERT_EQ(parse(d, v), WireError::kOk);
  EXPECT_EQ(v.ttl, 16);
}

TEST(Ipv4, TtlOfOneOrZeroIsNotDecrementedAndNotTouched) {
  for (std::uint8_t ttl : {0, 1}) {
    Ipv4Fields f = sample_fields();
    f.ttl = ttl;
    Bytes d = datagram(f, 0);
    const Bytes before = d;
    EXPECT_FALSE(decrement_ttl(d));
    EXPECT_EQ(d, before);
  }
  Bytes tiny(19, 0x45);
  EXPECT_FALSE(decrement_ttl(tiny));
}

TEST(Ipv4, RandomHeadersStayValidThroughEveryTtlDecrementAndCeMark) {
  std::mt19937 rng(812);
  for (int iter = 0; iter < 2000; ++iter) {
    Ipv4Fields f;
    f.src = rng();
    f.dst = rng();
    f.proto = static_cast<std::uint8_t>(rng());
    f.ttl = static_cast<std::uint8_t>(rng());
    f.dscp = static_cast<std::uint8_t>(rng() % 64);
    f.ecn = static_cast<Ecn>(rng() % 4);
    f.id = static_cast<std::uint16_t>(rng());
    Bytes d = datagram(f, rng() % 64);
    const bool ect = f.ecn == Ecn::kEct0 || f.ecn == Ecn::kEct1;
    EXPECT_EQ(set_ecn_ce(d), ect ? CeMark::kMarked : (f.ecn == Ecn::kCe ? CeMark::kAlreadyCe : CeMark::kNotEct));
    int steps = 0;
    while (decrement_ttl(d)) {
      ++steps;
      Ipv4View v;
      ASSERT_EQ(parse(d, v), WireError::kOk) << "iteration " << iter << " step " << steps;
      ASSERT_EQ(v.ttl, f.ttl - steps);
    }
    EXPECT_EQ(steps, f.ttl > 1 ? f.ttl - 1 : 0);
  }
}

TEST(Ipv4Addr, ParsesDottedQuads) {
  EXPECT_EQ(parse_ipv4_addr("10.0.0.1"), 0x0a000001u);
  EXPECT_EQ(parse_ipv4_addr("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4_addr("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(parse_ipv4_addr("192.168.100.200"), 0xc0a864c8u);
}

TEST(Ipv4Addr, RejectsMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
                          "1.2.3.4 ", " 1.2.3.4", "+1.2.3.4", "1..3.4", "a.b.c.d", "1.2.3.-4",
                          "1234.1.1.1", "1.2.3.4/", "1.2.3.", ".1.2.3", "0x1.2.3.4"}) {
    EXPECT_FALSE(parse_ipv4_addr(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Ipv4Addr, FormatIsTheInverseOfParse) {
  std::mt19937 rng(9);
  for (int i = 0; i < 1000; ++i) {
    const std::uint32_t a = rng();
    ASSERT_EQ(parse_ipv4_addr(format_ipv4(a)), a);
  }
  EXPECT_EQ(format_ipv4(0x0a000001), "10.0.0.1");
}

TEST(Ipv4Prefix, ParsesRoutesAndMatchesAddressesInside) {
  const auto p = parse_ipv4_prefix("10.1.0.0/16");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->addr, 0x0a010000u);
  EXPECT_EQ(p->len, 16);
  EXPECT_TRUE(p->contains(0x0a01ffff));
  EXPECT_FALSE(p->contains(0x0a020000));
  const auto all = parse_ipv4_prefix("0.0.0.0/0");
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->contains(0xdeadbeef));
  const auto host = parse_ipv4_prefix("1.2.3.4/32");
  ASSERT_TRUE(host.has_value());
  EXPECT_TRUE(host->contains(0x01020304));
  EXPECT_FALSE(host->contains(0x01020305));
  EXPECT_EQ(format_ipv4_prefix(*p), "10.1.0.0/16");
}

TEST(Ipv4Prefix, HostBitsAreAnErrorForRoutesButAllowedForInterfaces) {
  EXPECT_FALSE(parse_ipv4_prefix("10.0.0.1/24").has_value());
  const auto iface = parse_ipv4_prefix("10.0.0.1/24", HostBits::kAllow);
  ASSERT_TRUE(iface.has_value());
  EXPECT_EQ(iface->addr, 0x0a000001u);
  EXPECT_EQ(iface->mask(), 0xffffff00u);
}

TEST(Ipv4Prefix, RejectsMalformedText) {
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/8x",
                          "10.0.0.0/-1", "10.0.0/8", "10.0.0.0//8", "/8", "10.0.0.0/100"}) {
    EXPECT_FALSE(parse_ipv4_prefix(bad, HostBits::kAllow).has_value()) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace spray::wire
