// SPDX-License-Identifier: BSD-3-Clause
#include "tor/l3_config.h"

#include <algorithm>
#include <string>

namespace spray::tor {

namespace {

std::string interfaces_text(const L3Config& c) {
  std::string s;
  for (const auto& i : c.interfaces)
    s += (s.empty() ? "" : ", ") + wire::format_ipv4_prefix(i.addr) + " (port " + std::to_string(i.port) + ")";
  return s.empty() ? "(none)" : s;
}

bool martian(std::uint32_t a) {
  const std::uint32_t top = a >> 24;
  return top == 0 || top == 127 || top >= 224;
}

}  // namespace

const L3Interface* L3Config::interface_of(PortId port) const noexcept {
  for (const auto& i : interfaces)
    if (i.port == port) return &i;
  return nullptr;
}

const L3Interface* L3Config::interface_for(std::uint32_t ip) const noexcept {
  for (const auto& i : interfaces)
    if (i.addr.contains(ip)) return &i;
  return nullptr;
}

std::string L3Config::validate(std::size_t port_count) const {
  for (std::size_t k = 0; k < interfaces.size(); ++k) {
    const auto& i = interfaces[k];
    const std::string name = "interface " + wire::format_ipv4_prefix(i.addr);
    if (i.port >= port_count)
      return name + ": port " + std::to_string(i.port) + " does not exist; accepted: 0.." +
             std::to_string(port_count ? port_count - 1 : 0);
    if (i.addr.len < 1 || i.addr.len > 31)
      return name + ": prefix length " + std::to_string(i.addr.len) +
             " leaves no room for a neighbor; accepted: 1..31 (31: point-to-point, RFC 3021)";
    if (martian(i.addr.addr))
      return name + ": " + wire::format_ipv4(i.addr.addr) +
             " is not a unicast host address; accepted: 1.0.0.0..223.255.255.255 outside 127/8";
    const std::uint32_t host = i.addr.addr & ~i.addr.mask();
    if (i.addr.len < 31 && (host == 0 || host == ~i.addr.mask()))
      return name + ": the address is the subnet's network or broadcast address; give a host address";
    if (i.mac.is_group() || i.mac.is_zero()) return name + ": the port's MAC " + i.mac.str() + " is not unicast";
    for (std::size_t j = 0; j < k; ++j) {
      if (interfaces[j].port == i.port)
        return name + ": port " + std::to_string(i.port) + " already has interface " +
               wire::format_ipv4_prefix(interfaces[j].addr) + "; one address per port";
      if (interfaces[j].addr.contains(i.addr.addr) || i.addr.contains(interfaces[j].addr.addr))
        return name + ": overlaps interface " + wire::format_ipv4_prefix(interfaces[j].addr) +
               "; each routed port needs its own subnet";
    }
  }
  if (routes.size() > max_routes)
    return std::to_string(routes.size()) + " routes; at most " + std::to_string(max_routes) +
           " (max_routes) are accepted";
  if (max_routes < 1 || max_routes > kMaxRoutes)
    return "max_routes " + std::to_string(max_routes) + " is out of range; accepted: 1.." + std::to_string(kMaxRoutes);
  if (neighbor_capacity < 1 || neighbor_capacity > (1u << 20))
    return "neighbor_capacity " + std::to_string(neighbor_capacity) + " is out of range; accepted: 1..1048576";
  if (arp_retry_ns < 1'000'000 || arp_retry_ns > 60'000'000'000ULL)
    return "arp retry " + std::to_string(arp_retry_ns / 1e9) + " s is out of range; accepted: 0.001..60 s";
  if (arp_reachable_ns < arp_retry_ns)
    return "arp reachable time " + std::to_string(arp_reachable_ns / 1e9) +
           " s is shorter than the retry interval; accepted: at least " + std::to_string(arp_retry_ns / 1e9) + " s";
  if (arp_tries < 1 || arp_tries > 100)
    return "arp tries " + std::to_string(arp_tries) + " is out of range; accepted: 1..100";
  if (icmp_burst < 1 && icmp_errors_per_s > 0)
    return "icmp burst 0 with a nonzero ICMP rate; accepted: 1 or more";
  for (std::size_t k = 0; k < routes.size(); ++k) {
    const auto& r = routes[k];
    const std::string name = "route " + wire::format_ipv4_prefix(r.prefix);
    if (r.prefix.len > 32) return name + ": prefix length out of range; accepted: 0..32";
    if ((r.prefix.addr & ~r.prefix.mask()) != 0)
      return name + ": host bits set after /" + std::to_string(r.prefix.len) + "; write the network address";
    if (r.next_hops.empty()) return name + ": no next hop; give 1.." + std::to_string(kMaxEcmpWays);
    if (r.next_hops.size() > kMaxEcmpWays)
      return name + ": " + std::to_string(r.next_hops.size()) + " next hops; accepted: 1.." +
             std::to_string(kMaxEcmpWays);
    for (std::size_t h = 0; h < r.next_hops.size(); ++h) {
      const std::uint32_t nh = r.next_hops[h];
      const L3Interface* i = interface_for(nh);
      if (!i)
        return name + ": next hop " + wire::format_ipv4(nh) + " is not on any interface's subnet; interfaces: " +
               interfaces_text(*this);
      if (nh == i->addr.addr) return name + ": next hop " + wire::format_ipv4(nh) + " is the router's own address";
      if (std::find(r.next_hops.begin(), r.next_hops.begin() + h, nh) != r.next_hops.begin() + h)
        return name + ": next hop " + wire::format_ipv4(nh) + " is listed twice";
    }
    for (std::size_t j = 0; j < k; ++j)
      if (routes[j].prefix == r.prefix) return name + ": given twice; list all its next hops in one route";
  }
  return {};
}

}  // namespace spray::tor
