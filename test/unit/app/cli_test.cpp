// SPDX-License-Identifier: BSD-3-Clause
// Option parsing and validation of the spray binary, without EAL.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "parse_helpers.h"
#include "switch_options.h"

namespace spray::app {
namespace {

using test::parse_switch;
using test::usage_error;

TEST(PortSpec, AcceptsVdevsAndPciAddresses) {
  auto r = dp::parse_port_spec("sw0=net_tap0,iface=sw0");
  ASSERT_TRUE(r.spec);
  EXPECT_EQ(r.spec->name, "sw0");
  EXPECT_EQ(r.spec->devargs, "net_tap0,iface=sw0");
  EXPECT_EQ(r.spec->device_name(), "net_tap0");
  EXPECT_FALSE(r.spec->is_pci());
  r = dp::parse_port_spec("nic=0000:03:00.1");
  ASSERT_TRUE(r.spec);
  EXPECT_TRUE(r.spec->is_pci());
  EXPECT_TRUE(dp::parse_port_spec("nic=03:00.1").spec->is_pci());
}

TEST(PortSpec, RejectionsNameTheValueAndTheAcceptedForm) {
  for (const char* bad : {"noequals", "=net_ring0", "a=", "bad name=net_ring0", "a=ring0",
                          "a=0000:03:00.9"}) {
    const auto r = dp::parse_port_spec(bad);
    EXPECT_FALSE(r.spec) << bad;
    EXPECT_NE(r.error.find(bad), std::string::npos) << r.error;
  }
  EXPECT_NE(dp::parse_port_spec("a=ring0").error.find("net_ring0"), std::string::npos);
}

// A fake environment for --port NAME=env:VAR.
dp::EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& k) -> std::optional<std::string> {
    const auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(PortSpec, EnvWithOneAddressMakesOnePortNamedAsGiven) {
  const auto r = dp::expand_port_spec("p=env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE",
                                      fake_env({{"PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE", "0000:3b:02.1"}}));
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.specs.size(), 1u);
  EXPECT_EQ(r.specs[0].name, "p");
  EXPECT_EQ(r.specs[0].devargs, "0000:3b:02.1");
  EXPECT_TRUE(r.specs[0].is_pci());
}

TEST(PortSpec, EnvWithSeveralAddressesNumbersThePortsInOrder) {
  const auto r = dp::expand_port_spec("up=env:VFS", fake_env({{"VFS", "0000:3b:02.1,0000:3b:02.0,3b:0a.7"}}));
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.specs.size(), 3u);
  EXPECT_EQ(r.specs[0].name, "up0");
  EXPECT_EQ(r.specs[0].devargs, "0000:3b:02.1");
  EXPECT_EQ(r.specs[1].name, "up1");
  EXPECT_EQ(r.specs[1].devargs, "0000:3b:02.0");
  EXPECT_EQ(r.specs[2].name, "up2");
  EXPECT_EQ(r.specs[2].devargs, "3b:0a.7");
}

TEST(PortSpec, PlainDevargsPassThroughTheEnvExpansion) {
  const auto r = dp::expand_port_spec("sw0=net_tap0,iface=sw0", fake_env({}));
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.specs.size(), 1u);
  EXPECT_EQ(r.specs[0].devargs, "net_tap0,iface=sw0");
  EXPECT_NE(dp::expand_port_spec("a=ring0", fake_env({})).error.find("'ring0' is neither"), std::string::npos);
}

TEST(PortSpec, EnvRejectionsNameTheVariable) {
  const auto env = fake_env({{"EMPTY", ""},
                             {"NOTPCI", "eth0"},
                             {"TRAILING", "0000:3b:02.1,"},
                             {"DEVARGS", "0000:3b:02.1,txq_inline=128"},
                             {"BADFN", "0000:3b:02.9"}});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"p=env:UNSET", "environment variable UNSET is not set"},
      {"p=env:EMPTY", "environment variable EMPTY is empty"},
      {"p=env:NOTPCI", "environment variable NOTPCI = 'eth0': 'eth0' is not a PCI address"},
      {"p=env:TRAILING", "environment variable TRAILING = '0000:3b:02.1,': '' is not a PCI address"},
      {"p=env:DEVARGS", "'txq_inline=128' is not a PCI address"},
      {"p=env:BADFN", "'0000:3b:02.9' is not a PCI address"},
      {"p=env:", "'' is not an environment variable name"},
      {"p=env:1X", "'1X' is not an environment variable name"},
      {"p=env:A,b=1", "'A,b=1' is not an environment variable name"},
      {"bad name=env:EMPTY", "bad character ' ' in port name"},
  };
  for (const auto& [arg, want] : cases) {
    const auto r = dp::expand_port_spec(arg, env);
    EXPECT_TRUE(r.specs.empty()) << arg;
    EXPECT_NE(r.error.find("--port '" + arg + "'"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(want), std::string::npos) << arg << " -> " << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  }
}

TEST(PortSpec, EnvPortsFromTheCommandLineAreCheckedForDuplicateNames) {
  ::setenv("SPRAY_TEST_VFS", "0000:3b:02.0,0000:3b:02.1", 1);
  RoleParser p("switch", "test");
  ASSERT_TRUE(p.parse({"--port", "up=env:SPRAY_TEST_VFS", "--port", "host=net_tap0"}));
  ASSERT_EQ(p.common().ports.size(), 3u);
  EXPECT_EQ(p.common().ports[0].name, "up0");
  EXPECT_EQ(p.common().ports[1].name, "up1");
  EXPECT_EQ(p.common().ports[2].name, "host");
  RoleParser q("switch", "test");
  EXPECT_NE(usage_error([&] { q.parse({"--port", "up1=net_null0", "--port", "up=env:SPRAY_TEST_VFS"}); })
                .find("the name 'up1' is used twice"),
            std::string::npos);
  ::unsetenv("SPRAY_TEST_VFS");
}

TEST(CpuList, ParsesSinglesListsAndRanges) {
  EXPECT_EQ(parse_cpu_list("1", "--lcores"), (std::vector<unsigned>{1}));
  EXPECT_EQ(parse_cpu_list("2,3", "--lcores"), (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(parse_cpu_list("1-3,7", "--lcores"), (std::vector<unsigned>{1, 2, 3, 7}));
  for (const char* bad : {"", "x", "3-1", "1,,2", "-1", "99999"})
    EXPECT_NE(usage_error([&] { parse_cpu_list(bad, "--lcores"); }).find("--lcores"), std::string::npos)
        << bad;
}

TEST(SplitEal, EverythingAfterEalGoesToEal) {
  const auto [mine, eal] = split_eal({"--port", "a=net_null0", "--eal", "--vdev", "x", "--eal"});
  EXPECT_EQ(mine, (std::vector<std::string>{"--port", "a=net_null0"}));
  EXPECT_EQ(eal, (std::vector<std::string>{"--vdev", "x", "--eal"}));
}

TEST(SwitchOptions, DefaultsAreAccessVlanOneWithLimits) {
  const auto o = parse_switch({"--port", "a=net_null0", "--port", "b=net_null1"});
  ASSERT_EQ(o.config.l2.ports.size(), 2u);
  EXPECT_EQ(o.config.l2.ports[0].mode, tor::PortMode::kAccess);
  EXPECT_EQ(o.config.l2.ports[0].access_vlan, 1);
  EXPECT_EQ(o.config.l2.ports[1].max_macs, 4096u);
  EXPECT_EQ(o.config.l2.age_ns, 300'000'000'000ULL);
  EXPECT_EQ(o.common.stats_period_s, 1.0);
  EXPECT_FALSE(o.common.idle_poll);
}

TEST(SwitchOptions, VlanSpecsSetAccessAndTrunkPorts) {
  const auto o = parse_switch({"--port", "a=net_null0", "--port", "up=net_null1", "--vlan",
                               "a=access:10", "--vlan", "up=trunk:10,20,30-32:native=5"});
  EXPECT_EQ(o.config.l2.ports[0].access_vlan, 10);
  EXPECT_EQ(o.config.l2.ports[1].mode, tor::PortMode::kTrunk);
  EXPECT_EQ(o.config.l2.ports[1].allowed_vlans, (std::vector<tor::VlanId>{10, 20, 30, 31, 32}));
  EXPECT_EQ(o.config.l2.ports[1].native_vlan, 5);
}

TEST(SwitchOptions, BadValuesAreNamedInTheError) {
  const std::vector<std::string> two{"--port", "a=net_null0", "--port", "b=net_null1"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = two;
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error([&] { parse_switch(args); });
  };
  EXPECT_NE(with({"--vlan", "a=access:4095"}).find("4095"), std::string::npos);
  EXPECT_NE(with({"--vlan", "c=access:3"}).find("no port named 'c'"), std::string::npos);
  EXPECT_NE(with({"--vlan", "a=hybrid:3"}).find("unknown mode"), std::string::npos);
  EXPECT_NE(with({"--fdb-age", "0.5"}).find("--fdb-age"), std::string::npos);
  EXPECT_NE(with({"--idle", "nap"}).find("'nap'"), std::string::npos);
  EXPECT_NE(with({"--rx-desc", "1000"}).find("power of two"), std::string::npos);
  EXPECT_NE(with({"--mac", "a=01:00:5e:00:00:01"}).find("not a unicast MAC"), std::string::npos);
  EXPECT_NE(with({"--log-level", "loud"}).find("'loud'"), std::string::npos);
  EXPECT_NE(usage_error([&] { parse_switch({"--port", "a=net_null0"}); }).find("at least two ports"),
            std::string::npos);
}

TEST(RoleParser, UnknownOptionsAndMalformedNumbersAreUsageErrors) {
  RoleParser p("switch", "test");
  describe_switch_options(p);
  EXPECT_NE(usage_error([&] { p.parse({"--nope"}); }).find("unknown option '--nope'"), std::string::npos);
  RoleParser q("switch", "test");
  describe_switch_options(q);
  EXPECT_NE(usage_error([&] { q.parse({"--fdb-size", "many"}); }).find("many"), std::string::npos);
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override { path_ = ::testing::TempDir() + "spray-cli-test.ini"; }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::string path_;
};

TEST_F(ConfigFile, SuppliesOptionsAndTheCommandLineOverridesIt) {
  write("port = a=net_null0\nport = b=net_null1\nfdb-size = 100\nvlan = a=access:7\nstats-period = 5\n");
  const auto from_file = parse_switch({"--config", path_});
  EXPECT_EQ(from_file.common.ports.size(), 2u);
  EXPECT_EQ(from_file.config.l2.fdb_capacity, 100u);
  EXPECT_EQ(from_file.config.l2.ports[0].access_vlan, 7);
  const auto overridden = parse_switch({"--config", path_, "--fdb-size", "200", "--stats-period", "0"});
  EXPECT_EQ(overridden.config.l2.fdb_capacity, 200u);
  EXPECT_EQ(overridden.common.stats_period_s, 0.0);
}

TEST_F(ConfigFile, UnknownKeysAndMissingFilesAreRejected) {
  write("port = a=net_null0\nbogus = 1\n");
  RoleParser p("switch", "test");
  describe_switch_options(p);
  EXPECT_NE(usage_error([&] { p.parse({"--config", path_}); }).find("bogus"), std::string::npos);
  RoleParser q("switch", "test");
  describe_switch_options(q);
  EXPECT_NE(usage_error([&] { q.parse({"--config", "/nonexistent/spray.ini"}); }).find("/nonexistent/spray.ini"),
            std::string::npos);
}

}  // namespace
}  // namespace spray::app
