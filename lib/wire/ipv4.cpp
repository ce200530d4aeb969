// SPDX-License-Identifier: BSD-3-Clause
#include "wire/ipv4.h"

#include <cstdio>

namespace spray::wire {

const char* to_string(Ecn e) noexcept {
  switch (e) {
    case Ecn::kNotEct: return "not_ect";
    case Ecn::kEct1: return "ect1";
    case Ecn::kEct0: return "ect0";
    case Ecn::kCe: return "ce";
  }
  return "unknown";
}

namespace {

// Reads a decimal number of 1..max_digits digits without a leading zero
// (except "0" itself) from the front of `s`, and advances `s` past it.
std::optional<std::uint32_t> take_decimal(std::string_view& s, std::size_t max_digits) {
  std::size_t n = 0;
  std::uint32_t v = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
    if (n == max_digits) return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(s[n] - '0');
    ++n;
  }
  if (n == 0 || (n > 1 && s[0] == '0')) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

// Parses "a.b.c.d" from the front of `s`, leaving the rest in `s`.
std::optional<std::uint32_t> take_addr(std::string_view& s) {
  std::uint32_t addr = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    const auto octet = take_decimal(s, 3);
    if (!octet || *octet > 255) return std::nullopt;
    addr = (addr << 8) | *octet;
  }
  return addr;
}

}  // namespace

std::optional<std::uint32_t> parse_ipv4_addr(std::string_view s) {
  const auto addr = take_addr(s);
  if (!addr || !s.empty()) return std::nullopt;
  return addr;
}

std::string format_ipv4(std::uint32_t addr) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
                (addr >> 8) & 0xff, addr & 0xff);
  return buf;
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view s, HostBits host_bits) {
  const auto addr = take_addr(s);
  if (!addr || s.empty() || s.front() != '/') return std::nullopt;
  s.remove_prefix(1);
  const auto len = take_decimal(s, 2);
  if (!len || *len > 32 || !s.empty()) return std::nullopt;
  Ipv4Prefix p{*addr, static_cast<std::uint8_t>(*len)};
  if (host_bits == HostBits::kReject && (p.addr & ~p.mask()) != 0) return std::nullopt;
  return p;
}

std::string format_ipv4_prefix(const Ipv4Prefix& p) {
  return format_ipv4(p.addr) + '/' + std::to_string(p.len);
}

}  // namespace spray::wire
