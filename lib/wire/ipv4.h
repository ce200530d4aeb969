// SPDX-License-Identifier: BSD-3-Clause
// IPv4 header (RFC 791) over byte spans, with the ECN field of RFC 3168.
//
// Parsing checks every length against the span before reading and returns a
// WireError reason; it never trusts a field to size a read. Options are
// accepted and skipped. Addresses are host-order uint32 (10.0.0.1 is
// 0x0a000001). Everything here is worker-safe: no allocation, no state,
// except the address text helpers at the end, which are for configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wire/checksum.h"
#include "wire/errors.h"
#include "wire/ether.h"

namespace spray::wire {

inline constexpr std::size_t kIpv4MinHdrLen = 20;
inline constexpr std::size_t kIpv4MaxHdrLen = 60;
inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::uint8_t kIpv4DefaultTtl = 64;

// Field offsets within the header.
inline constexpr std::size_t kIpv4OffTos = 1;
inline constexpr std::size_t kIpv4OffTotalLen = 2;
inline constexpr std::size_t kIpv4OffId = 4;
inline constexpr std::size_t kIpv4OffFrag = 6;
inline constexpr std::size_t kIpv4OffTtl = 8;
inline constexpr std::size_t kIpv4OffProto = 9;
inline constexpr std::size_t kIpv4OffCsum = 10;
inline constexpr std::size_t kIpv4OffSrc = 12;
inline constexpr std::size_t kIpv4OffDst = 16;

inline constexpr std::uint16_t kIpv4FlagDf = 0x4000;
inline constexpr std::uint16_t kIpv4FlagMf = 0x2000;
inline constexpr std::uint16_t kIpv4FragOffsetMask = 0x1fff;

// The two low bits of the TOS byte (RFC 3168 section 5).
enum class Ecn : std::uint8_t {
  kNotEct = 0,
  kEct1 = 1,
  kEct0 = 2,
  kCe = 3,
};
const char* to_string(Ecn e) noexcept;

struct Ipv4View {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint16_t total_len = 0;   // bytes, header included
  std::uint16_t id = 0;
  std::uint16_t frag = 0;        // flags and fragment offset, as on the wire
  std::uint8_t hdr_len = 0;      // bytes, 20..60
  std::uint8_t ttl = 0;
  std::uint8_t proto = 0;
  std::uint8_t tos = 0;

  Ecn ecn() const noexcept { return static_cast<Ecn>(tos & 0x3); }
  std::uint8_t dscp() const noexcept { return tos >> 2; }
  std::uint16_t payload_len() const noexcept {
    return static_cast<std::uint16_t>(total_len - hdr_len);
  }
  bool is_fragment() const noexcept {
    return (frag & (kIpv4FlagMf | kIpv4FragOffsetMask)) != 0;
  }
  // Offset 0: the fragment that carries the L4 header (or not a fragment).
  bool is_first_fragment() const noexcept { return (frag & kIpv4FragOffsetMask) == 0; }
};

enum class Ipv4Verify : std::uint8_t {
  kChecksum,      // recompute the header checksum
  kSkipChecksum,  // the NIC already checked it (RX offload flag GOOD)
};

// Parses the IPv4 header at the start of `pkt` (the L3 bytes; anything after
// total_len, such as Ethernet padding, is ignored).
//
// Checks, in order: 20 bytes present (kTruncated); version 4 (kBadVersion);
// IHL >= 5 (kBadIhl); IHL*4 within the span (kTruncated); total_len >= IHL*4
// (kBadLength); total_len within the span (kTruncated); header checksum
// (kBadIpChecksum); MF set or offset nonzero (kFragment).
// `out` is filled whenever the result is kOk or kFragment: a fragment's
// header is valid and a router may still forward it; hosts drop it.
inline WireError parse_ipv4(std::span<const std::uint8_t> pkt, Ipv4View& out,
                            Ipv4Verify verify = Ipv4Verify::kChecksum) noexcept {
  if (pkt.size() < kIpv4MinHdrLen) return WireError::kTruncated;
  const std::uint8_t* p = pkt.data();
  if ((p[0] >> 4) != 4) return WireError::kBadVersion;
  const std::size_t hdr_len = std::size_t{p[0] & 0x0fu} * 4;
  if (hdr_len < kIpv4MinHdrLen) return WireError::kBadIhl;
  if (hdr_len > pkt.size()) return WireError::kTruncated;
  const std::uint16_t total_len = load_be16(p + kIpv4OffTotalLen);
  if (total_len < hdr_len) return WireError::kBadLength;
  if (total_len > pkt.size()) return WireError::kTruncated;
  if (verify == Ipv4Verify::kChecksum && !checksum_ok(pkt.first(hdr_len)))
    return WireError::kBadIpChecksum;
  out.hdr_len = static_cast<std::uint8_t>(hdr_len);
  out.tos = p[kIpv4OffTos];
  out.total_len = total_len;
  out.id = load_be16(p + kIpv4OffId);
  out.frag = load_be16(p + kIpv4OffFrag);
  out.ttl = p[kIpv4OffTtl];
  out.proto = p[kIpv4OffProto];
  out.src = load_be32(p + kIpv4OffSrc);
  out.dst = load_be32(p + kIpv4OffDst);
  return out.is_fragment() ? WireError::kFragment : WireError::kOk;
}

// What write_ipv4 puts in a header it builds.
struct Ipv4Fields {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint8_t proto = kIpProtoUdp;
  std::uint8_t ttl = kIpv4DefaultTtl;
  std::uint8_t dscp = 0;         // 0..63
  Ecn ecn = Ecn::kNotEct;
  std::uint16_t id = 0;          // 0 is fine for DF datagrams (RFC 6864)
  bool dont_fragment = true;
};

// Writes a 20-byte header (no options) for `payload_len` bytes of payload,
// checksum included. Returns 20, or 0 if `out` is shorter than 20 bytes or
// the datagram would exceed 65535 bytes.
inline std::size_t write_ipv4(std::span<std::uint8_t> out, const Ipv4Fields& f,
                              std::size_t payload_len) noexcept {
  if (out.size() < kIpv4MinHdrLen || payload_len > 0xffff - kIpv4MinHdrLen) return 0;
  std::uint8_t* p = out.data();
  p[0] = 0x45;
  p[kIpv4OffTos] = static_cast<std::uint8_t>((f.dscp << 2) | static_cast<std::uint8_t>(f.ecn));
  store_be16(p + kIpv4OffTotalLen, static_cast<std::uint16_t>(kIpv4MinHdrLen + payload_len));
  store_be16(p + kIpv4OffId, f.id);
  store_be16(p + kIpv4OffFrag, f.dont_fragment ? kIpv4FlagDf : 0);
  p[kIpv4OffTtl] = f.ttl;
  p[kIpv4OffProto] = f.proto;
  store_be16(p + kIpv4OffCsum, 0);
  store_be32(p + kIpv4OffSrc, f.src);
  store_be32(p + kIpv4OffDst, f.dst);
  store_be16(p + kIpv4OffCsum, internet_checksum(out.first(kIpv4MinHdrLen)));
  return kIpv4MinHdrLen;
}

// Recomputes the header checksum in place over IHL*4 bytes. `hdr` must hold
// a header whose IHL fits in it (parse_ipv4 checked that); returns false and
// writes nothing otherwise.
inline bool refresh_ipv4_checksum(std::span<std::uint8_t> hdr) noexcept {
  if (hdr.size() < kIpv4MinHdrLen) return false;
  const std::size_t hdr_len = std::size_t{hdr[0] & 0x0fu} * 4;
  if (hdr_len < kIpv4MinHdrLen || hdr_len > hdr.size()) return false;
  store_be16(hdr.data() + kIpv4OffCsum, 0);
  store_be16(hdr.data() + kIpv4OffCsum, internet_checksum(hdr.first(hdr_len)));
  return true;
}

enum class CeMark : std::uint8_t {
  kMarked,     // was ECT(0) or ECT(1), now CE
  kAlreadyCe,  // left as is
  kNotEct,     // the sender is not ECN-capable: left as is; the switch drops instead
  kTooShort,   // fewer than 20 bytes: left as is
};

// Marks congestion experienced (RFC 3168 section 5) on the header at the
// start of `hdr`, updating the checksum incrementally. Only the TOS byte and
// the checksum change. The header's checksum must be valid beforehand for it
// to be valid afterwards.
inline CeMark set_ecn_ce(std::span<std::uint8_t> hdr) noexcept {
  if (hdr.size() < kIpv4MinHdrLen) return CeMark::kTooShort;
  std::uint8_t* p = hdr.data();
  const auto ecn = static_cast<Ecn>(p[kIpv4OffTos] & 0x3);
  if (ecn == Ecn::kCe) return CeMark::kAlreadyCe;
  if (ecn == Ecn::kNotEct) return CeMark::kNotEct;
  const std::uint16_t old_word = load_be16(p);
  p[kIpv4OffTos] |= static_cast<std::uint8_t>(Ecn::kCe);
  const std::uint16_t new_word = load_be16(p);
  store_be16(p + kIpv4OffCsum, csum_update16(load_be16(p + kIpv4OffCsum), old_word, new_word));
  return CeMark::kMarked;
}

// Decrements TTL for forwarding (RFC 1812 5.3.1), updating the checksum
// incrementally. Returns false and leaves the header untouched when the TTL
// is 0 or 1 (or `hdr` is shorter than 20 bytes): the packet must not be
// forwarded and, by RFC 1812, is answered with Time Exceeded quoting the
// header as received.
inline bool decrement_ttl(std::span<std::uint8_t> hdr) noexcept {
  if (hdr.size() < kIpv4MinHdrLen) return false;
  std::uint8_t* p = hdr.data();
  if (p[kIpv4OffTtl] <= 1) return false;
  const std::uint16_t old_word = load_be16(p + kIpv4OffTtl);
  --p[kIpv4OffTtl];
  const std::uint16_t new_word = load_be16(p + kIpv4OffTtl);
  store_be16(p + kIpv4OffCsum, csum_update16(load_be16(p + kIpv4OffCsum), old_word, new_word));
  return true;
}

// ---- Addresses and prefixes (configuration; cold, may allocate) ----

// "a.b.c.d": four decimal octets 0..255, no sign, no leading zeros (which
// inet_aton would read as octal), nothing around them. nullopt otherwise.
std::optional<std::uint32_t> parse_ipv4_addr(std::string_view s);
std::string format_ipv4(std::uint32_t addr);

struct Ipv4Prefix {
  std::uint32_t addr = 0;
  std::uint8_t len = 0;  // 0..32

  std::uint32_t mask() const noexcept {
    return len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
  }
  bool contains(std::uint32_t a) const noexcept { return (a & mask()) == (addr & mask()); }
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

enum class HostBits : std::uint8_t {
  kReject,  // a route: "10.0.0.0/24"; "10.0.0.1/24" is an error (as iproute2)
  kAllow,   // an interface address with its subnet: "10.0.0.1/24"
};

// "a.b.c.d/len" with len 0..32 in decimal. nullopt on any malformed part, or
// on host bits set under HostBits::kReject.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view s,
                                             HostBits host_bits = HostBits::kReject);
std::string format_ipv4_prefix(const Ipv4Prefix& p);

}  // namespace spray::wire
