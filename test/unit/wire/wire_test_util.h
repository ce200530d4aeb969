// SPDX-License-Identifier: BSD-3-Clause
// Frames and reference computations shared by the lib/wire tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/frames.h"
#include "wire/checksum.h"
#include "wire/ether.h"
#include "wire/frame.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace spray::wire::test {

inline constexpr Mac kMacA{0x02'00'00'00'00'0aULL};
inline constexpr Mac kMacB{0x02'00'00'00'00'0bULL};
inline constexpr std::uint32_t kIpA = 0x0a000001;  // 10.0.0.1
inline constexpr std::uint32_t kIpB = 0x0a000102;  // 10.0.1.2

// RFC 1071 the slow way: big-endian 16-bit words, one at a time.
inline std::uint16_t reference_sum(std::span<const std::uint8_t> d, std::uint32_t initial = 0) {
  std::uint64_t sum = initial;
  for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += (d[i] << 8) | d[i + 1];
  if (d.size() % 2) sum += d.back() << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

inline std::vector<std::uint8_t> iota_payload(std::size_t n, std::uint8_t first = 1) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(first + i);
  return p;
}

inline UdpFlow default_flow(std::uint16_t vlan = kVlanNone) {
  UdpFlow f;
  f.src_mac = kMacA;
  f.dst_mac = kMacB;
  f.src_ip = kIpA;
  f.dst_ip = kIpB;
  f.dst_port = 4792;
  f.ttl = 64;
  f.dscp = 10;
  f.vlan = vlan;
  f.pcp = vlan == kVlanNone ? 0 : 5;
  return f;
}

// A complete Eth/[VLAN]/IPv4/UDP frame written through the template.
inline std::vector<std::uint8_t> udp_frame(const UdpFlow& flow, std::uint16_t src_port,
                                           std::span<const std::uint8_t> payload, Ecn ecn = Ecn::kEct0) {
  return spray::test::udp_frame(flow, src_port, payload, ecn);
}

inline std::vector<std::uint8_t> udp_frame(std::uint16_t vlan = kVlanNone, std::size_t payload_len = 32) {
  const auto payload = iota_payload(payload_len);
  return udp_frame(default_flow(vlan), 49152, payload);
}

// Eth/[VLAN]/IPv4/ICMP with an 8-byte ICMP header of `type` and a payload.
inline std::vector<std::uint8_t> icmp_frame(std::uint8_t type, std::uint16_t id, std::uint16_t seq,
                                            std::size_t payload_len, std::uint16_t vlan = kVlanNone,
                                            std::uint8_t ttl = 61) {
  std::vector<std::uint8_t> payload(payload_len);
  for (std::size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::uint8_t>(0xa0 + i);
  return spray::test::icmp_frame({.dst_mac = kMacB,
                                  .src_mac = kMacA,
                                  .src_ip = kIpA,
                                  .dst_ip = kIpB,
                                  .type = type,
                                  .id = id,
                                  .seq = seq,
                                  .ttl = ttl,
                                  .vlan = vlan},
                                 payload);
}

}  // namespace spray::wire::test
