// SPDX-License-Identifier: BSD-3-Clause
// The fast path: one pass over Eth / [802.1Q] / IPv4 / UDP, and a per-flow
// header template for transmit.
//
// parse_frame is what every RX burst calls per packet; UdpFrameTemplate is
// what the transport's TX path calls per packet (UDP source port = base +
// path_id). Both are allocation-free, lock-free, noexcept and inline; they
// touch nothing but the frame and the caller's structs, so any worker may
// use them on its own frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/errors.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace spray::wire {

// parse_eth's reasons in the shared list.
constexpr WireError to_wire_error(EthError e) noexcept {
  switch (e) {
    case EthError::kOk: return WireError::kOk;
    case EthError::kTruncated: return WireError::kTruncated;
    case EthError::kNestedVlan: return WireError::kNestedVlan;
    case EthError::kBadVlanId: return WireError::kBadVlanId;
  }
  return WireError::kTruncated;
}

// What parse_frame found. Offsets are from the first byte of the frame.
// Fields of the layers that parse_frame did not reach, or that do not apply
// (ports of a non-UDP packet, IPv4 fields of an ARP frame), are zero.
struct FrameInfo {
  EthView eth;                       // ether_type tells IPv4 from ARP
  std::uint16_t l3_offset = 0;       // 14, or 18 tagged
  std::uint16_t l4_offset = 0;       // l3_offset + IHL*4
  std::uint16_t payload_offset = 0;  // past the UDP header; l4_offset for other protocols
  std::uint16_t payload_len = 0;     // UDP payload bytes; IP payload bytes for others
  std::uint16_t ip_total_len = 0;    // IPv4 total length, bytes
  std::uint32_t src_ip = 0;          // host order
  std::uint32_t dst_ip = 0;
  std::uint16_t src_port = 0;        // UDP only
  std::uint16_t dst_port = 0;
  std::uint8_t ip_proto = 0;
  std::uint8_t ttl = 0;
  std::uint8_t dscp = 0;
  Ecn ecn = Ecn::kNotEct;
  ArpView arp;                       // ARP frames only

  bool is_ipv4() const noexcept { return eth.ether_type == kEtherTypeIpv4; }
  bool is_udp() const noexcept { return is_ipv4() && ip_proto == kIpProtoUdp; }
  bool is_arp() const noexcept { return eth.ether_type == kEtherTypeArp; }
};

enum class FrameVerify : std::uint8_t {
  kChecksums,      // IPv4 header checksum, and the UDP checksum when nonzero
  kSkipChecksums,  // the NIC flagged both good (RX checksum offload)
};

// Parses `frame` in one pass. Returns:
// - kOk for an unfragmented IPv4 packet (any protocol; for UDP the header,
//   length and nonzero checksum are checked and ports/payload filled), or a
//   valid Ethernet/IPv4 ARP packet (`arp` filled);
// - kFragment for a valid IPv4 fragment: Ethernet and IPv4 fields are
//   filled, L4 is not looked at (payload = the IP payload), so a router can
//   still forward it while a host counts and drops it;
// - another reason for anything malformed, with the fields of the layers
//   before the failing one filled. Ethernet padding after the IP datagram is
//   ignored. Never reads outside `frame`.
inline WireError parse_frame(std::span<const std::uint8_t> frame, FrameInfo& info,
                             FrameVerify verify = FrameVerify::kChecksums) noexcept {
  info = FrameInfo{};
  if (const EthError e = parse_eth(frame, info.eth); e != EthError::kOk) return to_wire_error(e);
  info.l3_offset = info.eth.l3_offset;
  const auto l3 = frame.subspan(info.l3_offset);
  if (info.eth.ether_type == kEtherTypeIpv4) {
    Ipv4View ip;
    const WireError e = parse_ipv4(
        l3, ip,
        verify == FrameVerify::kChecksums ? Ipv4Verify::kChecksum : Ipv4Verify::kSkipChecksum);
    if (e != WireError::kOk && e != WireError::kFragment) return e;
    info.ip_total_len = ip.total_len;
    info.src_ip = ip.src;
    info.dst_ip = ip.dst;
    info.ip_proto = ip.proto;
    info.ttl = ip.ttl;
    info.dscp = ip.dscp();
    info.ecn = ip.ecn();
    info.l4_offset = static_cast<std::uint16_t>(info.l3_offset + ip.hdr_len);
    info.payload_offset = info.l4_offset;
    info.payload_len = ip.payload_len();
    if (e == WireError::kFragment || ip.proto != kIpProtoUdp) return e;
    UdpView udp;
    if (const WireError ue = parse_udp(
            l3.subspan(ip.hdr_len, ip.payload_len()), ip.src, ip.dst, udp,
            verify == FrameVerify::kChecksums ? UdpVerify::kChecksum : UdpVerify::kSkipChecksum);
        ue != WireError::kOk)
      return ue;
    info.src_port = udp.src_port;
    info.dst_port = udp.dst_port;
    info.payload_offset = static_cast<std::uint16_t>(info.l4_offset + kUdpHdrLen);
    info.payload_len = udp.payload_len();
    return WireError::kOk;
  }
  if (info.eth.ether_type == kEtherTypeArp) return parse_arp(l3, info.arp);
  return WireError::kUnsupportedEthertype;
}

// One flow's fixed headers: everything UdpFrameTemplate::write does not vary.
struct UdpFlow {
  Mac src_mac;
  Mac dst_mac;
  std::uint32_t src_ip = 0;        // host order
  std::uint32_t dst_ip = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t ttl = kIpv4DefaultTtl;
  std::uint8_t dscp = 0;           // 0..63; higher bits are dropped
  std::uint16_t vlan = kVlanNone;  // kVlanNone: untagged; else 1..kVlanMax
  std::uint8_t pcp = 0;            // 802.1p priority when tagged
  bool udp_checksum = false;       // many vdevs do not offload it; SRD has its own check
};

// Precomputed Eth/[VLAN]/IPv4/UDP headers of one flow. Writing a frame is
// one fixed-size memcpy, five stores and a few additions for the IPv4
// checksum (from a partial sum taken at construction); with udp_checksum the
// payload is summed once as well. The IPv4 header has DF set and id 0
// (RFC 6864: atomic datagrams need no unique id). Fits one cache line.
// Build it on the control path, then share it read-only or copy it per worker.
class alignas(64) UdpFrameTemplate {
 public:
  static constexpr std::size_t kMaxHeaderLen = kEthHdrLen + kVlanTagLen + kIpv4MinHdrLen + kUdpHdrLen;
  static constexpr std::size_t kMaxPayloadLen = 0xffff - kIpv4MinHdrLen - kUdpHdrLen;

  UdpFrameTemplate() noexcept : UdpFrameTemplate(UdpFlow{}) {}
  explicit UdpFrameTemplate(const UdpFlow& flow) noexcept;

  // 42 untagged, 46 tagged: where the payload starts in a written frame.
  std::size_t header_len() const noexcept { return hdr_len_; }

  // Writes the headers of a frame carrying `payload_len` bytes from UDP
  // source port `src_port` with ECN codepoint `ecn`. The payload goes at
  // out[header_len()...]; with udp_checksum it must be there before this
  // call. Returns the frame length (header_len() + payload_len), or 0 when
  // `out` cannot hold it or payload_len exceeds kMaxPayloadLen.
  std::size_t write(std::span<std::uint8_t> out, std::uint16_t src_port, std::size_t payload_len,
                    Ecn ecn = Ecn::kNotEct) const noexcept {
    if (payload_len > kMaxPayloadLen || out.size() < hdr_len_ + payload_len) return 0;
    std::uint8_t* f = out.data();
    // Constant sizes so the copy is inlined, not a call to memcpy.
    if (hdr_len_ == kMaxHeaderLen) {
      std::memcpy(f, hdr_.data(), kMaxHeaderLen);
    } else {
      std::memcpy(f, hdr_.data(), kMaxHeaderLen - kVlanTagLen);
    }
    std::uint8_t* ip = f + l3_offset_;
    const auto total_len = static_cast<std::uint16_t>(kIpv4MinHdrLen + kUdpHdrLen + payload_len);
    const auto tos = static_cast<std::uint8_t>(tos_base_ | static_cast<std::uint8_t>(ecn));
    ip[kIpv4OffTos] = tos;
    store_be16(ip + kIpv4OffTotalLen, total_len);
    store_be16(ip + kIpv4OffCsum,
               static_cast<std::uint16_t>(~csum_fold(ip_sum_base_ + tos + total_len)));
    std::uint8_t* udp = ip + kIpv4MinHdrLen;
    const auto udp_len = static_cast<std::uint16_t>(kUdpHdrLen + payload_len);
    store_be16(udp, src_port);
    store_be16(udp + kUdpOffLen, udp_len);
    if (udp_checksum_) {
      // Pseudo-header and header both carry the length; the rest is fixed.
      const std::uint32_t sum = udp_sum_base_ + 2u * udp_len + src_port;
      std::uint16_t csum = internet_checksum({udp + kUdpHdrLen, payload_len}, sum);
      if (csum == 0) csum = 0xffff;
      store_be16(udp + kUdpOffCsum, csum);
    }
    return hdr_len_ + payload_len;
  }

 private:
  std::array<std::uint8_t, kMaxHeaderLen> hdr_{};
  std::uint8_t hdr_len_ = 0;
  std::uint8_t l3_offset_ = 0;
  std::uint8_t tos_base_ = 0;      // DSCP << 2
  bool udp_checksum_ = false;
  std::uint32_t ip_sum_base_ = 0;   // IPv4 header words except TOS, total length, checksum
  std::uint32_t udp_sum_base_ = 0;  // pseudo-header addresses and protocol, dst port
};
static_assert(sizeof(UdpFrameTemplate) == 64, "one cache line per flow");

}  // namespace spray::wire
