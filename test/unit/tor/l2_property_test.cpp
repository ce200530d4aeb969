// SPDX-License-Identifier: BSD-3-Clause
// Invariants that hold for any traffic: random frames, ports, link flaps and
// time steps against a small switch with tight limits.
#include <gtest/gtest.h>

#include <random>

#include "l2_test_util.h"
#include "tor/l2_switch.h"

namespace spray::tor::test {
namespace {

L2Config mixed_ports() {
  L2Config c;
  c.fdb_capacity = 200;
  c.age_ns = 2 * kSec;
  c.ports = {access(10, 40), access(10, 40), access(20), trunk({10, 20}, 30), trunk({20}),
             access(30, 5)};
  c.static_entries.push_back({10, host(0x5), 1});
  c.static_entries.push_back({20, host(0x5), 4});
  return c;
}

// Frames from a small MAC universe so that hits, moves and hairpins happen,
// with random tags, runts and group addresses.
Frame random_frame(std::mt19937_64& rng) {
  const auto mac = [&] {
    switch (rng() % 16) {
      case 0: return wire::Mac::broadcast();
      case 1: return wire::Mac{0x0100'5e00'0000ULL | (rng() % 4)};
      case 2: return wire::Mac{0x0180'c200'0000ULL | (rng() % 16)};
      default: return host(rng() % 400);
    }
  };
  const wire::Mac dst = mac();
  const wire::Mac src = rng() % 50 == 0 ? mac() : host(rng() % 400);
  Frame f;
  switch (rng() % 8) {
    case 0: f = tagged(dst, src, static_cast<VlanId>(rng() % 4 == 0 ? rng() % 4096 : 10 + 10 * (rng() % 3))); break;
    case 1: f = tagged(dst, src, 0); break;
    default: f = untagged(dst, src);
  }
  if (rng() % 64 == 0) f.resize(rng() % 18);
  return f;
}

TEST(L2Property, EveryDecisionIsSafeAndEveryCountAddsUp) {
  const L2Config cfg = mixed_ports();
  L2Switch sw(cfg);
  std::mt19937_64 rng(2024);
  std::uint64_t now_ns = 0;
  std::uint64_t offered = 0;
  std::vector<Frame> frames;
  std::vector<std::span<const std::uint8_t>> spans;
  std::vector<L2Decision> d;
  for (int round = 0; round < 20'000; ++round) {
    now_ns += rng() % (50 * kMs);
    if (rng() % 200 == 0) sw.set_port_link(static_cast<PortId>(rng() % 6), rng() % 3 != 0);
    if (rng() % 10 == 0) sw.age(now_ns, 16);
    const PortId in = static_cast<PortId>(rng() % cfg.ports.size());
    frames.clear();
    for (std::size_t i = rng() % 40; i > 0; --i) frames.push_back(random_frame(rng));
    spans.assign(frames.begin(), frames.end());
    d.assign(frames.size(), L2Decision{});
    sw.process_burst(in, spans, d, now_ns);
    offered += frames.size();

    for (const L2Decision& x : d) {
      if (x.action == L2Action::kDrop) continue;
      ASSERT_TRUE(cfg.port_in_vlan(in, x.vlan)) << "accepted into a VLAN the port lacks";
      if (x.action == L2Action::kUnicast) {
        ASSERT_NE(x.port, in);
        ASSERT_TRUE(sw.port_up(x.port));
        ASSERT_TRUE(cfg.port_in_vlan(x.port, x.vlan)) << "unicast left the VLAN";
      } else {
        const PortMask out = sw.flood_ports(x.vlan, in);
        ASSERT_FALSE(out.empty());
        ASSERT_FALSE(out.contains(in));
        for (PortId p : out) {
          ASSERT_TRUE(cfg.port_in_vlan(p, x.vlan)) << "flood left the VLAN";
          ASSERT_TRUE(sw.port_up(p));
        }
      }
    }
    std::uint64_t learned_total = 0;
    for (PortId p = 0; p < cfg.ports.size(); ++p) {
      learned_total += sw.port_learned(p);
      if (cfg.ports[p].max_macs != 0) {
        ASSERT_LE(sw.port_learned(p), cfg.ports[p].max_macs);
      }
    }
    ASSERT_LE(sw.fdb_size(), cfg.fdb_capacity);
    ASSERT_EQ(sw.fdb_size(), learned_total + cfg.static_entries.size());
  }

  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kRxFrames], offered);
  EXPECT_EQ(s[L2Counter::kForwarded] + s[L2Counter::kFlooded] + s[L2Counter::kBroadcast] +
                s[L2Counter::kMulticast] + s.total_drops(),
            offered);
  EXPECT_EQ(s.fdb_entries, sw.fdb_size());
  // The run exercised the interesting paths, not just drops.
  EXPECT_GT(s[L2Counter::kForwarded], 0u);
  EXPECT_GT(s[L2Counter::kMoved], 0u);
  EXPECT_GT(s[L2Counter::kAged], 0u);
  EXPECT_GT(s[L2Counter::kFlushed], 0u);
  EXPECT_GT(s[L2Counter::kLearnRefusedPortLimit], 0u);
  EXPECT_GT(s[L2Counter::kLearnRefusedStatic], 0u);
  EXPECT_GT(s[L2Drop::kHairpin], 0u);
  EXPECT_GT(s[L2Drop::kVlanNotAllowed], 0u);
}

// The burst path shares hashes between frames with equal addresses and skips
// learning a source the previous frame already settled; neither may show.
// Bursts here repeat a few sources back to back (as a VM's port does) and
// the port limits are tight, so refused learns repeat within a burst too.
// (The FDB is large enough never to fill: a full table's reclaim sweep runs
// once per chunk by design, so there a burst and single frames may differ.)
TEST(L2Property, ABurstDecidesAndCountsAsItsFramesOneByOne) {
  L2Config cfg = mixed_ports();
  cfg.fdb_capacity = 4096;
  L2Switch burst_sw(cfg);
  L2Switch single_sw(cfg);
  std::mt19937_64 rng(7);
  std::uint64_t now_ns = 0;
  std::vector<Frame> frames;
  std::vector<std::span<const std::uint8_t>> spans;
  std::vector<L2Decision> d;
  for (int round = 0; round < 20'000; ++round) {
    now_ns += rng() % (20 * kMs);
    if (rng() % 300 == 0) {
      const auto port = static_cast<PortId>(rng() % 6);
      const bool up = rng() % 3 != 0;
      burst_sw.set_port_link(port, up);
      single_sw.set_port_link(port, up);
    }
    const PortId in = static_cast<PortId>(rng() % cfg.ports.size());
    frames.clear();
    for (std::size_t i = rng() % 40; i > 0; --i) {
      if (!frames.empty() && rng() % 3 != 0) {
        Frame f = frames.back();  // same source, maybe another destination
        if (f.size() >= wire::kEthHdrLen && rng() % 2 == 0) host(rng() % 400).store(f.data());
        frames.push_back(std::move(f));
      } else {
        frames.push_back(random_frame(rng));
      }
    }
    spans.assign(frames.begin(), frames.end());
    d.assign(frames.size(), L2Decision{});
    burst_sw.process_burst(in, spans, d, now_ns);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const L2Decision one = send(single_sw, in, frames[i], now_ns);
      ASSERT_EQ(d[i].action, one.action) << "round " << round << " frame " << i;
      ASSERT_EQ(d[i].vlan, one.vlan);
      if (one.action == L2Action::kUnicast) {
        ASSERT_EQ(d[i].port, one.port);
      }
      if (one.action == L2Action::kDrop) {
        ASSERT_EQ(d[i].drop, one.drop);
      }
    }
  }
  const L2Stats b = burst_sw.snapshot();
  const L2Stats s = single_sw.snapshot();
  EXPECT_EQ(b.counters, s.counters);
  EXPECT_EQ(b.drops, s.drops);
  EXPECT_EQ(b.fdb_entries, s.fdb_entries);
  EXPECT_GT(s[L2Counter::kLearnRefusedPortLimit], 0u);
  EXPECT_GT(s[L2Counter::kMoved], 0u);
  EXPECT_GT(s[L2Counter::kForwarded], 0u);
}

}  // namespace
}  // namespace spray::tor::test
