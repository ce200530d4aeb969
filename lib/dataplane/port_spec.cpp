// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/port_spec.h"

#include <cctype>

namespace spray::dp {

namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// [DDDD:]BB:DD.F — the forms DPDK's PCI bus accepts.
bool looks_like_pci(std::string_view s) {
  const auto comma = s.find(',');
  if (comma != std::string_view::npos) s = s.substr(0, comma);
  auto hex_run = [&](std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (!is_hex(s[pos + i])) return false;
    return true;
  };
  std::size_t p = 0;
  if (s.size() == 12) {  // DDDD:BB:DD.F
    if (!hex_run(0, 4) || s[4] != ':') return false;
    p = 5;
  } else if (s.size() != 7) {
    return false;
  }
  return hex_run(p, 2) && s[p + 2] == ':' && hex_run(p + 3, 2) && s[p + 5] == '.' &&
         s[p + 6] >= '0' && s[p + 6] <= '7';
}

// Empty when `name` is a valid port name, else what is wrong with it.
std::string name_problem(std::string_view name) {
  if (name.empty() || name.size() > 32) return "bad port name length";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return "bad character '" + std::string(1, c) + "' in port name";
  return {};
}

}  // namespace

bool PortSpec::is_pci() const { return looks_like_pci(devargs); }

std::string PortSpec::device_name() const { return devargs.substr(0, devargs.find(',')); }

PortSpecResult parse_port_spec(std::string_view arg) {
  const std::string accepted =
      "expected NAME=DEVARGS, e.g. a=net_ring0, sw0=net_tap0,iface=sw0 or nic0=0000:03:00.0 "
      "(NAME: 1-32 of [A-Za-z0-9_.-])";
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos)
    return {std::nullopt, "--port '" + std::string(arg) + "': missing '='; " + accepted};
  const auto name = arg.substr(0, eq);
  const auto dev = arg.substr(eq + 1);
  if (const auto bad = name_problem(name); !bad.empty())
    return {std::nullopt, "--port '" + std::string(arg) + "': " + bad + "; " + accepted};
  if (dev.empty())
    return {std::nullopt, "--port '" + std::string(arg) + "': empty device arguments; " + accepted};
  PortSpec s{std::string(name), std::string(dev)};
  if (!s.is_pci()) {
    // vdev names are driver name + instance, e.g. net_ring0.
    const auto dn = s.device_name();
    if (dn.rfind("net_", 0) != 0 && dn.rfind("eth_", 0) != 0)
      return {std::nullopt, "--port '" + std::string(arg) + "': '" + dn +
                                "' is neither a PCI address (0000:03:00.0) nor a network vdev "
                                "name (net_ring0, net_tap0, net_memif0, net_vhost0, "
                                "net_virtio_user0, net_pcap0, net_null0, net_impair0, net_uring0)"};
  }
  return {std::move(s), {}};
}

PortSpecsResult expand_port_spec(std::string_view arg, const EnvLookup& env) {
  const auto eq = arg.find('=');
  constexpr std::string_view kEnv = "env:";
  if (eq == std::string_view::npos || arg.substr(eq + 1, kEnv.size()) != kEnv) {
    auto r = parse_port_spec(arg);
    if (!r.spec) return {{}, std::move(r.error)};
    return {{std::move(*r.spec)}, {}};
  }
  const std::string name(arg.substr(0, eq));
  const std::string var(arg.substr(eq + 1 + kEnv.size()));
  const std::string where = "--port '" + std::string(arg) + "': ";
  const std::string accepted =
      "; expected a comma-separated list of PCI addresses, e.g. 0000:03:02.0,0000:03:02.1";
  if (const auto bad = name_problem(name); !bad.empty())
    return {{}, where + bad + " (NAME: 1-32 of [A-Za-z0-9_.-])"};
  bool var_ok = !var.empty() && !std::isdigit(static_cast<unsigned char>(var[0]));
  for (char c : var) var_ok = var_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!var_ok)
    return {{}, where + "'" + var + "' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"};
  const auto value = env(var);
  if (!value) return {{}, where + "environment variable " + var + " is not set" + accepted};
  if (value->empty()) return {{}, where + "environment variable " + var + " is empty" + accepted};

  std::vector<std::string> addresses;
  for (std::size_t from = 0;;) {
    const auto comma = value->find(',', from);
    addresses.push_back(value->substr(from, comma == std::string::npos ? comma : comma - from));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  PortSpecsResult out;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    // Numbered only when there are several, so the usual one-device case
    // keeps the name the other options (--vlan, --interface, --ip) refer to.
    PortSpec s{name + (addresses.size() > 1 ? std::to_string(i) : ""), addresses[i]};
    if (!s.is_pci())
      return {{}, where + "environment variable " + var + " = '" + *value + "': '" + addresses[i] +
                      "' is not a PCI address" + accepted};
    if (const auto bad = name_problem(s.name); !bad.empty())
      return {{}, where + bad + " '" + s.name + "' (NAME: 1-32 of [A-Za-z0-9_.-])"};
    out.specs.push_back(std::move(s));
  }
  return out;
}

}  // namespace spray::dp
