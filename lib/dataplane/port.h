// SPDX-License-Identifier: BSD-3-Clause
// Ethernet ports: probe, configure with capability checks, start, stop.
//
// Control thread only. Every failure throws RuntimeError (exit 1) naming the
// port, the call and what the device accepts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/port_spec.h"

struct rte_mempool;

namespace spray::dp {

struct PortOptions {
  std::uint16_t rx_queues = 1;
  std::uint16_t tx_queues = 1;
  std::uint16_t rx_desc = 1024;
  std::uint16_t tx_desc = 1024;
  bool promiscuous = false;  // a switch needs every frame; a host only its own
  // IP MTU the port must carry; 0 leaves the device's default (1500). Above
  // 1500 the device is asked for it, and a device that cannot fails start.
  std::uint16_t mtu = 0;
};

// Ethernet header, one VLAN tag and the FCS some drivers count in a frame:
// what a frame adds to the IP MTU at most.
inline constexpr unsigned kFrameOverhead = 14 + 4 + 4;

// Data room of the mbufs a port carrying `mtu` receives into and a host
// builds its frames in: one segment per frame (see Runtime's pool).
std::uint16_t mbuf_data_room(std::uint16_t mtu) noexcept;

struct Port {
  PortSpec spec;
  std::uint16_t id = 0;       // DPDK port id
  std::string driver;         // e.g. net_ring
  int numa = -1;              // SOCKET_ID_ANY when unknown
  std::uint16_t rx_queues = 0;
  std::uint16_t tx_queues = 0;
  std::uint16_t rx_desc = 0;
  std::uint16_t tx_desc = 0;
  // Address for frames spray originates, packed as wire::Mac::bits: the
  // device's, except for tap ports (the kernel interface's address with the
  // last bit flipped) and address-less ring ports (a generated one).
  std::uint64_t mac = 0;
  bool started = false;
};

// Creates (vdev) or finds (PCI) the device named by `spec`.
Port probe_port(const PortSpec& spec);

// Adjusts queue and descriptor counts to what the device accepts (warning
// when they change), then configures and starts it with `pool`.
void start_port(Port& port, const PortOptions& opt, rte_mempool* pool);

// Stops and closes; never throws. Vdevs are also removed so a restart in the
// same process (tests) can create them again.
void close_port(Port& port) noexcept;

bool link_up(std::uint16_t port_id) noexcept;

// Link state for forwarding decisions. A tap interface moved into another
// network namespace (the usual way to attach a namespace) can no longer be
// queried from here, and the tap driver then reports it down; such a port is
// treated as up, and `*unknown` (if given) is set so the caller can say so.
bool link_up_for_forwarding(const Port& port, bool* unknown = nullptr) noexcept;
std::string link_text(std::uint16_t port_id);

// mbufs a port holds at most when full (rx rings, tx rings).
std::uint64_t port_mbuf_need(const PortOptions& opt);

}  // namespace spray::dp
