// SPDX-License-Identifier: BSD-3-Clause
// Errors that stop start-up. The message names the bad value and what would
// be accepted; the app maps the type to the exit code (usage 2, runtime 1).
#pragma once

#include <stdexcept>
#include <string>

namespace spray {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace spray
