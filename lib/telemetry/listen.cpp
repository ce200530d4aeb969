// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/listen.h"

#include <arpa/inet.h>

#include <charconv>

namespace spray::telemetry {

bool ListenAddress::loopback() const noexcept {
  if (ipv6) return host == "::1";
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

std::string ListenAddress::str() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenAddress> parse_listen(std::string_view v, std::string* error) {
  error->clear();
  if (v == "off") return std::nullopt;
  const std::string accepted =
      "expected ADDR:PORT (e.g. 127.0.0.1:9477, 0.0.0.0:9477, [::1]:9477), :PORT or PORT for loopback, "
      "or off";
  auto bad = [&](const std::string& why) {
    *error = "--metrics '" + std::string(v) + "': " + why + "; " + accepted;
    return std::nullopt;
  };
  ListenAddress a;
  std::string_view port;
  if (!v.empty() && v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':')
      return bad("an IPv6 address needs the form [ADDR]:PORT");
    a.host = std::string(v.substr(1, close - 1));
    a.ipv6 = true;
    port = v.substr(close + 2);
    in6_addr x{};
    if (inet_pton(AF_INET6, a.host.c_str(), &x) != 1) return bad("'" + a.host + "' is not an IPv6 address");
  } else {
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos) {
      a.host = "127.0.0.1";
      port = v;
    } else {
      a.host = colon == 0 ? "127.0.0.1" : std::string(v.substr(0, colon));
      port = v.substr(colon + 1);
    }
    if (a.host == "localhost") a.host = "127.0.0.1";
    in_addr x{};
    if (inet_pton(AF_INET, a.host.c_str(), &x) != 1)
      return bad("'" + a.host + "' is not an IPv4 address (names are not resolved)");
  }
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return bad("'" + std::string(port) + "' is not a port number in 0..65535");
  a.port = static_cast<std::uint16_t>(p);
  return a;
}

}  // namespace spray::telemetry
