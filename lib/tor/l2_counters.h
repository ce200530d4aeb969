// SPDX-License-Identifier: BSD-3-Clause
// Counters and drop reasons of the L2 switch, each defined once.
//
// Every list below expands into an enum, a snake_case name (a Prometheus
// label value, a telemetry key, a CLI column) and a help text, so the data
// path, the exporter and the CLI cannot disagree. Adding a reason is one line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "telemetry/counter.h"

namespace spray::tor {

// X(enumerator, snake_case_name, "help text")
//
// Every frame handed to L2Switch::process_burst ends in exactly one of:
// one drop reason, forwarded, flooded, broadcast or multicast.
#define SPRAY_L2_DROPS(X)                                                                     \
  X(kTruncated, truncated, "frame shorter than an Ethernet header (or its 802.1Q tag)")       \
  X(kBadVlanId, bad_vlan_id, "802.1Q tag carrying the reserved VID 4095")                     \
  X(kPortDown, port_down, "ingress port administratively or operationally down")              \
  X(kTaggedOnAccess, tagged_on_access, "frame tagged with a non-zero VID on an access port")  \
  X(kVlanNotAllowed, vlan_not_allowed, "tagged frame whose VID is not allowed on the trunk")  \
  X(kUntaggedNoNative, untagged_no_native,                                                    \
    "untagged or priority-tagged frame on a trunk without a native VLAN")                     \
  X(kInvalidSrcMac, invalid_src_mac, "source MAC is a group (multicast) or all-zero address") \
  X(kReservedDst, reserved_dst,                                                               \
    "destination is an IEEE 802.1D link-local address 01:80:c2:00:00:0x, never bridged")      \
  X(kHairpin, hairpin, "destination was learned on the ingress port")                         \
  X(kEgressDown, egress_down, "destination's port is down (static entry)")                    \
  X(kNoEgress, no_egress, "frame to flood, but no other port of its VLAN is up")

#define SPRAY_L2_COUNTERS(X)                                                                   \
  X(kRxFrames, rx_frames, "frames offered to the switch")                                      \
  X(kForwarded, forwarded, "frames sent to the one port their destination was learned on")     \
  X(kFlooded, flooded, "unknown-unicast frames flooded to the other ports of their VLAN")      \
  X(kBroadcast, broadcast, "broadcast frames flooded to the other ports of their VLAN")        \
  X(kMulticast, multicast, "multicast frames flooded to the other ports of their VLAN")        \
  X(kLearned, learned, "FDB entries created by learning a source MAC")                         \
  X(kMoved, moved, "learned MACs seen on another port of the same VLAN (MAC moves)")           \
  X(kAged, aged, "FDB entries removed after the ageing time without traffic")                  \
  X(kFlushed, flushed, "FDB entries removed because their port went down")                     \
  X(kLearnRefusedTableFull, learn_refused_table_full,                                          \
    "source MACs not learned because the FDB was at capacity")                                 \
  X(kLearnRefusedPortLimit, learn_refused_port_limit,                                          \
    "source MACs not learned because their port reached its learned-MAC limit")                \
  X(kLearnRefusedStatic, learn_refused_static,                                                 \
    "source MACs seen on a port other than their static entry's, not learned")

#define SPRAY_L2_ENUMERATOR(e, name, help) e,
enum class L2Drop : std::uint8_t { SPRAY_L2_DROPS(SPRAY_L2_ENUMERATOR) };
enum class L2Counter : std::uint8_t { SPRAY_L2_COUNTERS(SPRAY_L2_ENUMERATOR) };
#undef SPRAY_L2_ENUMERATOR

#define SPRAY_L2_ONE(e, name, help) +1
inline constexpr std::size_t kL2DropCount = 0 SPRAY_L2_DROPS(SPRAY_L2_ONE);
inline constexpr std::size_t kL2CounterCount = 0 SPRAY_L2_COUNTERS(SPRAY_L2_ONE);
#undef SPRAY_L2_ONE

// {name, help} per reason and counter, in enum order; a name is a metric
// label value (drops) or name stem (counters).
#define SPRAY_L2_INFO(e, name, help) telemetry::CounterInfo{#name, help},
inline constexpr std::array<telemetry::CounterInfo, kL2DropCount> kL2DropInfo{
    SPRAY_L2_DROPS(SPRAY_L2_INFO)};
inline constexpr std::array<telemetry::CounterInfo, kL2CounterCount> kL2CounterInfo{
    SPRAY_L2_COUNTERS(SPRAY_L2_INFO)};
#undef SPRAY_L2_INFO

constexpr const char* to_string(L2Drop d) noexcept {
  return kL2DropInfo[static_cast<std::size_t>(d)].name;
}
constexpr const char* to_string(L2Counter c) noexcept {
  return kL2CounterInfo[static_cast<std::size_t>(c)].name;
}

// One writer (the worker), any reader: relaxed load+store, no RMW.
using telemetry::SingleWriterCounter;

// Point-in-time copy of a switch's counters; plain data, safe to pass around.
// Counters only grow (reset baselines belong to the reader, as in OVS).
struct L2Stats {
  std::array<std::uint64_t, kL2CounterCount> counters{};
  std::array<std::uint64_t, kL2DropCount> drops{};
  std::uint64_t fdb_entries = 0;  // gauge: live and not-yet-swept entries

  std::uint64_t operator[](L2Counter c) const noexcept {
    return counters[static_cast<std::size_t>(c)];
  }
  std::uint64_t operator[](L2Drop d) const noexcept {
    return drops[static_cast<std::size_t>(d)];
  }
  std::uint64_t total_drops() const noexcept {
    std::uint64_t n = 0;
    for (auto d : drops) n += d;
    return n;
  }
};

}  // namespace spray::tor
