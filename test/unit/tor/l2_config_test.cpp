// SPDX-License-Identifier: BSD-3-Clause
// L2Config::validate(): every refusal names the bad value and what is accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "l2_test_util.h"
#include "tor/l2_config.h"
#include "tor/l2_switch.h"

namespace spray::tor::test {
namespace {

using ::testing::HasSubstr;

L2Config valid() {
  L2Config c;
  c.ports = {access(10), trunk({10, 20}, 30)};
  c.ports[1].name = "uplink";
  return c;
}

TEST(L2Config, AcceptsAValidConfiguration) { EXPECT_EQ(valid().validate(), ""); }

TEST(L2Config, RefusesNoPorts) {
  EXPECT_THAT(L2Config{}.validate(), HasSubstr("no ports configured; accepted: 1..64"));
}

TEST(L2Config, RefusesMorePortsThanAMaskHolds) {
  L2Config c = access_ports(65);
  EXPECT_THAT(c.validate(), HasSubstr("65 ports configured; accepted: 1..64"));
}

TEST(L2Config, RefusesAnOutOfRangeAccessVlanNamingThePort) {
  L2Config c = valid();
  c.ports[0].access_vlan = 4095;
  EXPECT_EQ(c.validate(), "port 0: access_vlan 4095 is out of range; accepted: 1..4094");
}

TEST(L2Config, RefusesAnOutOfRangeNativeVlanNamingThePortByName) {
  L2Config c = valid();
  c.ports[1].native_vlan = 5000;
  EXPECT_THAT(c.validate(), HasSubstr("port 1 (uplink): native_vlan 5000 is out of range"));
}

TEST(L2Config, RefusesAnOutOfRangeAllowedVlan) {
  L2Config c = valid();
  c.ports[1].allowed_vlans.push_back(0);
  EXPECT_THAT(c.validate(), HasSubstr("allowed VLAN 0 is out of range; accepted: 1..4094"));
}

TEST(L2Config, RefusesATrunkCarryingNoVlan) {
  L2Config c = valid();
  c.ports[1] = trunk({});
  EXPECT_THAT(c.validate(), HasSubstr("trunk carries no VLAN"));
}

TEST(L2Config, RefusesTrunkSettingsOnAnAccessPort) {
  L2Config c = valid();
  c.ports[0].allowed_vlans = {20};
  EXPECT_THAT(c.validate(), HasSubstr("allowed_vlans is set on an access port"));
  c = valid();
  c.ports[0].native_vlan = 20;
  EXPECT_THAT(c.validate(), HasSubstr("native_vlan 20 is set on an access port"));
}

TEST(L2Config, RefusesAnFdbCapacityOutOfRange) {
  L2Config c = valid();
  c.fdb_capacity = 0;
  EXPECT_THAT(c.validate(),
              HasSubstr("fdb_capacity 0 is out of range; accepted: 1..4194304 entries"));
}

TEST(L2Config, RefusesAnAgeingTimeOutOfRange) {
  L2Config c = valid();
  c.age_ns = 500 * kMs;
  EXPECT_THAT(c.validate(),
              HasSubstr("age 500000000 ns is out of range; accepted: 1..1000000 s, or 0"));
}

TEST(L2Config, RefusesAStaticEntryOnAPortOutsideItsVlan) {
  L2Config c = valid();
  c.static_entries.push_back({20, host(1), 0});
  EXPECT_THAT(c.validate(), HasSubstr("static entry 0 (02:00:00:00:00:01 vlan 20): port 0 "
                                      "does not carry vlan 20"));
}

TEST(L2Config, RefusesAStaticEntryOnAMissingPort) {
  L2Config c = valid();
  c.static_entries.push_back({10, host(1), 7});
  EXPECT_THAT(c.validate(), HasSubstr("port 7 does not exist; accepted: 0..1"));
}

TEST(L2Config, RefusesAGroupMacAsStaticEntry) {
  L2Config c = valid();
  c.static_entries.push_back({10, wire::Mac::broadcast(), 0});
  EXPECT_THAT(c.validate(), HasSubstr("MAC is a group or zero address"));
}

TEST(L2Config, RefusesDuplicateStaticEntries) {
  L2Config c = valid();
  c.static_entries.push_back({10, host(1), 0});
  c.static_entries.push_back({10, host(1), 1});
  EXPECT_THAT(c.validate(), HasSubstr("static entry 1 (02:00:00:00:00:01 vlan 10): duplicates "
                                      "static entry 0"));
}

TEST(L2Config, SwitchRefusesAnInvalidConfigurationWithTheSameMessage) {
  L2Config c = valid();
  c.ports[0].access_vlan = 0;
  try {
    L2Switch sw(c);
    FAIL() << "constructed from an invalid configuration";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("port 0: access_vlan 0 is out of range"));
  }
}

}  // namespace
}  // namespace spray::tor::test
