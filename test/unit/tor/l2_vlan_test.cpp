// SPDX-License-Identifier: BSD-3-Clause
// 802.1Q: access and trunk ports, native VLAN, isolation, egress tagging.
#include <gtest/gtest.h>

#include "l2_test_util.h"
#include "tor/l2_switch.h"

namespace spray::tor::test {
namespace {

const wire::Mac kA = host(0xa);
const wire::Mac kB = host(0xb);

// Ports 0, 1: access VLAN 10. Ports 2, 3: access VLAN 20.
// Port 4: trunk allowing 10 and 20, native 30. Port 5: trunk allowing 10 only.
L2Config two_vlans() {
  L2Config c;
  c.ports = {access(10), access(10), access(20), access(20), trunk({10, 20}, 30),
             trunk({10})};
  return c;
}

TEST(L2Vlan, FloodStaysInsideTheFramesVlan) {
  L2Switch sw(two_vlans());
  const L2Decision d = send(sw, 0, untagged(wire::Mac::broadcast(), kA), 0);
  EXPECT_EQ(d.vlan, 10);
  EXPECT_EQ(ports_of(sw.flood_ports(10, 0)), (std::vector<PortId>{1, 4, 5}));
  EXPECT_EQ(ports_of(sw.flood_ports(20, 2)), (std::vector<PortId>{3, 4}));
  EXPECT_EQ(ports_of(sw.flood_ports(30, 4)), (std::vector<PortId>{}));
  EXPECT_TRUE(sw.flood_ports(99, 0).empty());
}

TEST(L2Vlan, SameMacInTwoVlansIsTwoIndependentEntries) {
  L2Switch sw(two_vlans());
  send(sw, 0, untagged(kB, kA), 0);  // A in VLAN 10 on port 0
  send(sw, 2, untagged(kB, kA), 0);  // A in VLAN 20 on port 2: not a move
  EXPECT_EQ(sw.lookup(10, kA, 0), PortId{0});
  EXPECT_EQ(sw.lookup(20, kA, 0), PortId{2});
  EXPECT_EQ(sw.fdb_size(), 2u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kMoved], 0u);
}

TEST(L2Vlan, UnicastNeverCrossesVlans) {
  L2Switch sw(two_vlans());
  send(sw, 0, untagged(kB, kA), 0);  // A known in VLAN 10 only
  const L2Decision d = send(sw, 2, untagged(kA, kB), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(d.vlan, 20);
  EXPECT_FALSE(sw.flood_ports(d.vlan, 2).contains(0));
}

TEST(L2Vlan, TrunkAcceptsTaggedFramesOfItsAllowedVlans) {
  L2Switch sw(two_vlans());
  const L2Decision d = send(sw, 4, tagged(kB, kA, 20, 5), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(d.vlan, 20);
  EXPECT_TRUE(d.in_tagged());
  EXPECT_EQ(d.pcp, 5);
  EXPECT_EQ(sw.lookup(20, kA, 0), PortId{4});
}

TEST(L2Vlan, TrunkDropsVlansOutsideItsAllowedSet) {
  L2Switch sw(two_vlans());
  const L2Decision d = send(sw, 5, tagged(kB, kA, 20), 0);
  EXPECT_EQ(d.action, L2Action::kDrop);
  EXPECT_EQ(d.drop, L2Drop::kVlanNotAllowed);
  EXPECT_FALSE(sw.lookup(20, kA, 0).has_value());
}

TEST(L2Vlan, TrunkPutsUntaggedFramesInItsNativeVlan) {
  L2Switch sw(two_vlans());
  EXPECT_EQ(send(sw, 4, untagged(kB, kA), 0).vlan, 30);
  EXPECT_EQ(send(sw, 4, tagged(kB, kA, 0), 0).vlan, 30);  // priority-tagged
  EXPECT_EQ(sw.lookup(30, kA, 0), PortId{4});
}

TEST(L2Vlan, TrunkWithoutNativeVlanDropsUntaggedFrames) {
  L2Switch sw(two_vlans());
  EXPECT_EQ(send(sw, 5, untagged(kB, kA), 0).drop, L2Drop::kUntaggedNoNative);
  EXPECT_EQ(send(sw, 5, tagged(kB, kA, 0), 0).drop, L2Drop::kUntaggedNoNative);
  EXPECT_EQ(sw.snapshot()[L2Drop::kUntaggedNoNative], 2u);
}

TEST(L2Vlan, AccessPortDropsFramesTaggedWithAVlan) {
  L2Switch sw(two_vlans());
  EXPECT_EQ(send(sw, 0, tagged(kB, kA, 10), 0).drop, L2Drop::kTaggedOnAccess);
  EXPECT_EQ(send(sw, 0, tagged(kB, kA, 20), 0).drop, L2Drop::kTaggedOnAccess);
  EXPECT_EQ(sw.fdb_size(), 0u);
}

TEST(L2Vlan, AccessPortTakesPriorityTaggedFramesIntoItsVlan) {
  L2Switch sw(two_vlans());
  const L2Decision d = send(sw, 2, tagged(kB, kA, 0, 3), 0);
  EXPECT_EQ(d.action, L2Action::kFlood);
  EXPECT_EQ(d.vlan, 20);
  EXPECT_EQ(d.pcp, 3);
}

TEST(L2Vlan, DropsTheReservedVid4095) {
  L2Switch sw(two_vlans());
  EXPECT_EQ(send(sw, 4, tagged(kB, kA, 0xfff), 0).drop, L2Drop::kBadVlanId);
}

TEST(L2Vlan, EgressTagFollowsThePortMode) {
  L2Switch sw(two_vlans());
  EXPECT_EQ(sw.egress_tag(0, 10), kNoVlan);  // access: untagged
  EXPECT_EQ(sw.egress_tag(4, 10), 10);        // trunk: tagged
  EXPECT_EQ(sw.egress_tag(4, 30), kNoVlan);  // trunk native: untagged
  EXPECT_EQ(sw.egress_tag(5, 10), 10);
}

TEST(L2Vlan, TagEditTurnsIngressTagIntoEgressTag) {
  L2Switch sw(two_vlans());
  // Untagged in on access 0, out on access 1 and trunk 4.
  const L2Decision in_access = send(sw, 0, untagged(wire::Mac::broadcast(), kA), 0);
  EXPECT_EQ(tag_edit(in_access, sw.egress_tag(1, 10)), TagEdit::kNone);
  EXPECT_EQ(tag_edit(in_access, sw.egress_tag(4, 10)), TagEdit::kPush);
  // Tagged in on trunk 4, out on access 0 and trunk 5.
  const L2Decision in_trunk = send(sw, 4, tagged(wire::Mac::broadcast(), kB, 10), 0);
  EXPECT_EQ(tag_edit(in_trunk, sw.egress_tag(0, 10)), TagEdit::kPop);
  EXPECT_EQ(tag_edit(in_trunk, sw.egress_tag(5, 10)), TagEdit::kNone);
  // Priority-tagged in on access 0, out on trunk 5: the VID must be filled in.
  const L2Decision in_prio = send(sw, 0, tagged(wire::Mac::broadcast(), kA, 0), 0);
  EXPECT_EQ(tag_edit(in_prio, sw.egress_tag(5, 10)), TagEdit::kSetVid);
  EXPECT_EQ(tag_edit(in_prio, sw.egress_tag(1, 10)), TagEdit::kPop);
}

TEST(L2Vlan, MacMoveIsPerVlan) {
  L2Switch sw(two_vlans());
  send(sw, 0, untagged(kB, kA), 0);        // A in VLAN 10 on port 0
  send(sw, 4, tagged(kB, kA, 10), 0);      // A in VLAN 10 now behind the trunk
  send(sw, 2, untagged(kB, kA), 0);        // A in VLAN 20: a new entry
  EXPECT_EQ(sw.lookup(10, kA, 0), PortId{4});
  EXPECT_EQ(sw.lookup(20, kA, 0), PortId{2});
  EXPECT_EQ(sw.snapshot()[L2Counter::kMoved], 1u);
}

}  // namespace
}  // namespace spray::tor::test
