// SPDX-License-Identifier: BSD-3-Clause
// The roles `spray` runs. Each parses its own options (throwing UsageError),
// runs the role (lib/roles) and returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace spray::app {

struct RoleInfo {
  const char* name;
  const char* summary;
  int (*main)(const std::vector<std::string>& args);
};

int switch_main(const std::vector<std::string>& args);
int gen_main(const std::vector<std::string>& args);
int respond_main(const std::vector<std::string>& args);
int demo_main(const std::vector<std::string>& args);
int sim_main(const std::vector<std::string>& args);

inline constexpr RoleInfo kRoles[] = {
    {"gen", "traffic generator: SRD connections to a responder, round trips measured per message", gen_main},
    {"respond", "responder: answers and verifies what a generator sends", respond_main},
    {"switch", "software top-of-rack switch: L2 bridge, L3 ECMP router, ECN marking over DPDK ports", switch_main},
    {"demo", "a leaf-spine fabric in one process: spraying vs a single path, a lossy link, a failing spine",
     demo_main},
    {"sim", "a leaf-spine or fat-tree fabric of SRD hosts in virtual time: flow completion times vs paths",
     sim_main},
};

}  // namespace spray::app
