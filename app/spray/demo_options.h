// SPDX-License-Identifier: BSD-3-Clause
// `spray demo` options. Pure: the unit tests run them without EAL.
#pragma once

#include "cli.h"
#include "roles/options.h"

namespace spray::app {

using roles::DemoOptions;

// The demo's parser: the common options (no --port: the demo builds its
// own ports) and its own.
RoleParser make_demo_parser();
void describe_demo_options(RoleParser& p);

// Throws UsageError naming the bad value and what is accepted.
DemoOptions demo_options_from(const RoleParser& p);

}  // namespace spray::app
