// SPDX-License-Identifier: BSD-3-Clause
#include "wire/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "wire/arp.h"
#include "wire/icmp.h"
#include "wire_test_util.h"

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::default_flow;
using test::iota_payload;
using test::kIpA;
using test::kIpB;
using test::kMacA;
using test::kMacB;

// The same frame the slow way: write_eth + write_ipv4 + write_udp.
Bytes reference_udp_frame(const UdpFlow& flow, std::uint16_t src_port,
                          std::span<const std::uint8_t> payload, Ecn ecn) {
  Bytes f(64 + payload.size());
  const std::size_t l2 = write_eth(f, flow.dst_mac, flow.src_mac, kEtherTypeIpv4, flow.vlan, flow.pcp);
  Ipv4Fields ip;
  ip.src = flow.src_ip;
  ip.dst = flow.dst_ip;
  ip.proto = kIpProtoUdp;
  ip.ttl = flow.ttl;
  ip.dscp = flow.dscp;
  ip.ecn = ecn;
  write_ipv4(std::span(f).subspan(l2), ip, kUdpHdrLen + payload.size());
  const auto udp = std::span(f).subspan(l2 + kIpv4MinHdrLen);
  write_udp(udp, src_port, flow.dst_port, payload.size());
  std::copy(payload.begin(), payload.end(), udp.begin() + kUdpHdrLen);
  if (flow.udp_checksum) fill_udp_checksum(udp, flow.src_ip, flow.dst_ip);
  f.resize(l2 + kIpv4MinHdrLen + kUdpHdrLen + payload.size());
  return f;
}

TEST(UdpFrameTemplate, WritesAFrameThatParsesBackToItsFlow) {
  for (std::uint16_t vlan : {kVlanNone, std::uint16_t{100}}) {
    const UdpFlow flow = default_flow(vlan);
    const auto payload = iota_payload(200);
    const Bytes f = test::udp_frame(flow, 49152 + 3, payload, Ecn::kEct0);
    FrameInfo info;
    ASSERT_EQ(parse_frame(f, info), WireError::kOk);
    EXPECT_EQ(info.eth.dst, kMacB);
    EXPECT_EQ(info.eth.src, kMacA);
    EXPECT_EQ(info.eth.vlan, vlan);
    EXPECT_EQ(info.eth.tagged, vlan != kVlanNone);
    EXPECT_EQ(info.eth.pcp, flow.pcp);
    EXPECT_EQ(info.l3_offset, vlan == kVlanNone ? 14 : 18);
    EXPECT_EQ(info.l4_offset, info.l3_offset + 20);
    EXPECT_EQ(info.payload_offset, info.l4_offset + 8);
    EXPECT_EQ(info.payload_len, 200);
    EXPECT_EQ(info.ip_total_len, 228);
    EXPECT_EQ(info.src_ip, kIpA);
    EXPECT_EQ(info.dst_ip, kIpB);
    EXPECT_EQ(info.src_port, 49155);
    EXPECT_EQ(info.dst_port, 4792);
    EXPECT_EQ(info.ip_proto, kIpProtoUdp);
    EXPECT_EQ(info.ttl, 64);
    EXPECT_EQ(info.dscp, 10);
    EXPECT_EQ(info.ecn, Ecn::kEct0);
    EXPECT_TRUE(info.is_udp());
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), f.begin() + info.payload_offset));
  }
}

TEST(UdpFrameTemplate, MatchesTheSlowBuildersByteForByte) {
  std::mt19937 rng(4792);
  for (int iter = 0; iter < 3000; ++iter) {
    UdpFlow flow;
    flow.src_mac = Mac{rng() & 0xfeffffffffffULL};
    flow.dst_mac = Mac{(std::uint64_t{rng()} << 16) ^ rng()};
    flow.src_ip = rng();
    flow.dst_ip = rng();
    flow.dst_port = static_cast<std::uint16_t>(rng());
    flow.ttl = static_cast<std::uint8_t>(rng());
    flow.dscp = static_cast<std::uint8_t>(rng() % 64);
    flow.vlan = rng() % 2 ? kVlanNone : static_cast<std::uint16_t>(1 + rng() % kVlanMax);
    flow.pcp = flow.vlan == kVlanNone ? 0 : static_cast<std::uint8_t>(rng() % 8);
    flow.udp_checksum = rng() % 2;
    const UdpFrameTemplate t(flow);
    const auto payload = iota_payload(rng() % 1500, static_cast<std::uint8_t>(rng()));
    const auto src_port = static_cast<std::uint16_t>(rng());
    const auto ecn = static_cast<Ecn>(rng() % 4);
    Bytes f(t.header_len() + payload.size() + 8, 0xcc);
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(t.header_len()));
    const std::size_t n = t.write(f, src_port, payload.size(), ecn);
    ASSERT_EQ(n, t.header_len() + payload.size());
    f.resize(n);
    ASSERT_EQ(f, reference_udp_frame(flow, src_port, payload, ecn)) << "iteration " << iter;
  }
}

TEST(UdpFrameTemplate, OneTemplateServesEveryPathPortLengthAndEcn) {
  const UdpFrameTemplate t(default_flow());
  Bytes f(t.header_len() + 1500);
  for (std::uint16_t path = 0; path < 16; ++path) {
    for (std::size_t len : {0, 1, 63, 1440}) {
      for (Ecn ecn : {Ecn::kNotEct, Ecn::kEct1, Ecn::kEct0, Ecn::kCe}) {
        const std::size_t n = t.write(f, static_cast<std::uint16_t>(49152 + path), len, ecn);
        FrameInfo info;
        ASSERT_EQ(parse_frame(std::span(f).first(n), info), WireError::kOk);
        EXPECT_EQ(info.src_port, 49152 + path);
        EXPECT_EQ(info.payload_len, len);
        EXPECT_EQ(info.ecn, ecn);
      }
    }
  }
}

TEST(UdpFrameTemplate, UdpChecksumCoversThePayload) {
  UdpFlow flow = default_flow();
  flow.udp_checksum = true;
  const auto payload = iota_payload(99);
  Bytes f = test::udp_frame(flow, 50000, payload);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_NE(load_be16(f.data() + info.l4_offset + kUdpOffCsum), 0);
  f[info.payload_offset + 50] ^= 0x04;
  EXPECT_EQ(parse_frame(f, info), WireError::kBadUdpChecksum);
  EXPECT_EQ(parse_frame(f, info, FrameVerify::kSkipChecksums), WireError::kOk);
}

TEST(UdpFrameTemplate, ChecksumIsOffByDefault) {
  const Bytes f = test::udp_frame();
  EXPECT_EQ(load_be16(f.data() + kEthHdrLen + kIpv4MinHdrLen + kUdpOffCsum), 0);
}

TEST(UdpFrameTemplate, RefusesShortBufferAndOversizedPayload) {
  const UdpFrameTemplate t(default_flow(7));
  EXPECT_EQ(t.header_len(), 46u);
  Bytes f(46 + 10);
  EXPECT_EQ(t.write(f, 1, 11), 0u);
  EXPECT_EQ(t.write(f, 1, 10), 56u);
  Bytes huge(70000);
  EXPECT_EQ(t.write(huge, 1, UdpFrameTemplate::kMaxPayloadLen + 1), 0u);
  EXPECT_EQ(t.write(huge, 1, UdpFrameTemplate::kMaxPayloadLen), 46u + UdpFrameTemplate::kMaxPayloadLen);
  FrameInfo info;
  EXPECT_EQ(parse_frame(std::span(huge).first(46 + UdpFrameTemplate::kMaxPayloadLen), info),
            WireError::kOk);
  EXPECT_EQ(info.ip_total_len, 0xffff);
}

TEST(UdpFrameTemplate, UntaggedWriteDoesNotTouchThePayload) {
  const UdpFrameTemplate t(default_flow());
  ASSERT_EQ(t.header_len(), 42u);
  Bytes f(42 + 4, 0xab);
  ASSERT_EQ(t.write(f, 1, 4), 46u);
  EXPECT_EQ(Bytes(f.begin() + 42, f.end()), Bytes(4, 0xab));
}

TEST(ParseFrame, NonUdpIpv4ReportsTheIpPayload) {
  const Bytes f = test::icmp_frame(kIcmpEchoRequest, 1, 2, 20);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_TRUE(info.is_ipv4());
  EXPECT_FALSE(info.is_udp());
  EXPECT_EQ(info.ip_proto, kIpProtoIcmp);
  EXPECT_EQ(info.payload_offset, info.l4_offset);
  EXPECT_EQ(info.payload_len, 28);
  EXPECT_EQ(info.src_port, 0);
  EXPECT_EQ(info.ttl, 61);
}

TEST(ParseFrame, FragmentsAreReportedWithIpFieldsFilled) {
  Bytes f = test::udp_frame(kVlanNone, 40);
  store_be16(f.data() + kEthHdrLen + kIpv4OffFrag, kIpv4FlagMf);
  refresh_ipv4_checksum(std::span(f).subspan(kEthHdrLen));
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kFragment);
  EXPECT_EQ(info.src_ip, kIpA);
  EXPECT_EQ(info.dst_ip, kIpB);
  EXPECT_EQ(info.l4_offset, 34);
  EXPECT_EQ(info.payload_len, 48);  // the IP payload: L4 is not looked at
  EXPECT_EQ(info.src_port, 0);
}

TEST(ParseFrame, OtherEthertypesAreUnsupported) {
  Bytes f = test::udp_frame(5);
  store_be16(f.data() + 16, 0x86dd);
  FrameInfo info;
  EXPECT_EQ(parse_frame(f, info), WireError::kUnsupportedEthertype);
  EXPECT_EQ(info.eth.vlan, 5);  // what was parsed is there for the counters
  EXPECT_EQ(info.eth.ether_type, 0x86dd);
}

TEST(ParseFrame, EthernetPaddingIsIgnored) {
  Bytes f = test::udp_frame(kVlanNone, 2);  // 44 bytes
  f.resize(60, 0);
  FrameInfo info;
  ASSERT_EQ(parse_frame(f, info), WireError::kOk);
  EXPECT_EQ(info.payload_len, 2);
  EXPECT_EQ(info.ip_total_len, 30);
}

TEST(ParseFrame, SkipChecksumsTrustsTheNic) {
  Bytes f = test::udp_frame();
  f[kEthHdrLen + kIpv4OffCsum] ^= 0xff;
  FrameInfo info;
  EXPECT_EQ(parse_frame(f, info), WireError::kBadIpChecksum);
  EXPECT_EQ(parse_frame(f, info, FrameVerify::kSkipChecksums), WireError::kOk);
}

TEST(ParseFrame, ReusedInfoCarriesNothingOverFromTheLastFrame) {
  FrameInfo info;
  ASSERT_EQ(parse_frame(test::udp_frame(9), info), WireError::kOk);
  Bytes arp(64);
  arp.resize(build_arp_request(arp, kMacA, kIpA, kIpB));
  ASSERT_EQ(parse_frame(arp, info), WireError::kOk);
  EXPECT_EQ(info.src_port, 0);
  EXPECT_EQ(info.src_ip, 0u);
  EXPECT_EQ(info.eth.vlan, kVlanNone);
  EXPECT_FALSE(info.is_udp());
}

// Every frame kind the fast path meets, to be cut short.
std::vector<Bytes> valid_frames() {
  std::vector<Bytes> v;
  v.push_back(test::udp_frame(kVlanNone, 32));
  v.push_back(test::udp_frame(77, 32));
  UdpFlow csum = default_flow(8);
  csum.udp_checksum = true;
  const auto payload = iota_payload(17);
  v.push_back(test::udp_frame(csum, 1, payload));
  v.push_back(test::icmp_frame(kIcmpEchoRequest, 1, 1, 24));
  Bytes arp(64);
  arp.resize(build_arp_request(arp, kMacA, kIpA, kIpB, 3));
  v.push_back(arp);
  return v;
}

TEST(ParseFrame, EveryTruncationOfAValidFrameIsTruncated) {
  for (const Bytes& f : valid_frames()) {
    FrameInfo info;
    ASSERT_EQ(parse_frame(f, info), WireError::kOk);
    for (std::size_t n = 0; n < f.size(); ++n) {
      // A copy of exactly n bytes, so a sanitizer sees any read past it.
      const Bytes cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_EQ(parse_frame(cut, info), WireError::kTruncated) << "length " << n << " of " << f.size();
    }
  }
}

}  // namespace
}  // namespace spray::wire
