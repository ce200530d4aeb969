// SPDX-License-Identifier: BSD-3-Clause
// The ECMP flow hash: which of a route's next hops carries a packet.
//
// SRD picks a packet's path by its UDP source port (base + path id), so the
// hash must send flows that differ only in the source port evenly over the
// next hops; otherwise several paths of a connection share an uplink and
// spraying buys nothing. The seed is per switch: if two layers of a fabric
// hashed alike, a leaf's choice would fix the spine's (polarisation) and some
// spine uplinks would carry nothing.
//
// The mixer is two rounds of the SplitMix64 finalizer (xor-shift-multiply),
// which every input bit passes through in full: no table, four multiplies.
// It is not keyed against an adversary choosing ports to collide; it is for
// spreading honest traffic.
#pragma once

#include <cstdint>

namespace spray::tor {

// Host-order fields. Callers pass ports 0 for packets other than UDP and TCP.
struct FlowKey {
  std::uint32_t src_ip;
  std::uint32_t dst_ip;
  std::uint16_t src_port;
  std::uint16_t dst_port;
  std::uint8_t proto;
};

namespace detail {
constexpr std::uint64_t splitmix64_mix(std::uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace detail

// A 32-bit hash of the 5-tuple under `seed`. Pure: the same key and seed give
// the same hash everywhere (switch, simulator, tests).
constexpr std::uint32_t flow_hash(const FlowKey& k, std::uint64_t seed) noexcept {
  const std::uint64_t ips = (std::uint64_t{k.src_ip} << 32) | k.dst_ip;
  const std::uint64_t rest = (std::uint64_t{k.src_port} << 32) |
                             (std::uint64_t{k.dst_port} << 16) | k.proto;
  // The golden-ratio offset keeps seed 0 from mapping the all-zero key to 0.
  const std::uint64_t x = detail::splitmix64_mix(ips ^ (seed + 0x9e3779b97f4a7c15ULL));
  return static_cast<std::uint32_t>(detail::splitmix64_mix(x ^ rest) >> 32);
}

// One of n members (n >= 1), from the high bits of h: multiply-shift instead
// of h % n, no division, and the result is always below n.
constexpr std::uint32_t ecmp_pick(std::uint32_t h, std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{h} * n) >> 32);
}

}  // namespace spray::tor
