// SPDX-License-Identifier: BSD-3-Clause
#include "wire/udp.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "wire_test_util.h"

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::kIpA;
using test::kIpB;

// A UDP datagram (header + payload) with checksum 0.
Bytes datagram(std::size_t payload_len, std::uint16_t src_port = 50000, std::uint16_t dst_port = 4792) {
  Bytes d(kUdpHdrLen + payload_len);
  EXPECT_EQ(write_udp(d, src_port, dst_port, payload_len), kUdpHdrLen);
  for (std::size_t i = 0; i < payload_len; ++i) d[kUdpHdrLen + i] = static_cast<std::uint8_t>(i * 7 + 3);
  return d;
}

TEST(Udp, WrittenHeaderParsesBack) {
  const Bytes d = datagram(33, 50001, 4792);
  UdpView v;
  ASSERT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kOk);
  EXPECT_EQ(v.src_port, 50001);
  EXPECT_EQ(v.dst_port, 4792);
  EXPECT_EQ(v.length, 41);
  EXPECT_EQ(v.payload_len(), 33);
  EXPECT_EQ(v.checksum, 0);
}

TEST(Udp, FilledChecksumVerifiesWithThePseudoHeader) {
  for (std::size_t len : {0, 1, 2, 7, 33, 1472}) {
    Bytes d = datagram(len);
    ASSERT_TRUE(fill_udp_checksum(d, kIpA, kIpB));
    UdpView v;
    ASSERT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kOk) << len;
    EXPECT_NE(v.checksum, 0);
    // The same bytes between other addresses do not verify.
    EXPECT_EQ(parse_udp(d, kIpA, kIpB + 1, v), WireError::kBadUdpChecksum) << len;
  }
}

TEST(Udp, ChecksumMatchesTheWordAtATimeReference) {
  Bytes d = datagram(101);
  ASSERT_TRUE(fill_udp_checksum(d, kIpA, kIpB));
  const std::uint16_t stored = load_be16(d.data() + kUdpOffCsum);
  store_be16(d.data() + kUdpOffCsum, 0);
  const std::uint16_t expected = static_cast<std::uint16_t>(
      ~test::reference_sum(d, ipv4_pseudo_sum(kIpA, kIpB, kIpProtoUdp, static_cast<std::uint16_t>(d.size()))));
  EXPECT_EQ(stored, expected);
}

TEST(Udp, ComputedZeroChecksumIsSentAsAllOnes) {
  // Choose two payload bytes so that the datagram and pseudo-header sum to
  // 0xffff: the checksum field would be 0, which means "none" on the wire.
  Bytes d = datagram(2);
  d[8] = d[9] = 0;
  const std::uint16_t rest = csum_partial(d, ipv4_pseudo_sum(kIpA, kIpB, kIpProtoUdp, 10));
  store_be16(d.data() + 8, static_cast<std::uint16_t>(0xffff - rest));
  ASSERT_TRUE(fill_udp_checksum(d, kIpA, kIpB));
  EXPECT_EQ(load_be16(d.data() + kUdpOffCsum), 0xffff);
  UdpView v;
  EXPECT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kOk);
}

TEST(Udp, ZeroChecksumMeansNoneAndIsNotVerified) {
  Bytes d = datagram(16);
  d.back() ^= 0xff;
  UdpView v;
  EXPECT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kOk);
}

TEST(Udp, RejectsWrongChecksumUnlessAskedToSkip) {
  Bytes d = datagram(16);
  ASSERT_TRUE(fill_udp_checksum(d, kIpA, kIpB));
  d.back() ^= 0x01;
  UdpView v;
  EXPECT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kBadUdpChecksum);
  EXPECT_EQ(parse_udp(d, kIpA, kIpB, v, UdpVerify::kSkipChecksum), WireError::kOk);
}

TEST(Udp, RejectsFewerThanEightBytesAsTruncated) {
  const Bytes d = datagram(0);
  UdpView v;
  for (std::size_t n = 0; n < kUdpHdrLen; ++n)
    EXPECT_EQ(parse_udp(std::span(d).first(n), kIpA, kIpB, v), WireError::kTruncated) << n;
}

TEST(Udp, RejectsLengthBelowEight) {
  Bytes d = datagram(8);
  for (std::uint16_t len : {0, 1, 7}) {
    store_be16(d.data() + kUdpOffLen, len);
    UdpView v;
    EXPECT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kBadUdpLength) << len;
  }
}

TEST(Udp, RejectsLengthBeyondTheIpPayload) {
  Bytes d = datagram(8);
  store_be16(d.data() + kUdpOffLen, 17);
  UdpView v;
  EXPECT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kBadUdpLength);
}

TEST(Udp, LengthShorterThanTheIpPayloadLimitsThePayload) {
  Bytes d = datagram(8);
  store_be16(d.data() + kUdpOffLen, 12);
  UdpView v;
  ASSERT_EQ(parse_udp(d, kIpA, kIpB, v), WireError::kOk);
  EXPECT_EQ(v.payload_len(), 4);
}

TEST(Udp, WriterRefusesShortBufferAndOversizedPayload) {
  std::array<std::uint8_t, 7> small{};
  EXPECT_EQ(write_udp(small, 1, 2, 0), 0u);
  std::array<std::uint8_t, 8> hdr{};
  EXPECT_EQ(write_udp(hdr, 1, 2, 65528), 0u);
  EXPECT_EQ(write_udp(hdr, 1, 2, 65527), 8u);
}

TEST(Udp, ChecksumFillRefusesALengthBeyondTheSpan) {
  Bytes d = datagram(4);
  store_be16(d.data() + kUdpOffLen, 13);
  EXPECT_FALSE(fill_udp_checksum(d, kIpA, kIpB));
  EXPECT_EQ(load_be16(d.data() + kUdpOffCsum), 0);
}

}  // namespace
}  // namespace spray::wire
