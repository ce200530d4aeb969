// SPDX-License-Identifier: BSD-3-Clause
// `spray switch` options, turned into a validated tor::L2Config. Pure: the
// unit tests run it without EAL.
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "roles/options.h"
#include "tor/switch_config.h"

namespace spray::app {

using roles::SwitchOptions;

// The switch's parser: the common options and its own.
RoleParser make_switch_parser();

// Declares the switch's own options on `p`.
void describe_switch_options(RoleParser& p);

// Builds the switch configuration from parsed options. Throws UsageError.
SwitchOptions switch_options_from(const RoleParser& p);

// "PORT=access:VID" or "PORT=trunk:VIDS[:native=VID]", VIDS like 10,20,30-40.
// Applies it to the port named PORT in `l2` (names from `ports`). Throws
// UsageError naming the bad part.
void apply_vlan_spec(const std::string& spec, const std::vector<dp::PortSpec>& ports,
                     tor::L2Config& l2);

}  // namespace spray::app

namespace spray::app {

// "10Gbps", "500Mbps", "2.5e9" (bits/s), "line" or "0" (unshaped) -> bits/s.
// Throws UsageError naming `option` and the value.
std::uint64_t parse_bit_rate(const std::string& s, const std::string& option);

// "PORT=RATE[,depth=PKTS][,ecn-pkts=K][,ecn-us=US][,ecn=on|off]" applied to
// the port named PORT. Throws UsageError naming the bad part.
void apply_shape_spec(const std::string& spec, const std::vector<dp::PortSpec>& ports, tor::SwitchConfig& c);

}  // namespace spray::app
