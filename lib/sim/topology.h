// SPDX-License-Identifier: BSD-3-Clause
// Topology builders: the shapes the transport's scenarios run on.
//
// Each builder adds hosts, switches and links to a Sim and returns their
// ids; stacks are installed afterwards with Sim::set_stack. Hosts get
// addresses 10.0.0.1, 10.0.0.2, ... in creation order and UDP port
// `udp_port`.
#pragma once

#include <cstdint>
#include <vector>

#include "sim.h"

namespace spray::sim {

inline constexpr std::uint16_t kDefaultSrdPort = 4792;
inline constexpr std::uint32_t host_ip(std::uint32_t i) noexcept { return 0x0a000001u + i; }

// (a) Two hosts joined by P parallel paths, one link per path and
// direction; path_id selects the link (path_id % P). Path i gets
// `skew_ns * i / (P - 1)` of extra one-way delay when `skew_ns` is set.
struct ParallelConfig {
  std::uint16_t paths = 8;
  LinkConfig path;          // each direction of each path
  Nanos skew_ns = 0;
  HostConfig host;          // addr is filled in
  std::uint16_t udp_port = kDefaultSrdPort;
};
struct Parallel {
  std::uint32_t a = 0, b = 0;        // host node ids
  std::vector<std::uint32_t> ab;     // link of path i, a -> b
  std::vector<std::uint32_t> ba;     // link of path i, b -> a
};
Parallel build_parallel(Sim& sim, const ParallelConfig& cfg);

// (b) Leaf-spine: `leaves` leaf switches with `hosts_per_leaf` hosts each,
// every leaf joined to every spine. A leaf sends traffic for another leaf's
// host up by ECMP over the spines, hashing (src ip, dst ip, src port = base +
// path_id, dst port): a single-path flow sticks to one spine, a sprayed one
// spreads over all.
struct LeafSpineConfig {
  std::uint32_t leaves = 2;
  std::uint32_t hosts_per_leaf = 4;
  std::uint32_t spines = 4;
  LinkConfig host_link;     // host <-> leaf, both directions
  LinkConfig fabric_link;   // leaf <-> spine, both directions
  HostConfig host;
  std::uint16_t udp_port = kDefaultSrdPort;
};
struct LeafSpine {
  std::vector<std::uint32_t> hosts;                    // host node ids, leaf-major
  std::vector<std::uint32_t> leaves;
  std::vector<std::uint32_t> spines;
  std::vector<std::uint32_t> host_up;                  // host i -> its leaf
  std::vector<std::uint32_t> host_down;                // leaf -> host i
  std::vector<std::vector<std::uint32_t>> leaf_up;     // [leaf][spine]
  std::vector<std::vector<std::uint32_t>> spine_down;  // [spine][leaf]
};
LeafSpine build_leaf_spine(Sim& sim, const LeafSpineConfig& cfg);

// (c) Incast: N senders -> one switch -> one receiver. The switch's egress
// to the receiver is the bottleneck (queue limit, ECN marking).
struct IncastConfig {
  std::uint32_t senders = 16;
  LinkConfig edge;          // sender <-> switch, and receiver -> switch
  LinkConfig bottleneck;    // switch -> receiver
  HostConfig host;
  std::uint16_t udp_port = kDefaultSrdPort;
};
struct Incast {
  std::vector<std::uint32_t> senders;
  std::uint32_t receiver = 0;
  std::uint32_t sw = 0;
  std::uint32_t bottleneck = 0;  // link id
};
Incast build_incast(Sim& sim, const IncastConfig& cfg);

}  // namespace spray::sim
