// `spray switch` options, turned into a validated tor::L2Config. Pure: the
// unit tests run it without EAL.
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "tor/l2_config.h"

namespace spray::app {

struct SwitchOptions {
  CommonOptions common;
  tor::L2Config l2;
};

// Declares the switch's own options on `p`.
void describe_switch_options(RoleParser& p);

// Builds the L2 configuration from parsed options. Throws UsageError.
SwitchOptions switch_options_from(const RoleParser& p);

// "PORT=access:VID" or "PORT=trunk:VIDS[:native=VID]", VIDS like 10,20,30-40.
// Applies it to the port named PORT in `l2` (names from `ports`). Throws
// UsageError naming the bad part.
void apply_vlan_spec(const std::string& spec, const std::vector<dp::PortSpec>& ports,
                     tor::L2Config& l2);

}  // namespace spray::app
