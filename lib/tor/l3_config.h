// SPDX-License-Identifier: BSD-3-Clause
// Configuration of the L3 router: routed interfaces (a port with an IPv4
// address), static routes with up to 64 equal-cost next hops, the ECMP hash
// seed, ARP timers and the ICMP error rate limit.
//
// Plain data built by the control thread (CLI or config file); validate()
// before building an L3Router from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tor/fdb.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

namespace spray::tor {

inline constexpr std::size_t kMaxEcmpWays = 64;
inline constexpr std::uint32_t kMaxRoutes = 1u << 20;

struct L3Interface {
  PortId port = 0;
  wire::Ipv4Prefix addr;  // the interface address and its subnet, e.g. 10.0.1.1/24
  wire::Mac mac;          // the port's MAC: source of routed frames, ARP answers
};

struct L3Route {
  wire::Ipv4Prefix prefix;                  // host bits zero
  std::vector<std::uint32_t> next_hops;     // 1..64 addresses, each on an interface's subnet
};

struct L3Config {
  std::vector<L3Interface> interfaces;  // at most one per port
  std::vector<L3Route> routes;
  std::uint64_t ecmp_seed = 0;          // per switch, so fabric layers hash differently
  std::uint32_t max_routes = 65536;
  std::uint32_t neighbor_capacity = 4096;  // ARP entries at most: a scan cannot grow the table
  std::uint64_t arp_reachable_ns = 30'000'000'000ULL;  // an entry is refreshed after this
  std::uint64_t arp_retry_ns = 100'000'000;            // between requests for one address
  std::uint32_t arp_tries = 3;  // unanswered requests before a stale entry is removed
  std::uint32_t icmp_errors_per_s = 100;  // token bucket (RFC 1812 4.3.2.8); 0 = never send
  std::uint32_t icmp_burst = 10;

  // Empty when usable; else one message naming the field, its value and what
  // would be accepted, e.g. "route 10.2.0.0/16: next hop 10.9.0.1 is not on
  // any interface's subnet; interfaces: 10.0.1.1/24 (port 0), ...".
  // `port_count`: ports of the switch (interfaces must name one of them).
  std::string validate(std::size_t port_count) const;

  // The interface of `port`, or nullptr.
  const L3Interface* interface_of(PortId port) const noexcept;
  // The interface whose subnet holds `ip` (first match), or nullptr.
  const L3Interface* interface_for(std::uint32_t ip) const noexcept;
};

}  // namespace spray::tor
