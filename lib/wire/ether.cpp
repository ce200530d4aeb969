// SPDX-License-Identifier: BSD-3-Clause
#include "wire/ether.h"

#include <cstdio>

namespace spray::wire {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Mac> Mac::parse(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hex_value(s[i * 3]);
    const int lo = hex_value(s[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') return std::nullopt;
    v = (v << 8) | static_cast<std::uint64_t>(hi << 4 | lo);
  }
  return Mac{v};
}

std::string Mac::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x",
                unsigned(bits >> 40) & 0xff, unsigned(bits >> 32) & 0xff,
                unsigned(bits >> 24) & 0xff, unsigned(bits >> 16) & 0xff,
                unsigned(bits >> 8) & 0xff, unsigned(bits) & 0xff);
  return buf;
}

const char* to_string(EthError e) noexcept {
  switch (e) {
    case EthError::kOk: return "ok";
    case EthError::kTruncated: return "truncated";
    case EthError::kNestedVlan: return "nested_vlan";
    case EthError::kBadVlanId: return "bad_vlan_id";
  }
  return "unknown";
}

}  // namespace spray::wire
