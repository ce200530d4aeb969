// SPDX-License-Identifier: BSD-3-Clause
// Why a packet was rejected: one list for every parser in lib/wire.
//
// SPRAY_WIRE_ERRORS is the single definition (VPP's foreach_*_error shape):
// it expands here into the WireError enum, its snake_case name (usable as a
// Prometheus `reason` label value as is) and its help text. Counter blocks
// are sized with kWireErrorCount and indexed with the enum, so adding a
// reason here adds it everywhere.
//
// kOk is not part of the list: it is not a drop reason and never counted.
#pragma once

#include <cstddef>
#include <cstdint>

// X(enumerator, snake_case_name, help text)
#define SPRAY_WIRE_ERRORS(X)                                                        \
  X(kTruncated, truncated, "frame shorter than its headers")                        \
  X(kNestedVlan, nested_vlan, "more than one 802.1Q/802.1ad tag")                   \
  X(kBadVlanId, bad_vlan_id, "802.1Q VLAN id 4095, which is reserved")              \
  X(kUnsupportedEthertype, unsupported_ethertype, "ethertype is neither IPv4 nor ARP") \
  X(kBadVersion, bad_version, "IP version field is not 4")                          \
  X(kBadIhl, bad_ihl, "IPv4 header length field below 5 words")                     \
  X(kBadLength, bad_length, "IPv4 total length smaller than its header")            \
  X(kBadIpChecksum, bad_ip_checksum, "IPv4 header checksum mismatch")               \
  X(kFragment, fragment, "IPv4 fragment (MF set or offset nonzero), not reassembled") \
  X(kBadUdpLength, bad_udp_length, "UDP length below 8 or beyond the IPv4 payload") \
  X(kBadUdpChecksum, bad_udp_checksum, "UDP checksum mismatch")                     \
  X(kBadArp, bad_arp, "ARP not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4)") \
  X(kBadArpOp, bad_arp_op, "ARP opcode neither request (1) nor reply (2)")          \
  X(kBadIcmpChecksum, bad_icmp_checksum, "ICMP checksum mismatch")                  \
  X(kIcmpUnhandled, icmp_unhandled, "ICMP message of a type this operation does not handle")

namespace spray::wire {

enum class WireError : std::uint8_t {
  kOk = 0,
#define SPRAY_WIRE_X(e, name, help) e,
  SPRAY_WIRE_ERRORS(SPRAY_WIRE_X)
#undef SPRAY_WIRE_X
};

// Number of enum values including kOk: the size of a counter array indexed
// by static_cast<std::size_t>(WireError).
inline constexpr std::size_t kWireErrorCount = 0
#define SPRAY_WIRE_X(e, name, help) +1
    SPRAY_WIRE_ERRORS(SPRAY_WIRE_X)
#undef SPRAY_WIRE_X
    + 1;

// snake_case name: "ok" for kOk, "unknown" for a value outside the list.
constexpr const char* to_string(WireError e) noexcept {
  switch (e) {
    case WireError::kOk: return "ok";
#define SPRAY_WIRE_X(e, name, help) \
  case WireError::e: return #name;
      SPRAY_WIRE_ERRORS(SPRAY_WIRE_X)
#undef SPRAY_WIRE_X
  }
  return "unknown";
}

// One line for a metric's HELP or a CLI table.
constexpr const char* help(WireError e) noexcept {
  switch (e) {
    case WireError::kOk: return "no error";
#define SPRAY_WIRE_X(e, name, help) \
  case WireError::e: return help;
      SPRAY_WIRE_ERRORS(SPRAY_WIRE_X)
#undef SPRAY_WIRE_X
  }
  return "unknown reason";
}

}  // namespace spray::wire
