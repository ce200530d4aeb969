// SPDX-License-Identifier: BSD-3-Clause
// `spray sim` options: a scenario file and the command line, both setting
// lib/sim's experiment keys (doc/simulator.md "spray sim"). No DPDK, so
// test/unit/app runs it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/experiment.h"

namespace spray::app {

struct SimOptions {
  sim::ExperimentConfig cfg;
  std::string json_path;  // empty: no JSON
  std::string plot_dir;   // empty: no figures (tools/sim-plot.py)
  bool progress = true;
};

// Applies, in order: the scenario file (--scenario or the one positional
// argument), the named options (--paths, --seed, ...), then each --set
// KEY=VALUE. Returns nullopt when --help or --keys printed. Throws
// UsageError with one line naming the key or option, the value and what is
// accepted.
std::optional<SimOptions> parse_sim_options(const std::vector<std::string>& args);

}  // namespace spray::app
