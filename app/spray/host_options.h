// SPDX-License-Identifier: BSD-3-Clause
// Options shared by the roles that run the transport on a host address
// (`spray gen`, `spray respond`), and those of each role. Pure: the unit
// tests run them without EAL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "roles/options.h"

namespace spray::app {

using roles::GenOptions;
using roles::HostOptions;
using roles::RespondOptions;

// The roles' parsers: the common options and the role's own.
RoleParser make_gen_parser();
RoleParser make_respond_parser();

void describe_host_options(RoleParser& p, bool generator);
void describe_gen_options(RoleParser& p);
void describe_respond_options(RoleParser& p);

GenOptions gen_options_from(const RoleParser& p);
RespondOptions respond_options_from(const RoleParser& p);

// "1e6", "250000" (messages/s), "10Gbps", "500Mbps", "40%" -> messages/s,
// given the mean message size, the link rate and the SRD payload per packet
// (the MTU's). Throws UsageError.
struct RateSpec {
  double msgs_per_s = 0;
  double gbps = 0;
  double percent = 0;
};
using roles::kMaxMtu;
using roles::kMinMtu;
using roles::wire_bits_per_message;

RateSpec parse_rate(const std::string& s, double mean_msg_bytes, double link_bps, double payload_per_pkt);

// "1.5" seconds -> ns; accepts 0 only when `allow_zero`. Throws UsageError.
std::uint64_t parse_seconds(double s, const char* option, bool allow_zero, double max_s = 86400);

}  // namespace spray::app
