// SPDX-License-Identifier: BSD-3-Clause
// Learning, forwarding, flooding, ageing and MAC moves of the L2 switch.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "l2_test_util.h"
#include "tor/l2_switch.h"

namespace spray::tor::test {
namespace {

const wire::Mac kA = host(0xa);
const wire::Mac kB = host(0xb);
const wire::Mac kC = host(0xc);

TEST(L2Switch, LearnsSourceMacOnItsIngressPort) {
  L2Switch sw(access_ports(4));
  send(sw, 2, untagged(kB, kA), 0);
  EXPECT_EQ(sw.lookup(1, kA, 0), PortId{2});
  EXPECT_EQ(sw.fdb_size(), 1u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kLearned], 1u);
  EXPECT_EQ(sw.port_learned(2), 1u);
}

TEST(L2Switch, UnicastsToTheLearnedPortOnly) {
  L2Switch sw(access_ports(4));
  send(sw, 0, untagged(kB, kA), 0);
  const L2Decision d = send(sw, 3, untagged(kA, kB), 1 * kMs);
  EXPECT_EQ(d.action, L2Action::kUnicast);
  EXPECT_EQ(d.port, 0);
  EXPECT_EQ(d.vlan, 1);
  EXPECT_EQ(sw.snapshot()[L2Counter::kForwarded], 1u);
}

TEST(L2Switch, FloodsUnknownUnicastToEveryOtherPortOfTheVlan) {
  L2Switch sw(access_ports(4));
  const L2Decision d = send(sw, 1, untagged(kB, kA), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(ports_of(sw.flood_ports(d.vlan, 1)), (std::vector<PortId>{0, 2, 3}));
  EXPECT_EQ(sw.snapshot()[L2Counter::kFlooded], 1u);
}

TEST(L2Switch, FloodsBroadcastExcludingTheIngressPort) {
  L2Switch sw(access_ports(3));
  send(sw, 1, untagged(kA, kB), 0);  // A is not known; B is learned on 1
  const L2Decision d = send(sw, 2, untagged(wire::Mac::broadcast(), kA), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(ports_of(sw.flood_ports(d.vlan, 2)), (std::vector<PortId>{0, 1}));
  EXPECT_EQ(sw.snapshot()[L2Counter::kBroadcast], 1u);
}

TEST(L2Switch, FloodsMulticastExcludingTheIngressPort) {
  L2Switch sw(access_ports(3));
  const wire::Mac group{0x0100'5e00'0001ULL};  // 224.0.0.1
  const L2Decision d = send(sw, 0, untagged(group, kA), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(ports_of(sw.flood_ports(d.vlan, 0)), (std::vector<PortId>{1, 2}));
  EXPECT_EQ(sw.snapshot()[L2Counter::kMulticast], 1u);
  EXPECT_FALSE(sw.lookup(1, group, 0).has_value());
}

TEST(L2Switch, DropsAndCountsFrameWhoseDestinationIsOnTheIngressPort) {
  L2Switch sw(access_ports(3));
  send(sw, 1, untagged(kC, kA), 0);
  send(sw, 1, untagged(kC, kB), 0);  // A and B both behind port 1 (a hub, a vswitch)
  const L2Decision d = send(sw, 1, untagged(kA, kB), 0);
  EXPECT_EQ(d.action, L2Action::kDrop);
  EXPECT_EQ(d.drop, L2Drop::kHairpin);
  EXPECT_EQ(sw.snapshot()[L2Drop::kHairpin], 1u);
}

TEST(L2Switch, DropsFloodWhenNoOtherPortOfTheVlanIsUp) {
  L2Config c = access_ports(2);
  c.ports[1].access_vlan = 2;
  L2Switch sw(c);
  const L2Decision d = send(sw, 0, untagged(wire::Mac::broadcast(), kA), 0);
  EXPECT_EQ(d.action, L2Action::kDrop);
  EXPECT_EQ(d.drop, L2Drop::kNoEgress);
}

TEST(L2Switch, LaterFramesOfABurstSeeWhatEarlierOnesLearned) {
  L2Switch sw(access_ports(3));
  send(sw, 2, untagged(kC, kB), 0);  // B behind port 2
  const Frame a_to_b = untagged(kB, kA);
  const Frame c_to_a = untagged(kA, kC);
  const std::span<const std::uint8_t> burst[] = {a_to_b, c_to_a};
  L2Decision d[2];
  sw.process_burst(0, burst, d, 0);
  EXPECT_EQ(d[0].action, L2Action::kUnicast);
  EXPECT_EQ(d[0].port, 2);
  // A was learned on port 0 by frame 0, so frame 1 (to A, from port 0) is a hairpin.
  EXPECT_EQ(d[1].action, L2Action::kDrop);
  EXPECT_EQ(d[1].drop, L2Drop::kHairpin);
}

TEST(L2Switch, ProcessesBurstsLongerThanOneChunk) {
  L2Switch sw(access_ports(2));
  std::vector<Frame> frames;
  for (std::uint64_t i = 0; i < 3 * L2Switch::kChunk + 5; ++i)
    frames.push_back(untagged(kA, host(0x100 + i)));
  std::vector<std::span<const std::uint8_t>> spans(frames.begin(), frames.end());
  std::vector<L2Decision> d(frames.size());
  sw.process_burst(1, spans, d, 0);
  EXPECT_EQ(sw.fdb_size(), frames.size());
  for (const L2Decision& x : d) EXPECT_EQ(x.action, L2Action::kFlood);
}

TEST(L2Switch, ForgetsAnEntryAfterTheAgeingTime) {
  L2Config c = access_ports(2);
  c.age_ns = 10 * kSec;
  L2Switch sw(c);
  send(sw, 0, untagged(kB, kA), 0);
  EXPECT_EQ(sw.lookup(1, kA, 10 * kSec - 10 * kMs), PortId{0});
  EXPECT_FALSE(sw.lookup(1, kA, 10 * kSec + 10 * kMs).has_value());
  const L2Decision d = send(sw, 1, untagged(kA, kB), 10 * kSec + 10 * kMs);
  EXPECT_EQ(d.action, L2Action::kFlood);
}

TEST(L2Switch, AgeSweepFreesExpiredEntriesAndCountsThem) {
  L2Config c = access_ports(2);
  c.age_ns = 10 * kSec;
  L2Switch sw(c);
  send(sw, 0, untagged(kC, kA), 0);
  send(sw, 1, untagged(kC, kB), 5 * kSec);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < sw.fdb_slots(); i += 64) removed += sw.age(12 * kSec, 64);
  EXPECT_EQ(removed, 1u);  // A idle 12 s, B idle 7 s
  EXPECT_EQ(sw.fdb_size(), 1u);
  EXPECT_EQ(sw.port_learned(0), 0u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kAged], 1u);
  EXPECT_EQ(sw.snapshot().fdb_entries, 1u);
  EXPECT_EQ(sw.lookup(1, kB, 12 * kSec), PortId{1});
}

TEST(L2Switch, AgeDoesNoMoreWorkThanItsBudget) {
  L2Config c = access_ports(2);
  c.age_ns = 1 * kSec;
  L2Switch sw(c);
  for (std::uint64_t i = 0; i < 1000; ++i) send(sw, 0, untagged(kB, host(0x1000 + i)), 0);
  // With 1000 entries in fdb_slots() slots, one call of budget 8 can remove at most 8.
  EXPECT_LE(sw.age(5 * kSec, 8), 8u);
  std::size_t calls = 0;
  while (sw.fdb_size() != 0 && calls < 10 * sw.fdb_slots()) {
    sw.age(5 * kSec, 8);
    ++calls;
  }
  EXPECT_EQ(sw.fdb_size(), 0u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kAged], 1000u);
}

TEST(L2Switch, TrafficFromAHostKeepsItsEntryAlive) {
  L2Config c = access_ports(2);
  c.age_ns = 10 * kSec;
  L2Switch sw(c);
  for (std::uint64_t t = 0; t <= 60 * kSec; t += 6 * kSec) {
    send(sw, 0, untagged(kB, kA), t);
    sw.age(t, sw.fdb_slots());
  }
  EXPECT_EQ(sw.lookup(1, kA, 65 * kSec), PortId{0});
  EXPECT_EQ(sw.snapshot()[L2Counter::kAged], 0u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kLearned], 1u);
}

TEST(L2Switch, AgeingCanBeDisabled) {
  L2Config c = access_ports(2);
  c.age_ns = 0;
  L2Switch sw(c);
  send(sw, 0, untagged(kB, kA), 0);
  EXPECT_EQ(sw.age(1'000'000 * kSec, sw.fdb_slots()), 0u);
  EXPECT_EQ(sw.lookup(1, kA, 1'000'000 * kSec), PortId{0});
}

TEST(L2Switch, FollowsAndCountsAMacMove) {
  L2Switch sw(access_ports(3));
  send(sw, 0, untagged(kB, kA), 0);
  send(sw, 2, untagged(kB, kA), 1 * kSec);  // A moved from port 0 to port 2
  EXPECT_EQ(sw.lookup(1, kA, 1 * kSec), PortId{2});
  const L2Decision d = send(sw, 1, untagged(kA, kB), 1 * kSec);
  EXPECT_EQ(d.action, L2Action::kUnicast);
  EXPECT_EQ(d.port, 2);
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kMoved], 1u);
  EXPECT_EQ(s[L2Counter::kLearned], 2u);  // A once, B once
  EXPECT_EQ(sw.port_learned(0), 0u);
  EXPECT_EQ(sw.port_learned(2), 1u);
}

TEST(L2Switch, ExpiredEntryReappearingElsewhereIsALearnNotAMove) {
  L2Config c = access_ports(3);
  c.age_ns = 10 * kSec;
  L2Switch sw(c);
  send(sw, 0, untagged(kB, kA), 0);
  send(sw, 2, untagged(kB, kA), 20 * kSec);
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kMoved], 0u);
  EXPECT_EQ(s[L2Counter::kAged], 1u);
  EXPECT_EQ(sw.lookup(1, kA, 20 * kSec), PortId{2});
  EXPECT_EQ(sw.port_learned(0), 0u);
}

TEST(L2Switch, PortLinkDownFlushesItsEntriesAndLeavesTheFloodSet) {
  L2Switch sw(access_ports(3));
  send(sw, 0, untagged(kC, kA), 0);
  send(sw, 1, untagged(kC, kB), 0);
  sw.set_port_link(0, false);
  EXPECT_FALSE(sw.lookup(1, kA, 0).has_value());
  EXPECT_EQ(sw.lookup(1, kB, 0), PortId{1});
  EXPECT_EQ(sw.snapshot()[L2Counter::kFlushed], 1u);
  EXPECT_EQ(sw.port_learned(0), 0u);
  EXPECT_EQ(ports_of(sw.flood_ports(1, 1)), (std::vector<PortId>{2}));

  const L2Decision d = send(sw, 0, untagged(kB, kA), 0);
  EXPECT_EQ(d.drop, L2Drop::kPortDown);

  sw.set_port_link(0, true);
  EXPECT_EQ(ports_of(sw.flood_ports(1, 1)), (std::vector<PortId>{0, 2}));
}

TEST(L2Switch, AdminDownPortDropsWhatItReceives) {
  L2Config c = access_ports(2);
  c.ports[1].admin_up = false;
  L2Switch sw(c);
  const L2Decision d = send(sw, 1, untagged(kA, kB), 0);
  EXPECT_EQ(d.action, L2Action::kDrop);
  EXPECT_EQ(d.drop, L2Drop::kPortDown);
  EXPECT_FALSE(sw.lookup(1, kB, 0).has_value());
  sw.set_port_link(1, true);  // link alone does not override the administrator
  EXPECT_FALSE(sw.port_up(1));
  sw.set_port_admin(1, true);
  EXPECT_TRUE(sw.port_up(1));
}

TEST(L2Switch, StaticEntryNeitherAgesNorMovesNorFlushes) {
  L2Config c = access_ports(3);
  c.age_ns = 10 * kSec;
  c.static_entries.push_back({1, kA, 0});
  L2Switch sw(c);
  send(sw, 2, untagged(kB, kA), 1 * kSec);  // a spoofer on port 2
  sw.age(100 * kSec, sw.fdb_slots());
  sw.set_port_link(0, false);
  sw.set_port_link(0, true);
  EXPECT_EQ(sw.lookup(1, kA, 100 * kSec), PortId{0});
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kLearnRefusedStatic], 1u);
  EXPECT_EQ(s[L2Counter::kMoved], 0u);
  EXPECT_EQ(sw.port_learned(0), 0u);  // statics do not count against the port limit
}

TEST(L2Switch, FrameToAStaticEntryOnADownPortIsDropped) {
  L2Config c = access_ports(3);
  c.static_entries.push_back({1, kA, 0});
  L2Switch sw(c);
  sw.set_port_link(0, false);
  const L2Decision d = send(sw, 1, untagged(kA, kB), 0);
  EXPECT_EQ(d.action, L2Action::kDrop);
  EXPECT_EQ(d.drop, L2Drop::kEgressDown);
}

TEST(L2Switch, StaticEntriesCanBeAddedAndRemovedAtRunTime) {
  L2Switch sw(access_ports(3));
  send(sw, 1, untagged(kB, kA), 0);
  EXPECT_EQ(sw.add_static(1, kA, 2, 0), "");
  EXPECT_EQ(sw.lookup(1, kA, 0), PortId{2});
  EXPECT_EQ(sw.port_learned(1), 0u);
  EXPECT_TRUE(sw.remove_static(1, kA));
  EXPECT_FALSE(sw.lookup(1, kA, 0).has_value());
  EXPECT_FALSE(sw.remove_static(1, kA));
  EXPECT_NE(sw.add_static(7, kA, 2, 0).find("does not carry vlan 7"), std::string::npos);
}

TEST(L2Switch, ShowFdbListsLiveEntries) {
  L2Config c = access_ports(2);
  c.age_ns = 10 * kSec;
  c.static_entries.push_back({1, kC, 1});
  L2Switch sw(c);
  send(sw, 0, untagged(kC, kA), 0);
  send(sw, 0, untagged(kC, kB), 8 * kSec);
  std::vector<FdbRecord> seen;
  sw.for_each_entry(12 * kSec, [&](const FdbRecord& r) { seen.push_back(r); });
  ASSERT_EQ(seen.size(), 2u);  // A expired
  std::sort(seen.begin(), seen.end(),
            [](const FdbRecord& x, const FdbRecord& y) { return x.mac.bits < y.mac.bits; });
  EXPECT_EQ(seen[0].mac, kB);
  EXPECT_FALSE(seen[0].is_static);
  EXPECT_NEAR(double(seen[0].idle_ns), double(4 * kSec), double(2 * kMs));
  EXPECT_EQ(seen[1].mac, kC);
  EXPECT_TRUE(seen[1].is_static);
  EXPECT_EQ(seen[1].port, 1);
}

TEST(L2Switch, DropsMalformedFramesByReason) {
  L2Switch sw(access_ports(2));
  const Frame runt(13, 0);
  Frame tag_cut = tagged(kB, kA, 5);
  tag_cut.resize(16);
  EXPECT_EQ(send(sw, 0, runt, 0).drop, L2Drop::kTruncated);
  EXPECT_EQ(send(sw, 0, tag_cut, 0).drop, L2Drop::kTruncated);
  EXPECT_EQ(send(sw, 0, untagged(kB, wire::Mac::broadcast()), 0).drop, L2Drop::kInvalidSrcMac);
  EXPECT_EQ(send(sw, 0, untagged(kB, wire::Mac{0}), 0).drop, L2Drop::kInvalidSrcMac);
  const wire::Mac lldp{0x0180'c200'000eULL};
  EXPECT_EQ(send(sw, 0, untagged(lldp, kA), 0).drop, L2Drop::kReservedDst);
  EXPECT_EQ(sw.fdb_size(), 0u);
  EXPECT_EQ(sw.snapshot().total_drops(), 5u);
}

TEST(L2Switch, CountsEveryFrameInExactlyOneOutcome) {
  L2Config c = access_ports(3);
  c.ports[2].access_vlan = 2;
  L2Switch sw(c);
  std::uint64_t t = 0;
  for (std::uint64_t i = 0; i < 200; ++i, t += kMs) {
    const wire::Mac src = host(i % 7);
    const wire::Mac dst = i % 5 == 0 ? wire::Mac::broadcast() : host((i * 3) % 9);
    send(sw, static_cast<PortId>(i % 3), i % 11 == 0 ? Frame(9, 0) : untagged(dst, src), t);
  }
  const L2Stats s = sw.snapshot();
  const std::uint64_t outcomes = s[L2Counter::kForwarded] + s[L2Counter::kFlooded] +
                                 s[L2Counter::kBroadcast] + s[L2Counter::kMulticast] +
                                 s.total_drops();
  EXPECT_EQ(s[L2Counter::kRxFrames], 200u);
  EXPECT_EQ(outcomes, 200u);
}

TEST(L2Counters, NamesAreUniqueSnakeCaseWithHelp) {
  std::set<std::string> names;
  auto check = [&](const telemetry::CounterInfo& i) {
    EXPECT_TRUE(names.insert(i.name).second) << i.name;
    for (const char* p = i.name; *p; ++p)
      EXPECT_TRUE((*p >= 'a' && *p <= 'z') || *p == '_' || (*p >= '0' && *p <= '9')) << i.name;
    EXPECT_GT(std::string(i.help).size(), 10u) << i.name;
  };
  for (const auto& i : kL2DropInfo) check(i);
  names.clear();
  for (const auto& i : kL2CounterInfo) check(i);
  EXPECT_STREQ(to_string(L2Drop::kHairpin), "hairpin");
  EXPECT_STREQ(to_string(L2Counter::kLearnRefusedTableFull), "learn_refused_table_full");
}

}  // namespace
}  // namespace spray::tor::test

namespace spray::tor::test {
namespace {

TEST(L2Switch, ReconfigurationKeepsWhatTheNewConfigurationStillAdmits) {
  L2Switch before(access_ports(4));
  send(before, 0, untagged(kC, kA), 0);
  send(before, 1, untagged(kC, kB), 0);
  send(before, 2, untagged(kA, kC), 0);
  before.set_port_link(3, false);

  L2Config c = access_ports(4);
  c.ports[2].access_vlan = 2;          // C's port leaves VLAN 1
  c.static_entries.push_back({1, kB, 3});  // B pinned elsewhere by the operator
  const L2Switch after(c, before, 1 * kSec);

  EXPECT_EQ(after.lookup(1, kA, 1 * kSec), PortId{0});
  EXPECT_EQ(after.lookup(1, kB, 1 * kSec), PortId{3});
  EXPECT_FALSE(after.lookup(1, kC, 1 * kSec).has_value());
  EXPECT_FALSE(after.port_up(3));
  EXPECT_EQ(after.snapshot()[L2Counter::kLearned], 3u);  // counting continues
  EXPECT_EQ(after.snapshot()[L2Counter::kForwarded], before.snapshot()[L2Counter::kForwarded]);
  EXPECT_EQ(after.port_learned(0), 1u);
  EXPECT_EQ(after.port_learned(1), 0u);
  EXPECT_EQ(before.lookup(1, kC, 1 * kSec), PortId{2});  // the old switch is untouched
}

}  // namespace
}  // namespace spray::tor::test
