// SPDX-License-Identifier: BSD-3-Clause
// The transport's building blocks on their own: sequence window, index,
// timer heap, pacing wheel, path health and congestion control.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "srd/cc.h"
#include "srd/endpoint_impl.h"
#include "srd/flat_index.h"
#include "srd/paths.h"
#include "srd/timers.h"

namespace spray::srd {
namespace {

TEST(SrdSeqWindow, DedupesAndSlidesAcrossTheWrap) {
  SeqWindow w;
  w.reset(0xfffffffeu);
  EXPECT_EQ(w.classify(0xfffffffeu), SeqWindow::Mark::kNew);
  w.set(0xffffffffu);
  w.set(0);
  EXPECT_EQ(w.classify(0), SeqWindow::Mark::kDup);
  EXPECT_EQ(w.advance(), 0u);  // the front is still missing
  EXPECT_EQ(w.bits_from(1), 0b11u);
  w.set(0xfffffffeu);
  EXPECT_EQ(w.advance(), 3u);
  EXPECT_EQ(w.base(), 1u);
  EXPECT_EQ(w.classify(0), SeqWindow::Mark::kBelow);
  EXPECT_EQ(w.classify(1 + SeqWindow::kBits), SeqWindow::Mark::kBeyond);
}

TEST(SrdSeqWindow, AdvancesOverLongRuns) {
  SeqWindow w;
  w.reset(100);
  for (std::uint32_t s = 101; s < 100 + 3000; ++s) w.set(s);
  EXPECT_EQ(w.advance(), 0u);
  w.set(100);
  EXPECT_EQ(w.advance(), 3000u);
  EXPECT_EQ(w.base(), 3100u);
  EXPECT_EQ(w.bits_from(0), 0u);
}

TEST(SrdFlatIndex, MatchesAReferenceMapUnderChurn) {
  FlatIndex idx(1000);
  std::vector<std::pair<std::uint64_t, std::uint32_t>> live;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    if (live.size() < 1000 && (live.empty() || rng() % 2)) {
      const std::uint64_t k = rng() % 5000;
      if (idx.find(k) != FlatIndex::kNone) continue;
      const auto v = static_cast<std::uint32_t>(rng() % 1000);
      idx.insert(k, v);
      live.emplace_back(k, v);
    } else {
      const std::size_t j = rng() % live.size();
      EXPECT_TRUE(idx.erase(live[j].first));
      live[j] = live.back();
      live.pop_back();
    }
  }
  EXPECT_EQ(idx.size(), live.size());
  for (const auto& [k, v] : live) EXPECT_EQ(idx.find(k), v);
}

TEST(SrdTimerHeap, PopsInDeadlineOrderAndMovesEntries) {
  TimerHeap h(8);
  h.set(0, 50);
  h.set(1, 10);
  h.set(2, 30);
  h.set(1, 40);  // moved later
  h.set(3, 5);
  h.set(3, kNever);  // removed
  std::vector<std::uint32_t> order;
  while (!h.empty()) {
    order.push_back(h.top_slot());
    h.set(h.top_slot(), kNever);
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{2, 1, 0}));
}

TEST(SrdPacingWheel, ReleasesConnectionsWhenTheirSlotComesDue) {
  SchedLists s(4, 64, 1000);
  s.schedule(0, 5'500, 0);
  s.schedule(1, 2'000, 0);
  EXPECT_EQ(s.next_due(), 2'000u);
  s.advance(1'999);
  EXPECT_TRUE(s.ready_empty());
  s.advance(2'000);
  EXPECT_EQ(s.pop_ready(), 1u);
  s.advance(10'000);
  EXPECT_EQ(s.pop_ready(), 0u);
  EXPECT_EQ(s.next_due(), kNever);
}

TEST(SrdPacingWheel, BeyondTheHorizonParksInTheLastSlot) {
  SchedLists s(2, 64, 1000);
  s.schedule(0, 1'000'000, 0);
  EXPECT_LE(s.next_due(), 64'000u);
  s.advance(64'000);
  EXPECT_EQ(s.pop_ready(), 0u);
}

TEST(SrdPaths, SpraysEvenlyOverHealthyPaths) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(8, cfg, 0);
  std::vector<int> hits(8);
  bool impaired = false;
  for (int i = 0; i < 800; ++i) ++hits[ps.pick(0, PathSet::kNone, impaired)];
  for (int h : hits) EXPECT_EQ(h, 100);
  EXPECT_FALSE(impaired);
}

TEST(SrdPaths, PenalisedPathGetsAQuarterOfTheShare) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(2, cfg, 0);
  ps.on_ece(1, 0, 10'000, cfg);
  std::vector<int> hits(2);
  bool impaired = false;
  for (int i = 0; i < 500; ++i) ++hits[ps.pick(1, PathSet::kNone, impaired)];
  EXPECT_EQ(hits[0], 400);
  EXPECT_EQ(hits[1], 100);
}

// The RTT penalty needs both the factor over the path's minimum and an
// absolute queue: a 4 us path at 9 us has doubled but holds a 5 us queue,
// which a 100 us path would not show at all.
TEST(SrdPaths, RttPenaltyNeedsTheFactorAndAnAbsoluteQueue) {
  EndpointConfig cfg;  // factor 2, at least 10 us of queueing
  const auto share = [&](std::uint32_t min_rtt, std::uint32_t rtt) {
    PathSet ps;
    ps.init(2, cfg, 0);
    ps.on_rtt(0, 4'000, 0, 0, 0, cfg);
    ps.on_rtt(1, min_rtt, 0, 0, 0, cfg);
    ps.on_rtt(1, rtt, 0, 0, 1, cfg);
    int hits = 0;
    bool impaired = false;
    for (int i = 0; i < 500; ++i) hits += ps.pick(2, PathSet::kNone, impaired) == 1;
    return hits;
  };
  EXPECT_EQ(share(4'000, 9'000), 250);     // doubled, 5 us of queue: not penalised
  EXPECT_EQ(share(4'000, 15'000), 100);    // doubled, 11 us of queue: a quarter of the share
  EXPECT_EQ(share(100'000, 150'000), 250); // 50 us of queue but not doubled
  EXPECT_EQ(share(100'000, 220'000), 100);
}

TEST(SrdPaths, ConsecutiveLossesQuarantineThenProbeBacksOff) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  EXPECT_FALSE(ps.on_lost(2, 10, cfg));
  EXPECT_FALSE(ps.on_lost(2, 10, cfg));
  EXPECT_EQ(ps[2].state, PathState::kSuspect);
  EXPECT_FALSE(ps.on_lost(2, 10, cfg));
  EXPECT_TRUE(ps.on_lost(2, 10, cfg));
  EXPECT_EQ(ps[2].state, PathState::kQuarantined);
  EXPECT_EQ(ps.next_deadline(), 10 + cfg.quarantine_min_ns);
  ps.on_timer(10 + cfg.quarantine_min_ns, 100'000, cfg);
  EXPECT_EQ(ps[2].state, PathState::kProbing);
  EXPECT_TRUE(ps[2].probe_due);
  // No answer: back to quarantine with twice the backoff.
  const Nanos t = 10 + cfg.quarantine_min_ns + 100'000;
  ps.on_timer(t, 100'000, cfg);
  EXPECT_EQ(ps[2].state, PathState::kQuarantined);
  EXPECT_EQ(ps.next_deadline(), t + 2 * cfg.quarantine_min_ns);
}

TEST(SrdPaths, AckOnSuspectPathClearsIt) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(2, cfg, 0);
  ps.on_rto(0, 0, 0, cfg);
  EXPECT_EQ(ps[0].state, PathState::kSuspect);
  ps.on_acked(0, 1, cfg);
  ps.on_rtt(0, 10'000, 10'000, 10'000, 1, cfg);
  ps.on_rtt(0, 10'000, 10'000, 10'000, 2, cfg);
  EXPECT_EQ(ps[0].state, PathState::kActive);
}

TEST(SrdPaths, OneSlowSampleAloneDoesNotQuarantine) {
  // A path that turned slow (its SRTT well above its siblings') goes
  // SUSPECT; with no further evidence the suspicion timer re-arms instead of
  // quarantining, however few packets the path carries meanwhile.
  EndpointConfig cfg;
  PathSet ps;
  ps.init(16, cfg, 0);
  for (std::uint16_t p = 0; p < 16; ++p) ps.on_rtt(p, 10'000, 10'000, 10'000, 1, cfg);  // min RTT 10 us
  for (int k = 0; k < 6 && ps[3].state == PathState::kActive; ++k)
    ps.on_rtt(3, 80'000, 10'000, 10'000, 2, cfg);  // 8x: its SRTT climbs past 2x the others'
  ASSERT_EQ(ps[3].state, PathState::kSuspect);
  const Nanos first = ps.next_deadline();
  EXPECT_EQ(ps.on_timer(first, 100'000, cfg), 0u);
  EXPECT_EQ(ps[3].state, PathState::kSuspect);
  EXPECT_GT(ps.next_deadline(), first);
  // A second slow sample is persistence: the next expiry quarantines.
  ps.on_rtt(3, 80'000, 10'000, 10'000, first + 1, cfg);
  const Nanos second = ps.next_deadline();
  EXPECT_EQ(ps.on_timer(second, 100'000, cfg), 1u);
  EXPECT_EQ(ps[3].state, PathState::kQuarantined);
}

// A delay every path shows at once (a stalled host, a receiver behind on
// its ring) is nobody's path fault: a sample as slow as the siblings'
// recent ones, or one after a silence with no sibling sample to compare
// with, leaves the path ACTIVE.
TEST(SrdPaths, DelayEveryPathSharesSuspectsNone) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  for (std::uint16_t p = 0; p < 4; ++p) ps.on_rtt(p, 10'000, 10'000, 10'000, 1, cfg);
  for (int k = 0; k < 6; ++k) {
    ps.on_rtt(1, 80'000, 10'000, 0, 2, cfg);        // after a silence: nothing to compare with
    ps.on_rtt(2, 80'000, 10'000, 70'000, 3, cfg);   // the siblings are as slow
  }
  EXPECT_EQ(ps[1].state, PathState::kActive);
  EXPECT_EQ(ps[2].state, PathState::kActive);
  // One slow sample while the siblings are fast: the path's own SRTT has
  // not left theirs yet, so no verdict either.
  ps.on_rtt(3, 80'000, 10'000, 10'000, 4, cfg);
  EXPECT_EQ(ps[3].state, PathState::kActive);
}

// On a link that loses 1%, two losses in a row now and then make a path
// SUSPECT; its deliveries clear it (8 with no loss between), so a third loss
// later does not quarantine a path that delivers 99%.
TEST(SrdPaths, SuspectPathThatKeepsDeliveringIsCleared) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  ps.on_lost(1, 10, cfg);
  ps.on_lost(1, 10, cfg);
  ASSERT_EQ(ps[1].state, PathState::kSuspect);
  for (int i = 0; i < 7; ++i) ps.on_acked(1, 20, cfg);
  EXPECT_EQ(ps[1].state, PathState::kSuspect);
  ps.on_lost(1, 30, cfg);  // a loss starts the count again
  for (int i = 0; i < 7; ++i) ps.on_acked(1, 40, cfg);
  EXPECT_EQ(ps[1].state, PathState::kSuspect);
  ps.on_acked(1, 50, cfg);
  EXPECT_EQ(ps[1].state, PathState::kActive);
}

// The suspicion's deadline judges what the path did meanwhile: a loss
// among packets that otherwise arrived (a 1% link, suspected after two
// losses in a row) or a lone loss keeps it in service; two losses with
// nothing delivered take it out.
TEST(SrdPaths, ALossAmongDeliveriesAtTheSuspectDeadlineIsNoVerdict) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  for (std::uint16_t p = 0; p < 4; ++p) ps.on_rtt(p, 10'000, 10'000, 10'000, 1, cfg);
  const auto suspect_then = [&](std::uint16_t p, int acked, int lost) {
    ps.on_lost(p, 10, cfg);
    ps.on_lost(p, 10, cfg);
    EXPECT_EQ(ps[p].state, PathState::kSuspect);
    for (int i = 0; i < acked; ++i) ps.on_acked(p, 20, cfg);
    for (int i = 0; i < lost; ++i) ps.on_lost(p, 30, cfg);
  };
  suspect_then(0, 1, 1);  // one loss after a delivery
  suspect_then(1, 1, 2);  // two losses, a delivery before them
  suspect_then(2, 0, 1);  // one loss, nothing delivered
  ps.on_rto(3, 10, 10, cfg);  // a timeout, then two losses and no delivery
  ps.on_lost(3, 30, cfg);
  ps.on_lost(3, 30, cfg);
  const Nanos deadline = 10 + cfg.suspect_rtts * Nanos{ps[1].srtt_ns};
  EXPECT_EQ(ps.on_timer(deadline, 100'000, cfg), 1u);
  EXPECT_EQ(ps[0].state, PathState::kSuspect);
  EXPECT_EQ(ps[1].state, PathState::kSuspect);
  EXPECT_EQ(ps[2].state, PathState::kSuspect);
  EXPECT_EQ(ps[3].state, PathState::kQuarantined);
  // Each period starts afresh: two losses now with nothing delivered do it.
  ps.on_lost(0, deadline + 1, cfg);
  ps.on_lost(0, deadline + 1, cfg);
  EXPECT_EQ(ps[0].state, PathState::kSuspect);
  EXPECT_EQ(ps.on_timer(ps.next_deadline(), 100'000, cfg), 1u);
  EXPECT_EQ(ps[0].state, PathState::kQuarantined);
}

// A path turning SUSPECT is probed twice at once. Both answers clear it;
// both lost, with a packet sent after them delivered elsewhere, take it out
// of service, even if data sent on it arrived (its way back is dead); with
// nothing delivered since, the silence is nobody's and charges nothing.
TEST(SrdPaths, SuspectPathsAreProbedAndJudgedByTheirProbes) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  for (std::uint16_t p = 0; p < 4; ++p) ps.on_rtt(p, 10'000, 10'000, 10'000, 1, cfg);
  const auto suspect_and_probe = [&](std::uint16_t p, Nanos at) {
    ps.on_lost(p, at, cfg);
    ps.on_lost(p, at, cfg);
    ASSERT_EQ(ps[p].state, PathState::kSuspect);
    for (int k = 0; k < 2; ++k) {
      ASSERT_TRUE(ps[p].probe_due);
      ps.probe_sent(p, at + k);
    }
    EXPECT_FALSE(ps[p].probe_due);
  };
  suspect_and_probe(1, 100);
  ps.on_probe_ack(1, 100, 11'000, 12'000, cfg);
  EXPECT_EQ(ps[1].state, PathState::kSuspect);
  ps.on_probe_ack(1, 101, 11'000, 12'000, cfg);
  EXPECT_EQ(ps[1].state, PathState::kActive);

  const Nanos late = 30'000;
  suspect_and_probe(2, 200);
  ps.on_acked(2, 300, cfg);  // its data still arrives
  EXPECT_LE(ps.next_deadline(), 200 + late);  // a timer comes for the verdict
  EXPECT_EQ(ps.judge_suspect_probes(200 + late - 1, 250, late, cfg), 0u);  // not late yet
  EXPECT_EQ(ps[2].state, PathState::kSuspect);
  EXPECT_EQ(ps.judge_suspect_probes(200 + late, 250, late, cfg), 1u);
  EXPECT_EQ(ps[2].state, PathState::kQuarantined);

  suspect_and_probe(3, 400);
  EXPECT_EQ(ps.judge_suspect_probes(400 + late, 399, late, cfg), 0u);  // nothing later delivered
  EXPECT_EQ(ps[3].state, PathState::kSuspect);
  EXPECT_EQ(ps[3].lost_pkts, 2u);  // only the two that made it SUSPECT
}

// A peer answers only so many probes at once: suspicions beyond two at a
// time go unprobed, judged by their data and the timer.
TEST(SrdPaths, OnlyTwoSuspicionsAreProbedAtATime) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  for (std::uint16_t p = 0; p < 3; ++p) ps.on_rto(p, 0, 10, cfg);
  EXPECT_TRUE(ps[0].probe_due);
  EXPECT_TRUE(ps[1].probe_due);
  EXPECT_FALSE(ps[2].probe_due);
  EXPECT_EQ(ps.probes_due(), 2u);
}

TEST(SrdPaths, SharedLossesCountButNeverSuspect) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(2, cfg, 0);
  for (int i = 0; i < 10; ++i) ps.on_shared_loss(0);
  EXPECT_EQ(ps[0].lost_pkts, 10u);
  EXPECT_EQ(ps[0].consec_losses, 0);
  EXPECT_EQ(ps[0].state, PathState::kActive);
}

// A timeout's resend goes where a round trip completed last: a path whose
// data is known delivered only from a SACK on another path's ACK may have a
// dead way back.
TEST(SrdPaths, FreshestIsThePathWhoseRoundTripCompletedLast) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(4, cfg, 0);
  bool impaired = false;
  ps[2].any_acked = true;
  ps[2].last_acked_tx_seq = 100;  // newest delivery, learned from a SACK
  ps[1].any_acked = true;
  ps[1].last_acked_tx_seq = 90;
  ps.on_round_trip(1, 7);
  ps.on_round_trip(3, 5);
  EXPECT_EQ(ps.freshest(0, PathSet::kNone, impaired), 1);
  EXPECT_EQ(ps.freshest(0, 1, impaired), 3) << "avoiding 1, the next latest round trip";
  ps.on_round_trip(1, 0xfffffff0u);
  ps.on_round_trip(3, 0x00000005u);  // the ACK count wrapped: the later one
  EXPECT_EQ(ps.freshest(0, PathSet::kNone, impaired), 3);
}

TEST(SrdPaths, NeverZeroPaths) {
  EndpointConfig cfg;
  PathSet ps;
  ps.init(2, cfg, 0);
  for (std::uint16_t p = 0; p < 2; ++p)
    for (int i = 0; i < 4; ++i) ps.on_lost(p, 0, cfg);
  bool impaired = false;
  const std::uint16_t p = ps.pick(0, PathSet::kNone, impaired);
  EXPECT_LT(p, 2);
  EXPECT_TRUE(impaired);
  EXPECT_EQ(ps.usable(0), 0u);
}

TEST(SrdCc, InitialWindowIsTheBdpCappedAt64) {
  EndpointConfig cfg;
  cfg.link_rate_bps = 10'000'000'000ULL;
  cfg.initial_rtt_ns = 10'000;
  SwiftCc cc;
  cc.init(cfg, 1500);
  EXPECT_NEAR(cc.cwnd_pkts(), 10e9 / 8 * 10e-6 / 1500, 0.01);
  cfg.link_rate_bps = 400'000'000'000ULL;
  cc.init(cfg, 1500);
  EXPECT_EQ(cc.cwnd_pkts(), 64);
}

// A handshake round trip sets the first window from the measured BDP, while
// the cap keeps allowing for paths as long as initial_rtt_ns until measured.
TEST(SrdCc, HandshakeRttSetsTheInitialWindowNotTheCap) {
  EndpointConfig cfg;  // 100 Gb/s, initial_rtt 50 us
  SwiftCc cc;
  cc.init(cfg, 1500);
  EXPECT_DOUBLE_EQ(cc.cwnd_pkts(), 64.0);  // BDP at 50 us is 416 packets: capped
  cc.on_handshake_rtt(6'000, cfg);         // 12.5 GB/s x 6 us = 75 KB = 50 packets
  EXPECT_NEAR(cc.cwnd_pkts(), 50.0, 0.01);
  EXPECT_NEAR(cc.bdp_pkts(), 50.0, 0.01);
  EXPECT_NEAR(cc.max_cwnd_pkts(), 1.5 * 12.5 * 50'000 / 1500, 0.01);
}

TEST(SrdCc, GrowsBelowTargetShrinksAboveOncePerRtt) {
  EndpointConfig cfg;
  cfg.link_rate_bps = 100'000'000'000ULL;
  cfg.initial_rtt_ns = 10'000;
  SwiftCc cc;
  cc.init(cfg, 1500);
  // Some queueing (12 us against a 10 us base, target 15 us): additive.
  const double w0 = cc.cwnd_pkts();
  EXPECT_EQ(cc.on_ack(1'000, 14'000, 10'000, 10'000, 1, false, cfg), SwiftCc::Verdict::kIncrease);
  EXPECT_NEAR(cc.cwnd_pkts(), w0 + 1.0 / w0, 1e-9);
  const double w1 = cc.cwnd_pkts();
  EXPECT_EQ(cc.on_ack(2'000, 100'000, 10'000, 10'000, 1, false, cfg), SwiftCc::Verdict::kDecrease);
  EXPECT_NEAR(cc.cwnd_pkts(), w1 * 0.5, 1e-9);  // large overshoot: the 50% floor
  EXPECT_EQ(cc.on_ack(3'000, 100'000, 10'000, 10'000, 1, false, cfg), SwiftCc::Verdict::kHold);
  EXPECT_EQ(cc.on_ack(20'000, 100'000, 10'000, 10'000, 1, false, cfg), SwiftCc::Verdict::kDecrease);
}

TEST(SrdCc, FastIncreaseOnlyBelowTheSlowestPathsBdpWithoutQueueing) {
  EndpointConfig cfg;
  cfg.link_rate_bps = 100'000'000'000ULL;
  cfg.initial_rtt_ns = 10'000;
  SwiftCc cc;
  cc.init(cfg, 1500);
  cc.set_base_rtt(10'000, 200'000, cfg);  // one path 20x slower than the fastest
  const double w0 = cc.cwnd_pkts();
  cc.on_ack(1'000, 10'000, 10'000, 10'000, 4, false, cfg);
  EXPECT_NEAR(cc.cwnd_pkts(), w0 + 4, 1e-9);
  cc.set_base_rtt(5'000, 5'000, cfg);  // no skew: the window already exceeds the BDP
  const double w1 = cc.cwnd_pkts();
  cc.on_ack(2'000, 5'000, 5'000, 10'000, 4, false, cfg);
  EXPECT_LT(cc.cwnd_pkts(), w1 + 1);
}

// After a CE mark the pipe has been full: no doubling for 16 RTTs, only
// additive increase; then fast increase may fill an emptied pipe again.
TEST(SrdCc, NoFastIncreaseSoonAfterAnEcnMark) {
  EndpointConfig cfg;
  cfg.link_rate_bps = 100'000'000'000ULL;
  cfg.initial_rtt_ns = 10'000;
  SwiftCc cc;
  cc.init(cfg, 1500);
  cc.set_base_rtt(10'000, 200'000, cfg);
  cc.on_ack(1'000, 10'000, 10'000, 10'000, 1, true, cfg);  // CE at low delay: held
  const double w0 = cc.cwnd_pkts();
  cc.on_ack(2'000, 10'000, 10'000, 10'000, 4, false, cfg);
  EXPECT_NEAR(cc.cwnd_pkts(), w0 + 4.0 / w0, 1e-9);  // additive
  const double w1 = cc.cwnd_pkts();
  cc.on_ack(1'000 + 16 * 10'000, 10'000, 10'000, 10'000, 4, false, cfg);
  EXPECT_NEAR(cc.cwnd_pkts(), w1 + 4, 1e-9);  // fast again
}

TEST(SrdCc, EcnAtLowDelayHoldsTheWindow) {
  EndpointConfig cfg;
  SwiftCc cc;
  cc.init(cfg, 1500);
  const double w = cc.cwnd_pkts();
  EXPECT_EQ(cc.on_ack(1'000, 10'000, 10'000, 10'000, 1, true, cfg), SwiftCc::Verdict::kEcnHold);
  EXPECT_EQ(cc.cwnd_pkts(), w);
}

TEST(SrdCc, ThirdRtoInARowDropsToOnePacket) {
  EndpointConfig cfg;
  SwiftCc cc;
  cc.init(cfg, 1500);
  const double w = cc.cwnd_pkts();
  cc.on_rto(cfg);
  EXPECT_NEAR(cc.cwnd_pkts(), w / 2, 1e-9);
  cc.on_rto(cfg);
  cc.on_rto(cfg);
  EXPECT_EQ(cc.cwnd_pkts(), 1.0);
  EXPECT_EQ(cc.consecutive_rtos(), 3);
  // Delay alone keeps it at one packet; with ECN (a switch's queue, as in
  // an incast) it goes lower, paced below one packet.
  cc.on_ack(1'000'000, 1'000'000, 10'000, 10'000, 1, false, cfg);
  EXPECT_EQ(cc.cwnd_pkts(), 1.0);
  cc.on_ack(2'000'000, 1'000'000, 10'000, 10'000, 1, true, cfg);
  EXPECT_LT(cc.cwnd_pkts(), 1.0);
  EXPECT_GT(cc.pacing_gap_ns(10'000, cfg), 10'000u);
  // However inflated the RTT, no gap is longer than the longest RTO.
  EXPECT_EQ(cc.pacing_gap_ns(50'000'000, cfg), cfg.rto_max_ns);
}

// A step in the path's delay (the base RTT was learnt before it) holds the
// window at one packet; after 16 RTTs there, every sample above target and
// no ECN, the step lifts the base and the window grows again. A lower
// sample takes the lift down with it; a switch's marks never lift it.
TEST(SrdCc, ADelayStepTheWindowCannotCauseLiftsTheBase) {
  EndpointConfig cfg;
  for (const bool ecn : {false, true}) {
    SwiftCc cc;
    cc.init(cfg, 1500);
    constexpr Nanos kBase = 10'000, kRtt = 100'000;  // a 90 us step
    Nanos now = 1'000'000;
    for (int i = 0; i < 40 && cc.cwnd_pkts() > 1.0; ++i, now += kRtt)
      cc.on_ack(now, kRtt, kBase, kRtt, 1, ecn, cfg);
    ASSERT_LE(cc.cwnd_pkts(), 1.0) << ecn;
    SwiftCc::Verdict v = SwiftCc::Verdict::kDecrease;
    for (int i = 0; i < 20; ++i, now += kRtt) v = cc.on_ack(now, kRtt, kBase, kRtt, 1, ecn, cfg);
    if (ecn) {
      EXPECT_EQ(cc.base_lift_ns(), 0u);
      EXPECT_LT(cc.cwnd_pkts(), 1.0);
      continue;
    }
    EXPECT_EQ(cc.base_lift_ns(), static_cast<Nanos>(kRtt - kBase));
    EXPECT_EQ(v, SwiftCc::Verdict::kIncrease);
    EXPECT_GT(cc.cwnd_pkts(), 1.0);
    // The step ends: the first lower sample lowers the lift to what it shows.
    cc.on_ack(now, 30'000, kBase, kRtt, 1, false, cfg);
    EXPECT_EQ(cc.base_lift_ns(), 20'000u);
    cc.on_ack(now + kRtt, kBase, kBase, kRtt, 1, false, cfg);
    EXPECT_EQ(cc.base_lift_ns(), 0u);
  }
}

// Timeouts with nothing delivered after them on any path are a stalled
// host or a dead peer, not congestion: the window halves but keeps one
// packet, and they do not count towards the minimum window.
TEST(SrdCc, SilentTimeoutsKeepAWindowOfOnePacket) {
  EndpointConfig cfg;
  SwiftCc cc;
  cc.init(cfg, 1500);
  for (int i = 0; i < 10; ++i) cc.on_rto(cfg, /*silent=*/true);
  EXPECT_EQ(cc.cwnd_pkts(), 1.0);
  EXPECT_EQ(cc.consecutive_rtos(), 0);
  cc.on_rto(cfg);
  EXPECT_NEAR(cc.cwnd_pkts(), 0.5, 1e-9);
}

TEST(SrdCc, LossSharedByThePathsCutsTheWindowOncePerRtt) {
  EndpointConfig cfg;
  SwiftCc cc;
  cc.init(cfg, 1500);
  const double w = cc.cwnd_pkts();
  EXPECT_TRUE(cc.on_shared_loss(1'000'000, 10'000, cfg));
  EXPECT_NEAR(cc.cwnd_pkts(), w * cfg.md_floor, 1e-9);
  EXPECT_FALSE(cc.on_shared_loss(1'005'000, 10'000, cfg));  // same RTT
  EXPECT_TRUE(cc.on_shared_loss(1'011'000, 10'000, cfg));
}

TEST(SrdConfig, RejectsOutOfRangeValuesWithTheFieldName) {
  EndpointConfig cfg;
  cfg.rto_min_ns = 1'000;
  try {
    cfg.validate();
    FAIL() << "accepted rto_min_ns = 1000";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rto_min_ns"), std::string::npos);
  }
  cfg = EndpointConfig{};
  cfg.penalty_min_queue_ns = 2'000'000'000;
  try {
    cfg.validate();
    FAIL() << "accepted penalty_min_queue_ns = 2e9";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("penalty_min_queue_ns"), std::string::npos);
  }
  cfg = EndpointConfig{};
  cfg.paths = 0;
  EXPECT_THROW(cfg.validate(), std::invalid_argument);
  EXPECT_NO_THROW(EndpointConfig{}.validate());
}

}  // namespace
}  // namespace spray::srd
