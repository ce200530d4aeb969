// SPDX-License-Identifier: BSD-3-Clause
// Datacenter fabrics for `spray sim`: a 2-tier leaf-spine and a 3-tier
// k-ary fat tree, built on a Sim with per-tier queues and ECN thresholds and
// an oversubscription ratio at the top-of-rack tier.
//
// Hosts get addresses host_ip(0), host_ip(1), ... in order, ToR by ToR, so
// every ToR's and every pod's hosts form one address block: switches route
// a few blocks (Sim::add_range_route) instead of one route per host, and a
// 16,000-host fat tree builds in well under a second. Up is ECMP over every
// uplink, hashed per switch (Sim's 5-tuple hash); down is the one link
// towards the destination.
//
// build_fabric throws std::invalid_argument naming the field, the value and
// what is accepted. Not thread-safe (like Sim).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim.h"

namespace spray::sim {

enum class FabricKind : std::uint8_t { kLeafSpine, kFatTree };

// Egress queues of one tier: a host's NIC, a ToR (leaf), an aggregation
// switch (spine) or a core switch.
enum class Tier : std::uint8_t { kHost = 0, kTor, kAgg, kCore };
inline constexpr std::size_t kTierCount = 4;
const char* to_string(Tier t) noexcept;

struct TierQueue {
  std::uint32_t queue_pkts = 64;  // tail drop beyond this many queued packets
  std::uint32_t ecn_pkts = 0;     // CE on ECT packets with this many queued ahead; 0 = off
};

struct FabricConfig {
  FabricKind kind = FabricKind::kFatTree;
  // Fat tree: k ports per switch (even), or 0 and `nodes` picks the
  // smallest even k whose tree holds them (htsim's way). Hosts fill the
  // ToRs in order; the last ToRs may be partly empty.
  std::uint32_t k = 0;
  std::uint32_t nodes = 0;
  // Leaf-spine: every leaf joined to every spine.
  std::uint32_t leaves = 4;
  std::uint32_t spines = 4;
  std::uint32_t hosts_per_leaf = 0;  // 0: oversubscription x spines
  // Host-facing to fabric-facing capacity of a ToR (1 = non-blocking): a
  // fat-tree ToR has oversubscription x k/2 hosts under its k/2 uplinks.
  std::uint32_t oversubscription = 1;
  std::uint64_t link_rate_bps = 100'000'000'000ULL;
  Nanos link_delay_ns = 1'000;
  std::array<TierQueue, kTierCount> tiers{};
  HostConfig host;
  std::uint16_t udp_port = 4792;
};

struct Fabric {
  FabricKind kind = FabricKind::kFatTree;
  std::uint32_t k = 0;               // fat tree
  std::uint32_t hosts_per_tor = 0;
  std::uint32_t tors_per_pod = 0;    // fat tree: k/2; leaf-spine: every leaf in one "pod"
  std::vector<std::uint32_t> hosts;  // node ids, index = address order
  std::vector<std::uint32_t> tors, aggs, cores;  // switch node ids (leaf-spine: leaves, spines)
  std::vector<Tier> link_tier;       // by link id: the tier of its sending end
  std::unordered_map<std::string, std::uint32_t> by_name;  // "h3", "tor2", "agg0", "core5", "leaf1", "spine0"
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> link_between;  // (from, to) node -> link

  std::uint32_t tor_of(std::uint32_t host_index) const noexcept { return host_index / hosts_per_tor; }
  std::uint32_t pod_of(std::uint32_t host_index) const noexcept { return tor_of(host_index) / tors_per_pod; }
  // Equal-cost shortest paths between two hosts (by index): 1 under one
  // ToR, k/2 (spines) within a pod (leaf-spine), (k/2)^2 across pods.
  std::uint64_t paths_between(std::uint32_t a, std::uint32_t b) const noexcept;
  // The link from node `from` to node `to`; throws std::invalid_argument
  // when they are not neighbours.
  std::uint32_t link(std::uint32_t from, std::uint32_t to) const;
  // Node id by name; throws std::invalid_argument naming the accepted forms.
  std::uint32_t node(const std::string& name) const;
};

// Checks the configuration (std::invalid_argument) and adds the fabric's
// switches, hosts (without stacks), links and routes to `sim`.
Fabric build_fabric(Sim& sim, const FabricConfig& cfg);

// The fat tree's k for `nodes` hosts at `oversubscription` (smallest even
// k >= 2 with oversubscription * k^3 / 4 >= nodes).
std::uint32_t fat_tree_k_for(std::uint32_t nodes, std::uint32_t oversubscription) noexcept;

}  // namespace spray::sim
