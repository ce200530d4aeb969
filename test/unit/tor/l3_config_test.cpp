// SPDX-License-Identifier: BSD-3-Clause
// L3Config::validate(): each rejection names the bad value and what is
// accepted; valid forms (RFC 3021 /31 links) pass.
#include <gtest/gtest.h>

#include <string>

#include "tor/l3_config.h"

namespace spray::tor {
namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}
wire::Mac mac(unsigned p) { return wire::Mac{0x02aa'0000'0000ULL | p}; }

// Two routed ports: 10.0.1.1/24 on port 0, 10.1.0.0/31 on port 1.
L3Config two_interfaces() {
  L3Config c;
  c.interfaces.push_back({0, {ip(10, 0, 1, 1), 24}, mac(0)});
  c.interfaces.push_back({1, {ip(10, 1, 0, 0), 31}, mac(1)});
  return c;
}

L3Route route(wire::Ipv4Prefix p, std::vector<std::uint32_t> nhs) { return L3Route{p, std::move(nhs)}; }

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "message: " << (text)

TEST(L3Config, SlashThirtyOneInterfacesAndRoutesOverThemAreAccepted) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 1, 0, 1)}));
  c.routes.push_back(route({0, 0}, {ip(10, 0, 1, 254), ip(10, 1, 0, 1)}));
  EXPECT_EQ(c.validate(2), "");
  // Both addresses of a /31 are hosts: the lower one may be the router's too.
  L3Config d;
  d.interfaces.push_back({0, {ip(10, 1, 0, 1), 31}, mac(0)});
  d.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 1, 0, 0)}));
  EXPECT_EQ(d.validate(1), "");
}

TEST(L3Config, InterfaceOnAPortThatDoesNotExist) {
  L3Config c = two_interfaces();
  c.interfaces.push_back({5, {ip(10, 5, 0, 1), 24}, mac(5)});
  const std::string e = c.validate(3);
  EXPECT_HAS(e, "10.5.0.1/24");
  EXPECT_HAS(e, "port 5 does not exist");
  EXPECT_HAS(e, "0..2");
}

TEST(L3Config, SlashThirtyTwoInterfaceLeavesNoRoomForANeighbor) {
  L3Config c;
  c.interfaces.push_back({0, {ip(10, 0, 1, 1), 32}, mac(0)});
  const std::string e = c.validate(1);
  EXPECT_HAS(e, "10.0.1.1/32");
  EXPECT_HAS(e, "prefix length 32");
  EXPECT_HAS(e, "1..31");
}

TEST(L3Config, OverlappingInterfacesAreRejected) {
  L3Config c = two_interfaces();
  c.interfaces.push_back({2, {ip(10, 0, 0, 1), 16}, mac(2)});
  const std::string e = c.validate(3);
  EXPECT_HAS(e, "10.0.0.1/16");
  EXPECT_HAS(e, "overlaps interface 10.0.1.1/24");
}

TEST(L3Config, NextHopOffEverySubnetListsTheInterfaces) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 9, 0, 1)}));
  const std::string e = c.validate(2);
  EXPECT_HAS(e, "route 10.2.0.0/16");
  EXPECT_HAS(e, "next hop 10.9.0.1 is not on any interface's subnet");
  EXPECT_HAS(e, "10.0.1.1/24 (port 0)");
  EXPECT_HAS(e, "10.1.0.0/31 (port 1)");
}

TEST(L3Config, SixtyFiveNextHopsAreTooMany) {
  L3Config c;
  c.interfaces.push_back({0, {ip(10, 0, 0, 1), 16}, mac(0)});
  std::vector<std::uint32_t> nhs;
  for (unsigned i = 0; i < 65; ++i) nhs.push_back(ip(10, 0, 1, 1 + i));
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, nhs));
  const std::string e = c.validate(1);
  EXPECT_HAS(e, "route 10.2.0.0/16");
  EXPECT_HAS(e, "65 next hops");
  EXPECT_HAS(e, "1..64");
  nhs.pop_back();
  c.routes[0].next_hops = nhs;
  EXPECT_EQ(c.validate(1), "");
}

TEST(L3Config, NextHopListedTwiceIsRejected) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 1, 0, 1), ip(10, 0, 1, 2), ip(10, 1, 0, 1)}));
  const std::string e = c.validate(2);
  EXPECT_HAS(e, "next hop 10.1.0.1 is listed twice");
}

TEST(L3Config, RouteWithHostBitsSetIsRejected) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 1), 16}, {ip(10, 1, 0, 1)}));
  const std::string e = c.validate(2);
  EXPECT_HAS(e, "route 10.2.0.1/16");
  EXPECT_HAS(e, "host bits set");
}

TEST(L3Config, SamePrefixGivenTwiceIsRejected) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 1, 0, 1)}));
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 0, 1, 2)}));
  const std::string e = c.validate(2);
  EXPECT_HAS(e, "route 10.2.0.0/16");
  EXPECT_HAS(e, "given twice");
}

TEST(L3Config, NextHopThatIsTheRoutersOwnAddressIsRejected) {
  L3Config c = two_interfaces();
  c.routes.push_back(route({ip(10, 2, 0, 0), 16}, {ip(10, 1, 0, 0)}));
  EXPECT_HAS(c.validate(2), "next hop 10.1.0.0 is the router's own address");
}

TEST(L3Config, NetworkOrBroadcastAddressAsInterfaceIsRejected) {
  for (std::uint32_t a : {ip(10, 0, 1, 0), ip(10, 0, 1, 255)}) {
    L3Config c;
    c.interfaces.push_back({0, {a, 24}, mac(0)});
    EXPECT_HAS(c.validate(1), "network or broadcast");
  }
}

}  // namespace
}  // namespace spray::tor
