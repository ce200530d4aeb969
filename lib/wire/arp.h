// SPDX-License-Identifier: BSD-3-Clause
// ARP for Ethernet and IPv4 (RFC 826), the only combination spray speaks.
//
// Parsing is worker-safe and allocation-free. Builders write whole Ethernet
// frames (optionally 802.1Q-tagged) without padding to the 60-byte minimum;
// PMDs and the kernel pad short frames on transmit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/errors.h"
#include "wire/ether.h"

namespace spray::wire {

inline constexpr std::size_t kArpLen = 28;

enum class ArpOp : std::uint16_t {
  kRequest = 1,
  kReply = 2,
};

struct ArpView {
  ArpOp op = ArpOp::kRequest;
  Mac sha;                // sender hardware address
  std::uint32_t spa = 0;  // sender protocol address, host order
  Mac tha;                // target hardware address (zero in a request)
  std::uint32_t tpa = 0;  // target protocol address, host order

  // A gratuitous ARP announces the sender's own binding (spa == tpa).
  bool is_gratuitous() const noexcept { return spa == tpa; }
};

// Parses the ARP packet at the start of `pkt` (the L3 bytes; trailing
// padding is ignored). kTruncated below 28 bytes; kBadArp unless htype 1,
// ptype 0x0800, hlen 6, plen 4; kBadArpOp unless op is 1 or 2.
// `out` is filled only on kOk.
inline WireError parse_arp(std::span<const std::uint8_t> pkt, ArpView& out) noexcept {
  if (pkt.size() < kArpLen) return WireError::kTruncated;
  const std::uint8_t* p = pkt.data();
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4)
    return WireError::kBadArp;
  const std::uint16_t op = load_be16(p + 6);
  if (op != static_cast<std::uint16_t>(ArpOp::kRequest) &&
      op != static_cast<std::uint16_t>(ArpOp::kReply))
    return WireError::kBadArpOp;
  out.op = static_cast<ArpOp>(op);
  out.sha = Mac::load(p + 8);
  out.spa = load_be32(p + 14);
  out.tha = Mac::load(p + 18);
  out.tpa = load_be32(p + 24);
  return WireError::kOk;
}

// Writes the 28-byte ARP packet. Returns 28, or 0 if `out` is too short.
inline std::size_t write_arp(std::span<std::uint8_t> out, const ArpView& a) noexcept {
  if (out.size() < kArpLen) return 0;
  std::uint8_t* p = out.data();
  store_be16(p, 1);
  store_be16(p + 2, kEtherTypeIpv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, static_cast<std::uint16_t>(a.op));
  a.sha.store(p + 8);
  store_be32(p + 14, a.spa);
  a.tha.store(p + 18);
  store_be32(p + 24, a.tpa);
  return kArpLen;
}

// A broadcast "who has target_ip? tell src_ip" frame. Returns the frame
// length (42, or 46 tagged), or 0 if `out` is too short.
std::size_t build_arp_request(std::span<std::uint8_t> out, Mac src_mac, std::uint32_t src_ip,
                              std::uint32_t target_ip, std::uint16_t vlan = kVlanNone) noexcept;

// A unicast "src_ip is at src_mac" frame to dst_mac/dst_ip. Returns the frame
// length, or 0 if `out` is too short.
std::size_t build_arp_reply(std::span<std::uint8_t> out, Mac src_mac, std::uint32_t src_ip,
                            Mac dst_mac, std::uint32_t dst_ip,
                            std::uint16_t vlan = kVlanNone) noexcept;

// Turns the ARP request frame in `frame` into the reply "tpa is at my_mac",
// in place, keeping its VLAN tag: Ethernet addresses become requester <-
// my_mac, and the ARP sender/target pairs swap. Whether tpa is an address
// this host answers for is the caller's decision (it may proxy). Returns
// kOk, or the reason the frame is not a well-formed ARP request
// (kUnsupportedEthertype, kBadArpOp for a reply, ...), leaving it untouched.
WireError arp_request_to_reply(std::span<std::uint8_t> frame, Mac my_mac) noexcept;

}  // namespace spray::wire
