// SPDX-License-Identifier: BSD-3-Clause
// Table and per-port limits under a MAC-flooding attack.
#include <gtest/gtest.h>

#include <random>

#include "l2_test_util.h"
#include "tor/l2_switch.h"

namespace spray::tor::test {
namespace {

constexpr std::uint64_t kAttackMacs = 100'000;
constexpr PortId kAttacker = 3;
const wire::Mac kHostA = host(0xa);  // on port 0
const wire::Mac kHostB = host(0xb);  // on port 1

// 100,000 distinct pseudo-random unicast source MACs: a bijection of the
// index into the low 40 bits under a locally administered unicast prefix.
std::vector<Frame> attack_frames(std::uint64_t seed) {
  std::vector<Frame> frames;
  frames.reserve(kAttackMacs);
  std::mt19937_64 rng(seed);
  const std::uint64_t offset = rng();
  for (std::uint64_t i = 0; i < kAttackMacs; ++i) {
    const std::uint64_t low40 = ((i + offset) * 0x9e3779b97fULL) & 0xff'ffff'ffffULL;
    const wire::Mac src{0x0600'0000'0000ULL | low40};
    frames.push_back(untagged(host(rng() % 1000 + 0x100), src));
  }
  return frames;
}

struct FloodResult {
  std::uint64_t host_frames = 0;
  std::uint64_t host_frames_unicast = 0;
  std::size_t max_fdb_size = 0;
  std::uint64_t end_ns = 0;
};

// Replays the attack on kAttacker in bursts of 32 while A and B keep
// talking to each other between bursts.
FloodResult run_attack(L2Switch& sw, const std::vector<Frame>& attack) {
  FloodResult r;
  std::uint64_t now_ns = 0;
  send(sw, 0, untagged(kHostB, kHostA), now_ns);
  send(sw, 1, untagged(kHostA, kHostB), now_ns);
  std::vector<std::span<const std::uint8_t>> spans(attack.begin(), attack.end());
  L2Decision d[32];
  const Frame a_to_b = untagged(kHostB, kHostA);
  const Frame b_to_a = untagged(kHostA, kHostB);
  for (std::size_t base = 0; base < spans.size(); base += 32, now_ns += 10'000) {
    const std::size_t n = std::min<std::size_t>(32, spans.size() - base);
    sw.process_burst(kAttacker, std::span(spans).subspan(base, n), std::span(d, n), now_ns);
    r.max_fdb_size = std::max(r.max_fdb_size, sw.fdb_size());
    const L2Decision x = send(sw, 0, a_to_b, now_ns);
    const L2Decision y = send(sw, 1, b_to_a, now_ns);
    r.host_frames += 2;
    r.host_frames_unicast += (x.action == L2Action::kUnicast && x.port == 1) +
                             (y.action == L2Action::kUnicast && y.port == 0);
    sw.age(now_ns, 64);
  }
  r.end_ns = now_ns;
  return r;
}

TEST(L2Limits, FullTableKeepsForwardingKnownHostsAndCountsTheExcess) {
  L2Config c = access_ports(4);
  c.fdb_capacity = 4096;
  L2Switch sw(c);
  const FloodResult r = run_attack(sw, attack_frames(1));

  EXPECT_EQ(r.host_frames_unicast, r.host_frames);
  EXPECT_LE(r.max_fdb_size, 4096u);
  EXPECT_EQ(sw.fdb_size(), 4096u);
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kLearned], 4096u);  // A, B and 4094 attackers
  EXPECT_EQ(s[L2Counter::kLearnRefusedTableFull], kAttackMacs - 4094);
  EXPECT_EQ(s[L2Counter::kAged], 0u);  // nothing live was pushed out
  EXPECT_EQ(sw.lookup(1, kHostA, r.end_ns), PortId{0});
  EXPECT_EQ(sw.lookup(1, kHostB, r.end_ns), PortId{1});
}

TEST(L2Limits, PortLimitCapsWhatOnePortCanLearn) {
  L2Config c = access_ports(4);
  c.fdb_capacity = 4096;
  c.ports[kAttacker].max_macs = 100;
  L2Switch sw(c);
  const FloodResult r = run_attack(sw, attack_frames(2));

  EXPECT_EQ(r.host_frames_unicast, r.host_frames);
  EXPECT_LE(r.max_fdb_size, 102u);
  EXPECT_EQ(sw.port_learned(kAttacker), 100u);
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kLearnRefusedPortLimit], kAttackMacs - 100);
  EXPECT_EQ(s[L2Counter::kLearnRefusedTableFull], 0u);
  // The rest of the table is still there for everyone else.
  send(sw, 2, untagged(kHostA, host(0xc)), r.end_ns);
  EXPECT_EQ(sw.lookup(1, host(0xc), r.end_ns), PortId{2});
}

TEST(L2Limits, ExpiredEntriesMakeRoomWithoutWaitingForTheSweep) {
  L2Config c = access_ports(2);
  c.fdb_capacity = 64;
  c.age_ns = 10 * kSec;
  L2Switch sw(c);
  for (std::uint64_t i = 0; i < 64; ++i) send(sw, 0, untagged(kHostB, host(0x100 + i)), 0);
  send(sw, 1, untagged(kHostA, kHostB), 0);
  EXPECT_EQ(sw.snapshot()[L2Counter::kLearnRefusedTableFull], 1u);

  // Everything is idle past the ageing time; no age() call in between.
  for (std::uint64_t i = 0; i < 64; ++i) send(sw, 1, untagged(kHostA, host(0x200 + i)), 20 * kSec);
  const L2Stats s = sw.snapshot();
  EXPECT_EQ(s[L2Counter::kLearnRefusedTableFull], 1u);
  EXPECT_LE(sw.fdb_size(), 64u);
  EXPECT_EQ(sw.lookup(1, host(0x200 + 63), 20 * kSec), PortId{1});
  EXPECT_EQ(sw.port_learned(1), 64u);
}

TEST(L2Limits, PortLimitCountsOnlyLearnedEntriesOfThatPort) {
  L2Config c = access_ports(3);
  c.ports[0].max_macs = 2;
  c.static_entries.push_back({1, host(0x50), 0});
  L2Switch sw(c);
  for (std::uint64_t i = 0; i < 5; ++i) send(sw, 0, untagged(kHostB, host(0x100 + i)), 0);
  EXPECT_EQ(sw.port_learned(0), 2u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kLearnRefusedPortLimit], 3u);
  sw.set_port_link(0, false);
  sw.set_port_link(0, true);
  send(sw, 0, untagged(kHostB, host(0x200)), 0);
  EXPECT_EQ(sw.lookup(1, host(0x200), 0), PortId{0});  // flush gave the quota back
}

TEST(L2Limits, MoveOntoAPortAtItsLimitForgetsTheStaleEntry) {
  L2Config c = access_ports(3);
  c.ports[2].max_macs = 1;
  L2Switch sw(c);
  send(sw, 2, untagged(kHostB, host(0x100)), 0);  // port 2 at its limit
  send(sw, 0, untagged(kHostB, kHostA), 0);
  send(sw, 2, untagged(kHostB, kHostA), 0);  // A moves to port 2
  EXPECT_FALSE(sw.lookup(1, kHostA, 0).has_value());  // flooded, not sent to port 0
  EXPECT_EQ(sw.port_learned(0), 0u);
  EXPECT_EQ(sw.snapshot()[L2Counter::kLearnRefusedPortLimit], 1u);
}

}  // namespace
}  // namespace spray::tor::test
