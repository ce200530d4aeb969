// SPDX-License-Identifier: BSD-3-Clause
// L3Router: ARP, forwarding, TTL and ICMP errors, ECMP, packets to the
// router, neighbor table limits, adopt() and the counter identity. Frames are
// built with lib/wire and time is an argument, so every case is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <span>
#include <vector>

#include "common/frames.h"
#include "tor/l3_router.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/frame.h"
#include "wire/icmp.h"

// Every allocation in this test binary is counted, so a test can assert that
// the data path makes none (the table is sized at construction).
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// GCC pairs a malloc'd pointer with the free in these replacements and warns
// of a mismatch; they are the matching pair, so the warning is off for them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace spray::tor {
namespace {

using Frame = std::vector<std::uint8_t>;

constexpr std::uint64_t kMs = 1'000'000ULL;
constexpr std::uint64_t kSec = 1'000'000'000ULL;
constexpr std::uint64_t kT0 = 5 * kSec;  // a start time other than zero

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}
wire::Mac port_mac(unsigned p) { return wire::Mac{0x02aa'0000'0000ULL | p}; }
wire::Mac host_mac(unsigned n) { return wire::Mac{0x0200'0000'0000ULL | n}; }

// Host side: port 0, 10.0.0.1/24. Uplinks: port k (1..uplinks) is
// 10.1.k.0/31 with its neighbor at 10.1.k.1 (MAC host_mac(100 + k)).
constexpr std::uint32_t kHostIf = ip(10, 0, 0, 1);
constexpr std::uint32_t kHost = ip(10, 0, 0, 2);
constexpr std::uint32_t kRemote = ip(10, 2, 0, 7);  // behind the uplinks (10.2.0.0/16)
std::uint32_t uplink_if(unsigned k) { return ip(10, 1, k, 0); }
std::uint32_t uplink_nh(unsigned k) { return ip(10, 1, k, 1); }
wire::Mac nh_mac(unsigned k) { return host_mac(100 + k); }

L3Config fabric(unsigned uplinks, unsigned route_ways) {
  L3Config c;
  c.interfaces.push_back({0, {kHostIf, 24}, port_mac(0)});
  for (unsigned k = 1; k <= uplinks; ++k) c.interfaces.push_back({static_cast<PortId>(k), {uplink_if(k), 31}, port_mac(k)});
  L3Route r;
  r.prefix = {ip(10, 2, 0, 0), 16};
  for (unsigned k = 1; k <= route_ways; ++k) r.next_hops.push_back(uplink_nh(k));
  if (route_ways) c.routes.push_back(r);
  c.ecmp_seed = 42;
  return c;
}

// Ethernet/IPv4/UDP with a recognisable payload.
Frame udp(wire::Mac dst_mac, std::uint32_t src, std::uint32_t dst, std::uint16_t sport = 49152,
          std::uint8_t ttl = 64, wire::Mac src_mac = host_mac(2)) {
  wire::UdpFlow fl;
  fl.src_mac = src_mac;
  fl.dst_mac = dst_mac;
  fl.src_ip = src;
  fl.dst_ip = dst;
  fl.dst_port = 4791;
  fl.ttl = ttl;
  const std::size_t hdr = wire::UdpFrameTemplate(fl).header_len();
  Frame payload(32);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>((hdr + i) * 7);
  Frame f = spray::test::udp_frame(fl, sport, payload);
  EXPECT_EQ(f.size(), hdr + payload.size());
  return f;
}

// Ethernet/IPv4/ICMP of `type` with 8 bytes of data.
Frame icmp(wire::Mac dst_mac, std::uint32_t src, std::uint32_t dst, std::uint8_t type,
           std::uint8_t ttl = 64) {
  const std::uint8_t data[8] = {8, 9, 10, 11, 12, 13, 14, 15};
  return spray::test::icmp_frame({.dst_mac = dst_mac,
                                  .src_mac = host_mac(2),
                                  .src_ip = src,
                                  .dst_ip = dst,
                                  .type = type,
                                  .id = 0x1234,
                                  .seq = 0x0001,
                                  .ttl = ttl},
                                 data);
}

using spray::test::arp_reply;
using spray::test::arp_request;

L3Decision send(L3Router& r, PortId in, Frame& f, std::uint64_t now) {
  const std::span<std::uint8_t> frames[1] = {f};
  L3Decision d[1];
  r.process_burst(in, frames, d, now);
  return d[0];
}

struct Sent {
  PortId port;
  Frame bytes;
};
std::vector<Sent> drain(L3Router& r) {
  std::vector<Sent> out;
  std::uint8_t buf[L3Router::kGeneratedMax];
  PortId port = 0;
  while (std::size_t n = r.take_generated(buf, port)) out.push_back({port, Frame(buf, buf + n)});
  return out;
}

wire::FrameInfo parsed(const Frame& f) {
  wire::FrameInfo info;
  EXPECT_EQ(wire::parse_frame(f, info), wire::WireError::kOk);
  return info;
}

// tick() asks for every configured next hop; answer them all.
void resolve_uplinks(L3Router& r, unsigned uplinks, std::uint64_t now) {
  r.tick(now);
  for (const Sent& s : drain(r)) {
    const auto a = parsed(s.bytes).arp;
    ASSERT_EQ(a.op, wire::ArpOp::kRequest);
    const unsigned k = s.port;
    ASSERT_EQ(a.tpa, uplink_nh(k));
    Frame reply = arp_reply(nh_mac(k), uplink_nh(k), port_mac(k), uplink_if(k));
    ASSERT_EQ(send(r, s.port, reply, now).action, L3Action::kConsumed);
  }
  for (unsigned k = 1; k <= uplinks; ++k) ASSERT_TRUE(r.is_routed(static_cast<PortId>(k)));
}

bool has_neighbor(const L3Router& r, std::uint32_t addr, wire::Mac* mac = nullptr) {
  bool found = false;
  r.for_each_neighbor(kT0, [&](const NeighborRecord& n) {
    if (n.ip == addr && n.resolved) {
      found = true;
      if (mac) *mac = n.mac;
    }
  });
  return found;
}

// ---- ARP ----

TEST(L3RouterArp, RequestForOurAddressIsAnsweredInPlaceAndTheRequesterLearned) {
  L3Router r(fabric(1, 1), 2);
  Frame f = arp_request(host_mac(2), kHost, kHostIf);
  const L3Decision d = send(r, 0, f, kT0);
  ASSERT_EQ(d.action, L3Action::kReply);
  EXPECT_EQ(d.port, 0);
  const auto info = parsed(f);
  EXPECT_EQ(info.eth.dst, host_mac(2));
  EXPECT_EQ(info.eth.src, port_mac(0));
  EXPECT_EQ(info.arp.op, wire::ArpOp::kReply);
  EXPECT_EQ(info.arp.sha, port_mac(0));
  EXPECT_EQ(info.arp.spa, kHostIf);
  EXPECT_EQ(info.arp.tha, host_mac(2));
  EXPECT_EQ(info.arp.tpa, kHost);
  wire::Mac learned;
  ASSERT_TRUE(has_neighbor(r, kHost, &learned));
  EXPECT_EQ(learned, host_mac(2));
  EXPECT_EQ(r.snapshot()[L3Counter::kArpRequestsAnswered], 1u);
}

TEST(L3RouterArp, RequestForAnotherAddressIsDroppedAndLearnsNothing) {
  L3Router r(fabric(1, 1), 2);
  Frame f = arp_request(host_mac(2), kHost, ip(10, 0, 0, 3));
  const L3Decision d = send(r, 0, f, kT0);
  EXPECT_EQ(d.action, L3Action::kDrop);
  EXPECT_EQ(d.drop, L3Drop::kBadArp);
  EXPECT_EQ(r.snapshot().neighbors, 0u);
  EXPECT_TRUE(drain(r).empty());
}

TEST(L3RouterArp, UnsolicitedReplyCreatesNoEntry) {
  L3Router r(fabric(1, 1), 2);
  Frame f = arp_reply(host_mac(9), ip(10, 0, 0, 9), port_mac(0), kHostIf);
  EXPECT_EQ(send(r, 0, f, kT0).action, L3Action::kConsumed);
  EXPECT_EQ(r.snapshot().neighbors, 0u);
  EXPECT_FALSE(has_neighbor(r, ip(10, 0, 0, 9)));
  EXPECT_EQ(r.snapshot()[L3Counter::kArpRepliesIgnored], 1u);
  // Traffic to it still needs a resolution of its own.
  Frame u = udp(port_mac(1), uplink_nh(1), ip(10, 0, 0, 9), 1, 64, nh_mac(1));
  EXPECT_EQ(send(r, 1, u, kT0).drop, L3Drop::kNeighborUnresolved);
}

TEST(L3RouterArp, ConfiguredNextHopsAreAskedForAtTheRetryPaceUntilTheyAnswer) {
  L3Config c = fabric(2, 2);
  c.arp_retry_ns = 100 * kMs;
  L3Router r(c, 3);
  r.tick(kT0);
  auto first = drain(r);
  ASSERT_EQ(first.size(), 2u);
  std::map<PortId, std::uint32_t> asked;
  for (const Sent& s : first) {
    const auto info = parsed(s.bytes);
    EXPECT_TRUE(info.eth.dst.is_broadcast());
    EXPECT_EQ(info.eth.src, port_mac(s.port));
    EXPECT_EQ(info.arp.op, wire::ArpOp::kRequest);
    EXPECT_EQ(info.arp.spa, uplink_if(s.port));
    EXPECT_EQ(info.arp.sha, port_mac(s.port));
    asked[s.port] = info.arp.tpa;
  }
  EXPECT_EQ(asked, (std::map<PortId, std::uint32_t>{{1, uplink_nh(1)}, {2, uplink_nh(2)}}));

  // Not again before the retry interval, however often tick() runs.
  for (std::uint64_t t = kT0; t < kT0 + c.arp_retry_ns; t += kMs) r.tick(t);
  EXPECT_TRUE(drain(r).empty());
  r.tick(kT0 + c.arp_retry_ns);
  EXPECT_EQ(drain(r).size(), 2u);

  // Next hop 1 answers: only 2 is asked for afterwards, and 1 forwards.
  Frame reply = arp_reply(nh_mac(1), uplink_nh(1), port_mac(1), uplink_if(1));
  EXPECT_EQ(send(r, 1, reply, kT0 + c.arp_retry_ns + 1).action, L3Action::kConsumed);
  EXPECT_EQ(r.snapshot()[L3Counter::kArpRepliesLearned], 1u);
  r.tick(kT0 + 2 * c.arp_retry_ns);
  const auto again = drain(r);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].port, 2);
  EXPECT_EQ(parsed(again[0].bytes).arp.tpa, uplink_nh(2));
}

// ---- forwarding ----

TEST(L3RouterForward, RewritesMacsDecrementsTtlAndKeepsTheChecksumValid) {
  L3Router r(fabric(1, 1), 2);
  resolve_uplinks(r, 1, kT0);
  Frame f = udp(port_mac(0), kHost, kRemote, 50000, 64);
  const Frame before = f;
  const L3Decision d = send(r, 0, f, kT0);
  ASSERT_EQ(d.action, L3Action::kForward);
  EXPECT_EQ(d.port, 1);
  const std::size_t l3 = wire::kEthHdrLen;
  EXPECT_EQ(wire::Mac::load(f.data()), nh_mac(1));
  EXPECT_EQ(wire::Mac::load(f.data() + 6), port_mac(1));
  EXPECT_EQ(f[l3 + wire::kIpv4OffTtl], 63);
  EXPECT_TRUE(wire::checksum_ok(std::span(f).subspan(l3, wire::kIpv4MinHdrLen)));
  // Only TTL and checksum change in the IP header; nothing after it changes.
  for (std::size_t i = l3; i < l3 + wire::kIpv4MinHdrLen; ++i)
    if (i != l3 + wire::kIpv4OffTtl && i != l3 + wire::kIpv4OffCsum && i != l3 + wire::kIpv4OffCsum + 1) {
      EXPECT_EQ(f[i], before[i]) << "IP header byte " << (i - l3);
    }
  EXPECT_TRUE(std::equal(f.begin() + l3 + wire::kIpv4MinHdrLen, f.end(), before.begin() + l3 + wire::kIpv4MinHdrLen));
  EXPECT_EQ(parsed(f).payload_len, 32u);  // the UDP checksum is 0: parse_frame accepts it
  EXPECT_EQ(r.snapshot()[L3Counter::kForwarded], 1u);
}

TEST(L3RouterForward, UnresolvedNextHopDropsAndAsksForIt) {
  L3Router r(fabric(1, 1), 2);
  Frame f = udp(port_mac(0), kHost, kRemote);
  const L3Decision d = send(r, 0, f, kT0);
  EXPECT_EQ(d.action, L3Action::kDrop);
  EXPECT_EQ(d.drop, L3Drop::kNeighborUnresolved);
  const auto gen = drain(r);
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0].port, 1);
  EXPECT_EQ(parsed(gen[0].bytes).arp.tpa, uplink_nh(1));
}

TEST(L3RouterForward, UnresolvedHostOnAConnectedSubnetDropsAndAsksForIt) {
  L3Router r(fabric(1, 1), 2);
  Frame f = udp(port_mac(1), uplink_nh(1), kHost, 1, 64, nh_mac(1));
  EXPECT_EQ(send(r, 1, f, kT0).drop, L3Drop::kNeighborUnresolved);
  const auto gen = drain(r);
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0].port, 0);
  EXPECT_EQ(parsed(gen[0].bytes).arp.tpa, kHost);
  // The answer resolves it and the next packet goes through.
  Frame reply = arp_reply(host_mac(2), kHost, port_mac(0), kHostIf);
  EXPECT_EQ(send(r, 0, reply, kT0 + 1).action, L3Action::kConsumed);
  Frame g = udp(port_mac(1), uplink_nh(1), kHost, 1, 64, nh_mac(1));
  const L3Decision d = send(r, 1, g, kT0 + 2);
  EXPECT_EQ(d.action, L3Action::kForward);
  EXPECT_EQ(d.port, 0);
  EXPECT_EQ(wire::Mac::load(g.data()), host_mac(2));
}

// ---- TTL and ICMP errors ----

TEST(L3RouterIcmp, TtlOneIsDroppedWithOneTimeExceededToTheSource) {
  L3Router r(fabric(1, 1), 2);
  resolve_uplinks(r, 1, kT0);
  Frame f = udp(port_mac(0), kHost, kRemote, 50000, 1);
  const Frame before = f;
  const L3Decision d = send(r, 0, f, kT0);
  EXPECT_EQ(d.action, L3Action::kDrop);
  EXPECT_EQ(d.drop, L3Drop::kTtlExceeded);
  const auto gen = drain(r);
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0].port, 0);
  const auto info = parsed(gen[0].bytes);
  EXPECT_EQ(info.eth.dst, host_mac(2));
  EXPECT_EQ(info.eth.src, port_mac(0));
  EXPECT_EQ(info.src_ip, kHostIf);
  EXPECT_EQ(info.dst_ip, kHost);
  ASSERT_EQ(info.ip_proto, wire::kIpProtoIcmp);
  const auto msg = std::span<const std::uint8_t>(gen[0].bytes).subspan(info.l4_offset, info.payload_len);
  wire::IcmpView v;
  ASSERT_EQ(wire::parse_icmp(msg, v), wire::WireError::kOk);
  EXPECT_EQ(v.type, wire::kIcmpTimeExceeded);
  EXPECT_EQ(v.code, wire::kIcmpTtlExceeded);
  // The quote is the header as received (TTL 1) and 8 bytes beyond it.
  ASSERT_EQ(msg.size(), wire::kIcmpHdrLen + wire::kIpv4MinHdrLen + 8);
  EXPECT_TRUE(std::equal(msg.begin() + wire::kIcmpHdrLen, msg.end(), before.begin() + wire::kEthHdrLen));
  EXPECT_EQ(r.snapshot()[L3Counter::kIcmpErrorsSent], 1u);
}

TEST(L3RouterIcmp, NoRouteIsAnsweredWithNetUnreachable) {
  L3Router r(fabric(1, 1), 2);
  Frame f = udp(port_mac(0), kHost, ip(192, 0, 2, 1));
  EXPECT_EQ(send(r, 0, f, kT0).drop, L3Drop::kNoRoute);
  const auto gen = drain(r);
  ASSERT_EQ(gen.size(), 1u);
  const auto info = parsed(gen[0].bytes);
  EXPECT_EQ(info.dst_ip, kHost);
  wire::IcmpView v;
  ASSERT_EQ(wire::parse_icmp(std::span<const std::uint8_t>(gen[0].bytes).subspan(info.l4_offset, info.payload_len), v),
            wire::WireError::kOk);
  EXPECT_EQ(v.type, wire::kIcmpDestUnreachable);
  EXPECT_EQ(v.code, wire::kIcmpNetUnreachable);
}

TEST(L3RouterIcmp, ErrorsAreRateLimitedByTheTokenBucket) {
  L3Config c = fabric(1, 1);
  c.icmp_errors_per_s = 10;
  c.icmp_burst = 10;
  L3Router r(c, 2);
  auto burst_of_expired = [&](std::uint64_t now) {
    std::size_t sent = 0;
    for (int i = 0; i < 100; ++i) {
      Frame f = udp(port_mac(0), kHost, kRemote, static_cast<std::uint16_t>(1000 + i), 1);
      EXPECT_EQ(send(r, 0, f, now).drop, L3Drop::kTtlExceeded);
      sent += drain(r).size();
    }
    return sent;
  };
  EXPECT_EQ(burst_of_expired(kT0), 10u);
  EXPECT_EQ(r.snapshot()[L3Counter::kIcmpRateLimited], 90u);
  EXPECT_EQ(burst_of_expired(kT0), 0u);                 // the same instant: nothing left
  EXPECT_EQ(burst_of_expired(kT0 + 300 * kMs), 3u);     // 0.3 s at 10/s
  EXPECT_EQ(burst_of_expired(kT0 + 10 * kSec), 10u);    // refilled, capped at the burst
}

TEST(L3RouterIcmp, NoErrorAboutAnIcmpError) {
  L3Router r(fabric(1, 1), 2);
  Frame expired = icmp(port_mac(0), kHost, kRemote, wire::kIcmpDestUnreachable, 1);
  EXPECT_EQ(send(r, 0, expired, kT0).drop, L3Drop::kTtlExceeded);
  Frame unroutable = icmp(port_mac(0), kHost, ip(192, 0, 2, 1), wire::kIcmpTimeExceeded);
  EXPECT_EQ(send(r, 0, unroutable, kT0).drop, L3Drop::kNoRoute);
  EXPECT_TRUE(drain(r).empty());
  EXPECT_EQ(r.snapshot()[L3Counter::kIcmpErrorsSent], 0u);
  // An echo request that expires is not an error: it gets one.
  Frame ping = icmp(port_mac(0), kHost, kRemote, wire::kIcmpEchoRequest, 1);
  EXPECT_EQ(send(r, 0, ping, kT0).drop, L3Drop::kTtlExceeded);
  EXPECT_EQ(drain(r).size(), 1u);
}

// ---- ECMP ----

class L3RouterEcmp : public ::testing::Test {
 protected:
  static constexpr unsigned kWays = 8;
  static constexpr std::size_t kFlows = 4096;
  void SetUp() override { resolve_uplinks(r, kWays, kT0); }

  // The egress port of each flow (UDP source ports 49152..), as process_burst
  // decides; every flow must be forwarded.
  std::vector<PortId> egress_of_flows(std::uint64_t now) {
    std::vector<PortId> out;
    for (std::size_t i = 0; i < kFlows; ++i) {
      Frame f = udp(port_mac(0), kHost, kRemote, static_cast<std::uint16_t>(49152 + i));
      const L3Decision d = send(r, 0, f, now);
      EXPECT_EQ(d.action, L3Action::kForward) << "flow " << i;
      EXPECT_EQ(wire::Mac::load(f.data()), nh_mac(d.port)) << "flow " << i;
      EXPECT_EQ(r.egress_for(kHost, kRemote, wire::kIpProtoUdp, static_cast<std::uint16_t>(49152 + i), 4791),
                static_cast<int>(d.port))
          << "flow " << i;
      out.push_back(d.port);
    }
    return out;
  }

  L3Router r{fabric(kWays, kWays), kWays + 1};
};

TEST_F(L3RouterEcmp, FlowsDifferingInSourcePortSpreadOverAllNextHops) {
  const auto ports = egress_of_flows(kT0);
  std::map<PortId, std::size_t> per_port;
  for (PortId p : ports) ++per_port[p];
  ASSERT_EQ(per_port.size(), kWays);
  for (const auto& [port, n] : per_port) {
    EXPECT_GE(port, 1);
    EXPECT_LE(port, kWays);
    EXPECT_GE(n, 384u) << "port " << port;  // 512 +- 25%
    EXPECT_LE(n, 640u) << "port " << port;
  }
  EXPECT_EQ(r.snapshot()[L3Counter::kEcmpForwarded], kFlows);
}

TEST_F(L3RouterEcmp, LinkDownMovesOnlyTheFailedMembersFlowsAndLinkUpRestoresThem) {
  const auto before = egress_of_flows(kT0);
  constexpr PortId kFailed = 3;
  r.set_port_link(kFailed, false);
  const auto during = egress_of_flows(kT0 + 1);
  std::size_t moved = 0, kept = 0, others_moved = 0;
  for (std::size_t i = 0; i < kFlows; ++i) {
    EXPECT_NE(during[i], kFailed) << "flow " << i;
    if (before[i] == kFailed) {
      ++moved;
    } else if (during[i] == before[i]) {
      ++kept;
    } else {
      ++others_moved;
    }
  }
  EXPECT_GT(moved, 0u);
  EXPECT_EQ(others_moved, 0u) << "flows on healthy next hops changed port (" << kept << " kept)";
  // The failed member's flows spread over the rest, not onto one port.
  std::map<PortId, std::size_t> moved_to;
  for (std::size_t i = 0; i < kFlows; ++i)
    if (before[i] == kFailed) ++moved_to[during[i]];
  EXPECT_GE(moved_to.size(), kWays - 2);
  r.set_port_link(kFailed, true);
  EXPECT_EQ(egress_of_flows(kT0 + 2), before);
}

// ---- packets to the router and malformed ones ----

TEST(L3RouterLocal, EchoToTheInterfaceAddressIsAnswered) {
  L3Router r(fabric(1, 1), 2);
  Frame f = icmp(port_mac(0), kHost, kHostIf, wire::kIcmpEchoRequest);
  const L3Decision d = send(r, 0, f, kT0);
  ASSERT_EQ(d.action, L3Action::kReply);
  EXPECT_EQ(d.port, 0);
  const auto info = parsed(f);
  EXPECT_EQ(info.eth.dst, host_mac(2));
  EXPECT_EQ(info.eth.src, port_mac(0));
  EXPECT_EQ(info.src_ip, kHostIf);
  EXPECT_EQ(info.dst_ip, kHost);
  wire::IcmpView v;
  ASSERT_EQ(wire::parse_icmp(std::span<const std::uint8_t>(f).subspan(info.l4_offset, info.payload_len), v),
            wire::WireError::kOk);
  EXPECT_EQ(v.type, wire::kIcmpEchoReply);
  EXPECT_EQ(v.rest, 0x12340001u);
  EXPECT_EQ(r.snapshot()[L3Counter::kIcmpEchoAnswered], 1u);
}

TEST(L3RouterLocal, OtherTrafficToTheRouterIsDropped) {
  L3Router r(fabric(1, 1), 2);
  Frame f = udp(port_mac(0), kHost, kHostIf);
  EXPECT_EQ(send(r, 0, f, kT0).drop, L3Drop::kToRouter);
  Frame g = udp(port_mac(0), kHost, uplink_if(1));  // another interface's address
  EXPECT_EQ(send(r, 0, g, kT0).drop, L3Drop::kToRouter);
  EXPECT_TRUE(drain(r).empty());
}

TEST(L3RouterLocal, MartiansAreDropped) {
  L3Router r(fabric(1, 1), 2);
  resolve_uplinks(r, 1, kT0);
  for (auto [src, dst] : {std::pair{kHost, ip(224, 0, 0, 1)}, std::pair{ip(127, 0, 0, 1), kRemote},
                          std::pair{kHost, ip(255, 255, 255, 255)}, std::pair{kHost, ip(10, 0, 0, 255)}}) {
    Frame f = udp(port_mac(0), src, dst);
    const L3Decision d = send(r, 0, f, kT0);
    EXPECT_EQ(d.action, L3Action::kDrop) << wire::format_ipv4(src) << " -> " << wire::format_ipv4(dst);
    EXPECT_EQ(d.drop, L3Drop::kMartian) << wire::format_ipv4(src) << " -> " << wire::format_ipv4(dst);
  }
  EXPECT_TRUE(drain(r).empty());
}

TEST(L3RouterLocal, TaggedWrongMacAndBadChecksumAreDropped) {
  L3Router r(fabric(1, 1), 2);
  resolve_uplinks(r, 1, kT0);
  Frame tagged = udp(port_mac(0), kHost, kRemote);
  tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 0x0a});
  EXPECT_EQ(send(r, 0, tagged, kT0).drop, L3Drop::kTagged);
  Frame stranger = udp(host_mac(77), kHost, kRemote);
  EXPECT_EQ(send(r, 0, stranger, kT0).drop, L3Drop::kNotForUs);
  Frame bad = udp(port_mac(0), kHost, kRemote);
  bad[wire::kEthHdrLen + wire::kIpv4OffCsum] ^= 0x01;
  EXPECT_EQ(send(r, 0, bad, kT0).drop, L3Drop::kBadIpChecksum);
  Frame broadcast_ip = udp(wire::Mac::broadcast(), kHost, kRemote);
  EXPECT_EQ(send(r, 0, broadcast_ip, kT0).drop, L3Drop::kNotForUs);
  EXPECT_EQ(r.snapshot()[L3Counter::kForwarded], 0u);
}

// ---- neighbor table ----

TEST(L3RouterNeighbors, ScanOfAConnectedSubnetCannotGrowTheTable) {
  L3Config c;
  c.interfaces.push_back({0, {kHostIf, 24}, port_mac(0)});
  c.interfaces.push_back({1, {ip(10, 3, 0, 1), 16}, port_mac(1)});
  c.neighbor_capacity = 16;
  L3Router r(c, 2);
  std::vector<Frame> frames;
  for (unsigned i = 0; i < 1000; ++i)
    frames.push_back(udp(port_mac(0), kHost, ip(10, 3, 1 + i / 250, 1 + i % 250)));
  std::vector<std::span<std::uint8_t>> spans(frames.begin(), frames.end());
  std::vector<L3Decision> d(frames.size());
  const std::size_t allocations = g_allocations.load();
  for (std::size_t i = 0; i < spans.size(); i += 32) {
    const std::size_t n = std::min<std::size_t>(32, spans.size() - i);
    r.process_burst(0, std::span(spans).subspan(i, n), std::span(d).subspan(i, n), kT0 + i);
    r.tick(kT0 + i);
    std::uint8_t buf[L3Router::kGeneratedMax];
    PortId port;
    while (r.take_generated(buf, port)) {
    }
  }
  EXPECT_EQ(g_allocations.load(), allocations) << "the data path allocated";
  const auto s = r.snapshot();
  EXPECT_LE(s.neighbors, 16u);
  std::size_t listed = 0;
  r.for_each_neighbor(kT0, [&](const NeighborRecord&) { ++listed; });
  EXPECT_EQ(listed, s.neighbors);
  EXPECT_EQ(s[L3Drop::kNeighborUnresolved] + s[L3Drop::kNeighborTableFull], 1000u);
  EXPECT_EQ(s[L3Drop::kNeighborTableFull], 1000u - s.neighbors);
}

// ---- reload ----

TEST(L3RouterAdopt, NewRouterKeepsArpEntriesAndCounters) {
  const L3Config old_config = fabric(2, 1);
  L3Router old_router(old_config, 3);
  resolve_uplinks(old_router, 2, kT0);
  Frame f = udp(port_mac(0), kHost, kRemote);
  ASSERT_EQ(send(old_router, 0, f, kT0).action, L3Action::kForward);
  const L3Stats old_stats = old_router.snapshot();

  L3Config new_config = old_config;
  new_config.routes.push_back({{ip(10, 4, 0, 0), 16}, {uplink_nh(1)}});
  L3Router r(new_config, 3);
  r.adopt(old_router);
  EXPECT_EQ(r.snapshot()[L3Counter::kForwarded], old_stats[L3Counter::kForwarded]);
  EXPECT_EQ(r.snapshot()[L3Counter::kRxFrames], old_stats[L3Counter::kRxFrames]);
  EXPECT_EQ(r.snapshot()[L3Counter::kArpRepliesLearned], old_stats[L3Counter::kArpRepliesLearned]);

  for (std::uint32_t dst : {kRemote, ip(10, 4, 0, 9)}) {
    Frame g = udp(port_mac(0), kHost, dst);
    const L3Decision d = send(r, 0, g, kT0 + 1);
    EXPECT_EQ(d.action, L3Action::kForward) << wire::format_ipv4(dst);
    EXPECT_EQ(d.port, 1);
    EXPECT_EQ(wire::Mac::load(g.data()), nh_mac(1));
  }
  r.tick(kT0 + 2);
  EXPECT_TRUE(drain(r).empty()) << "resolved next hops were asked for again";
  EXPECT_EQ(r.snapshot()[L3Counter::kForwarded], old_stats[L3Counter::kForwarded] + 2);
}

// ---- accounting ----

TEST(L3RouterCounters, EveryFrameEndsInExactlyOneCounter) {
  L3Router r(fabric(2, 1), 3);
  resolve_uplinks(r, 1, kT0);  // next hop 1 resolved; 10.1.2.1 (port 2) not
  const L3Stats start = r.snapshot();
  std::vector<Frame> frames;
  frames.push_back(udp(port_mac(0), kHost, kRemote));                                   // forwarded
  frames.push_back(udp(port_mac(0), kHost, uplink_nh(2)));                              // unresolved
  frames.push_back(udp(port_mac(0), kHost, kRemote, 1, 1));                             // ttl
  frames.push_back(udp(port_mac(0), kHost, ip(192, 0, 2, 1)));                          // no route
  frames.push_back(udp(port_mac(0), kHost, ip(224, 0, 0, 5)));                          // martian
  frames.push_back(udp(host_mac(5), kHost, kRemote));                                   // not for us
  frames.push_back(udp(port_mac(0), kHost, kHostIf));                                   // to router
  frames.push_back(icmp(port_mac(0), kHost, kHostIf, wire::kIcmpEchoRequest));          // reply
  frames.push_back(arp_request(host_mac(2), kHost, kHostIf));                           // reply
  frames.push_back(arp_request(host_mac(3), ip(10, 0, 0, 3), ip(10, 0, 0, 4)));         // bad arp
  frames.push_back(arp_reply(host_mac(9), ip(10, 0, 0, 9), port_mac(0), kHostIf));      // consumed
  frames.push_back(Frame(10, 0));                                                       // truncated
  Frame ipv6 = udp(port_mac(0), kHost, kRemote);
  wire::store_be16(ipv6.data() + 12, 0x86dd);
  frames.push_back(ipv6);                                                               // ethertype
  std::vector<std::span<std::uint8_t>> spans(frames.begin(), frames.end());
  std::vector<L3Decision> d(frames.size());
  r.process_burst(0, spans, d, kT0 + 1);

  std::size_t forwarded = 0, replies = 0, consumed = 0, dropped = 0;
  for (const L3Decision& x : d) {
    forwarded += x.action == L3Action::kForward;
    replies += x.action == L3Action::kReply;
    consumed += x.action == L3Action::kConsumed;
    dropped += x.action == L3Action::kDrop;
  }
  EXPECT_EQ(forwarded, 1u);
  EXPECT_EQ(replies, 2u);
  EXPECT_EQ(consumed, 1u);
  EXPECT_EQ(dropped, frames.size() - 4);

  const L3Stats s = r.snapshot();
  auto delta = [&](auto which) { return s[which] - start[which]; };
  std::uint64_t drops = 0;
  for (std::size_t i = 0; i < kL3DropCount; ++i) drops += s.drops[i] - start.drops[i];
  EXPECT_EQ(drops, dropped);
  EXPECT_EQ(delta(L3Counter::kForwarded), forwarded);
  EXPECT_EQ(delta(L3Counter::kArpRequestsAnswered) + delta(L3Counter::kIcmpEchoAnswered), replies);
  const std::uint64_t ended = drops + delta(L3Counter::kForwarded) + delta(L3Counter::kArpRequestsAnswered) +
                              delta(L3Counter::kIcmpEchoAnswered) + delta(L3Counter::kArpRepliesLearned) +
                              delta(L3Counter::kArpRepliesIgnored);
  EXPECT_EQ(ended, delta(L3Counter::kRxFrames));
  EXPECT_EQ(delta(L3Counter::kRxFrames), frames.size());
}

}  // namespace
}  // namespace spray::tor
