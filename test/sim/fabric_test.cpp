// SPDX-License-Identifier: BSD-3-Clause
// The simulator itself: links, queues, impairments, switching, determinism.
// A scripted stack stands in for the transport so every expectation is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "metrics.h"
#include "sim.h"
#include "topology.h"
#include "workload.h"

namespace spray::sim {
namespace {

struct Sent {
  Nanos at_ns;
  std::uint16_t len;
  std::uint16_t path_id;
  PeerAddr to;
};
struct Received {
  Nanos at_ns;
  std::uint64_t seq;  // first 8 bytes of the packet
  std::uint16_t len;
  std::uint16_t path_id;
  bool ce;
  PeerAddr from;
  std::vector<std::uint8_t> bytes;
};

// Emits a script of packets at given times (each carrying its index in the
// first 8 bytes, the rest a fixed pattern) and records what arrives.
class ScriptedStack final : public HostStack {
 public:
  std::vector<Sent> script;  // ascending at_ns
  std::vector<Received> rx;
  bool keep_bytes = false;

  void on_packet(std::span<const std::uint8_t> b, const srd::RxMeta& m, Nanos now) noexcept override {
    std::uint64_t seq = 0;
    std::memcpy(&seq, b.data(), std::min<std::size_t>(8, b.size()));
    rx.push_back({now, seq, static_cast<std::uint16_t>(b.size()), m.path_id, m.ce, m.from,
                  keep_bytes ? std::vector<std::uint8_t>(b.begin(), b.end()) : std::vector<std::uint8_t>{}});
  }
  std::size_t poll_tx(std::span<std::uint8_t> buf, srd::TxMeta& m, Nanos now) noexcept override {
    if (next_ >= script.size() || script[next_].at_ns > now) return 0;
    const Sent& s = script[next_];
    const std::uint64_t seq = next_++;
    std::memset(buf.data(), 0xa5, s.len);
    std::memcpy(buf.data(), &seq, 8);
    m.to = s.to;
    m.path_id = s.path_id;
    m.ect = true;
    return s.len;
  }
  Nanos next_expiry() const noexcept override {
    return next_ < script.size() ? script[next_].at_ns : kNever;
  }
  void on_expiry(Nanos) noexcept override {}

 private:
  std::size_t next_ = 0;
};

struct Pair {
  Sim sim;
  Parallel topo;
  ScriptedStack* a = nullptr;
  ScriptedStack* b = nullptr;

  explicit Pair(LinkConfig lc, std::uint16_t paths = 1, std::uint64_t seed = 1,
                HostConfig hc = {}, Nanos skew_ns = 0)
      : sim(SimConfig{.seed = seed}) {
    ParallelConfig pc;
    pc.paths = paths;
    pc.path = lc;
    pc.skew_ns = skew_ns;
    pc.host = hc;
    topo = build_parallel(sim, pc);
    auto sa = std::make_unique<ScriptedStack>();
    auto sb = std::make_unique<ScriptedStack>();
    a = sa.get();
    b = sb.get();
    sim.set_stack(topo.a, std::move(sa));
    sim.set_stack(topo.b, std::move(sb));
  }
  PeerAddr addr_b() { return sim.host(topo.b).cfg.addr; }
  // n packets of len bytes from a to b, one every gap_ns from t0.
  void send(std::size_t n, std::uint16_t len, Nanos gap_ns = 0, Nanos t0 = 0, std::uint16_t path = 0) {
    for (std::size_t i = 0; i < n; ++i) a->script.push_back({t0 + i * gap_ns, len, path, addr_b()});
  }
  Link& ab(std::size_t i = 0) { return sim.link(topo.ab[i]); }
};

LinkConfig ten_gig() {
  LinkConfig lc;
  lc.rate_bps = 10'000'000'000ULL;
  lc.delay_ns = 1'000;
  return lc;
}

TEST(SimLink, ArrivalIsSerialisationWithL2L1OverheadPlusPropagation) {
  Pair p(ten_gig());
  p.send(1, 1000);
  p.sim.run_until(1'000'000);
  ASSERT_EQ(p.b->rx.size(), 1u);
  // (1000 + 42 + 20) B * 8 / 10 Gb/s = 849.6 ns, then 1 us on the wire.
  EXPECT_EQ(p.b->rx[0].at_ns, 849u + 1'000u);
  EXPECT_EQ(p.b->rx[0].from, p.sim.host(p.topo.a).cfg.addr);
}

TEST(SimLink, BackToBackPacketsLeaveAtLineRate) {
  Pair p(ten_gig());
  p.send(1000, 1438);  // + 42 B headers + 20 B preamble/IFG = 1500 B: 1200 ns at 10G
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 1000u);
  EXPECT_EQ(p.b->rx.back().at_ns - p.b->rx.front().at_ns, 999u * 1200u);
  EXPECT_EQ(p.ab().hist->sojourn_ns.max(), 999u * 1200u);
}

TEST(SimLink, SerialisationCarriesSubNanosecondsExactlyAcrossPacketSizes) {
  // At 3 Gb/s every size takes a fraction of a ns more than a whole number;
  // sizes alternate, all queued at once and served back to back.
  LinkConfig lc = ten_gig();
  lc.rate_bps = 3'000'000'000ULL;
  Pair p(lc);
  const std::uint16_t sizes[] = {1000, 1000, 64, 1438, 1438, 1438, 77, 1000};
  for (std::size_t i = 0; i < 400; ++i) p.a->script.push_back({0, sizes[i % 8], 0, p.addr_b()});
  p.sim.run_until(100'000'000);
  ASSERT_EQ(p.b->rx.size(), 400u);
  // Reference: the same server in 128-bit arithmetic.
  unsigned __int128 rem = 0;
  Nanos busy = 0;
  for (std::size_t i = 0; i < 400; ++i) {
    const unsigned __int128 bits_e9 =
        static_cast<unsigned __int128>(wire_bytes(sizes[i % 8])) * 8'000'000'000ULL + rem;
    busy += static_cast<Nanos>(bits_e9 / lc.rate_bps);
    rem = bits_e9 % lc.rate_bps;
    EXPECT_EQ(p.b->rx[i].at_ns, busy + 1'000) << "packet " << i;
  }
}

TEST(SimLink, SerialisationFollowsARateChangeWithTheCarriedRemainder) {
  LinkConfig lc = ten_gig();
  lc.rate_bps = 3'000'000'000ULL;
  Pair p(lc);
  const std::uint16_t sizes[] = {1000, 64, 1438, 1438, 77};
  // One packet every 20 us: each leaves an idle link, at the rate of its time.
  for (std::size_t i = 0; i < 100; ++i) p.a->script.push_back({i * 20'000, sizes[i % 5], 0, p.addr_b()});
  // The remainder carried from 3 Gb/s may exceed the new rate.
  p.sim.at(1'000'005, [&p](Sim&) { p.ab().cfg.rate_bps = 999'999'937ULL; });
  p.sim.run_until(100'000'000);
  ASSERT_EQ(p.b->rx.size(), 100u);
  unsigned __int128 rem = 0;
  for (std::size_t i = 0; i < 100; ++i) {
    const std::uint64_t rate = i * 20'000 < 1'000'005 ? 3'000'000'000ULL : 999'999'937ULL;
    const unsigned __int128 bits_e9 =
        static_cast<unsigned __int128>(wire_bytes(sizes[i % 5])) * 8'000'000'000ULL + rem;
    const auto ser = static_cast<Nanos>(bits_e9 / rate);
    rem = bits_e9 % rate;
    EXPECT_EQ(p.b->rx[i].at_ns, i * 20'000 + ser + 1'000) << "packet " << i;
  }
}

TEST(SimLink, TailDropsBeyondTheQueueLimit) {
  LinkConfig lc = ten_gig();
  lc.queue_limit_pkts = 10;
  Pair p(lc);
  p.send(100, 1000);
  p.sim.run_until(10'000'000);
  // One in service plus ten queued.
  EXPECT_EQ(p.b->rx.size(), 11u);
  EXPECT_EQ(p.ab().stats.drop(DropCause::kQueueFull), 89u);
}

TEST(SimLink, ByteLimitAlsoBoundsTheQueue) {
  LinkConfig lc = ten_gig();
  lc.queue_limit_bytes = 5'000;
  Pair p(lc);
  p.send(100, 1000);
  p.sim.run_until(10'000'000);
  EXPECT_EQ(p.b->rx.size(), 5u);
  EXPECT_EQ(p.ab().stats.drop(DropCause::kQueueFull), 95u);
}

TEST(SimLink, MarksCeWhenTheQueueExceedsThePacketThreshold) {
  LinkConfig lc = ten_gig();
  lc.ecn_mark_pkts = 8;
  Pair p(lc);
  p.send(20, 1000);
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(p.b->rx[i].ce, i >= 8) << i;
  EXPECT_EQ(p.ab().stats.ce_marks, 12u);
}

TEST(SimLink, MarksCeWhenSojournExceedsTheDelayThreshold) {
  LinkConfig lc = ten_gig();
  lc.ecn_mark_sojourn_ns = 5'000;  // 1062 B take 849.6 ns: the 7th packet waits >= 5 us
  Pair p(lc);
  p.send(10, 1000);
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 10u);
  EXPECT_FALSE(p.b->rx[5].ce);
  EXPECT_TRUE(p.b->rx[6].ce);
}

TEST(SimLink, RandomLossMatchesTheConfiguredRate) {
  LinkConfig lc = ten_gig();
  lc.loss_rate = 0.1;
  Pair p(lc);
  p.send(20'000, 100, 200);
  p.sim.run_until(100'000'000);
  const double lost = static_cast<double>(p.ab().stats.drop(DropCause::kRandom)) / 20'000;
  EXPECT_NEAR(lost, 0.1, 0.01);  // > 4 sigma
  EXPECT_EQ(p.b->rx.size() + p.ab().stats.drop(DropCause::kRandom), 20'000u);
}

TEST(SimLink, GilbertElliottLosesInBursts) {
  LinkConfig lc = ten_gig();
  lc.bursty = {.p_good_to_bad = 0.01, .p_bad_to_good = 0.2, .loss_in_good = 0, .loss_in_bad = 1.0};
  Pair p(lc);
  p.send(50'000, 100, 200);
  p.sim.run_until(100'000'000);
  std::vector<bool> got(50'000, false);
  for (auto& r : p.b->rx) got[r.seq] = true;
  std::size_t bursts = 0, lost = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    lost += !got[i];
    bursts += !got[i] && (i == 0 || got[i - 1]);
  }
  ASSERT_GT(bursts, 0u);
  EXPECT_EQ(lost, p.ab().stats.drop(DropCause::kBursty));
  // Mean sojourn in the bad state is 1 / 0.2 = 5 packets.
  EXPECT_GT(static_cast<double>(lost) / bursts, 3.0);
}

TEST(SimLink, DropsExactlyTheListedPackets) {
  Pair p(ten_gig());
  p.ab().drop_nth = {3, 7, 8};
  p.send(10, 100, 1'000);
  p.sim.run_until(1'000'000);
  std::vector<std::uint64_t> seqs;
  for (auto& r : p.b->rx) seqs.push_back(r.seq);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{0, 1, 3, 4, 5, 8, 9}));
  EXPECT_EQ(p.ab().stats.drop(DropCause::kPattern), 3u);
}

TEST(SimLink, DropsByPredicate) {
  Pair p(ten_gig());
  p.ab().drop_if = [](const Packet& pk, Nanos) { return pk.data[0] % 2 == 1; };
  p.send(10, 100, 1'000);
  p.sim.run_until(1'000'000);
  ASSERT_EQ(p.b->rx.size(), 5u);
  for (auto& r : p.b->rx) EXPECT_EQ(r.seq % 2, 0u);
}

TEST(SimLink, ReorderedPacketsAreOvertaken) {
  LinkConfig lc = ten_gig();
  lc.reorder_rate = 0.2;
  lc.reorder_delay_ns = 20'000;
  Pair p(lc);
  p.send(1'000, 100, 1'000);
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 1'000u);
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < p.b->rx.size(); ++i) inversions += p.b->rx[i].seq < p.b->rx[i - 1].seq;
  EXPECT_GT(inversions, 100u);
  EXPECT_GT(p.ab().stats.reordered, 100u);
}

TEST(SimLink, JitterNeverReordersAPath) {
  LinkConfig lc = ten_gig();
  lc.jitter_ns = 5'000;
  Pair p(lc);
  p.send(1'000, 100, 500);
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 1'000u);
  for (std::size_t i = 0; i < p.b->rx.size(); ++i) EXPECT_EQ(p.b->rx[i].seq, i);
  Nanos max_extra = 0;
  for (auto& r : p.b->rx) max_extra = std::max(max_extra, r.at_ns - r.seq * 500);
  EXPECT_GT(max_extra, 1'000u + 100u + 2'000u);  // some jitter was drawn
}

TEST(SimLink, DuplicatesArriveTwiceWithIdenticalBytes) {
  LinkConfig lc = ten_gig();
  lc.dup_rate = 0.5;
  Pair p(lc);
  p.b->keep_bytes = true;
  p.send(100, 300, 1'000);
  p.sim.run_until(10'000'000);
  EXPECT_EQ(p.b->rx.size(), 100u + p.ab().stats.duplicated);
  EXPECT_GT(p.ab().stats.duplicated, 20u);
  for (std::size_t i = 1; i < p.b->rx.size(); ++i)
    if (p.b->rx[i].seq == p.b->rx[i - 1].seq) {
      EXPECT_EQ(p.b->rx[i].bytes, p.b->rx[i - 1].bytes);
    }
}

TEST(SimLink, CorruptPacketsStopAtTheL4ChecksumByDefault) {
  LinkConfig lc = ten_gig();
  lc.corrupt_rate = 0.3;
  Pair p(lc);
  p.send(1'000, 200, 1'000);
  p.sim.run_until(10'000'000);
  const Host& hb = p.sim.host(p.topo.b);
  EXPECT_GT(p.ab().stats.corrupted, 200u);
  EXPECT_EQ(hb.stats.rx_csum_drops, p.ab().stats.corrupted);
  EXPECT_EQ(p.b->rx.size(), 1'000u - p.ab().stats.corrupted);
}

TEST(SimLink, CorruptionWithoutL4ChecksumFlipsOneByteInTheChosenRange) {
  LinkConfig lc = ten_gig();
  lc.corrupt_rate = 1.0;
  lc.corrupt_within = 32;
  HostConfig hc;
  hc.l4_checksum = false;
  Pair p(lc, 1, 1, hc);
  p.b->keep_bytes = true;
  p.send(200, 200, 1'000);
  p.sim.run_until(10'000'000);
  ASSERT_EQ(p.b->rx.size(), 200u);
  for (auto& r : p.b->rx) {
    std::size_t diffs = 0, last = 0;
    for (std::size_t i = 8; i < r.bytes.size(); ++i)
      if (r.bytes[i] != 0xa5) ++diffs, last = i;
    // The flip may land in the 8-byte index; otherwise exactly one pattern byte differs.
    EXPECT_LE(diffs, 1u);
    if (diffs) {
      EXPECT_LT(last, 32u);
    }
  }
  EXPECT_EQ(p.sim.host(p.topo.b).stats.rx_corrupt_passed, 200u);
}

TEST(SimLink, BlackholeAndLinkDownDropForTheirDuration) {
  Pair p(ten_gig());
  p.send(100, 100, 1'000);  // 0 .. 99 us
  p.sim.at(20'000, [&](Sim&) { p.ab().blackhole = true; });
  p.sim.at(40'000, [&](Sim&) { p.ab().blackhole = false; });
  p.sim.at(60'000, [&](Sim&) { p.ab().up = false; });
  p.sim.at(80'000, [&](Sim&) { p.ab().up = true; });
  p.sim.run_until(1'000'000);
  // 20 sent into each window, plus the one on the wire when it began.
  EXPECT_EQ(p.ab().stats.drop(DropCause::kBlackhole), 21u);
  EXPECT_EQ(p.ab().stats.drop(DropCause::kDown), 21u);
  EXPECT_EQ(p.b->rx.size(), 58u);
}

TEST(SimTopology, ParallelPathsSelectLinksByPathIdWithSkew) {
  Pair p(ten_gig(), 4, 1, {}, 30'000);
  for (std::uint16_t path = 0; path < 4; ++path) p.send(1, 100, 0, 0, path);
  p.sim.run_until(1'000'000);
  ASSERT_EQ(p.b->rx.size(), 4u);
  for (auto& r : p.b->rx) {
    EXPECT_EQ(r.seq, r.path_id);
    EXPECT_EQ(p.sim.link(p.topo.ab[r.path_id]).stats.delivered_pkts, 1u);
  }
  // Path 3 carries the whole skew, 10 us per step.
  EXPECT_EQ(p.b->rx[3].at_ns - p.b->rx[0].at_ns, 30'000u - 0u);
}

struct LeafSpineFixture {
  Sim sim;
  LeafSpine t;
  std::vector<ScriptedStack*> stacks;
  LeafSpineFixture() {
    LeafSpineConfig cfg;
    cfg.host_link = ten_gig();
    cfg.fabric_link = ten_gig();
    t = build_leaf_spine(sim, cfg);
    for (auto h : t.hosts) {
      auto s = std::make_unique<ScriptedStack>();
      stacks.push_back(s.get());
      sim.set_stack(h, std::move(s));
    }
  }
  std::size_t spines_used() {
    std::size_t n = 0;
    for (auto& up : t.leaf_up)
      for (auto l : up) n += sim.link(l).stats.tx_pkts > 0;
    return n;
  }
};

TEST(SimTopology, LeafSpineEcmpPinsOnePathToOneSpine) {
  LeafSpineFixture f;
  const PeerAddr dst = f.sim.host(f.t.hosts[5]).cfg.addr;  // on leaf 1
  for (int i = 0; i < 200; ++i) f.stacks[0]->script.push_back({Nanos(i) * 1'000, 500, 7, dst});
  f.sim.run_until(10'000'000);
  EXPECT_EQ(f.stacks[5]->rx.size(), 200u);
  EXPECT_EQ(f.spines_used(), 1u);
}

TEST(SimTopology, LeafSpineEcmpSpreadsSprayedPaths) {
  LeafSpineFixture f;
  const PeerAddr dst = f.sim.host(f.t.hosts[6]).cfg.addr;
  for (int i = 0; i < 256; ++i)
    f.stacks[1]->script.push_back({Nanos(i) * 1'000, 500, static_cast<std::uint16_t>(i % 16), dst});
  f.sim.run_until(10'000'000);
  EXPECT_EQ(f.stacks[6]->rx.size(), 256u);
  EXPECT_EQ(f.spines_used(), 4u);
}

TEST(SimTopology, LeafSpineKeepsIntraLeafTrafficOffTheSpines) {
  LeafSpineFixture f;
  f.stacks[0]->script.push_back({0, 500, 3, f.sim.host(f.t.hosts[2]).cfg.addr});
  f.sim.run_until(1'000'000);
  EXPECT_EQ(f.stacks[2]->rx.size(), 1u);
  EXPECT_EQ(f.spines_used(), 0u);
}

TEST(SimTopology, IncastConvergesOnTheBottleneckQueue) {
  Sim sim;
  IncastConfig cfg;
  cfg.senders = 8;
  cfg.edge = ten_gig();
  cfg.bottleneck = ten_gig();
  cfg.bottleneck.ecn_mark_pkts = 16;
  Incast t = build_incast(sim, cfg);
  std::vector<ScriptedStack*> s;
  for (auto h : t.senders) {
    auto st = std::make_unique<ScriptedStack>();
    for (int i = 0; i < 10; ++i) st->script.push_back({0, 1000, 0, sim.host(t.receiver).cfg.addr});
    s.push_back(st.get());
    sim.set_stack(h, std::move(st));
  }
  auto rx = std::make_unique<ScriptedStack>();
  ScriptedStack* r = rx.get();
  sim.set_stack(t.receiver, std::move(rx));
  sim.run_until(1'000'000);
  EXPECT_EQ(r->rx.size(), 80u);
  EXPECT_GT(sim.link(t.bottleneck).stats.ce_marks, 0u);
  EXPECT_GE(sim.link(t.bottleneck).hist->queue_pkts.max(), 60u);
}

// A stack that asks to be woken at fixed times and counts the calls.
class TimerStack final : public HostStack {
 public:
  std::vector<Nanos> due{5'000, 7'000, 100'000};
  std::vector<Nanos> fired;
  void on_packet(std::span<const std::uint8_t>, const srd::RxMeta&, Nanos) noexcept override {}
  std::size_t poll_tx(std::span<std::uint8_t>, srd::TxMeta&, Nanos) noexcept override { return 0; }
  Nanos next_expiry() const noexcept override { return i_ < due.size() ? due[i_] : kNever; }
  void on_expiry(Nanos now) noexcept override {
    while (i_ < due.size() && due[i_] <= now) ++i_;
    fired.push_back(now);
  }

 private:
  std::size_t i_ = 0;
};

TEST(SimHost, CallsOnExpiryExactlyWhenDue) {
  Sim sim;
  const auto h = sim.add_host("h", {});
  auto st = std::make_unique<TimerStack>();
  TimerStack* t = st.get();
  sim.set_stack(h, std::move(st));
  sim.run_until(1'000'000);
  EXPECT_EQ(t->fired, (std::vector<Nanos>{5'000, 7'000, 100'000}));
  EXPECT_EQ(sim.host(h).stats.stuck_wakes, 0u);
}

TEST(SimHost, RestartedStackSeesNoneOfTheOldInput) {
  HostConfig slow_poll;
  slow_poll.rx_poll_ns = 5'000;  // arrivals wait in the RX queue for 5 us
  Pair p(ten_gig(), 1, 1, slow_poll);
  p.send(10, 100);  // packet i arrives at 1000 + 129.6 * (i + 1) ns
  p.sim.run_until(1'900);  // six have arrived, none polled yet
  auto fresh = std::make_unique<ScriptedStack>();
  ScriptedStack* f = fresh.get();
  p.sim.set_stack(p.topo.b, std::move(fresh));  // destroys the old stack
  p.b = f;
  p.sim.run_until(1'000'000);
  ASSERT_EQ(f->rx.size(), 4u);
  EXPECT_EQ(f->rx.front().seq, 6u);
}

// A stack that learns of a failure while transmitting (as a transport
// exhausting a packet's attempts inside poll_tx does) and has no timer left.
class FailsWhileSending final : public HostStack {
 public:
  bool failed = false;
  int seen_by_app = 0;
  void on_packet(std::span<const std::uint8_t>, const srd::RxMeta&, Nanos) noexcept override {}
  std::size_t poll_tx(std::span<std::uint8_t>, srd::TxMeta&, Nanos) noexcept override {
    failed = true;
    return 0;
  }
  Nanos next_expiry() const noexcept override { return kNever; }
  void on_expiry(Nanos) noexcept override {}
  void on_service(Nanos) override { seen_by_app += failed; }
};

TEST(SimHost, ApplicationSeesWhatTransmittingProducedInTheSamePoll) {
  Sim sim;
  const auto h = sim.add_host("h", {});
  auto st = std::make_unique<FailsWhileSending>();
  FailsWhileSending* f = st.get();
  sim.set_stack(h, std::move(st));
  sim.run_until(1'000'000);
  EXPECT_EQ(f->seen_by_app, 1);
}

std::vector<std::uint64_t> run_lossy(std::uint64_t seed) {
  LinkConfig lc = ten_gig();
  lc.loss_rate = 0.05;
  lc.jitter_ns = 2'000;
  lc.reorder_rate = 0.05;
  lc.reorder_delay_ns = 3'000;
  lc.dup_rate = 0.01;
  Pair p(lc, 4, seed);
  for (int i = 0; i < 5'000; ++i) p.send(1, 700, 0, Nanos(i) * 300, static_cast<std::uint16_t>(i % 4));
  p.sim.run_until(100'000'000);
  std::vector<std::uint64_t> v;
  for (auto& r : p.b->rx) v.push_back(r.seq ^ (r.at_ns << 20));
  for (auto id : p.topo.ab) v.push_back(p.sim.link(id).stats.total_drops());
  return v;
}

TEST(SimDeterminism, SameSeedSameRun) { EXPECT_EQ(run_lossy(42), run_lossy(42)); }
TEST(SimDeterminism, OtherSeedOtherRun) { EXPECT_NE(run_lossy(42), run_lossy(43)); }

TEST(SimPool, SteadyStateReusesPacketBuffers) {
  LinkConfig lc = ten_gig();
  lc.delay_ns = 10'000;
  Pair p(lc);
  p.send(200'000, 1000, 900);  // below line rate: ~12 packets in flight
  p.sim.run_until(1'000'000'000);
  EXPECT_EQ(p.b->rx.size(), 200'000u);
  EXPECT_EQ(p.sim.packets_in_use(), 0u);
  EXPECT_LE(p.sim.packet_pool_capacity(), PacketPool::kChunk);
}

TEST(SimMetrics, GoodputMeterBinsEverySampleInItsWindow) {
  GoodputMeter g(1'000);
  g.add(999, 1);     // window 0
  g.add(0, 2);       // window 0 again
  g.add(1'000, 4);   // window 1, first ns
  g.add(5'500, 8);   // window 5
  g.add(1'999, 16);  // back to window 1, last ns
  g.add(5'999, 32);  // window 5
  EXPECT_EQ(g.windows(), 6u);
  EXPECT_EQ(g.bytes_in(0), 3u);
  EXPECT_EQ(g.bytes_in(1), 20u);
  EXPECT_EQ(g.bytes_in(2), 0u);
  EXPECT_EQ(g.bytes_in(5), 40u);
  EXPECT_EQ(g.total_bytes(), 63u);
}

TEST(SimLedger, AccountsForMessagesWhateverTheirSequenceNumbers) {
  Ledger l;
  // Dense from 0, a number far beyond (kept aside), another sender, then
  // the dense range growing over a number first seen far away.
  for (std::uint64_t q = 0; q < 100; ++q) l.sent(1, q, 10);
  l.sent(1, 1'000'000, 10);
  l.sent(1, 3'000, 10);
  l.sent(0xfeed0001, 7, 10);
  for (std::uint64_t q = 100; q < 5'000; ++q)
    if (q != 3'000) l.sent(1, q, 10);
  EXPECT_EQ(l.sent_count(), 5'002u);
  for (std::uint64_t q = 0; q < 5'000; ++q) l.received(1, q, 30);
  l.received(1, 3'000, 40);       // a duplicate of the one first kept aside
  l.received(1, 1'000'000, 50);
  l.received(1, 5'000, 50);       // never sent
  l.received(2, 0, 50);           // unknown sender
  l.reported_delivered(0xfeed0001, 7, 60);
  l.reported_failed(1, 1'000'001);  // reported, never sent: known, not received
  EXPECT_EQ(l.sent_count(), 5'003u);
  EXPECT_EQ(l.received_unique(), 5'001u);
  EXPECT_EQ(l.duplicates(), 1u);
  EXPECT_EQ(l.unknown(), 2u);
  EXPECT_EQ(l.delivered_not_received(), 1u);  // 0xfeed0001/7
  EXPECT_EQ(l.missing(), 1u);                 // 0xfeed0001/7 again; 1'000'001 failed
  EXPECT_EQ(l.one_way_ns().max(), 40u);
}

}  // namespace
}  // namespace spray::sim
