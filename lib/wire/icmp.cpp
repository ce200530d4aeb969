// SPDX-License-Identifier: BSD-3-Clause
#include "wire/icmp.h"

#include <algorithm>
#include <cstring>

#include "wire/checksum.h"
#include "wire/frame.h"

namespace spray::wire {

WireError parse_icmp(std::span<const std::uint8_t> msg, IcmpView& out) noexcept {
  if (msg.size() < kIcmpHdrLen) return WireError::kTruncated;
  if (!checksum_ok(msg)) return WireError::kBadIcmpChecksum;
  out.type = msg[0];
  out.code = msg[1];
  out.checksum = load_be16(msg.data() + 2);
  out.rest = load_be32(msg.data() + 4);
  return WireError::kOk;
}

WireError icmp_echo_to_reply(std::span<std::uint8_t> frame) noexcept {
  FrameInfo info;
  if (const WireError e = parse_frame(frame, info); e != WireError::kOk) return e;
  if (!info.is_ipv4()) return WireError::kUnsupportedEthertype;
  if (info.ip_proto != kIpProtoIcmp) return WireError::kIcmpUnhandled;
  const auto msg = frame.subspan(info.l4_offset, info.payload_len);
  IcmpView icmp;
  if (const WireError e = parse_icmp(msg, icmp); e != WireError::kOk) return e;
  if (icmp.type != kIcmpEchoRequest) return WireError::kIcmpUnhandled;

  std::uint8_t* eth = frame.data();
  info.eth.src.store(eth);
  info.eth.dst.store(eth + 6);

  // Swapping the addresses moves words within the header: the sum holds.
  std::uint8_t* ip = frame.data() + info.l3_offset;
  store_be32(ip + kIpv4OffSrc, info.dst_ip);
  store_be32(ip + kIpv4OffDst, info.src_ip);
  const std::uint16_t old_ttl_word = load_be16(ip + kIpv4OffTtl);
  ip[kIpv4OffTtl] = kIpv4DefaultTtl;
  store_be16(ip + kIpv4OffCsum, csum_update16(load_be16(ip + kIpv4OffCsum), old_ttl_word,
                                              load_be16(ip + kIpv4OffTtl)));

  std::uint8_t* m = msg.data();
  const std::uint16_t old_type_word = load_be16(m);
  m[0] = kIcmpEchoReply;
  store_be16(m + 2, csum_update16(load_be16(m + 2), old_type_word, load_be16(m)));
  return WireError::kOk;
}

namespace {

bool is_multicast(std::uint32_t a) noexcept { return (a >> 28) == 0xe; }

// Source addresses that must never be answered (RFC 1812 4.3.2.7, 5.3.7).
bool is_martian_source(std::uint32_t a) noexcept {
  const std::uint32_t top = a >> 24;
  return top == 0 || top == 127 || (a >> 28) >= 0xe;
}

std::size_t build_icmp_error(std::span<std::uint8_t> out, const IcmpErrorAddr& addr,
                             std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                             std::span<const std::uint8_t> offending) noexcept {
  Ipv4View orig;
  const WireError e = parse_ipv4(offending, orig, Ipv4Verify::kSkipChecksum);
  if (e != WireError::kOk && e != WireError::kFragment) return 0;
  const std::size_t quote_len =
      std::min<std::size_t>(orig.hdr_len + kIcmpQuotedPayloadLen, orig.total_len);
  const std::size_t icmp_len = kIcmpHdrLen + quote_len;

  const std::size_t l2 = write_eth(out, addr.dst_mac, addr.src_mac, kEtherTypeIpv4, addr.vlan);
  if (l2 == 0 || out.size() < l2 + kIpv4MinHdrLen + icmp_len) return 0;
  Ipv4Fields f;
  f.src = addr.router_ip;
  f.dst = orig.src;
  f.proto = kIpProtoIcmp;
  f.ttl = kIpv4DefaultTtl;
  f.dscp = 48;  // CS6: network control, as routers mark their own ICMP
  write_ipv4(out.subspan(l2), f, icmp_len);

  std::uint8_t* m = out.data() + l2 + kIpv4MinHdrLen;
  m[0] = type;
  m[1] = code;
  store_be16(m + 2, 0);
  store_be32(m + 4, rest);
  std::memcpy(m + kIcmpHdrLen, offending.data(), quote_len);
  store_be16(m + 2, internet_checksum({m, icmp_len}));
  return l2 + kIpv4MinHdrLen + icmp_len;
}

}  // namespace

bool icmp_error_allowed(std::span<const std::uint8_t> offending) noexcept {
  Ipv4View ip;
  const WireError e = parse_ipv4(offending, ip);
  if (e != WireError::kOk && e != WireError::kFragment) return false;
  if (!ip.is_first_fragment()) return false;
  if (ip.dst == 0xffff'ffffU || is_multicast(ip.dst) || is_martian_source(ip.src)) return false;
  if (ip.proto == kIpProtoIcmp) {
    // The type is the first payload byte; without it, stay silent.
    if (ip.payload_len() < 1) return false;
    IcmpView icmp;
    icmp.type = offending[ip.hdr_len];
    if (icmp.is_error()) return false;
  }
  return true;
}

std::size_t build_icmp_time_exceeded(std::span<std::uint8_t> out, const IcmpErrorAddr& addr,
                                     std::span<const std::uint8_t> offending) noexcept {
  return build_icmp_error(out, addr, kIcmpTimeExceeded, kIcmpTtlExceeded, 0, offending);
}

std::size_t build_icmp_dest_unreachable(std::span<std::uint8_t> out, const IcmpErrorAddr& addr,
                                        std::uint8_t code, std::span<const std::uint8_t> offending,
                                        std::uint16_t next_hop_mtu) noexcept {
  return build_icmp_error(out, addr, kIcmpDestUnreachable, code, next_hop_mtu, offending);
}

}  // namespace spray::wire
