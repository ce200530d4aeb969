// SPDX-License-Identifier: BSD-3-Clause
#include "tor/l2_config.h"

#include <algorithm>
#include <string>

namespace spray::tor {

namespace {

std::string port_label(const L2Config& c, std::size_t i) {
  std::string s = "port " + std::to_string(i);
  if (i < c.ports.size() && !c.ports[i].name.empty()) s += " (" + c.ports[i].name + ")";
  return s;
}

bool vlan_ok(VlanId v) { return v >= kMinVlan && v <= kMaxVlan; }

std::string vlan_range_error(const std::string& what, VlanId v) {
  return what + " " + std::to_string(v) + " is out of range; accepted: " +
         std::to_string(kMinVlan) + ".." + std::to_string(kMaxVlan);
}

std::string validate_port(const L2Config& c, std::size_t i) {
  const L2PortConfig& p = c.ports[i];
  const std::string who = port_label(c, i) + ": ";
  if (p.mode == PortMode::kAccess) {
    if (!vlan_ok(p.access_vlan)) return who + vlan_range_error("access_vlan", p.access_vlan);
    if (!p.allowed_vlans.empty())
      return who + "allowed_vlans is set on an access port; accepted: allowed_vlans only with mode trunk";
    if (p.native_vlan != kNoVlan)
      return who + "native_vlan " + std::to_string(p.native_vlan) +
             " is set on an access port; accepted: native_vlan only with mode trunk "
             "(an access port's VLAN is access_vlan)";
    return {};
  }
  for (VlanId v : p.allowed_vlans)
    if (!vlan_ok(v)) return who + vlan_range_error("allowed VLAN", v);
  if (p.native_vlan != kNoVlan && !vlan_ok(p.native_vlan))
    return who + vlan_range_error("native_vlan", p.native_vlan) + ", or 0 for none";
  if (p.allowed_vlans.empty() && p.native_vlan == kNoVlan)
    return who + "trunk carries no VLAN; accepted: at least one allowed VLAN or a native_vlan";
  return {};
}

}  // namespace

bool L2Config::port_in_vlan(PortId p, VlanId vlan) const {
  if (p >= ports.size() || vlan == kNoVlan) return false;
  const L2PortConfig& pc = ports[p];
  if (pc.mode == PortMode::kAccess) return pc.access_vlan == vlan;
  return pc.native_vlan == vlan ||
         std::find(pc.allowed_vlans.begin(), pc.allowed_vlans.end(), vlan) != pc.allowed_vlans.end();
}

std::string L2Config::validate() const {
  if (ports.empty()) return "no ports configured; accepted: 1.." + std::to_string(kMaxPorts) + " ports";
  if (ports.size() > kMaxPorts)
    return std::to_string(ports.size()) + " ports configured; accepted: 1.." +
           std::to_string(kMaxPorts) + " ports";
  if (fdb_capacity < kMinFdbCapacity || fdb_capacity > kMaxFdbCapacity)
    return "fdb_capacity " + std::to_string(fdb_capacity) + " is out of range; accepted: " +
           std::to_string(kMinFdbCapacity) + ".." + std::to_string(kMaxFdbCapacity) + " entries";
  if (age_ns != 0 && (age_ns < kMinAgeNs || age_ns > kMaxAgeNs))
    return "age " + std::to_string(age_ns) + " ns is out of range; accepted: " +
           std::to_string(kMinAgeNs / 1'000'000'000ULL) + ".." +
           std::to_string(kMaxAgeNs / 1'000'000'000ULL) + " s, or 0 to disable ageing";
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (std::string e = validate_port(*this, i); !e.empty()) return e;

  if (static_entries.size() > fdb_capacity)
    return std::to_string(static_entries.size()) + " static entries exceed fdb_capacity " +
           std::to_string(fdb_capacity) + "; accepted: at most fdb_capacity";
  for (std::size_t i = 0; i < static_entries.size(); ++i) {
    const L2StaticEntry& s = static_entries[i];
    const std::string who = "static entry " + std::to_string(i) + " (" + s.mac.str() + " vlan " +
                            std::to_string(s.vlan) + "): ";
    if (!vlan_ok(s.vlan)) return who + vlan_range_error("vlan", s.vlan);
    if (s.mac.is_group() || s.mac.is_zero())
      return who + "MAC is a group or zero address; accepted: a unicast MAC";
    if (s.port >= ports.size())
      return who + "port " + std::to_string(s.port) + " does not exist; accepted: 0.." +
             std::to_string(ports.size() - 1);
    if (!port_in_vlan(s.port, s.vlan))
      return who + port_label(*this, s.port) + " does not carry vlan " + std::to_string(s.vlan) +
             "; accepted: a port whose access, allowed or native VLAN it is";
    for (std::size_t j = 0; j < i; ++j)
      if (static_entries[j].vlan == s.vlan && static_entries[j].mac == s.mac)
        return who + "duplicates static entry " + std::to_string(j) +
               "; accepted: one entry per (vlan, MAC)";
  }
  return {};
}

}  // namespace spray::tor
