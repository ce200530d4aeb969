// SPDX-License-Identifier: BSD-3-Clause
// Each role's options as the command line gives them: valid inputs parse
// into the configuration the role runs with; a bad value is one UsageError
// naming the value and what is accepted (the texts test/smoke/bad_input.sh
// checks through the binary).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "demo_options.h"
#include "host_options.h"
#include "parse_helpers.h"
#include "switch_options.h"

namespace spray::app {
namespace {

GenOptions parse_gen(const std::vector<std::string>& args) {
  return test::parse_role(make_gen_parser, gen_options_from, args);
}

RespondOptions parse_respond(const std::vector<std::string>& args) {
  return test::parse_role(make_respond_parser, respond_options_from, args);
}

DemoOptions parse_demo(const std::vector<std::string>& args) {
  return test::parse_role(make_demo_parser, demo_options_from, args);
}

using test::parse_switch;
using test::usage_error;

// The error has one line and contains `needle`.
#define EXPECT_ERROR(call, needle)                                          \
  do {                                                                      \
    const std::string e = usage_error([&] { (void)call; });                 \
    EXPECT_NE(e, "") << "accepted";                                         \
    EXPECT_NE(e.find(needle), std::string::npos) << e;                      \
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;                        \
  } while (0)

const std::vector<std::string> kGen = {"--port", "p=net_null0", "--ip", "10.0.0.1/24"};

std::vector<std::string> gen_with(std::vector<std::string> extra) {
  auto args = kGen;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(GenOptions, ClosedLoopDefaults) {
  const GenOptions o = parse_gen(gen_with({"--peer", "10.0.0.2"}));
  ASSERT_EQ(o.host.hosts.size(), 1u);
  const auto& h = o.host.hosts[0];
  EXPECT_EQ(h.ip, wire::parse_ipv4_addr("10.0.0.1").value());
  EXPECT_EQ(h.prefix_len, 24);
  EXPECT_EQ(h.peer_ip, wire::parse_ipv4_addr("10.0.0.2").value());
  EXPECT_EQ(h.udp_port, dp::kSrdDefaultPort);
  EXPECT_EQ(h.src_port_base, dp::kSrdDefaultSrcBase);
  EXPECT_EQ(h.arp_timeout_ns, 3'000'000'000u);
  EXPECT_EQ(o.gen.peer.ip, h.peer_ip);
  EXPECT_EQ(o.gen.peer.port, h.udp_port);
  EXPECT_EQ(o.gen.load, traffic::LoadMode::kClosed);
  EXPECT_EQ(o.gen.connections, 1u);
  EXPECT_EQ(o.gen.outstanding, 1u);
  EXPECT_EQ(o.gen.request.text(), "64");
  EXPECT_FALSE(o.gen.reply);
  EXPECT_EQ(o.gen.warmup_ns, 1'000'000'000u);
  EXPECT_EQ(o.gen.duration_ns, 10'000'000'000u);
  EXPECT_TRUE(o.gen.reconnect);
  EXPECT_EQ(o.host.endpoint.paths, 16);
  EXPECT_EQ(o.host.endpoint.mtu, 1500);
  EXPECT_EQ(o.host.endpoint.link_rate_bps, 10'000'000'000u);
  EXPECT_FALSE(o.local_responder);
  EXPECT_TRUE(o.json_path.empty());
}

TEST(GenOptions, EveryOptionReachesTheConfig) {
  const GenOptions o = parse_gen(gen_with({"--peer", "10.0.1.2", "--gateway", "10.0.0.254", "--connections", "4",
                                           "--outstanding", "8", "--size", "64-1500", "--reply-size", "0",
                                           "--warmup", "0.5", "--duration", "2", "--count", "100", "--paths", "8",
                                           "--udp-port", "4791", "--src-port-base", "50000", "--mtu", "1200",
                                           "--seed", "7", "--reconnect", "off", "--json", "r.json", "--hdr",
                                           "r.hgrm", "--peer-mac", "02:00:00:00:00:02", "--arp-timeout", "0.25"}));
  const auto& h = o.host.hosts[0];
  EXPECT_EQ(h.gateway, wire::parse_ipv4_addr("10.0.0.254").value());
  EXPECT_EQ(h.udp_port, 4791);
  EXPECT_EQ(h.src_port_base, 50000);
  EXPECT_EQ(h.arp_timeout_ns, 250'000'000u);
  ASSERT_TRUE(h.peer_mac);
  EXPECT_EQ(h.peer_mac->str(), "02:00:00:00:00:02");
  EXPECT_EQ(o.gen.connections, 4u);
  EXPECT_EQ(o.gen.outstanding, 8u);
  EXPECT_EQ(o.gen.request.min(), 64u);
  EXPECT_EQ(o.gen.request.max(), 1500u);
  ASSERT_TRUE(o.gen.reply);
  EXPECT_EQ(o.gen.reply->max(), 0u);
  EXPECT_EQ(o.gen.warmup_ns, 500'000'000u);
  EXPECT_EQ(o.gen.duration_ns, 2'000'000'000u);
  EXPECT_EQ(o.gen.count, 100u);
  EXPECT_FALSE(o.gen.reconnect);
  EXPECT_EQ(o.gen.seed, 7u);
  EXPECT_EQ(o.host.endpoint.paths, 8);
  EXPECT_EQ(o.host.endpoint.mtu, 1200);
  EXPECT_EQ(o.host.endpoint.seed, 7u);
  EXPECT_EQ(o.json_path, "r.json");
  EXPECT_EQ(o.hdr_path, "r.hgrm");
}

TEST(GenOptions, OpenLoopRates) {
  const GenOptions msgs = parse_gen(gen_with({"--peer", "10.0.0.2", "--rate", "250000", "--poisson"}));
  EXPECT_EQ(msgs.gen.load, traffic::LoadMode::kOpen);
  EXPECT_EQ(msgs.gen.rate_msgs_per_s, 250000);
  EXPECT_TRUE(msgs.gen.poisson);
  EXPECT_EQ(msgs.rate_text, "250000");
  const GenOptions bits = parse_gen(gen_with({"--peer", "10.0.0.2", "--rate", "10Gbps", "--size", "1440"}));
  EXPECT_DOUBLE_EQ(bits.rate_gbps, 10);
  EXPECT_DOUBLE_EQ(bits.gen.rate_msgs_per_s, 10e9 / wire_bits_per_message(1440, 1440));
  const GenOptions share = parse_gen(gen_with({"--peer", "10.0.0.2", "--rate", "40%", "--link-rate", "25"}));
  EXPECT_DOUBLE_EQ(share.rate_percent, 40);
  EXPECT_DOUBLE_EQ(share.rate_gbps, 10);
}

TEST(GenOptions, LocalResponderBringsItsOwnHost) {
  const GenOptions o = parse_gen({"--local-responder", "--ip", "10.0.0.1/24", "--peer", "10.0.0.2"});
  EXPECT_TRUE(o.local_responder);
  ASSERT_EQ(o.host.hosts.size(), 2u);
  EXPECT_EQ(o.host.hosts[1].ip, o.gen.peer.ip);
  EXPECT_EQ(o.host.hosts[0].peer_ip, o.gen.peer.ip);
  EXPECT_TRUE(o.host.common.ports.empty());
}

TEST(GenOptions, BadValuesAreNamed) {
  EXPECT_ERROR(parse_gen(kGen), "needs --peer ADDR");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.300"})), "--peer '10.0.0.300': not an IPv4 address");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.1"})), "is this host's own address");
  EXPECT_ERROR(parse_gen({"--port", "p=net_null0", "--ip", "10.0.0.1", "--peer", "10.0.0.2"}),
               "--ip '10.0.0.1': expected ADDR/LEN");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--udp-port", "70000"})), "--udp-port 70000: expected 1..65535");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--udp-port", "49160"})),
               "--udp-port 49160 lies inside the source port range");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--paths", "0"})), "--paths 0: expected 1..256");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--size", "99999999"})),
               "--size '99999999': size 99999999 is outside 16..67108864");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--size", "8"})), "at least 16");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--rate", "fast"})), "--rate 'fast'");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--rate", "1000", "--outstanding", "4"})),
               "exclude each other");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--poisson"})), "--poisson shapes an open-loop --rate");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--reconnect", "maybe"})),
               "--reconnect 'maybe': expected on or off");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--peer-mac", "01:00:5e:00:00:01"})),
               "expected a unicast MAC");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--mtu", "9001"})), "--mtu 9001: expected 576..9000");
  EXPECT_ERROR(parse_gen(gen_with({"--peer", "10.0.0.2", "--mtu", "100"})), "--mtu 100: expected 576..9000");
  EXPECT_ERROR(parse_gen({"--ip", "10.0.0.1/24", "--peer", "10.0.0.2"}), "needs a port");
  EXPECT_ERROR(parse_gen({"--local-responder", "--port", "p=net_null0", "--ip", "10.0.0.1/24", "--peer", "10.0.0.2"}),
               "give no --port");
}

TEST(RespondOptions, OneHostPerPort) {
  const RespondOptions o = parse_respond({"--port", "p=net_null0", "--port", "q=net_null1", "--ip", "10.0.0.2/24",
                                          "--ip", "10.0.1.2/24", "--udp-port", "5000"});
  ASSERT_EQ(o.host.hosts.size(), 2u);
  EXPECT_EQ(o.host.hosts[0].ip, wire::parse_ipv4_addr("10.0.0.2").value());
  EXPECT_EQ(o.host.hosts[1].ip, wire::parse_ipv4_addr("10.0.1.2").value());
  EXPECT_EQ(o.host.hosts[1].udp_port, 5000);
  EXPECT_EQ(o.respond.reply_size, traffic::kEcho);
}

TEST(RespondOptions, ReplySizes) {
  const std::vector<std::string> one = {"--port", "p=net_null0", "--ip", "10.0.0.2/24", "--reply-size"};
  auto with = [&](const std::string& v) {
    auto args = one;
    args.push_back(v);
    return args;
  };
  EXPECT_EQ(parse_respond(with("echo")).respond.reply_size, traffic::kEcho);
  EXPECT_EQ(parse_respond(with("0")).respond.reply_size, 0u);
  EXPECT_EQ(parse_respond(with("4096")).respond.reply_size, 4096u);
  for (const char* bad : {"big", "8", "16777217", ""})
    EXPECT_ERROR(parse_respond(with(bad)),
                 "--reply-size '" + std::string(bad) + "': expected echo, 0 or a size in 16..16777216 bytes");
}

TEST(RespondOptions, BadValuesAreNamed) {
  EXPECT_ERROR(parse_respond({"--port", "p=net_null0", "--port", "q=net_null1", "--ip", "10.0.0.2/24"}),
               "give one address per port");
  EXPECT_ERROR(parse_respond({"--port", "p=net_null0"}), "needs --ip ADDR/LEN");
  EXPECT_ERROR(parse_respond({"--port", "p=net_null0", "--ip", "10.0.0.2/40"}), "--ip '10.0.0.2/40'");
  EXPECT_ERROR(parse_respond({"--port", "p=net_null0", "--ip", "10.0.0.2/24", "--link-rate", "0"}),
               "--link-rate 0");
  EXPECT_ERROR(parse_respond({"--port", "p=net_null0", "--ip", "10.0.0.2/24", "--mtu", "9001"}),
               "--mtu 9001: expected 576..9000");
}

// Jumbo frames: the MTU reaches the endpoint (payload MTU - 60) and the
// open-loop rate counts the packets a message takes at that MTU.
TEST(GenOptions, JumboMtuReachesTheEndpointAndTheRate) {
  const GenOptions o = parse_gen(gen_with({"--peer", "10.0.0.2", "--mtu", "9000", "--rate", "10Gbps",
                                           "--size", "8940"}));
  EXPECT_EQ(o.host.endpoint.mtu, 9000);
  EXPECT_EQ(o.host.endpoint.payload_per_pkt(), 8940u);
  // One packet per message at 9000 (it would be seven at 1500).
  EXPECT_DOUBLE_EQ(o.gen.rate_msgs_per_s, 10e9 / ((8940 + 98) * 8));
  EXPECT_EQ(parse_respond({"--port", "p=net_null0", "--ip", "10.0.0.2/24", "--mtu", "4000"}).host.endpoint.mtu,
            4000);
}

TEST(DemoOptions, DefaultsSplitTheDurationOverBothRuns) {
  const DemoOptions o = parse_demo({});
  EXPECT_EQ(o.duration_s, 20);
  EXPECT_TRUE(o.compare);
  EXPECT_EQ(o.run_seconds(), 10);
  EXPECT_DOUBLE_EQ(o.fail_at_s, 3.5);
  EXPECT_DOUBLE_EQ(o.fail_for_s, 3);
  EXPECT_EQ(o.spines, 4u);
  EXPECT_EQ(o.paths, 16);
  EXPECT_DOUBLE_EQ(o.loss, 0.01);
  EXPECT_EQ(o.connections, 2u);
  EXPECT_EQ(o.outstanding, 8u);
  EXPECT_EQ(o.request_bytes, 8192u);
  EXPECT_EQ(o.reply_bytes, 256u);
  EXPECT_EQ(o.fabric_rate_bps, 2'000'000'000u);
  EXPECT_EQ(o.mtu, 1500);
  EXPECT_FALSE(o.common.idle_given);
  EXPECT_TRUE(o.common.ports.empty());
}

TEST(DemoOptions, EveryOptionReachesTheConfig) {
  const DemoOptions o = parse_demo({"--duration", "6", "--compare", "no", "--spines", "3", "--paths", "32",
                                    "--loss", "0.05", "--fail-at", "1", "--fail-for", "0", "--connections", "4",
                                    "--outstanding", "16", "--size", "1024", "--reply-size", "0", "--seed", "9",
                                    "--json", "d.json", "--fabric-rate", "line", "--idle", "backoff", "--mtu",
                                    "9000"});
  EXPECT_FALSE(o.compare);
  EXPECT_EQ(o.run_seconds(), 6);
  EXPECT_EQ(o.spines, 3u);
  EXPECT_EQ(o.paths, 32);
  EXPECT_DOUBLE_EQ(o.loss, 0.05);
  EXPECT_EQ(o.fail_at_s, 1);
  EXPECT_EQ(o.fail_for_s, 0);
  EXPECT_EQ(o.connections, 4u);
  EXPECT_EQ(o.outstanding, 16u);
  EXPECT_EQ(o.request_bytes, 1024u);
  EXPECT_EQ(o.reply_bytes, 0u);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.json_path, "d.json");
  EXPECT_EQ(o.fabric_rate_bps, 0u);
  EXPECT_TRUE(o.common.idle_given);
  EXPECT_FALSE(o.common.idle_poll);
  EXPECT_EQ(o.mtu, 9000);
}

TEST(DemoOptions, BadValuesAreNamed) {
  EXPECT_ERROR(parse_demo({"--spines", "1"}), "--spines 1: expected a spine count in 2..16");
  EXPECT_ERROR(parse_demo({"--paths", "1"}), "--paths 1: expected a path count in 2..256");
  EXPECT_ERROR(parse_demo({"--loss", "2"}), "--loss 2: expected a loss fraction in 0..0.5");
  EXPECT_ERROR(parse_demo({"--duration", "10", "--fail-at", "100"}),
               "--fail-at 100: expected seconds in 0..5 (each run lasts 5 s: --duration 10 split over two runs)");
  EXPECT_ERROR(parse_demo({"--fail-for", "4000"}), "--fail-for 4000: expected seconds in 0..3600");
  EXPECT_ERROR(parse_demo({"--duration", "1"}), "--duration 1: expected seconds in 2..3600");
  EXPECT_ERROR(parse_demo({"--connections", "65"}), "--connections 65: expected a connection count in 1..64");
  EXPECT_ERROR(parse_demo({"--size", "32"}), "--size 32: expected bytes in 64..1048576");
  EXPECT_ERROR(parse_demo({"--port", "a=net_null0"}), "give no --port");
  EXPECT_ERROR(parse_demo({"--compare", "maybe"}), "--compare 'maybe': expected yes or no");
  EXPECT_ERROR(parse_demo({"--mtu", "9001"}), "--mtu 9001: expected an IP MTU in 576..9000");
  EXPECT_ERROR(parse_demo({"--mtu", "100"}), "--mtu 100: expected an IP MTU in 576..9000");
  EXPECT_ERROR(parse_demo({"--fabric-rate", "10Xbps"}), "--fabric-rate '10Xbps'");
}

TEST(SwitchOptions, TheRoleParserTakesTheSwitchOptions) {
  const SwitchOptions o = parse_switch({"--port", "a=net_null0", "--port", "b=net_null1", "--fdb-size", "100",
                                        "--ecmp-seed", "5", "--interface", "a=10.0.0.1/24", "--route",
                                        "10.2.0.0/16=10.0.0.2"});
  EXPECT_EQ(o.common.ports.size(), 2u);
  EXPECT_EQ(o.config.l2.fdb_capacity, 100u);
  EXPECT_TRUE(o.ecmp_seed_given);
  EXPECT_EQ(o.config.l3.ecmp_seed, 5u);
  ASSERT_EQ(o.config.l3.interfaces.size(), 1u);
  EXPECT_EQ(o.config.l3.routes.size(), 1u);
  EXPECT_ERROR(parse_switch({"--port", "a=net_null0"}), "needs at least two ports");
  EXPECT_ERROR(parse_switch({"--port", "a=net_null0", "--port", "b=net_null1", "--vlan", "a=access:4095"}),
               "VLAN '4095' is not in 1..4094");
}

}  // namespace
}  // namespace spray::app
