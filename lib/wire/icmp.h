// SPDX-License-Identifier: BSD-3-Clause
// ICMP for IPv4 (RFC 792): what a host and spray's L3 switch need. Echo
// request to reply in place (icmpecho responders, ping through the fabric),
// and the two errors a router sends: Time Exceeded and Destination
// Unreachable, each quoting the offending IP header and 8 bytes beyond it.
//
// All functions are worker-safe and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/errors.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

namespace spray::wire {

inline constexpr std::size_t kIcmpHdrLen = 8;
inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestUnreachable = 3;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;

// Destination Unreachable codes a router uses.
inline constexpr std::uint8_t kIcmpNetUnreachable = 0;
inline constexpr std::uint8_t kIcmpHostUnreachable = 1;
inline constexpr std::uint8_t kIcmpPortUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragNeeded = 4;  // carries the next-hop MTU
// Time Exceeded codes.
inline constexpr std::uint8_t kIcmpTtlExceeded = 0;

// The quote: the offending header plus this many bytes of its payload.
inline constexpr std::size_t kIcmpQuotedPayloadLen = 8;

struct IcmpView {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t checksum = 0;
  std::uint32_t rest = 0;  // bytes 4..7: echo id and sequence, or MTU, or unused

  std::uint16_t echo_id() const noexcept { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t echo_seq() const noexcept { return static_cast<std::uint16_t>(rest); }
  bool is_error() const noexcept {
    return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == 4 /* quench */ ||
           type == 5 /* redirect */ || type == 12 /* parameter problem */;
  }
};

// Parses the ICMP message that is the IPv4 payload `msg` (exactly
// payload_len bytes). kTruncated below 8 bytes; kBadIcmpChecksum if the
// checksum over the whole message is wrong. `out` is filled only on kOk.
WireError parse_icmp(std::span<const std::uint8_t> msg, IcmpView& out) noexcept;

// Turns the Ethernet frame in `frame`, an IPv4 ICMP echo request, into its
// echo reply in place: MACs and IP addresses swap, TTL becomes 64, the type
// becomes 0; both checksums are updated incrementally, the payload and the
// VLAN tag are kept. Returns kOk, or the reason the frame is not a valid,
// unfragmented echo request (kIcmpUnhandled for other ICMP types and other
// protocols), leaving the frame untouched. Ethernet padding after the IP
// datagram stays in place.
WireError icmp_echo_to_reply(std::span<std::uint8_t> frame) noexcept;

// Where an ICMP error goes and where it comes from, at L2 and L3.
struct IcmpErrorAddr {
  Mac src_mac;                    // the router's port
  Mac dst_mac;                    // next hop back towards the offending source
  std::uint32_t router_ip = 0;    // source of the ICMP message
  std::uint16_t vlan = kVlanNone;
};

// RFC 1812 4.3.2.7: no ICMP error about an ICMP error, a non-first fragment,
// a packet to or from a broadcast/multicast address, or from 0.0.0.0 or
// loopback. `offending` starts at the offending IP header (parsed already
// or not: an unparseable header also returns false).
bool icmp_error_allowed(std::span<const std::uint8_t> offending) noexcept;

// Builds a complete frame (Eth/[VLAN]/IPv4/ICMP) carrying Time Exceeded
// (code 0, TTL exceeded in transit) about `offending`, which starts at the
// offending packet's IP header and may run past its end (padding is not
// quoted). The IPv4 header goes to the offending source with TTL 64 and
// DSCP 48 (CS6, network control). Returns the frame length, or 0 if `out`
// is too short or `offending` does not start with a parseable IPv4 header.
// Callers check icmp_error_allowed() first.
std::size_t build_icmp_time_exceeded(std::span<std::uint8_t> out, const IcmpErrorAddr& addr,
                                     std::span<const std::uint8_t> offending) noexcept;

// The same for Destination Unreachable with `code`; `next_hop_mtu` is sent
// for kIcmpFragNeeded (RFC 1191) and must be 0 otherwise.
std::size_t build_icmp_dest_unreachable(std::span<std::uint8_t> out, const IcmpErrorAddr& addr,
                                        std::uint8_t code, std::span<const std::uint8_t> offending,
                                        std::uint16_t next_hop_mtu = 0) noexcept;

}  // namespace spray::wire
