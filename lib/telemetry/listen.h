// SPDX-License-Identifier: BSD-3-Clause
// `--metrics ADDR:PORT|off`: where the Prometheus endpoint listens.
//
// Pure parsing, shared by every role and its unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spray::telemetry {

// Default ports, one per role so gen, respond and switch run side by side on
// one host. Loopback only unless the user names another address.
inline constexpr std::uint16_t kMetricsPortSwitch = 9477;
inline constexpr std::uint16_t kMetricsPortGen = 9478;
inline constexpr std::uint16_t kMetricsPortRespond = 9479;
inline constexpr std::uint16_t kMetricsPortDemo = 9480;

struct ListenAddress {
  std::string host;        // IPv4 dotted quad, or an IPv6 literal without brackets
  std::uint16_t port = 0;  // 0: any free port (tests)
  bool ipv6 = false;

  bool loopback() const noexcept;
  // "127.0.0.1:9477", "[::1]:9477": the form civetweb and users read.
  std::string str() const;
};

// "off" -> nullopt with *error empty. "HOST:PORT", "[V6]:PORT", ":PORT"
// (loopback) or "PORT" (loopback). On a bad value returns nullopt and sets
// *error to one line naming the value and what is accepted.
std::optional<ListenAddress> parse_listen(std::string_view value, std::string* error);

}  // namespace spray::telemetry
