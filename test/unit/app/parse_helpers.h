// SPDX-License-Identifier: BSD-3-Clause
// What the option tests share: a role's parser run over a command line, and
// the message of the UsageError a call throws.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/errors.h"
#include "switch_options.h"

namespace spray::app::test {

// The role's options from `args`, with a test failure if parsing stops
// (--help) instead.
template <class Options>
Options parse_role(RoleParser (*make)(), Options (*from)(const RoleParser&), const std::vector<std::string>& args) {
  RoleParser p = make();
  EXPECT_TRUE(p.parse(args));
  return from(p);
}

inline SwitchOptions parse_switch(const std::vector<std::string>& args) {
  return parse_role(make_switch_parser, switch_options_from, args);
}

// The message of the UsageError `f` throws; empty if it throws none.
template <class F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return {};
}

}  // namespace spray::app::test
