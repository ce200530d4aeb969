// SPDX-License-Identifier: BSD-3-Clause
// Options shared by the roles that run the transport on a host address
// (`spray gen`, `spray respond`), and those of each role. Pure: the unit
// tests run them without EAL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "dataplane/host_config.h"
#include "srd/config.h"
#include "traffic/generator.h"
#include "traffic/responder.h"

namespace spray::app {

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

void describe_host_options(RoleParser& p, bool generator);
void describe_gen_options(RoleParser& p);
void describe_respond_options(RoleParser& p);

GenOptions gen_options_from(const RoleParser& p);
RespondOptions respond_options_from(const RoleParser& p);

// "1e6", "250000" (messages/s), "10Gbps", "500Mbps", "40%" -> messages/s,
// given the mean message size and the link rate. Throws UsageError.
struct RateSpec {
  double msgs_per_s = 0;
  double gbps = 0;
  double percent = 0;
};
// Bits a message of `mean_msg_bytes` takes on the wire, headers included.
double wire_bits_per_message(double mean_msg_bytes);

RateSpec parse_rate(const std::string& s, double mean_msg_bytes, double link_bps);

// "1.5" seconds -> ns; accepts 0 only when `allow_zero`. Throws UsageError.
std::uint64_t parse_seconds(double s, const char* option, bool allow_zero, double max_s = 86400);

}  // namespace spray::app
