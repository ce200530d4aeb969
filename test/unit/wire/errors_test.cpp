// SPDX-License-Identifier: BSD-3-Clause
#include "wire/errors.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "wire/arp.h"
#include "wire/frame.h"
#include "wire/icmp.h"
#include "wire_test_util.h"

namespace spray::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::vector<WireError> all_reasons() {
  std::vector<WireError> v;
#define SPRAY_WIRE_X(e, name, help) v.push_back(WireError::e);
  SPRAY_WIRE_ERRORS(SPRAY_WIRE_X)
#undef SPRAY_WIRE_X
  return v;
}

TEST(WireErrors, CountCoversOkAndEveryReason) {
  EXPECT_EQ(kWireErrorCount, all_reasons().size() + 1);
  EXPECT_EQ(static_cast<std::size_t>(all_reasons().back()), kWireErrorCount - 1);
  EXPECT_STREQ(to_string(WireError::kOk), "ok");
}

TEST(WireErrors, NamesAreUniqueSnakeCaseLabelValues) {
  std::set<std::string> seen;
  for (WireError e : all_reasons()) {
    const std::string name = to_string(e);
    ASSERT_FALSE(name.empty());
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    EXPECT_NE(std::string(help(e)), "") << name;
  }
  EXPECT_EQ(seen.count("ok"), 0u);
}

TEST(WireErrors, ValuesOutsideTheListHaveAFallbackName) {
  EXPECT_STREQ(to_string(static_cast<WireError>(kWireErrorCount)), "unknown");
}

// One crafted input per reason; a reason added to the list without an input
// here fails the test below.
std::map<WireError, std::function<WireError()>> crafted_inputs() {
  using namespace test;
  auto frame = [](Bytes f) {
    FrameInfo info;
    return parse_frame(f, info);
  };
  auto ip_edit = [](std::function<void(std::uint8_t*)> edit, bool fix_csum) {
    Bytes f = udp_frame();
    std::uint8_t* ip = f.data() + kEthHdrLen;
    edit(ip);
    if (fix_csum) refresh_ipv4_checksum(std::span(f).subspan(kEthHdrLen));
    FrameInfo info;
    return parse_frame(f, info);
  };
  auto arp = [](std::size_t at, std::uint8_t value) {
    Bytes f(64);
    f.resize(build_arp_request(f, kMacA, kIpA, kIpB));
    f[kEthHdrLen + at] = value;
    FrameInfo info;
    return parse_frame(f, info);
  };
  std::map<WireError, std::function<WireError()>> m;
  m[WireError::kTruncated] = [=] { return frame(Bytes(10)); };
  m[WireError::kNestedVlan] = [=] {
    Bytes f = udp_frame(7);
    store_be16(f.data() + 16, kEtherTypeVlan);
    return frame(f);
  };
  m[WireError::kBadVlanId] = [=] {
    Bytes f = udp_frame(7);
    store_be16(f.data() + 14, 0x0fff);
    return frame(f);
  };
  m[WireError::kUnsupportedEthertype] = [=] {
    Bytes f = udp_frame();
    store_be16(f.data() + 12, 0x86dd);
    return frame(f);
  };
  m[WireError::kBadVersion] = [=] { return ip_edit([](std::uint8_t* ip) { ip[0] = 0x65; }, true); };
  m[WireError::kBadIhl] = [=] { return ip_edit([](std::uint8_t* ip) { ip[0] = 0x44; }, false); };
  m[WireError::kBadLength] = [=] {
    return ip_edit([](std::uint8_t* ip) { store_be16(ip + 2, 19); }, true);
  };
  m[WireError::kBadIpChecksum] = [=] { return ip_edit([](std::uint8_t* ip) { ip[10] ^= 0x40; }, false); };
  m[WireError::kFragment] = [=] {
    return ip_edit([](std::uint8_t* ip) { store_be16(ip + 6, kIpv4FlagMf); }, true);
  };
  m[WireError::kBadUdpLength] = [=] {
    Bytes f = udp_frame();
    store_be16(f.data() + kEthHdrLen + kIpv4MinHdrLen + kUdpOffLen, 7);
    return frame(f);
  };
  m[WireError::kBadUdpChecksum] = [=] {
    auto flow = default_flow();
    flow.udp_checksum = true;
    const auto payload = iota_payload(20);
    Bytes f = udp_frame(flow, 1000, payload);
    f.back() ^= 1;
    return frame(f);
  };
  m[WireError::kBadArp] = [=] { return arp(1, 2); };  // htype 2
  m[WireError::kBadArpOp] = [=] { return arp(7, 3); };
  m[WireError::kBadIcmpChecksum] = [=] {
    Bytes f = icmp_frame(kIcmpEchoRequest, 1, 1, 16);
    f.back() ^= 1;
    return icmp_echo_to_reply(f);
  };
  m[WireError::kIcmpUnhandled] = [=] {
    Bytes f = icmp_frame(kIcmpEchoReply, 1, 1, 16);
    return icmp_echo_to_reply(f);
  };
  return m;
}

TEST(WireErrors, EveryReasonIsReachedByACraftedInput) {
  const auto inputs = crafted_inputs();
  for (WireError e : all_reasons()) {
    const auto it = inputs.find(e);
    ASSERT_NE(it, inputs.end()) << "no crafted input for " << to_string(e);
    EXPECT_EQ(to_string(it->second()), std::string(to_string(e)));
  }
}

}  // namespace
}  // namespace spray::wire
