// SPDX-License-Identifier: BSD-3-Clause
// UDP header (RFC 768) over byte spans, checksum with the IPv4 pseudo-header.
//
// A zero checksum means "none" on IPv4 and is accepted without checking;
// a computed checksum of zero is sent as 0xffff. Worker-safe, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/checksum.h"
#include "wire/errors.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

namespace spray::wire {

inline constexpr std::size_t kUdpHdrLen = 8;
inline constexpr std::size_t kUdpOffLen = 4;
inline constexpr std::size_t kUdpOffCsum = 6;

struct UdpView {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t length = 0;    // bytes, header included
  std::uint16_t checksum = 0;  // 0 = not computed by the sender

  std::uint16_t payload_len() const noexcept {
    return static_cast<std::uint16_t>(length - kUdpHdrLen);
  }
};

// Partial sum of the IPv4 pseudo-header (RFC 768): addresses, protocol and
// the L4 length. Chain it into csum_partial over the L4 bytes.
constexpr std::uint32_t ipv4_pseudo_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t proto,
                                        std::uint16_t l4_len) noexcept {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

enum class UdpVerify : std::uint8_t {
  kChecksum,      // verify a nonzero checksum over the pseudo-header and datagram
  kSkipChecksum,  // the NIC checked it, or the caller does not care
};

// Parses the UDP datagram that is the IPv4 payload `l4` (exactly the
// payload_len bytes the IPv4 header announces; src/dst are that header's).
// kTruncated if fewer than 8 bytes; kBadUdpLength if length < 8 or more than
// `l4` holds (a shorter length is accepted: the rest is IP-level padding);
// kBadUdpChecksum if nonzero and wrong. `out` is filled only on kOk.
inline WireError parse_udp(std::span<const std::uint8_t> l4, std::uint32_t src_ip,
                           std::uint32_t dst_ip, UdpView& out,
                           UdpVerify verify = UdpVerify::kChecksum) noexcept {
  if (l4.size() < kUdpHdrLen) return WireError::kTruncated;
  const std::uint8_t* p = l4.data();
  const std::uint16_t length = load_be16(p + kUdpOffLen);
  if (length < kUdpHdrLen || length > l4.size()) return WireError::kBadUdpLength;
  const std::uint16_t csum = load_be16(p + kUdpOffCsum);
  if (verify == UdpVerify::kChecksum && csum != 0 &&
      !checksum_ok(l4.first(length), ipv4_pseudo_sum(src_ip, dst_ip, kIpProtoUdp, length)))
    return WireError::kBadUdpChecksum;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.length = length;
  out.checksum = csum;
  return WireError::kOk;
}

// Writes the 8-byte header for `payload_len` bytes with checksum 0 (none).
// Returns 8, or 0 if `out` is shorter than 8 or the length overflows 16 bits.
inline std::size_t write_udp(std::span<std::uint8_t> out, std::uint16_t src_port,
                             std::uint16_t dst_port, std::size_t payload_len) noexcept {
  if (out.size() < kUdpHdrLen || payload_len > 0xffff - kUdpHdrLen) return 0;
  std::uint8_t* p = out.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + kUdpOffLen, static_cast<std::uint16_t>(kUdpHdrLen + payload_len));
  store_be16(p + kUdpOffCsum, 0);
  return kUdpHdrLen;
}

// Computes and stores the checksum of the datagram at the start of
// `datagram` (header written, payload in place), over the header's length
// field. Returns false and writes nothing if that length is below 8 or
// beyond the span.
bool fill_udp_checksum(std::span<std::uint8_t> datagram, std::uint32_t src_ip,
                       std::uint32_t dst_ip) noexcept;

}  // namespace spray::wire
