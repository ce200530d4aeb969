// SPDX-License-Identifier: BSD-3-Clause
// Arbitrary frames through an L3Router with three routed ports and one
// bridged port, routes including an 8-way ECMP group, ARP traffic from the
// input resolving (or confusing) its neighbors, link flaps and ticks.
// Beyond "no crash, no read past a frame's end" (the sanitizers' part),
// every burst is checked against the router's contract:
// - each frame gets exactly one decision and one count;
// - a forwarded frame leaves by a routed port that is up, from that port's
//   MAC, with TTL one less, a valid IPv4 header checksum and no other byte
//   changed but the MAC addresses;
// - replies go back on the ingress port and parse; only ARP is consumed;
// - every generated frame (ARP request, ICMP error) parses and is counted.
//
// Input: a sequence of records, each a control byte and a frame.
//   ctl bits 0-1  ingress port (3 is not routed)
//   ctl bit 2     close the current burst first (a port change closes it too)
//   ctl bits 3-4  time step before the frame: 0, 1 ms, 150 ms, 2.5 s
//   ctl bit 5     toggle the link of port (ctl >> 6) first
//   ctl bit 6     tick() first (ARP retries, refreshes, expiry)
//   ctl bit 7     compact frame: 3 bytes pick an ARP message or an IPv4
//                 packet from a table of the router's addresses, neighbors,
//                 routes and martians; otherwise a length byte and raw bytes.
#include <malloc.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "../wire/fuzz_check.h"
#include "common/frames.h"
#include "tor/l3_router.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/frame.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

using namespace spray;
using namespace spray::tor;

namespace {

using Frame = std::vector<std::uint8_t>;

constexpr std::size_t kPorts = 4;
constexpr std::uint64_t kMs = 1'000'000ULL;

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}
wire::Mac port_mac(unsigned p) { return wire::Mac{0x02aa'0000'0000ULL | p}; }
wire::Mac host_mac(unsigned n) { return wire::Mac{0x0200'0000'0000ULL | n}; }
// Port p (0..2) is 10.p.0.1/24; its hosts and next hops are 10.p.0.x.
std::uint32_t if_addr(unsigned p) { return ip(10, p, 0, 1); }
std::uint32_t on_port(unsigned p, unsigned x) { return ip(10, p, 0, x); }

L3Config config() {
  L3Config c;
  for (unsigned p = 0; p < 3; ++p) c.interfaces.push_back({static_cast<PortId>(p), {if_addr(p), 24}, port_mac(p)});
  L3Route ecmp;  // 8 ways over the two uplinks
  ecmp.prefix = {ip(10, 100, 0, 0), 16};
  for (unsigned x = 2; x <= 5; ++x) {
    ecmp.next_hops.push_back(on_port(1, x));
    ecmp.next_hops.push_back(on_port(2, x));
  }
  L3Route single;
  single.prefix = {ip(10, 200, 0, 0), 24};
  single.next_hops = {on_port(1, 2)};
  L3Route pair;  // next hops nobody answers for at first
  pair.prefix = {ip(172, 16, 0, 0), 12};
  pair.next_hops = {on_port(2, 9), on_port(1, 9)};
  c.routes = {ecmp, single, pair};
  c.ecmp_seed = 42;
  c.max_routes = 16;
  c.neighbor_capacity = 16;  // small, so the input can fill it
  c.arp_reachable_ns = 2'000 * kMs;
  c.arp_retry_ns = 100 * kMs;
  c.arp_tries = 3;
  c.icmp_errors_per_s = 100;
  c.icmp_burst = 5;
  return c;
}

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t u8() { return n ? (--n, *p++) : 0; }
};

using spray::test::arp_reply;
using spray::test::arp_request;

// Destinations: routed, connected, ours, unroutable and martian.
std::uint32_t destination(std::uint8_t b) {
  const unsigned x = b & 15;
  switch (b >> 4) {
    case 0: case 1: case 2: return ip(10, 100, b, 7);  // ECMP
    case 3: return ip(10, 200, 0, x);
    case 4: return ip(172, 16 + x, 3, 4);
    case 5: return on_port(0, x);
    case 6: return on_port(1, x);
    case 7: return on_port(2, x);
    case 8: return if_addr(x % 3);
    case 9: return ip(192, 0, 2, x);  // no route
    case 10: return ip(224, 0, 0, x);
    case 11: return ip(127, 0, 0, x);
    case 12: return on_port(x % 3, 255);  // directed broadcast
    case 13: return 0xffffffffu;
    case 14: return ip(0, 0, 0, x);
    default: return ip(10, 100, x, b);
  }
}

Frame ipv4_packet(unsigned in, std::uint8_t kind, std::uint8_t a, std::uint8_t b) {
  static constexpr std::uint8_t kTtls[] = {64, 1, 0, 2, 255, 64, 3, 64};
  const std::uint32_t src = (kind & 8) ? destination(a) : on_port(in, 2 + (a & 15));
  const std::uint32_t dst = destination(b);
  const std::uint8_t ttl = kTtls[(a >> 4) & 7];
  Frame f;
  if ((kind & 3) != 1) {
    wire::UdpFlow fl;
    fl.src_mac = host_mac(a & 15);
    fl.dst_mac = (a & 0x80) ? host_mac(b) : port_mac(in);
    fl.src_ip = src;
    fl.dst_ip = dst;
    fl.dst_port = 4791;
    fl.ttl = ttl;
    const wire::UdpFrameTemplate t(fl);
    f.assign(t.header_len() + 24, 0);
    for (std::size_t i = t.header_len(); i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7 + a);
    WIRE_FUZZ_CHECK(t.write(f, static_cast<std::uint16_t>(49152 + b), 24) == f.size());
  } else {  // ICMP echo request
    f.assign(wire::kEthHdrLen + wire::kIpv4MinHdrLen + 16, 0);
    wire::write_eth(f, port_mac(in), host_mac(a & 15), wire::kEtherTypeIpv4);
    wire::Ipv4Fields h;
    h.src = src;
    h.dst = dst;
    h.proto = wire::kIpProtoIcmp;
    h.ttl = ttl;
    wire::write_ipv4(std::span(f).subspan(wire::kEthHdrLen), h, 16);
    std::uint8_t* m = f.data() + wire::kEthHdrLen + wire::kIpv4MinHdrLen;
    m[0] = wire::kIcmpEchoRequest;
    wire::store_be32(m + 4, 0x12340000u | b);
    wire::store_be16(m + 2, wire::internet_checksum({m, 16}));
  }
  if (kind & 4) {  // a fragment: forwarded, but never hashed on ports nor answered with an error
    std::uint8_t* h = f.data() + wire::kEthHdrLen;
    wire::store_be16(h + wire::kIpv4OffFrag, wire::kIpv4FlagMf);
    wire::refresh_ipv4_checksum({h, wire::kIpv4MinHdrLen});
  }
  return f;
}

Frame compact_frame(unsigned in, Input& input) {
  const std::uint8_t kind = input.u8();
  const std::uint8_t a = input.u8();
  const std::uint8_t b = input.u8();
  const unsigned subnet = in < 3 ? in : b % 3;
  switch (kind >> 5) {
    case 0:  // a neighbor's reply, maybe from another subnet or to broadcast
      return arp_reply(host_mac(a), on_port((a & 0x80) ? b % 3 : subnet, 2 + (a & 15)),
                       (b & 0x80) ? wire::Mac::broadcast() : port_mac(in), if_addr(subnet));
    case 1:  // a host asking for us (or for someone else)
      return arp_request(host_mac(a), on_port(subnet, 2 + (a & 15)), (b & 1) ? if_addr(subnet) : destination(b));
    default:
      return ipv4_packet(in, kind, a, b);
  }
}

bool same_except_routed_bytes(const Frame& before, std::span<const std::uint8_t> after) {
  if (before.size() != after.size()) return false;
  constexpr std::size_t ttl = wire::kEthHdrLen + wire::kIpv4OffTtl;
  constexpr std::size_t csum = wire::kEthHdrLen + wire::kIpv4OffCsum;
  for (std::size_t i = 12; i < before.size(); ++i) {
    if (i == ttl || i == csum || i == csum + 1) continue;
    if (before[i] != after[i]) return false;
  }
  return true;
}

struct Fuzz {
  const L3Config cfg = config();
  L3Router r{cfg, kPorts};
  std::uint64_t now_ns = 10'000 * kMs;
  std::uint64_t offered = 0;
  std::array<bool, kPorts> link{true, true, true, true};

  // Every frame the router wants sent: parsed, on a routed port, counted.
  void drain(const L3Stats& before) {
    std::uint8_t buf[L3Router::kGeneratedMax];
    std::uint64_t taken = 0;
    PortId port = 0;
    while (const std::size_t n = r.take_generated(buf, port)) {
      ++taken;
      WIRE_FUZZ_CHECK(n <= sizeof buf);
      WIRE_FUZZ_CHECK(port < kPorts && r.is_routed(port));
      wire::FrameInfo info;
      WIRE_FUZZ_CHECK(wire::parse_frame({buf, n}, info) == wire::WireError::kOk);
      WIRE_FUZZ_CHECK(info.eth.src == port_mac(port));
      if (info.is_arp()) {
        WIRE_FUZZ_CHECK(info.arp.op == wire::ArpOp::kRequest);
        WIRE_FUZZ_CHECK(info.arp.spa == if_addr(port) && info.arp.sha == port_mac(port));
      } else {
        WIRE_FUZZ_CHECK(info.is_ipv4() && info.ip_proto == wire::kIpProtoIcmp);
        WIRE_FUZZ_CHECK(info.src_ip == if_addr(port));
        wire::IcmpView icmp;
        WIRE_FUZZ_CHECK(wire::parse_icmp({buf + info.l4_offset, info.payload_len}, icmp) == wire::WireError::kOk);
        WIRE_FUZZ_CHECK(icmp.type == wire::kIcmpTimeExceeded || icmp.type == wire::kIcmpDestUnreachable);
      }
    }
    const L3Stats after = r.snapshot();
    WIRE_FUZZ_CHECK(taken == (after[L3Counter::kArpRequestsSent] - before[L3Counter::kArpRequestsSent]) +
                                 (after[L3Counter::kIcmpErrorsSent] - before[L3Counter::kIcmpErrorsSent]));
  }

  void tick() {
    const L3Stats before = r.snapshot();
    r.tick(now_ns);
    drain(before);
  }

  void burst(PortId in, std::vector<Frame>& frames) {
    if (frames.empty()) return;
    const L3Stats before = r.snapshot();
    const std::vector<Frame> original = frames;
    const std::vector<std::span<std::uint8_t>> spans(frames.begin(), frames.end());
    // An action no decision can have: a frame left undecided shows.
    L3Decision unset;
    unset.action = static_cast<L3Action>(0xee);
    std::vector<L3Decision> d(frames.size(), unset);
    r.process_burst(in, spans, d, now_ns);
    offered += frames.size();

    std::uint64_t forwarded = 0, replies = 0, consumed = 0;
    std::array<std::uint64_t, kL3DropCount> drops{};
    for (std::size_t i = 0; i < d.size(); ++i) {
      const L3Decision& x = d[i];
      const Frame& was = original[i];
      const std::span<const std::uint8_t> now = frames[i];
      switch (x.action) {
        case L3Action::kDrop:
          WIRE_FUZZ_CHECK(static_cast<std::size_t>(x.drop) < kL3DropCount);
          ++drops[static_cast<std::size_t>(x.drop)];
          break;
        case L3Action::kForward: {
          ++forwarded;
          WIRE_FUZZ_CHECK(x.port < kPorts && r.port_up(x.port) && r.is_routed(x.port));
          WIRE_FUZZ_CHECK(r.is_routed(in) && link[in]);
          WIRE_FUZZ_CHECK(wire::Mac::load(was.data()) == port_mac(in));
          WIRE_FUZZ_CHECK(wire::Mac::load(now.data() + 6) == port_mac(x.port));
          const wire::Mac next = wire::Mac::load(now.data());
          WIRE_FUZZ_CHECK(!next.is_group() && !next.is_zero());
          wire::Ipv4View ip_now;
          const wire::WireError e = wire::parse_ipv4(now.subspan(wire::kEthHdrLen), ip_now);
          WIRE_FUZZ_CHECK(e == wire::WireError::kOk || e == wire::WireError::kFragment);  // checksum verified
          WIRE_FUZZ_CHECK(ip_now.ttl + 1 == was[wire::kEthHdrLen + wire::kIpv4OffTtl]);
          WIRE_FUZZ_CHECK(same_except_routed_bytes(was, now));
          break;
        }
        case L3Action::kReply: {
          ++replies;
          WIRE_FUZZ_CHECK(x.port == in);
          wire::FrameInfo info;
          WIRE_FUZZ_CHECK(wire::parse_frame(now, info) == wire::WireError::kOk);
          WIRE_FUZZ_CHECK(info.eth.src == port_mac(in));
          if (info.is_arp()) {
            WIRE_FUZZ_CHECK(info.arp.op == wire::ArpOp::kReply && info.arp.sha == port_mac(in) &&
                            info.arp.spa == if_addr(in));
          } else {
            // From whichever of our addresses was pinged.
            WIRE_FUZZ_CHECK(info.ip_proto == wire::kIpProtoIcmp);
            WIRE_FUZZ_CHECK(info.src_ip == if_addr(0) || info.src_ip == if_addr(1) || info.src_ip == if_addr(2));
          }
          break;
        }
        case L3Action::kConsumed:
          ++consumed;
          WIRE_FUZZ_CHECK(was.size() >= wire::kEthHdrLen &&
                          wire::load_be16(was.data() + 12) == wire::kEtherTypeArp);
          WIRE_FUZZ_CHECK(std::equal(was.begin(), was.end(), now.begin(), now.end()));
          break;
        default:
          WIRE_FUZZ_CHECK(!"a frame without a decision");
      }
      if (x.action == L3Action::kDrop || x.action == L3Action::kConsumed)
        WIRE_FUZZ_CHECK(std::equal(was.begin(), was.end(), now.begin(), now.end()));
    }

    // One count per frame, and the counts agree with the decisions.
    const L3Stats after = r.snapshot();
    auto delta = [&](L3Counter c) { return after[c] - before[c]; };
    WIRE_FUZZ_CHECK(delta(L3Counter::kRxFrames) == frames.size());
    WIRE_FUZZ_CHECK(delta(L3Counter::kForwarded) == forwarded);
    WIRE_FUZZ_CHECK(delta(L3Counter::kArpRequestsAnswered) + delta(L3Counter::kIcmpEchoAnswered) == replies);
    WIRE_FUZZ_CHECK(delta(L3Counter::kArpRepliesLearned) + delta(L3Counter::kArpRepliesIgnored) == consumed);
    for (std::size_t k = 0; k < kL3DropCount; ++k) WIRE_FUZZ_CHECK(after.drops[k] - before.drops[k] == drops[k]);
    WIRE_FUZZ_CHECK(after.neighbors <= cfg.neighbor_capacity);
    drain(before);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Each run builds a router (half a MiB of route table): keep that memory
  // in the process rather than mapping and faulting it in afresh every run.
  static const bool keep_heap = mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 64 << 20);
  (void)keep_heap;
  Fuzz f;
  // Resolve three of the ECMP group's eight next hops, so forwarding works
  // from the first frame; the input may resolve the rest.
  f.tick();
  for (const auto& [p, x] : {std::pair{1u, 2u}, std::pair{1u, 3u}, std::pair{2u, 2u}}) {
    std::vector<Frame> reply{arp_reply(host_mac(100 + x + 10 * p), on_port(p, x), port_mac(p), if_addr(p))};
    f.burst(static_cast<PortId>(p), reply);
  }

  Input in{data, size};
  std::vector<Frame> frames;
  PortId port = 0;
  while (!in.empty()) {
    const std::uint8_t ctl = in.u8();
    const auto next_port = static_cast<PortId>(ctl & 3);
    if ((ctl & 4) || next_port != port || (ctl & 0x78) != 0) {
      f.burst(port, frames);
      frames.clear();
    }
    port = next_port;
    static constexpr std::uint64_t kSteps[] = {0, kMs, 150 * kMs, 2'500 * kMs};
    f.now_ns += kSteps[(ctl >> 3) & 3];
    if (ctl & 0x20) {
      const auto p = static_cast<PortId>(ctl >> 6);
      f.link[p] = !f.link[p];
      f.r.set_port_link(p, f.link[p]);
    }
    if (ctl & 0x40) f.tick();
    if (ctl & 0x80) {
      frames.push_back(compact_frame(port, in));
    } else {
      std::size_t len = in.u8();
      if (len > in.n) len = in.n;
      frames.emplace_back(in.p, in.p + len);  // exact size: a read past it is an ASan report
      in.p += len;
      in.n -= len;
    }
  }
  f.burst(port, frames);

  const L3Stats s = f.r.snapshot();
  std::uint64_t drops = 0;
  for (std::uint64_t x : s.drops) drops += x;
  WIRE_FUZZ_CHECK(s[L3Counter::kRxFrames] == f.offered);
  WIRE_FUZZ_CHECK(drops + s[L3Counter::kForwarded] + s[L3Counter::kArpRequestsAnswered] +
                      s[L3Counter::kIcmpEchoAnswered] + s[L3Counter::kArpRepliesLearned] +
                      s[L3Counter::kArpRepliesIgnored] ==
                  f.offered);
  return 0;
}
