// SPDX-License-Identifier: BSD-3-Clause
// Ethernet II and 802.1Q headers over byte spans.
//
// Pure and header-only on the hot path: no allocation, no DPDK. Every reader
// checks the span length first and reports a reason instead of reading past
// the end. Multi-byte fields are big-endian on the wire; accessors return
// host order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace spray::wire {

inline constexpr std::size_t kEthHdrLen = 14;
inline constexpr std::size_t kVlanTagLen = 4;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88a8;
inline constexpr std::uint16_t kVlanNone = 0;      // untagged / native
inline constexpr std::uint16_t kVlanMax = 4094;     // 4095 is reserved

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
         (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// A MAC address packed into the low 48 bits of a uint64 so it hashes and
// compares as one integer (the FDB key). Byte 0 of the wire form is the most
// significant byte.
struct Mac {
  std::uint64_t bits = 0;

  static Mac load(const std::uint8_t* p) noexcept {
    return Mac{(std::uint64_t{load_be16(p)} << 32) | load_be32(p + 2)};
  }
  void store(std::uint8_t* p) const noexcept {
    store_be16(p, static_cast<std::uint16_t>(bits >> 32));
    store_be32(p + 2, static_cast<std::uint32_t>(bits));
  }
  // I/G bit: group (multicast or broadcast) addresses never get learned.
  bool is_group() const noexcept { return (bits >> 40) & 1; }
  bool is_broadcast() const noexcept { return bits == 0xffff'ffff'ffffULL; }
  bool is_zero() const noexcept { return bits == 0; }
  friend bool operator==(Mac, Mac) = default;

  static constexpr Mac broadcast() noexcept { return Mac{0xffff'ffff'ffffULL}; }
  // "aa:bb:cc:dd:ee:ff" (also accepts '-' separators); nullopt if malformed.
  static std::optional<Mac> parse(std::string_view s);
  std::string str() const;
};

enum class EthError : std::uint8_t {
  kOk = 0,
  kTruncated,        // shorter than the Ethernet (+ tag) header
  kNestedVlan,       // QinQ / double tag: not supported in v1
  kBadVlanId,        // VID 4095
};
const char* to_string(EthError e) noexcept;

// What the switch and the hosts need from an Ethernet frame.
struct EthView {
  Mac dst;
  Mac src;
  std::uint16_t ether_type = 0;  // after the tag, if any
  std::uint16_t vlan = kVlanNone;  // 0 = untagged (or priority tagged)
  std::uint8_t pcp = 0;
  bool tagged = false;
  std::uint8_t l3_offset = kEthHdrLen;  // 14 or 18
};

// Parses the Ethernet header and at most one 802.1Q tag.
inline EthError parse_eth(std::span<const std::uint8_t> f, EthView& out) noexcept {
  if (f.size() < kEthHdrLen) return EthError::kTruncated;
  out.dst = Mac::load(f.data());
  out.src = Mac::load(f.data() + 6);
  std::uint16_t et = load_be16(f.data() + 12);
  out.tagged = false;
  out.vlan = kVlanNone;
  out.pcp = 0;
  out.l3_offset = kEthHdrLen;
  if (et == kEtherTypeVlan || et == kEtherTypeQinQ) {
    if (f.size() < kEthHdrLen + kVlanTagLen) return EthError::kTruncated;
    std::uint16_t tci = load_be16(f.data() + 14);
    out.tagged = true;
    out.vlan = tci & 0x0fff;
    out.pcp = static_cast<std::uint8_t>(tci >> 13);
    if (out.vlan == 0x0fff) return EthError::kBadVlanId;
    et = load_be16(f.data() + 16);
    if (et == kEtherTypeVlan || et == kEtherTypeQinQ) return EthError::kNestedVlan;
    out.l3_offset = kEthHdrLen + kVlanTagLen;
  }
  out.ether_type = et;
  return EthError::kOk;
}

// Writes dst, src, [tag], ether_type. Returns bytes written (14 or 18), or 0
// when `out` is too small. vlan == kVlanNone writes an untagged header.
inline std::size_t write_eth(std::span<std::uint8_t> out, Mac dst, Mac src,
                             std::uint16_t ether_type,
                             std::uint16_t vlan = kVlanNone,
                             std::uint8_t pcp = 0) noexcept {
  const std::size_t n = vlan == kVlanNone ? kEthHdrLen : kEthHdrLen + kVlanTagLen;
  if (out.size() < n) return 0;
  dst.store(out.data());
  src.store(out.data() + 6);
  if (vlan == kVlanNone) {
    store_be16(out.data() + 12, ether_type);
  } else {
    store_be16(out.data() + 12, kEtherTypeVlan);
    store_be16(out.data() + 14, static_cast<std::uint16_t>((pcp << 13) | (vlan & 0x0fff)));
    store_be16(out.data() + 16, ether_type);
  }
  return n;
}

}  // namespace spray::wire
