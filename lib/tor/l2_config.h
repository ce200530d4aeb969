// SPDX-License-Identifier: BSD-3-Clause
// Configuration of an L2 learning switch: FDB size and ageing, and per port
// its 802.1Q mode, VLANs, learned-MAC limit and administrative state.
//
// Plain data built by the control thread (from the CLI or a config file);
// validate() before building an L2Switch from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tor/fdb.h"
#include "wire/ether.h"

namespace spray::tor {

// Port ids are indexes into L2Config::ports; flood sets are 64-bit masks.
inline constexpr std::size_t kMaxPorts = 64;
inline constexpr VlanId kMinVlan = 1;
inline constexpr VlanId kMaxVlan = wire::kVlanMax;  // 4094; 4095 is reserved
inline constexpr VlanId kNoVlan = 0;

inline constexpr std::uint32_t kMinFdbCapacity = 1;
inline constexpr std::uint32_t kMaxFdbCapacity = 1u << 22;  // 128 MiB of slots
inline constexpr std::uint64_t kMinAgeNs = 1'000'000'000ULL;             // 1 s
inline constexpr std::uint64_t kMaxAgeNs = 1'000'000ULL * 1'000'000'000ULL;  // 10^6 s

enum class PortMode : std::uint8_t {
  // One VLAN, untagged on the wire. Tagged frames are dropped unless
  // priority-tagged (VID 0), which belong to the access VLAN.
  kAccess,
  // Tagged frames of the allowed VLANs; untagged (and priority-tagged)
  // frames belong to the native VLAN if there is one, else are dropped.
  kTrunk,
};

struct L2PortConfig {
  std::string name;             // for messages; "port <index>" when empty
  PortMode mode = PortMode::kAccess;
  VlanId access_vlan = 1;       // kAccess only
  std::vector<VlanId> allowed_vlans;  // kTrunk only; need not list the native VLAN
  VlanId native_vlan = kNoVlan;  // kTrunk only; kNoVlan: untagged frames are dropped
  std::uint32_t max_macs = 0;   // learned (dynamic) MACs on this port; 0 = no limit
  bool admin_up = true;
};

// Never aged, never moved by traffic, kept when the port goes down.
struct L2StaticEntry {
  VlanId vlan = 1;
  wire::Mac mac;
  PortId port = 0;
};

struct L2Config {
  std::uint32_t fdb_capacity = 16384;             // entries, static ones included
  std::uint64_t age_ns = 300'000'000'000ULL;      // 0 disables ageing
  std::uint64_t hash_seed = 0;                    // set from a random source
  std::vector<L2PortConfig> ports;                // port id = index
  std::vector<L2StaticEntry> static_entries;

  // Empty when the configuration is usable; otherwise one message naming
  // the offending field, its value and what would be accepted, e.g.
  // "port 2 (eth2): native_vlan 4095 is out of range; accepted: 1..4094".
  std::string validate() const;

  // Does port `p` carry frames of `vlan` (access VLAN, allowed or native)?
  // Assumes a valid configuration.
  bool port_in_vlan(PortId p, VlanId vlan) const;
};

}  // namespace spray::tor
