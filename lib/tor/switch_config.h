// SPDX-License-Identifier: BSD-3-Clause
// Everything a switch instance is configured with: the L2 bridge (ports,
// VLANs, FDB), the L3 router (routed ports, routes, ECMP) and per-port
// egress queueing (shaper, depth, ECN). Plain data built by the control
// thread (CLI, config file, the demo's topology); validate() before use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tor/egress_queue.h"
#include "tor/l2_config.h"
#include "tor/l3_config.h"

namespace spray::tor {

struct SwitchConfig {
  L2Config l2;  // every port is listed here; routed ones are ignored by the bridge
  L3Config l3;  // ports with an interface are routed
  // Per port (index = port id): egress queueing, or nullopt to send at once.
  std::vector<std::optional<EgressConfig>> egress;

  // "" when usable; else the first problem, naming the value and what is accepted.
  std::string validate() const {
    if (auto e = l2.validate(); !e.empty()) return e;
    if (auto e = l3.validate(l2.ports.size()); !e.empty()) return e;
    if (egress.size() > l2.ports.size())
      return "egress settings for " + std::to_string(egress.size()) + " ports, but the switch has " +
             std::to_string(l2.ports.size());
    for (std::size_t p = 0; p < egress.size(); ++p)
      if (egress[p])
        if (auto e = egress[p]->validate(); !e.empty()) return "port " + l2.ports[p].name + ": " + e;
    return {};
  }
  bool routed(PortId p) const noexcept { return l3.interface_of(p) != nullptr; }
};

}  // namespace spray::tor
