// Option parsing and validation of the spray binary, without EAL.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli.h"
#include "switch_options.h"

namespace spray::app {
namespace {

SwitchOptions parse_switch(const std::vector<std::string>& args) {
  RoleParser p("switch", "test");
  describe_switch_options(p);
  EXPECT_TRUE(p.parse(args));
  return switch_options_from(p);
}

// The message of the UsageError `f` throws (empty if it does not throw).
template <class F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return {};
}

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
