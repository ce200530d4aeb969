// SPDX-License-Identifier: BSD-3-Clause
// The roles spray runs, each from its validated options to its report:
// build the runtime and pipelines, run the workers with the role's control
// loop (progress, signals, faults), then print the report and write its
// files. Each returns the process exit status (0 success, 3 run completed
// with failures) and throws UsageError or RuntimeError before the run.
//
// Control thread only. The command line that fills the options is
// app/spray's; nothing here parses arguments.
#pragma once

#include <functional>
#include <string>

#include "roles/options.h"

namespace spray::roles {

int run_gen(const GenOptions& opt);
int run_respond(const RespondOptions& opt);

// `reparse` reads the command line and --config file again for a SIGHUP
// reload; what it throws rejects the reload, and the running configuration
// stays.
int run_switch(SwitchOptions opt, const std::function<SwitchOptions()>& reparse);

int run_demo(const DemoOptions& opt);

// "spray 0.1.0 (git abc), DPDK 22.11.4": what --version prints.
std::string version_text();

}  // namespace spray::roles
