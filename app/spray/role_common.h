// Wiring shared by the roles (control thread).
#pragma once

#include <string>

#include "cli.h"
#include "dataplane/runtime.h"

namespace spray::app {

dp::RuntimeOptions runtime_options(const CommonOptions& c);

// "12.3k", "1.50M": for progress lines and reports.
std::string human(double v);
// Nanoseconds as microseconds with two decimals.
std::string usec(std::uint64_t ns);

}  // namespace spray::app
