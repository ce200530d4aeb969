// SPDX-License-Identifier: BSD-3-Clause
// Wiring shared by the roles (control thread).
#pragma once

#include <string>

#include "cli.h"
#include "dataplane/runtime.h"

namespace spray::app {

dp::RuntimeOptions runtime_options(const CommonOptions& c);

using dp::human;
// Nanoseconds as microseconds with two decimals.
std::string usec(std::uint64_t ns);

}  // namespace spray::app
