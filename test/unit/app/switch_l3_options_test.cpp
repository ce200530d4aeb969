// SPDX-License-Identifier: BSD-3-Clause
// `spray switch` routing and egress options (--interface, --route, --shape,
// --ecmp-seed, --arp-timeout, --icmp-rate) parsed into a SwitchConfig,
// without EAL; each malformed form is a UsageError naming the value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli.h"
#include "switch_options.h"

namespace spray::app {
namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

std::vector<std::string> three_ports(std::vector<std::string> extra) {
  std::vector<std::string> args{"--port", "a=net_null0", "--port", "up1=net_null1", "--port", "up2=net_null2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

SwitchOptions parse(const std::vector<std::string>& extra) {
  RoleParser p("switch", "test");
  describe_switch_options(p);
  EXPECT_TRUE(p.parse(three_ports(extra)));
  return switch_options_from(p);
}

// The message of the UsageError parsing throws; "" when it parses.
std::string error_of(const std::vector<std::string>& extra) {
  try {
    parse(extra);
  } catch (const UsageError& e) {
    return e.what();
  }
  return {};
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "message: " << (text)

const std::vector<std::string> kRouted{"--interface", "a=10.0.0.1/24", "--interface", "up1=10.1.1.0/31",
                                       "--interface", "up2=10.1.2.0/31"};

std::vector<std::string> routed(std::vector<std::string> extra) {
  auto args = kRouted;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(SwitchL3Options, InterfacesRoutesAndShapesReachTheConfig) {
  const auto o = parse(routed({"--route", "10.2.0.0/16=10.1.1.1,10.1.2.1", "--route", "0.0.0.0/0=10.1.1.1",
                               "--shape", "up1=10Gbps,depth=512,ecn-pkts=16,ecn-us=50", "--shape",
                               "up2=500Mbps,ecn=off", "--ecmp-seed", "7", "--arp-timeout", "5", "--icmp-rate",
                               "20"}));
  const auto& l3 = o.config.l3;
  ASSERT_EQ(l3.interfaces.size(), 3u);
  EXPECT_EQ(l3.interfaces[0].port, 0);
  EXPECT_EQ(l3.interfaces[0].addr, (wire::Ipv4Prefix{ip(10, 0, 0, 1), 24}));
  EXPECT_EQ(l3.interfaces[1].port, 1);
  EXPECT_EQ(l3.interfaces[1].addr, (wire::Ipv4Prefix{ip(10, 1, 1, 0), 31}));
  EXPECT_EQ(l3.interfaces[2].port, 2);
  ASSERT_EQ(l3.routes.size(), 2u);
  EXPECT_EQ(l3.routes[0].prefix, (wire::Ipv4Prefix{ip(10, 2, 0, 0), 16}));
  EXPECT_EQ(l3.routes[0].next_hops, (std::vector<std::uint32_t>{ip(10, 1, 1, 1), ip(10, 1, 2, 1)}));
  EXPECT_EQ(l3.routes[1].prefix, (wire::Ipv4Prefix{0, 0}));
  EXPECT_EQ(l3.ecmp_seed, 7u);
  EXPECT_TRUE(o.ecmp_seed_given);
  EXPECT_EQ(l3.arp_reachable_ns, 5'000'000'000ULL);
  EXPECT_EQ(l3.icmp_errors_per_s, 20u);
  EXPECT_TRUE(o.config.routed(0));

  ASSERT_EQ(o.config.egress.size(), 3u);
  EXPECT_FALSE(o.config.egress[0]);
  ASSERT_TRUE(o.config.egress[1]);
  EXPECT_EQ(o.config.egress[1]->rate_bps, 10'000'000'000ULL);
  EXPECT_EQ(o.config.egress[1]->depth_pkts, 512u);
  EXPECT_EQ(o.config.egress[1]->ecn_threshold_pkts, 16u);
  EXPECT_EQ(o.config.egress[1]->ecn_sojourn_ns, 50'000u);
  EXPECT_TRUE(o.config.egress[1]->ecn);
  ASSERT_TRUE(o.config.egress[2]);
  EXPECT_EQ(o.config.egress[2]->rate_bps, 500'000'000ULL);
  EXPECT_FALSE(o.config.egress[2]->ecn);
}

TEST(SwitchL3Options, WithoutRoutingOptionsEveryPortIsBridged) {
  const auto o = parse({});
  EXPECT_TRUE(o.config.l3.interfaces.empty());
  EXPECT_TRUE(o.config.l3.routes.empty());
  EXPECT_FALSE(o.ecmp_seed_given);
  for (tor::PortId p = 0; p < 3; ++p) EXPECT_FALSE(o.config.routed(p));
}

TEST(SwitchL3Options, ShapeLineMeansUnshaped) {
  const auto o = parse({"--shape", "a=line"});
  ASSERT_TRUE(o.config.egress.size() >= 1 && o.config.egress[0]);
  EXPECT_EQ(o.config.egress[0]->rate_bps, 0u);
}

TEST(SwitchL3Options, MalformedInterfacesAreNamed) {
  auto e = error_of({"--interface", "nosuch=10.0.0.1/24"});
  EXPECT_HAS(e, "nosuch=10.0.0.1/24");
  EXPECT_HAS(e, "no port named 'nosuch'");
  EXPECT_HAS(e, "a, up1, up2");
  e = error_of({"--interface", "a"});
  EXPECT_HAS(e, "--interface 'a'");
  EXPECT_HAS(e, "missing '='");
  e = error_of({"--interface", "a=10.0.0.1"});
  EXPECT_HAS(e, "'10.0.0.1' is not ADDR/LEN");
  e = error_of({"--interface", "a=10.0.0.300/24"});
  EXPECT_HAS(e, "10.0.0.300/24");
  e = error_of({"--interface", "a=10.0.0.1/32"});
  EXPECT_HAS(e, "10.0.0.1/32");
  EXPECT_HAS(e, "1..31");
  e = error_of({"--interface", "a=10.0.0.1/24", "--interface", "up1=10.0.0.2/24"});
  EXPECT_HAS(e, "overlaps");
}

TEST(SwitchL3Options, MalformedRoutesAreNamed) {
  auto e = error_of(routed({"--route", "10.0.0.1/24=10.1.1.1"}));
  EXPECT_HAS(e, "'10.0.0.1/24'");
  EXPECT_HAS(e, "host bits");
  e = error_of(routed({"--route", "10.2.0.0/16"}));
  EXPECT_HAS(e, "--route '10.2.0.0/16'");
  EXPECT_HAS(e, "missing '='");
  e = error_of(routed({"--route", "10.2.0.0/16=10.1.1.1,gateway"}));
  EXPECT_HAS(e, "next hop 'gateway' is not an IPv4 address");
  e = error_of(routed({"--route", "10.2.0.0/16=10.9.9.9"}));
  EXPECT_HAS(e, "10.9.9.9");
  EXPECT_HAS(e, "not on any interface's subnet");
  e = error_of(routed({"--route", "10.2.0.0/16="}));
  EXPECT_HAS(e, "10.2.0.0/16");
  EXPECT_HAS(e, "no next hop");
  e = error_of({"--route", "10.2.0.0/16=10.1.1.1"});
  EXPECT_HAS(e, "10.1.1.1");
  EXPECT_HAS(e, "interfaces: (none)");
}

TEST(SwitchL3Options, MalformedShapesAreNamed) {
  auto e = error_of({"--shape", "a=10Xbps"});
  EXPECT_HAS(e, "10Xbps");
  EXPECT_HAS(e, "not a bit rate");
  e = error_of({"--shape", "a=1Gbps,depth=0"});
  EXPECT_HAS(e, "depth=0");
  EXPECT_HAS(e, "1..65536");
  e = error_of({"--shape", "nosuch=1Gbps"});
  EXPECT_HAS(e, "no port named 'nosuch'");
  e = error_of({"--shape", "a=1Gbps,color=blue"});
  EXPECT_HAS(e, "unknown option 'color=blue'");
  e = error_of({"--shape", "a=1Gbps,ecn=maybe"});
  EXPECT_HAS(e, "ecn=maybe");
  e = error_of({"--shape", "a"});
  EXPECT_HAS(e, "--shape 'a'");
  e = error_of({"--shape", "a="});
  EXPECT_HAS(e, "--shape 'a='");
  e = error_of({"--shape", "a=5Tbps"});
  EXPECT_HAS(e, "5Tbps");
}

TEST(SwitchL3Options, ArpTimeoutOutOfRangeIsNamed) {
  auto e = error_of({"--arp-timeout", "0"});
  EXPECT_HAS(e, "--arp-timeout");
  EXPECT_HAS(e, "0.01..3600");
  e = error_of({"--arp-timeout", "7200"});
  EXPECT_HAS(e, "7200");
}

TEST(BitRate, UnitsAndRejections) {
  EXPECT_EQ(parse_bit_rate("10Gbps", "--x"), 10'000'000'000ULL);
  EXPECT_EQ(parse_bit_rate("2.5e9", "--x"), 2'500'000'000ULL);
  EXPECT_EQ(parse_bit_rate("100Kbps", "--x"), 100'000ULL);
  EXPECT_EQ(parse_bit_rate("line", "--x"), 0u);
  for (const char* bad : {"", "fast", "10 Gbps", "-1Gbps", "Gbps", "1bps", "1e20"}) {
    std::string msg;
    try {
      parse_bit_rate(bad, "--x");
    } catch (const UsageError& e) {
      msg = e.what();
    }
    EXPECT_HAS(msg, "--x '" + std::string(bad) + "'");
  }
}

}  // namespace
}  // namespace spray::app
