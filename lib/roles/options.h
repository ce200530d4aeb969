// SPDX-License-Identifier: BSD-3-Clause
// What each role runs with, parsed and validated: the command line
// (app/spray) fills these, lib/roles runs them. No DPDK or Boost type, so the
// option parsers are tested without EAL and a role can be driven from code.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/host_config.h"
#include "dataplane/port_spec.h"
#include "srd/config.h"
#include "telemetry/listen.h"
#include "tor/switch_config.h"
#include "traffic/generator.h"
#include "traffic/responder.h"

namespace spray::roles {

// What the runtime needs, common to every role that runs on DPDK.
struct CommonOptions {
  std::vector<dp::PortSpec> ports;
  std::vector<unsigned> worker_cpus;
  std::vector<std::string> eal_args;
  std::string file_prefix;
  unsigned mem_mb = 0;
  bool idle_poll = false;
  bool idle_given = false;  // --idle was given (the demo polls unless told)
  double stats_period_s = 1.0;
  unsigned rx_desc = 1024;
  unsigned tx_desc = 1024;
  std::string log_level = "warning";
  // Prometheus endpoint; nullopt = --metrics off.
  std::optional<telemetry::ListenAddress> metrics;
  bool metrics_default = true;  // no --metrics given: the role's default
};

// The roles that run the transport on a host address (gen, respond).
struct HostOptions {
  CommonOptions common;
  std::vector<dp::SrdHostConfig> hosts;  // one per port, in port order
  srd::EndpointConfig endpoint;          // local address filled per host
};

struct GenOptions {
  HostOptions host;
  traffic::GenConfig gen;
  std::string json_path;
  std::string hdr_path;
  double rate_gbps = 0;      // when --rate was given in bits/s (for the report)
  double rate_percent = 0;   // when --rate was given in % of the link
  std::string rate_text;
  bool local_responder = false;  // hosts[1] is the in-process responder
};

struct RespondOptions {
  HostOptions host;
  traffic::RespondConfig respond;
};

struct SwitchOptions {
  CommonOptions common;
  tor::SwitchConfig config;  // l2 lists every port; l3 and egress as given
  bool ecmp_seed_given = false;
};

struct DemoOptions {
  CommonOptions common;
  double duration_s = 20;  // both runs together
  unsigned spines = 4;
  std::uint16_t paths = 16;
  double loss = 0.01;
  double fail_at_s = 0;   // into each run
  double fail_for_s = 0;  // 0: no failure
  std::uint32_t connections = 2;
  std::uint32_t outstanding = 8;
  std::uint32_t request_bytes = 8192;
  std::uint32_t reply_bytes = 256;
  std::uint64_t seed = 1;
  bool compare = true;
  std::string json_path;
  std::uint64_t fabric_rate_bps = 0;  // 0: links unshaped
  std::uint16_t mtu = 1500;           // IP MTU of every host and switch port

  // Seconds of each run: --duration is shared by the spray run and the
  // single-path one.
  double run_seconds() const { return duration_s / (compare ? 2 : 1); }
};

// IP MTU the roles accept (--mtu): 576 is IPv4's floor; 9000 the jumbo
// frame every jumbo-capable NIC and vdev here takes (the transport itself
// goes to 9216).
inline constexpr unsigned kMinMtu = 576;
inline constexpr unsigned kMaxMtu = 9000;

// Bits a message of `mean_msg_bytes` takes on the wire, headers included:
// one segment of `payload_per_pkt` (MTU - 60; 1440 at 1500) per packet, each
// with its SRD, UDP, IPv4 and Ethernet headers plus preamble, FCS and gap.
// Open-loop rates in bits/s become messages/s by it.
inline double wire_bits_per_message(double mean_msg_bytes, double payload_per_pkt) {
  const double segs = std::max(1.0, std::ceil(mean_msg_bytes / payload_per_pkt));
  return (mean_msg_bytes + segs * (32 + 8 + 20 + 14 + 24)) * 8;
}

}  // namespace spray::roles
