// SPDX-License-Identifier: BSD-3-Clause
#include "wire/icmp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <vector>

#include "wire/frame.h"
#include "wire_test_util.h"

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::icmp_frame;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

constexpr std::uint32_t kRouterIp = 0x0a0000fe;
const IcmpErrorAddr kRouter{Mac{0x02'00'00'00'00'feULL}, kMacA, kRouterIp, kVlanNone};

std::span<const std::uint8_t> icmp_of(const Bytes& f, const FrameInfo& info) {
  return std::span(f).subspan(info.l4_offset, info.payload_len);
}

TEST(IcmpEcho, RequestTurnsIntoItsReplyInPlace) {
  for (std::uint16_t vlan : {kVlanNone, std::uint16_t{300}}) {
    Bytes f = icmp_frame(kIcmpEchoRequest, 0x1234, 7, 56, vlan);
    const Bytes req = f;
    ASSERT_EQ(icmp_echo_to_reply(f), WireError::kOk);
    FrameInfo info;
    ASSERT_EQ(parse_frame(f, info), WireError::kOk);  // IPv4 checksum valid
    EXPECT_EQ(info.eth.vlan, vlan);
    EXPECT_EQ(info.eth.dst, kMacA);
    EXPECT_EQ(info.eth.src, kMacB);
    EXPECT_EQ(info.src_ip, kIpB);
    EXPECT_EQ(info.dst_ip, kIpA);
    EXPECT_EQ(info.ttl, kIpv4DefaultTtl);
    IcmpView icmp;
    ASSERT_EQ(parse_icmp(icmp_of(f, info), icmp), WireError::kOk);  // ICMP checksum valid
    EXPECT_EQ(icmp.type, kIcmpEchoReply);
    EXPECT_EQ(icmp.echo_id(), 0x1234);
    EXPECT_EQ(icmp.echo_seq(), 7);
    EXPECT_TRUE(std::equal(f.end() - 56, f.end(), req.end() - 56));
  }
}

TEST(IcmpEcho, OddLengthPayloadKeepsChecksumsValid) {
  Bytes f = icmp_frame(kIcmpEchoRequest, 1, 2, 13);
  ASSERT_EQ(icmp_echo_to_reply(f), WireError::kOk);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  IcmpView icmp;
  EXPECT_EQ(parse_icmp(icmp_of(f, info), icmp), WireError::kOk);
}

TEST(IcmpEcho, OtherMessagesAreLeftUntouched) {
  Bytes reply = icmp_frame(kIcmpEchoReply, 1, 1, 8);
  const Bytes before = reply;
  EXPECT_EQ(icmp_echo_to_reply(reply), WireError::kIcmpUnhandled);
  EXPECT_EQ(reply, before);
  Bytes udp = test::udp_frame();
  EXPECT_EQ(icmp_echo_to_reply(udp), WireError::kIcmpUnhandled);
  Bytes arp(64);
  arp.resize(build_arp_request(arp, kMacA, kIpA, kIpB));
  EXPECT_EQ(icmp_echo_to_reply(arp), WireError::kUnsupportedEthertype);
}

TEST(IcmpEcho, RejectsABadIcmpChecksum) {
  Bytes f = icmp_frame(kIcmpEchoRequest, 1, 1, 8);
  f.back() ^= 0x10;
  const Bytes before = f;
  EXPECT_EQ(icmp_echo_to_reply(f), WireError::kBadIcmpChecksum);
  EXPECT_EQ(f, before);
}

TEST(IcmpParse, RejectsFewerThanEightBytesAsTruncated) {
  const Bytes f = icmp_frame(kIcmpEchoRequest, 1, 1, 0);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  IcmpView icmp;
  for (std::size_t n = 0; n < kIcmpHdrLen; ++n)
    EXPECT_EQ(parse_icmp(icmp_of(f, info).first(n), icmp), WireError::kTruncated) << n;
}

// The offending packet as the switch sees it: the IP header onwards.
std::span<const std::uint8_t> l3_of(const Bytes& f) { return std::span(f).subspan(kEthHdrLen); }

void expect_icmp_error(const Bytes& out, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                       std::span<const std::uint8_t> quote) {
  FrameInfo info;
  ASSERT_EQ(parse_frame(out, info), WireError::kOk);
  EXPECT_EQ(info.eth.src, kRouter.src_mac);
  EXPECT_EQ(info.eth.dst, kRouter.dst_mac);
  EXPECT_EQ(info.ip_proto, kIpProtoIcmp);
  EXPECT_EQ(info.src_ip, kRouterIp);
  EXPECT_EQ(info.dst_ip, kIpA);
  EXPECT_EQ(info.ttl, kIpv4DefaultTtl);
  IcmpView icmp;
  ASSERT_EQ(parse_icmp(icmp_of(out, info), icmp), WireError::kOk);
  EXPECT_EQ(icmp.type, type);
  EXPECT_EQ(icmp.code, code);
  EXPECT_EQ(icmp.rest, rest);
  const auto quoted = icmp_of(out, info).subspan(kIcmpHdrLen);
  ASSERT_EQ(quoted.size(), quote.size());
  EXPECT_TRUE(std::equal(quoted.begin(), quoted.end(), quote.begin()));
}

TEST(IcmpError, TimeExceededQuotesTheHeaderAndEightBytes) {
  const Bytes offending = test::udp_frame(kVlanNone, 100);
  Bytes out(256);
  out.resize(build_icmp_time_exceeded(out, kRouter, l3_of(offending)));
  ASSERT_EQ(out.size(), kEthHdrLen + 20 + 8 + 20 + 8);
  expect_icmp_error(out, kIcmpTimeExceeded, kIcmpTtlExceeded, 0, l3_of(offending).first(28));
}

TEST(IcmpError, DestUnreachableCarriesTheNextHopMtu) {
  const Bytes offending = test::udp_frame(kVlanNone, 1400);
  Bytes out(256);
  out.resize(build_icmp_dest_unreachable(out, kRouter, kIcmpFragNeeded, l3_of(offending), 1280));
  expect_icmp_error(out, kIcmpDestUnreachable, kIcmpFragNeeded, 1280, l3_of(offending).first(28));
}

TEST(IcmpError, TaggedErrorCarriesTheVlan) {
  const Bytes offending = test::udp_frame(kVlanNone, 10);
  IcmpErrorAddr addr = kRouter;
  addr.vlan = 12;
  Bytes out(256);
  out.resize(build_icmp_dest_unreachable(out, addr, kIcmpHostUnreachable, l3_of(offending)));
  FrameInfo info;
  ASSERT_EQ(parse_frame(out, info), WireError::kOk);
  EXPECT_EQ(info.eth.vlan, 12);
  EXPECT_EQ(info.payload_len, 8u + 28u);
}

TEST(IcmpError, QuoteIncludesIpOptions) {
  Bytes offending = test::udp_frame(kVlanNone, 16);
  // Re-shape the header with 8 bytes of options (IHL 7) before UDP.
  offending.insert(offending.begin() + kEthHdrLen + 20, 8, 0x01);
  offending[kEthHdrLen] = 0x47;
  store_be16(offending.data() + kEthHdrLen + 2, 28 + 8 + 16);
  refresh_ipv4_checksum(std::span(offending).subspan(kEthHdrLen));
  Bytes out(256);
  out.resize(build_icmp_time_exceeded(out, kRouter, l3_of(offending)));
  expect_icmp_error(out, kIcmpTimeExceeded, 0, 0, l3_of(offending).first(28 + 8));
}

TEST(IcmpError, ShortOffendingPacketIsQuotedWholeWithoutPadding) {
  Bytes offending = test::udp_frame(kVlanNone, 0);  // 28-byte datagram
  store_be16(offending.data() + kEthHdrLen + 2, 24);  // IP says 24: 4 bytes of UDP
  refresh_ipv4_checksum(std::span(offending).subspan(kEthHdrLen));
  offending.resize(60, 0);
  Bytes out(256);
  out.resize(build_icmp_time_exceeded(out, kRouter, l3_of(offending)));
  expect_icmp_error(out, kIcmpTimeExceeded, 0, 0, l3_of(offending).first(24));
}

TEST(IcmpError, BuilderRefusesShortBufferOrNonIpv4Offender) {
  const Bytes offending = test::udp_frame(kVlanNone, 100);
  Bytes out(kEthHdrLen + 20 + 8 + 28 - 1);
  EXPECT_EQ(build_icmp_time_exceeded(out, kRouter, l3_of(offending)), 0u);
  Bytes junk(40, 0x60);
  Bytes big(256);
  EXPECT_EQ(build_icmp_time_exceeded(big, kRouter, junk), 0u);
}

TEST(IcmpError, AllowedForOrdinaryUnicastTraffic) {
  EXPECT_TRUE(icmp_error_allowed(l3_of(test::udp_frame())));
  EXPECT_TRUE(icmp_error_allowed(l3_of(icmp_frame(kIcmpEchoRequest, 1, 1, 8))));
}

TEST(IcmpError, NeverAboutAnotherIcmpError) {
  EXPECT_FALSE(icmp_error_allowed(l3_of(icmp_frame(kIcmpTimeExceeded, 0, 0, 28))));
  EXPECT_FALSE(icmp_error_allowed(l3_of(icmp_frame(kIcmpDestUnreachable, 0, 0, 28))));
}

Bytes with_ip(std::function<void(std::uint8_t*)> edit) {
  Bytes f = test::udp_frame();
  edit(f.data() + kEthHdrLen);
  refresh_ipv4_checksum(std::span(f).subspan(kEthHdrLen));
  return f;
}

TEST(IcmpError, NeverAboutNonFirstFragmentsButAboutFirstOnes) {
  EXPECT_FALSE(icmp_error_allowed(l3_of(with_ip([](std::uint8_t* ip) { store_be16(ip + 6, 100); }))));
  EXPECT_TRUE(icmp_error_allowed(l3_of(with_ip([](std::uint8_t* ip) { store_be16(ip + 6, kIpv4FlagMf); }))));
}

TEST(IcmpError, NeverToBroadcastMulticastOrMartianAddresses) {
  const std::array<std::pair<std::size_t, std::uint32_t>, 6> cases{{
      {kIpv4OffDst, 0xffffffff},
      {kIpv4OffDst, 0xe0000001},
      {kIpv4OffSrc, 0x00000000},
      {kIpv4OffSrc, 0x7f000001},
      {kIpv4OffSrc, 0xe0000005},
      {kIpv4OffSrc, 0xf0000001},
  }};
  for (const auto& [field_at, value] : cases) {
    const std::size_t field = field_at;
    const std::uint32_t addr = value;
    const Bytes f = with_ip([&](std::uint8_t* ip) { store_be32(ip + field, addr); });
    EXPECT_FALSE(icmp_error_allowed(l3_of(f))) << std::hex << addr;
  }
}

TEST(IcmpError, NeverAboutUnparseablePackets) {
  Bytes f = test::udp_frame();
  f[kEthHdrLen + kIpv4OffCsum] ^= 1;
  EXPECT_FALSE(icmp_error_allowed(l3_of(f)));
  EXPECT_FALSE(icmp_error_allowed({}));
}

}  // namespace
}  // namespace spray::wire
