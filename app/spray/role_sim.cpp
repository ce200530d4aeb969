// SPDX-License-Identifier: BSD-3-Clause
// spray sim: a fabric experiment in virtual time (lib/sim); this file only
// parses and prints.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "dataplane/errors.h"
#include "roles.h"
#include "sim_options.h"

namespace spray::app {

int sim_main(const std::vector<std::string>& args) {
  const auto opt = parse_sim_options(args);
  if (!opt) return 0;
  sim::RunOptions ro;
  ro.progress = opt->progress ? stderr : nullptr;
  sim::ExperimentResult r;
  try {
    r = sim::run_experiment(opt->cfg, ro);
  } catch (const sim::ScenarioError& e) {
    throw UsageError(e.what());
  }
  sim::write_text(std::cout, r);
  std::cout.flush();
  if (!opt->json_path.empty()) {
    std::ofstream out(opt->json_path);
    if (out) sim::write_json(out, r);
    if (!out) throw RuntimeError("--json '" + opt->json_path + "': cannot write (" + std::strerror(errno) + ")");
  }
  if (r.flows_failed) {
    std::printf("spray sim: %llu flow(s) failed\n", static_cast<unsigned long long>(r.flows_failed));
    return 3;
  }
  return 0;
}

}  // namespace spray::app
