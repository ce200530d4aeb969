// SPDX-License-Identifier: BSD-3-Clause
// Where an SRD host lives on its port: address, ports, peer. Plain data,
// no DPDK (the CLI builds and tests it without EAL).
#pragma once

#include <cstdint>
#include <optional>

#include "srd/types.h"
#include "wire/ether.h"

namespace spray::dp {

inline constexpr std::uint16_t kSrdDefaultPort = 4792;
// Longest sleep of an idle worker in --idle backoff (WorkerOptions default).
inline constexpr std::uint32_t kIdleMaxSleepUs = 200;
inline constexpr std::uint16_t kSrdDefaultSrcBase = 49152;

struct SrdHostConfig {
  std::uint32_t ip = 0;             // host order
  std::uint8_t prefix_len = 24;
  std::uint32_t gateway = 0;        // next hop for peers outside the prefix; 0 = none
  std::uint16_t udp_port = kSrdDefaultPort;
  std::uint16_t src_port_base = kSrdDefaultSrcBase;
  std::uint16_t vlan = 0;
  std::uint32_t peer_ip = 0;        // resolved before the app starts; 0 = none (responder)
  std::optional<wire::Mac> peer_mac;  // static: skip ARP
  srd::Nanos arp_timeout_ns = 3'000'000'000;
};

}  // namespace spray::dp
