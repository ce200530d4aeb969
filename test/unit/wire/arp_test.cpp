// SPDX-License-Identifier: BSD-3-Clause
#include "wire/arp.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "wire/frame.h"
#include "wire_test_util.h"

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

Bytes request(std::uint16_t vlan = kVlanNone) {
  Bytes f(64);
  f.resize(build_arp_request(f, kMacA, kIpA, kIpB, vlan));
  return f;
}

TEST(Arp, RequestIsABroadcastWhoHas) {
  const Bytes f = request();
  ASSERT_EQ(f.size(), 42u);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  ASSERT_TRUE(info.is_arp());
  EXPECT_TRUE(info.eth.dst.is_broadcast());
  EXPECT_EQ(info.eth.src, kMacA);
  EXPECT_EQ(info.arp.op, ArpOp::kRequest);
  EXPECT_EQ(info.arp.sha, kMacA);
  EXPECT_EQ(info.arp.spa, kIpA);
  EXPECT_TRUE(info.arp.tha.is_zero());
  EXPECT_EQ(info.arp.tpa, kIpB);
  EXPECT_FALSE(info.arp.is_gratuitous());
}

TEST(Arp, TaggedRequestCarriesItsVlan) {
  const Bytes f = request(42);
  ASSERT_EQ(f.size(), 46u);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_EQ(info.eth.vlan, 42);
  EXPECT_EQ(info.arp.tpa, kIpB);
}

TEST(Arp, ReplyRoundTrips) {
  Bytes f(64);
  f.resize(build_arp_reply(f, kMacB, kIpB, kMacA, kIpA));
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_EQ(info.eth.dst, kMacA);
  EXPECT_EQ(info.eth.src, kMacB);
  EXPECT_EQ(info.arp.op, ArpOp::kReply);
  EXPECT_EQ(info.arp.sha, kMacB);
  EXPECT_EQ(info.arp.spa, kIpB);
  EXPECT_EQ(info.arp.tha, kMacA);
  EXPECT_EQ(info.arp.tpa, kIpA);
}

TEST(Arp, BuildersRefuseAShortBuffer) {
  std::array<std::uint8_t, 41> small{};
  EXPECT_EQ(build_arp_request(small, kMacA, kIpA, kIpB), 0u);
  EXPECT_EQ(build_arp_reply(small, kMacA, kIpA, kMacB, kIpB), 0u);
  std::array<std::uint8_t, 45> tagged_small{};
  EXPECT_EQ(build_arp_request(tagged_small, kMacA, kIpA, kIpB, 5), 0u);
  std::array<std::uint8_t, 27> body{};
  EXPECT_EQ(write_arp(body, ArpView{}), 0u);
}

TEST(Arp, RequestTurnsIntoTheReplyInPlace) {
  for (std::uint16_t vlan : {kVlanNone, std::uint16_t{9}}) {
    Bytes f = request(vlan);
    const Mac mine{0x02'aa'bb'cc'dd'eeULL};
    ASSERT_EQ(arp_request_to_reply(f, mine), WireError::kOk);
    FrameInfo info;
    ASSERT_EQ(parse_frame(f, info), WireError::kOk);
    EXPECT_EQ(info.eth.vlan, vlan);
    EXPECT_EQ(info.eth.dst, kMacA);
    EXPECT_EQ(info.eth.src, mine);
    EXPECT_EQ(info.arp.op, ArpOp::kReply);
    EXPECT_EQ(info.arp.sha, mine);
    EXPECT_EQ(info.arp.spa, kIpB);
    EXPECT_EQ(info.arp.tha, kMacA);
    EXPECT_EQ(info.arp.tpa, kIpA);
  }
}

TEST(Arp, OnlyRequestsTurnIntoReplies) {
  Bytes reply(64);
  reply.resize(build_arp_reply(reply, kMacB, kIpB, kMacA, kIpA));
  const Bytes before = reply;
  EXPECT_EQ(arp_request_to_reply(reply, kMacB), WireError::kBadArpOp);
  EXPECT_EQ(reply, before);
  Bytes udp = test::udp_frame();
  EXPECT_EQ(arp_request_to_reply(udp, kMacB), WireError::kUnsupportedEthertype);
  Bytes runt(12);
  EXPECT_EQ(arp_request_to_reply(runt, kMacB), WireError::kTruncated);
}

TEST(Arp, RejectsAnythingButEthernetIpv4) {
  // byte offset within the ARP body, and a value that breaks it
  const std::array<std::pair<std::size_t, std::uint8_t>, 5> breaks{{
      {1, 6},      // htype 6 (IEEE 802)
      {0, 1},      // htype 0x0101
      {3, 0xdd},   // ptype 0x08dd
      {4, 8},      // hlen 8
      {5, 16},     // plen 16 (IPv6)
  }};
  for (const auto& [at, value] : breaks) {
    Bytes f = request();
    f[kEthHdrLen + at] = value;
    ArpView v;
    EXPECT_EQ(parse_arp(std::span(f).subspan(kEthHdrLen), v), WireError::kBadArp) << at;
  }
}

TEST(Arp, RejectsOpcodesOtherThanRequestAndReply) {
  for (std::uint16_t op : {0, 3, 4, 0x0101}) {
    Bytes f = request();
    store_be16(f.data() + kEthHdrLen + 6, op);
    ArpView v;
    EXPECT_EQ(parse_arp(std::span(f).subspan(kEthHdrLen), v), WireError::kBadArpOp) << op;
  }
}

TEST(Arp, RejectsFewerThanTwentyEightBytesAsTruncated) {
  const Bytes f = request();
  ArpView v;
  for (std::size_t n = 0; n < kArpLen; ++n)
    EXPECT_EQ(parse_arp(std::span(f).subspan(kEthHdrLen, n), v), WireError::kTruncated) << n;
}

TEST(Arp, GratuitousAnnouncementIsRecognised) {
  Bytes f(64);
  f.resize(build_arp_request(f, kMacA, kIpA, kIpA));
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_TRUE(info.arp.is_gratuitous());
}

}  // namespace
}  // namespace spray::wire
