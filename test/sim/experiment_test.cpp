// SPDX-License-Identifier: BSD-3-Clause
// The fabrics, traffic matrices and experiments of `spray sim` (lib/sim):
// fat-tree and leaf-spine sizes and path counts, ECMP spread at every tier,
// htsim's connection matrices, scenario errors and determinism.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "event_queue.h"
#include "experiment.h"
#include "fabric.h"
#include "topology.h"
#include "traffic_matrix.h"

namespace spray::sim::test {
namespace {

// The queue against a sort of everything pushed: times near and far (past
// the ring's horizon), ties, and pushes behind the bucket being drained.
TEST(EventQueue, PopsInTimeThenInsertionOrder) {
  EventQueue q;
  Rng rng(3);
  std::vector<std::pair<Nanos, std::uint32_t>> want, got;
  Nanos now = 0;
  std::uint32_t id = 0;
  for (int round = 0; round < 20'000; ++round) {
    const int pushes = static_cast<int>(rng.below(3));
    for (int i = 0; i < pushes; ++i) {
      const std::uint64_t r = rng.below(10);
      const Nanos at = r < 6 ? now + rng.below(200) : r < 9 ? now + rng.below(200'000) : now;
      q.push(at, EventKind::kAction, id);
      want.push_back({at, id++});
    }
    if (!q.empty() && rng.below(4) != 0) {
      const Nanos next = q.next_at();
      if (rng.below(8) == 0 && next > now + 1) {
        // As Sim::run_until does: peek, stop short, schedule at the end.
        now += (next - now) / 2;
        q.push(now, EventKind::kAction, id);
        want.push_back({now, id++});
        continue;
      }
      const Event e = q.pop();
      ASSERT_GE(e.at_ns, now);
      now = e.at_ns;
      got.push_back({e.at_ns, e.a});
    }
  }
  while (!q.empty()) {
    const Event e = q.pop();
    got.push_back({e.at_ns, e.a});
  }
  ASSERT_EQ(got.size(), want.size());
  std::vector<std::pair<Nanos, std::uint32_t>> sorted = got;
  std::stable_sort(sorted.begin(), sorted.end());
  EXPECT_EQ(got, sorted);  // ids rise with insertion, so ties must pop by id
}

TEST(FatTree, KForNodesMatchesHtsimSizes) {
  EXPECT_EQ(fat_tree_k_for(432, 1), 12u);
  EXPECT_EQ(fat_tree_k_for(1024, 1), 16u);
  EXPECT_EQ(fat_tree_k_for(2000, 1), 20u);
  EXPECT_EQ(fat_tree_k_for(3456, 1), 24u);
  EXPECT_EQ(fat_tree_k_for(8192, 1), 32u);
  EXPECT_EQ(fat_tree_k_for(16000, 1), 40u);
  EXPECT_EQ(fat_tree_k_for(20480, 1), 44u);
  EXPECT_EQ(fat_tree_k_for(433, 1), 14u);
  EXPECT_EQ(fat_tree_k_for(128, 2), 8u);  // 2 x 8^3 / 4 = 256 >= 128 > 2 x 6^3 / 4
}

TEST(FatTree, KaryTreeHasTheTextbookCounts) {
  for (const std::uint32_t k : {4u, 8u, 12u}) {
    Sim sim;
    FabricConfig fc;
    fc.k = k;
    const Fabric f = build_fabric(sim, fc);
    EXPECT_EQ(f.hosts.size(), k * k * k / 4);
    EXPECT_EQ(f.tors.size(), k * k / 2);
    EXPECT_EQ(f.aggs.size(), k * k / 2);
    EXPECT_EQ(f.cores.size(), k * k / 4);
    // host-ToR, ToR-agg and agg-core: k^3/4 cables each, two links per cable.
    EXPECT_EQ(sim.link_count(), 3u * 2 * k * k * k / 4);
  }
}

TEST(FatTree, OversubscriptionPutsMoreHostsUnderEachTor) {
  Sim sim;
  FabricConfig fc;
  fc.k = 4;
  fc.oversubscription = 3;
  const Fabric f = build_fabric(sim, fc);
  EXPECT_EQ(f.hosts_per_tor, 6u);
  EXPECT_EQ(f.hosts.size(), 48u);
  EXPECT_EQ(f.tors.size(), 8u);
}

TEST(FatTree, PathCountsByDistance) {
  Sim sim;
  FabricConfig fc;
  fc.k = 8;
  const Fabric f = build_fabric(sim, fc);
  EXPECT_EQ(f.paths_between(0, 1), 1u);    // one ToR
  EXPECT_EQ(f.paths_between(0, 4), 4u);    // one pod, another ToR: k/2
  EXPECT_EQ(f.paths_between(0, 16), 16u);  // another pod: (k/2)^2
  EXPECT_EQ(f.paths_between(0, 127), 16u);
}

TEST(LeafSpine, PathsAreTheSpines) {
  Sim sim;
  FabricConfig fc;
  fc.kind = FabricKind::kLeafSpine;
  fc.leaves = 3;
  fc.spines = 5;
  fc.oversubscription = 2;
  const Fabric f = build_fabric(sim, fc);
  EXPECT_EQ(f.hosts.size(), 30u);
  EXPECT_EQ(f.paths_between(0, 9), 1u);
  EXPECT_EQ(f.paths_between(0, 10), 5u);
}

TEST(Fabric, BadSizesNameTheField) {
  Sim sim;
  FabricConfig fc;
  fc.k = 3;
  try {
    build_fabric(sim, fc);
    FAIL() << "k = 3 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "k = 3: expected an even number 2..128");
  }
  fc.k = 4;
  fc.nodes = 17;
  EXPECT_THROW(build_fabric(sim, fc), std::invalid_argument);
}

// Sends `n` packets from one host to another, path ids 0..n-1, and returns
// nothing: the links count what crossed them.
class Sprayer final : public HostStack {
 public:
  Sprayer(PeerAddr to, std::uint32_t n) : to_(to), n_(n) {}
  void on_packet(std::span<const std::uint8_t>, const srd::RxMeta&, Nanos) noexcept override { ++rx; }
  std::size_t poll_tx(std::span<std::uint8_t> buf, srd::TxMeta& m, Nanos) noexcept override {
    if (sent_ == n_) return 0;
    std::memset(buf.data(), 0, 64);
    m.to = to_;
    m.path_id = static_cast<std::uint16_t>(sent_++ % 256);
    return 64;
  }
  Nanos next_expiry() const noexcept override { return kNever; }
  void on_expiry(Nanos) noexcept override {}
  std::uint32_t rx = 0;

 private:
  PeerAddr to_;
  std::uint32_t n_, sent_ = 0;
};

// Every uplink a sprayed flow may take carries some of it, at each tier,
// and none carries more than twice its share.
TEST(FatTree, EcmpSpreadsPathIdsOverEveryUplinkAtEveryTier) {
  Sim sim;
  FabricConfig fc;
  fc.k = 8;
  for (auto& t : fc.tiers) t.queue_pkts = 5'000;  // every packet queued at once, none dropped
  const Fabric f = build_fabric(sim, fc);
  const std::uint32_t src = 0, dst = 100;  // pods 0 and 6
  const std::uint32_t n = 256 * 16;
  auto st = std::make_unique<Sprayer>(PeerAddr{host_ip(dst), 4792}, n);
  sim.set_stack(f.hosts[src], std::move(st));
  sim.set_stack(f.hosts[dst], std::make_unique<Sprayer>(PeerAddr{host_ip(src), 4792}, 0));
  sim.run_until(10'000'000);
  EXPECT_EQ(static_cast<Sprayer&>(sim.stack(f.hosts[dst])).rx, n);
  auto check = [&](const std::vector<std::uint32_t>& links, const char* tier) {
    std::uint64_t total = 0, most = 0, least = ~0ull;
    for (const std::uint32_t id : links) {
      const std::uint64_t p = sim.link(id).stats.tx_pkts;
      total += p;
      most = std::max(most, p);
      least = std::min(least, p);
    }
    EXPECT_EQ(total, n) << tier;
    EXPECT_GT(least, 0u) << tier;
    EXPECT_LE(most, 2 * total / links.size()) << tier;
  };
  const std::uint32_t half = 4;
  std::vector<std::uint32_t> tor_up, agg_up, core_down, agg_down;
  for (std::uint32_t j = 0; j < half; ++j) tor_up.push_back(f.link(f.tors[0], f.aggs[j]));
  for (std::uint32_t j = 0; j < half; ++j)
    for (std::uint32_t c = 0; c < half; ++c) agg_up.push_back(f.link(f.aggs[j], f.cores[j * half + c]));
  for (std::uint32_t c = 0; c < f.cores.size(); ++c) core_down.push_back(f.link(f.cores[c], f.aggs[6 * half + c / half]));
  for (std::uint32_t j = 0; j < half; ++j) agg_down.push_back(f.link(f.aggs[6 * half + j], f.tors[f.tor_of(dst)]));
  check(tor_up, "tor");
  check(agg_up, "agg");
  check(core_down, "core");
  check(agg_down, "agg down");
}

TEST(LeafSpine, EcmpSpreadsPathIdsOverEverySpine) {
  Sim sim;
  FabricConfig fc;
  fc.kind = FabricKind::kLeafSpine;
  fc.leaves = 2;
  fc.spines = 8;
  for (auto& t : fc.tiers) t.queue_pkts = 5'000;  // every packet queued at once, none dropped
  const Fabric f = build_fabric(sim, fc);
  const std::uint32_t dst = f.hosts_per_tor;  // first host of leaf 1
  sim.set_stack(f.hosts[0], std::make_unique<Sprayer>(PeerAddr{host_ip(dst), 4792}, 2048));
  sim.set_stack(f.hosts[dst], std::make_unique<Sprayer>(PeerAddr{host_ip(0), 4792}, 0));
  sim.run_until(10'000'000);
  EXPECT_EQ(static_cast<Sprayer&>(sim.stack(f.hosts[dst])).rx, 2048u);
  for (std::uint32_t s = 0; s < 8; ++s) {
    const std::uint64_t p = sim.link(f.link(f.tors[0], f.aggs[s])).stats.tx_pkts;
    EXPECT_GT(p, 0u);
    EXPECT_LE(p, 2u * 2048 / 8);
  }
}

TEST(ConnectionMatrix, ReadsHtsimFiles) {
  std::istringstream in(
      "Nodes 16\n"
      "Connections 3\n"
      "# a comment\n"
      "7->5 id 1 start 0 size 2000000\n"
      "15->1 start 2500000 size 4096\n"
      "0->13 id 3 start 0 size 1 prio 3\n");
  const ConnectionMatrix m = read_connection_matrix(in, "perm.cm");
  EXPECT_EQ(m.nodes, 16u);
  ASSERT_EQ(m.flows.size(), 3u);
  EXPECT_EQ(m.flows[0].src, 7u);
  EXPECT_EQ(m.flows[0].dst, 5u);
  EXPECT_EQ(m.flows[0].bytes, 2'000'000u);
  EXPECT_EQ(m.flows[1].start_ns, 2'500u);  // picoseconds in the file
  EXPECT_EQ(m.flows[2].bytes, 1u);
}

std::string cm_error(const std::string& text) {
  std::istringstream in(text);
  try {
    read_connection_matrix(in, "x.cm");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(ConnectionMatrix, ErrorsNameTheLineAndTheValue) {
  EXPECT_EQ(cm_error("Nodes 4\nConnections 1\n0->4 start 0 size 10\n"),
            "x.cm:3: destination '4': expected a whole number 0..3");
  EXPECT_EQ(cm_error("Nodes 4\nConnections 2\n0->1 start 0 size 10\n"), "x.cm: 'Connections 2' but 1 flows listed");
  EXPECT_EQ(cm_error("Nodes 4\n0->1 start 0\n"), "x.cm:2: flow '0->1' without 'size BYTES'");
  EXPECT_NE(cm_error("Nodes 4\nTriggers 1\n").find("triggers and failures are not supported"), std::string::npos);
  EXPECT_EQ(cm_error("Nodes 4\n1->1 start 0 size 5\n"), "x.cm:2: '1->1': a host does not send to itself");
}

TEST(Traffic, PermutationSendsAndReceivesOnceAndNeverToItself) {
  const auto flows = permutation(1000, 1000, SizeDist(100), 0, 3);
  ASSERT_EQ(flows.size(), 1000u);
  std::vector<int> out(1000), in(1000);
  for (const FlowDef& f : flows) {
    EXPECT_NE(f.src, f.dst);
    ++out[f.src];
    ++in[f.dst];
  }
  EXPECT_EQ(*std::max_element(out.begin(), out.end()), 1);
  EXPECT_EQ(*std::max_element(in.begin(), in.end()), 1);
  const auto other = permutation(1000, 1000, SizeDist(100), 0, 4);
  std::size_t same = 0;
  for (std::size_t i = 0; i < 1000; ++i) same += other[i].src == flows[i].src && other[i].dst == flows[i].dst;
  EXPECT_LT(same, 10u);  // another seed, another permutation
}

TEST(Traffic, SizeDistributionsParseAndDraw) {
  EXPECT_EQ(parse_bytes("2MB"), 2'000'000u);
  EXPECT_EQ(parse_bytes("64KiB"), 65'536u);
  EXPECT_THROW(parse_bytes("2XB"), std::invalid_argument);
  const SizeDist d = SizeDist::parse("1K:1,1M:3");
  Rng rng(1);
  int big = 0;
  for (int i = 0; i < 4000; ++i) big += d.draw(rng) == 1'000'000;
  EXPECT_GT(big, 2800);
  EXPECT_LT(big, 3200);
}

std::string scenario_error(const std::string& text) {
  ExperimentConfig c;
  std::istringstream in(text);
  try {
    read_scenario(c, in, "s.ini");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Scenario, BadLinesNameTheKeyTheValueAndWhatIsAccepted) {
  EXPECT_EQ(scenario_error("[transport]\npaths = 300\n"),
            "s.ini:2: transport.paths = '300': expected a whole number 1..256");
  EXPECT_EQ(scenario_error("[fabric]\ntopology = torus\n"),
            "s.ini:2: fabric.topology = 'torus': expected fat-tree or leaf-spine");
  EXPECT_EQ(scenario_error("[fabric]\nlink_rate = fast\n"),
            "s.ini:2: fabric.link_rate = 'fast': expected a rate like 100Gbps, 400Mbps (1 Mbit/s .. 10 Tbit/s)");
  EXPECT_NE(scenario_error("[nosuch]\n").find("s.ini:1: section [nosuch]: expected fabric"), std::string::npos);
  EXPECT_NE(scenario_error("[run]\nspeed = 3\n").find("s.ini:2: unknown key 'run.speed'; expected one of"),
            std::string::npos);
  EXPECT_EQ(scenario_error("[faults]\nfault = 10us link-melt tor0-agg0\n"),
            "s.ini:2: faults.fault kind = 'link-melt': expected link-down, link-up, link-degrade, switch-down "
            "or switch-up");
  EXPECT_EQ(scenario_error("[spine]\nqueue_pkts = 0\n"),
            "s.ini:2: agg.queue_pkts = '0': expected a whole number 1..1000000");
}

TEST(Scenario, ReadsEverySection) {
  ExperimentConfig c;
  std::istringstream in(
      "# a small fabric\n[fabric]\ntopology = leaf-spine\nleaves = 3\nspines = 2\nlink_rate = 25Gbps\n"
      "link_delay = 500ns\nmtu = 9000\n[leaf]\nqueue_pkts = 100\necn_pkts = 20\n[traffic]\npattern = incast\n"
      "incast_senders = 4\nsize = 64K:1,1M:1\n[transport]\npaths = 8\n[run]\nseed = 9\nend = 5ms\n"
      "[faults]\nfault = 20us link-degrade leaf0-spine1 loss=0.01 rate=10Gbps\n");
  read_scenario(c, in, "s.ini");
  EXPECT_EQ(c.fabric.kind, FabricKind::kLeafSpine);
  EXPECT_EQ(c.fabric.link_rate_bps, 25'000'000'000u);
  EXPECT_EQ(c.fabric.link_delay_ns, 500u);
  EXPECT_EQ(c.mtu, 9000u);
  EXPECT_EQ(c.fabric.tiers[static_cast<int>(Tier::kTor)].ecn_pkts, 20u);
  EXPECT_EQ(c.pattern, Pattern::kIncast);
  EXPECT_EQ(c.paths, 8);
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.end_ns, 5'000'000u);
  ASSERT_EQ(c.faults.size(), 1u);
  EXPECT_EQ(c.faults[0].rate_bps, 10'000'000'000u);
  EXPECT_DOUBLE_EQ(c.faults[0].loss, 0.01);
}

ExperimentConfig small(std::uint16_t paths, std::uint64_t seed) {
  ExperimentConfig c;
  c.fabric.k = 4;
  c.paths = paths;
  c.seed = seed;
  c.size = SizeDist(512 * 1024);
  return c;
}

TEST(Experiment, SameSeedSameResults) {
  const ExperimentResult a = run_experiment(small(8, 5));
  const ExperimentResult b = run_experiment(small(8, 5));
  ASSERT_EQ(a.flows_completed, 16u);
  EXPECT_EQ(a.fct_ns, b.fct_ns);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.retransmits, b.retransmits);
  EXPECT_EQ(a.packets, b.packets);
  const ExperimentResult c = run_experiment(small(8, 6));
  EXPECT_NE(a.fct_ns, c.fct_ns);
}

TEST(Experiment, SprayingBeatsOnePathOnAPermutation) {
  const ExperimentResult one = run_experiment(small(1, 1));
  const ExperimentResult many = run_experiment(small(16, 1));
  ASSERT_EQ(one.flows_completed, 16u);
  ASSERT_EQ(many.flows_completed, 16u);
  EXPECT_LT(many.fct_mean_ns, one.fct_mean_ns);
  EXPECT_LT(many.fct_max_ns, one.fct_max_ns);
}

TEST(Experiment, FlowsCompleteAroundACoreThatFails) {
  ExperimentConfig c = small(16, 1);
  apply_setting(c, "fault", "20us switch-down core0");
  const ExperimentResult r = run_experiment(c);
  EXPECT_EQ(r.flows_completed, 16u);
  EXPECT_GT(r.tiers[static_cast<int>(Tier::kAgg)].drops_down, 0u);
  EXPECT_GT(r.retx_total, 0u);
}

TEST(Experiment, AFaultOnNoSuchLinkFailsBeforeTheRun) {
  ExperimentConfig c = small(16, 1);
  apply_setting(c, "fault", "20us link-down tor0-core1");
  try {
    run_experiment(c);
    FAIL() << "accepted";
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("faults.fault = '20us link-down tor0-core1': 'tor0' and 'core1' are not neighbours"), std::string::npos)
        << e.what();
  }
}

// A k = 4 tree with ECN at every switch tier: single-path flows of a
// permutation collide on some uplinks (the hot spots) and see CE.
ExperimentConfig hot_spots(LoadBalance lb, std::uint64_t seed = 3) {
  ExperimentConfig c = small(16, seed);
  c.lb = lb;
  c.size = SizeDist(1'000'000);
  for (const Tier t : {Tier::kTor, Tier::kAgg, Tier::kCore}) c.fabric.tiers[static_cast<int>(t)].ecn_pkts = 8;
  return c;
}

TEST(Plb, RepathsOnCongestionWhereEcmpStays) {
  const ExperimentResult ecmp = run_experiment(hot_spots(LoadBalance::kEcmp));
  const ExperimentResult plb = run_experiment(hot_spots(LoadBalance::kPlb));
  ASSERT_EQ(ecmp.flows_completed, 16u);
  ASSERT_EQ(plb.flows_completed, 16u);
  EXPECT_EQ(ecmp.paths, 1);  // `paths` = 16 is overridden by the mode
  EXPECT_EQ(plb.paths, 1);
  EXPECT_EQ(ecmp.plb.rounds + ecmp.plb.congestion_repaths + ecmp.plb.timeout_repaths, 0u);
  EXPECT_GT(plb.plb.rounds, 0u);
  EXPECT_GT(plb.plb.congested_rounds, 0u);
  EXPECT_GT(plb.plb.congestion_repaths, 0u);
  // A repath moves a flow to other links: the runs differ.
  EXPECT_NE(plb.fct_ns, ecmp.fct_ns);
}

TEST(Plb, SameSeedSameResults) {
  const ExperimentResult a = run_experiment(hot_spots(LoadBalance::kPlb, 4));
  const ExperimentResult b = run_experiment(hot_spots(LoadBalance::kPlb, 4));
  EXPECT_EQ(a.fct_ns, b.fct_ns);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.plb.congestion_repaths, b.plb.congestion_repaths);
  EXPECT_EQ(a.plb.timeout_repaths, b.plb.timeout_repaths);
}

// Every flow's one path crosses the core; with every link of one core
// switch down, ECMP keeps hashing the flows (or their ACKs) that used it
// there, and they stall in timeouts to the end of the run, while PLB moves
// them after a timeout, and their ACKs after duplicate DATA.
TEST(Plb, MovesOffADeadSwitchOnTimeout) {
  auto with_fault = [](LoadBalance lb) {
    ExperimentConfig c = hot_spots(lb);
    for (auto& t : c.fabric.tiers) t.ecn_pkts = 0;
    apply_setting(c, "fault", "20us switch-down core0");
    return run_experiment(c);
  };
  const ExperimentResult ecmp = with_fault(LoadBalance::kEcmp);
  const ExperimentResult plb = with_fault(LoadBalance::kPlb);
  EXPECT_LT(ecmp.flows_completed, 16u);
  EXPECT_GT(ecmp.rto_events, 0u);
  EXPECT_EQ(plb.flows_completed, 16u);
  EXPECT_GT(plb.plb.timeout_repaths, 0u);
  EXPECT_GT(plb.plb.ack_repaths, 0u);
  EXPECT_EQ(plb.plb.congestion_repaths, 0u);  // no ECN, no congested round
}

TEST(Scenario, LoadBalancingKeys) {
  ExperimentConfig c;
  apply_setting(c, "lb", "plb");
  apply_setting(c, "transport.plb_rounds", "5");
  apply_setting(c, "plb_ce_share", "0.25");
  EXPECT_EQ(c.lb, LoadBalance::kPlb);
  EXPECT_EQ(c.plb.rounds, 5u);
  EXPECT_DOUBLE_EQ(c.plb.ce_share, 0.25);
  EXPECT_EQ(scenario_error("[transport]\nlb = flowlet\n"), "s.ini:2: transport.lb = 'flowlet': expected spray, ecmp or plb");
  EXPECT_EQ(scenario_error("[transport]\nplb_ce_share = 1.5\n"),
            "s.ini:2: transport.plb_ce_share = '1.5': expected a share 0..1 (below 1), like 0.5");
}

// A k = 4 tree (16 hosts, 1 us links, 100 Gbit/s) running training steps.
ExperimentConfig training(std::uint64_t allreduce, std::uint32_t ring, std::uint64_t alltoall, std::uint32_t group) {
  ExperimentConfig c = small(16, 1);
  c.pattern = Pattern::kTraining;
  c.training.iterations = 2;
  c.training.compute_ns = 20'000;
  c.training.allreduce_bytes = allreduce;
  c.training.allreduce_group = ring;
  c.training.alltoall_bytes = alltoall;
  c.training.alltoall_group = group;
  return c;
}

TEST(Training, RingAllReduceMovesExactlyTheBytesExpected) {
  // Two rings of 8 (strided: hosts 0, 2, 4, ... and 1, 3, 5, ...): each
  // rank sends 2 x 7 chunks of 1 MB / 8 = 125,000 B per step.
  const ExperimentResult r = run_experiment(training(1'000'000, 8, 0, 0));
  const TrainingReport& t = r.training;
  ASSERT_TRUE(t.enabled);
  EXPECT_FALSE(t.failed);
  EXPECT_EQ(t.iterations_done, 2u);
  ASSERT_EQ(t.collectives.size(), 1u);
  EXPECT_EQ(t.collectives[0].name, "allreduce");
  EXPECT_EQ(t.collectives[0].groups, 2u);
  EXPECT_EQ(t.collectives[0].group, 8u);
  const std::uint64_t per_iteration = 2ull * 8 * 14 * 125'000;
  EXPECT_EQ(t.collectives[0].bytes_per_iteration, per_iteration);
  EXPECT_EQ(t.bytes_expected, 2 * per_iteration);
  EXPECT_EQ(t.bytes_acked, 2 * per_iteration);
  EXPECT_EQ(t.bytes_received, 2 * per_iteration);
  EXPECT_EQ(r.bytes_total, 2 * per_iteration);
  ASSERT_EQ(t.step.ns.size(), 2u);
  ASSERT_EQ(t.collectives[0].time.ns.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::uint64_t ar = t.collectives[0].time.ns[i];
    EXPECT_GT(ar, 0u);
    EXPECT_EQ(t.step.ns[i], 20'000 + ar);  // compute gap, then the one collective
    // Each of the 14 steps waits for the previous chunk to arrive whole:
    // 10 us of serialisation at 100 Gbit/s plus 4 links of 1 us between
    // neighbours on different ToRs.
    EXPECT_GT(ar, 14u * 14'000);
  }
  EXPECT_GT(t.step.mean_ns, 20'000.0);
  EXPECT_LE(t.step.p50_ns, t.step.max_ns);
  EXPECT_EQ(r.flows_completed, r.flows);  // the messages
  EXPECT_EQ(r.flows_failed, 0u);
}

TEST(Training, AllReduceThenAllToAllEachStep) {
  // All-to-all in 4 groups of 4: each rank sends 256 KB / 4 to each of 3 peers.
  const ExperimentResult r = run_experiment(training(512'000, 0, 256'000, 4));
  const TrainingReport& t = r.training;
  ASSERT_EQ(t.collectives.size(), 2u);
  EXPECT_EQ(t.collectives[1].name, "alltoall");
  EXPECT_EQ(t.collectives[1].groups, 4u);
  const std::uint64_t ar = 16ull * 30 * 32'000, a2a = 4ull * 4 * 3 * 64'000;
  EXPECT_EQ(t.collectives[0].bytes_per_iteration, ar);
  EXPECT_EQ(t.collectives[1].bytes_per_iteration, a2a);
  EXPECT_EQ(t.bytes_acked, 2 * (ar + a2a));
  EXPECT_EQ(t.iterations_done, 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_GT(t.collectives[1].time.ns[i], 0u);
    EXPECT_EQ(t.step.ns[i], 20'000 + t.collectives[0].time.ns[i] + t.collectives[1].time.ns[i]);
  }
}

TEST(Training, SameSeedSameResults) {
  ExperimentConfig c = training(1'000'000, 0, 512'000, 8);
  c.lb = LoadBalance::kPlb;
  for (const Tier t : {Tier::kTor, Tier::kAgg, Tier::kCore}) c.fabric.tiers[static_cast<int>(t)].ecn_pkts = 8;
  const ExperimentResult a = run_experiment(c);
  const ExperimentResult b = run_experiment(c);
  EXPECT_EQ(a.training.step.ns, b.training.step.ns);
  EXPECT_EQ(a.fct_ns, b.fct_ns);
  EXPECT_EQ(a.events, b.events);
  c.seed = 2;
  const ExperimentResult d = run_experiment(c);
  EXPECT_NE(a.fct_ns, d.fct_ns);
}

TEST(Training, BadPlansNameTheKey) {
  EXPECT_EQ(scenario_error("[training]\nallreduce_group = 1\n"),
            "s.ini:2: training.allreduce_group = '1': expected a whole number 2..1000000, or 0 for every host");
  EXPECT_EQ(scenario_error("[training]\nplacement = random\n"),
            "s.ini:2: training.placement = 'random': expected strided or contiguous");
  EXPECT_EQ(scenario_error("[training]\ncompute = soon\n"),
            "s.ini:2: training.compute = 'soon': expected a time like 500ns, 20us, 1.5ms or 2s (up to 1000 s)");
  EXPECT_EQ(scenario_error("[training]\nalltoall_bytes = lots\n"),
            "s.ini:2: training.alltoall_bytes = 'lots': expected a size like 8MB, 64KiB or 0, up to 1TB");
  try {
    run_experiment(training(1'000'000, 17, 0, 0));
    FAIL() << "a ring of 17 on 16 hosts accepted";
  } catch (const ScenarioError& e) {
    EXPECT_STREQ(e.what(), "training.allreduce_group = '17': expected 2..16 (the fabric's hosts), or 0 for all of them");
  }
  try {
    run_experiment(training(0, 0, 0, 0));
    FAIL() << "a step without collectives accepted";
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("expected at least one collective"), std::string::npos);
  }
}

// The --json report parses back, with the figures the text prints, and a
// name needing escapes stays a string.
TEST(Experiment, JsonReportParsesBackWithItsFigures) {
  ExperimentResult r = run_experiment(training(512'000, 8, 0, 0));
  r.topology = "fat-tree \"k=4\"\\x";
  std::ostringstream out;
  write_json(out, r);
  const nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["topology"], r.topology);
  EXPECT_EQ(j["hosts"], r.hosts);
  EXPECT_EQ(j["flows"]["completed"], r.flows_completed);
  EXPECT_EQ(j["fct_cdf_us"].size(), 1001u);
  EXPECT_DOUBLE_EQ(j["fct_us"]["p99"].get<double>(), r.fct_p99_ns / 1e3);
  EXPECT_EQ(j["training"]["iterations_done"], r.training.iterations_done);
  EXPECT_EQ(j["training"]["step_us"]["each"].size(), r.training.step.ns.size());
  ASSERT_EQ(j["tiers"].size(), r.tiers.size());
  EXPECT_EQ(j["transport"]["data_pkts"], r.data_pkts);
  EXPECT_EQ(j["run"]["all_done"], r.all_done);
  const std::vector<std::string> keys = {"topology", "hosts", "switches", "links", "paths", "lb", "seed", "flows",
                                         "fct_us", "fct_cdf_us", "training", "tiers", "transport", "run"};
  const nlohmann::ordered_json in_order = nlohmann::ordered_json::parse(out.str());
  std::vector<std::string> got;
  for (auto it = in_order.begin(); it != in_order.end(); ++it) got.push_back(it.key());
  EXPECT_EQ(got, keys);
}

}  // namespace
}  // namespace spray::sim::test
