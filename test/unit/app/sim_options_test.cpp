// SPDX-License-Identifier: BSD-3-Clause
// `spray sim` options: the file, the named options and --set apply in that
// order; a bad value is a UsageError naming the option or key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "dataplane/errors.h"
#include "sim_options.h"

namespace spray::app::test {
namespace {

TEST(SimOptions, FileThenOptionsThenSet) {
  const std::string path = ::testing::TempDir() + "sim_options_test.ini";
  std::ofstream(path) << "[transport]\npaths = 4\nwindow = 2\n[run]\nseed = 3\n";
  const auto o = parse_sim_options({path, "--paths", "8", "--set", "transport.paths=32", "--seed", "5",
                                    "--fault", "1us switch-down core0", "--json", "x.json", "--quiet"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->cfg.paths, 32);
  EXPECT_EQ(o->cfg.window, 2u);
  EXPECT_EQ(o->cfg.seed, 5u);
  ASSERT_EQ(o->cfg.faults.size(), 1u);
  EXPECT_EQ(o->cfg.faults[0].target, "core0");
  EXPECT_EQ(o->json_path, "x.json");
  EXPECT_FALSE(o->progress);
  std::remove(path.c_str());
}

std::string usage_error(const std::vector<std::string>& args) {
  try {
    parse_sim_options(args);
  } catch (const spray::UsageError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(SimOptions, BadValuesAreUsageErrors) {
  EXPECT_EQ(usage_error({"--mtu", "9216"}), "--mtu: fabric.mtu = '9216': expected a whole number 576..9000");
  EXPECT_EQ(usage_error({"--set", "paths"}), "--set 'paths': expected KEY=VALUE (see --keys)");
  EXPECT_EQ(usage_error({"a.ini", "b.ini"}), "one scenario file at most; see 'spray sim --help'");
  EXPECT_EQ(usage_error({"/nonexistent.ini"}), "/nonexistent.ini: cannot be read");
}

}  // namespace
}  // namespace spray::app::test
