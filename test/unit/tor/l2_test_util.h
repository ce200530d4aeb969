// SPDX-License-Identifier: BSD-3-Clause
// Frame builders and a one-frame-at-a-time driver for L2Switch tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "tor/l2_switch.h"
#include "wire/ether.h"

namespace spray::tor::test {

inline constexpr std::uint64_t kSec = 1'000'000'000ULL;
inline constexpr std::uint64_t kMs = 1'000'000ULL;

using Frame = std::vector<std::uint8_t>;

// Locally administered unicast MAC 02:00:00:00:00:nn.
inline wire::Mac host(std::uint64_t n) { return wire::Mac{0x0200'0000'0000ULL | n}; }

// A minimal frame: Ethernet header, optional 802.1Q tag, 46 bytes of payload.
inline Frame untagged(wire::Mac dst, wire::Mac src) {
  Frame f(wire::kEthHdrLen + 46, 0);
  wire::write_eth(f, dst, src, wire::kEtherTypeIpv4);
  return f;
}
// Tagged with `vid`; vid 0 gives a priority-tagged frame.
inline Frame tagged(wire::Mac dst, wire::Mac src, VlanId vid, std::uint8_t pcp = 0) {
  Frame f(wire::kEthHdrLen + wire::kVlanTagLen + 46, 0);
  dst.store(f.data());
  src.store(f.data() + 6);
  wire::store_be16(f.data() + 12, wire::kEtherTypeVlan);
  wire::store_be16(f.data() + 14, static_cast<std::uint16_t>((pcp << 13) | vid));
  wire::store_be16(f.data() + 16, wire::kEtherTypeIpv4);
  return f;
}

inline L2PortConfig access(VlanId vlan, std::uint32_t max_macs = 0) {
  L2PortConfig p;
  p.mode = PortMode::kAccess;
  p.access_vlan = vlan;
  p.max_macs = max_macs;
  return p;
}
inline L2PortConfig trunk(std::initializer_list<VlanId> allowed, VlanId native = kNoVlan) {
  L2PortConfig p;
  p.mode = PortMode::kTrunk;
  p.allowed_vlans = allowed;
  p.native_vlan = native;
  return p;
}
// `n` access ports, all in VLAN 1.
inline L2Config access_ports(std::size_t n) {
  L2Config c;
  for (std::size_t i = 0; i < n; ++i) c.ports.push_back(access(1));
  return c;
}

inline L2Decision send(L2Switch& sw, PortId in_port, const Frame& f, std::uint64_t now_ns) {
  const std::span<const std::uint8_t> frames[1] = {f};
  L2Decision d[1];
  sw.process_burst(in_port, frames, d, now_ns);
  return d[0];
}

inline std::vector<PortId> ports_of(PortMask m) { return {m.begin(), m.end()}; }

}  // namespace spray::tor::test
