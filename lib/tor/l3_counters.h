// SPDX-License-Identifier: BSD-3-Clause
// Counters and drop reasons of the L3 router, each defined once (the same
// scheme as l2_counters.h: enum, snake_case name and help from one list).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "telemetry/counter.h"

namespace spray::tor {

// X(enumerator, snake_case_name, "help text")
//
// Every frame handed to L3Router::process_burst ends in exactly one of: one
// drop reason, forwarded, replied (ARP or ICMP echo answered in place), or
// consumed (an ARP reply or request the router learned from).
#define SPRAY_L3_DROPS(X)                                                                        \
  X(kTruncated, truncated, "frame shorter than the headers it announces")                        \
  X(kPortDown, port_down, "ingress port administratively or operationally down")                 \
  X(kTagged, tagged, "802.1Q-tagged frame on a routed port (routed ports are untagged)")         \
  X(kNotForUs, not_for_us, "destination MAC is neither the port's nor broadcast (for ARP)")      \
  X(kUnsupportedEthertype, unsupported_ethertype, "neither IPv4 nor ARP")                        \
  X(kBadArp, bad_arp, "malformed ARP, or an ARP request for an address not ours")                \
  X(kBadIp, bad_ip, "malformed IPv4 header: version, header length, total length")               \
  X(kBadIpChecksum, bad_ip_checksum, "IPv4 header checksum wrong")                               \
  X(kMartian, martian, "source or destination that is never routed (0/8, 127/8, multicast, "    \
                       "limited or subnet broadcast)")                                           \
  X(kToRouter, to_router, "addressed to the router and not an ICMP echo request")                \
  X(kTtlExceeded, ttl_exceeded, "TTL 0 or 1 on arrival: not forwarded (ICMP time exceeded)")     \
  X(kNoRoute, no_route, "no route to the destination (ICMP network unreachable)")                \
  X(kEgressDown, egress_down, "every next hop of the route is on a port that is down")           \
  X(kNeighborUnresolved, neighbor_unresolved,                                                    \
    "next hop's MAC not known yet (ARP request sent); the transport above retransmits")          \
  X(kNeighborTableFull, neighbor_table_full, "next hop not resolvable: the ARP table is full")

#define SPRAY_L3_COUNTERS(X)                                                                     \
  X(kRxFrames, rx_frames, "frames offered to the router")                                        \
  X(kForwarded, forwarded, "IPv4 packets routed to a next hop")                                  \
  X(kEcmpForwarded, ecmp_forwarded, "routed packets whose route had more than one next hop")     \
  X(kArpRequestsAnswered, arp_requests_answered, "ARP requests for our addresses answered")      \
  X(kArpRepliesLearned, arp_replies_learned, "ARP replies that resolved or refreshed a neighbor")\
  X(kArpRepliesIgnored, arp_replies_ignored,                                                     \
    "ARP replies consumed without learning: for an address never asked about, or on another port")\
  X(kArpRequestsSent, arp_requests_sent, "ARP requests sent to resolve next hops")               \
  X(kIcmpEchoAnswered, icmp_echo_answered, "ICMP echo requests to our addresses answered")       \
  X(kIcmpErrorsSent, icmp_errors_sent, "ICMP time exceeded and unreachable messages sent")       \
  X(kIcmpRateLimited, icmp_rate_limited, "ICMP errors not sent: over the rate limit")            \
  X(kGeneratedOverflow, generated_overflow,                                                      \
    "ARP requests or ICMP errors not sent: too many waiting to be sent")                         \
  X(kNeighborsExpired, neighbors_expired, "ARP entries removed after failing to re-resolve")

#define SPRAY_L3_ENUMERATOR(e, name, help) e,
enum class L3Drop : std::uint8_t { SPRAY_L3_DROPS(SPRAY_L3_ENUMERATOR) };
enum class L3Counter : std::uint8_t { SPRAY_L3_COUNTERS(SPRAY_L3_ENUMERATOR) };
#undef SPRAY_L3_ENUMERATOR

#define SPRAY_L3_ONE(e, name, help) +1
inline constexpr std::size_t kL3DropCount = 0 SPRAY_L3_DROPS(SPRAY_L3_ONE);
inline constexpr std::size_t kL3CounterCount = 0 SPRAY_L3_COUNTERS(SPRAY_L3_ONE);
#undef SPRAY_L3_ONE

// {name, help} per reason and counter, in enum order; a name is a metric
// label value (drops) or name stem (counters).
#define SPRAY_L3_INFO(e, name, help) telemetry::CounterInfo{#name, help},
inline constexpr std::array<telemetry::CounterInfo, kL3DropCount> kL3DropInfo{SPRAY_L3_DROPS(SPRAY_L3_INFO)};
inline constexpr std::array<telemetry::CounterInfo, kL3CounterCount> kL3CounterInfo{
    SPRAY_L3_COUNTERS(SPRAY_L3_INFO)};
#undef SPRAY_L3_INFO

constexpr const char* to_string(L3Drop d) noexcept { return kL3DropInfo[static_cast<std::size_t>(d)].name; }
constexpr const char* to_string(L3Counter c) noexcept {
  return kL3CounterInfo[static_cast<std::size_t>(c)].name;
}

// A copy of the router's counters any thread may take (values exact, the
// set not a consistent cut).
struct L3Stats {
  std::array<std::uint64_t, kL3CounterCount> counters{};
  std::array<std::uint64_t, kL3DropCount> drops{};
  std::uint64_t neighbors = 0;  // gauge: ARP entries
  std::uint64_t routes = 0;     // gauge

  std::uint64_t operator[](L3Counter c) const noexcept { return counters[static_cast<std::size_t>(c)]; }
  std::uint64_t operator[](L3Drop d) const noexcept { return drops[static_cast<std::size_t>(d)]; }
};

}  // namespace spray::tor
