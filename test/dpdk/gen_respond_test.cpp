// SPDX-License-Identifier: BSD-3-Clause
// spray gen and spray respond logic over DPDK ports joined by rings, in one
// process: every message of mixed sizes delivered exactly once and verified,
// the report's figures consistent with each other, and drops in the
// receiving host (a full rx ring, a preempted poller) costing no message and
// no path.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "common/eal_env.h"
#include "common/host_pair.h"
#include "dataplane/host_apps.h"
#include "dataplane/ring_link.h"
#include "dataplane/srd_host.h"
#include "srd/counters.h"
#include "wire/ipv4.h"

namespace spray::test {
namespace {

using Pair = HostPair;

traffic::GenConfig mixed_sizes(std::uint64_t count) {
  traffic::GenConfig g;
  g.peer = {kRespIp, dp::kSrdDefaultPort};
  g.connections = 4;
  g.outstanding = 8;
  g.request = traffic::SizeDist::parse("64:5,1000:3,4000:1,70000:1", 16, 1 << 20);
  g.reply = traffic::SizeDist::parse("16-3000", 0, 1 << 20);
  g.duration_ns = 0;
  g.warmup_ns = 0;
  g.count = count;
  return g;
}

TEST(GenRespondOverRings, MixedSizesAllDeliveredExactlyOnceAndVerified) {
  Pair p(mixed_sizes(3000), {}, "gr1");
  ASSERT_TRUE(p.run(60)) << "generator did not finish";
  const auto& g = p.gen->generator().counters();
  EXPECT_EQ(g.sent.read(), 3000u);
  EXPECT_EQ(g.completed.read(), 3000u);
  EXPECT_EQ(g.failed.read(), 0u);
  EXPECT_EQ(g.bad_reply.read(), 0u);
  EXPECT_EQ(g.unexpected_reply.read(), 0u);
  EXPECT_EQ(g.conn_failed.read(), 0u);
  const auto& r = p.resp->responder();
  EXPECT_EQ(r.counters().requests.read(), 3000u);
  EXPECT_EQ(r.counters().replies.read(), 3000u);
  EXPECT_EQ(r.violations().total(), 0u);
  EXPECT_EQ(r.counters().conns_accepted.read(), 4u);
  EXPECT_EQ(r.counters().conns_closed.read(), 4u) << "every connection closed gracefully";
  const auto rtt = p.gen->generator().rtt().snapshot();
  EXPECT_EQ(rtt.count, 3000u);
  EXPECT_GT(rtt.min, 0u);
  EXPECT_LE(rtt.min, rtt.quantile(0.5));
  EXPECT_LE(rtt.quantile(0.99), rtt.max);
}

TEST(GenRespondOverRings, PerPathPacketsAddUpToTheConnectionTotals) {
  Pair p(mixed_sizes(500), {}, "gr2");
  // Read the paths while the connections are still open: run until every
  // request completed, before the generator closes them.
  p.run_until([&] { return p.gen->generator().counters().completed.read() >= 500; }, 30);
  ASSERT_EQ(p.gen->generator().counters().completed.read(), 500u);
  const auto conns = p.gen->generator().connections();
  const auto paths = dp::summarize_paths(p.gen_host->endpoint(), conns);
  ASSERT_EQ(paths.size(), 8u);
  std::uint64_t per_path = 0;
  unsigned used = 0;
  for (const auto& s : paths) {
    per_path += s.tx_pkts;
    used += s.tx_pkts > 0;
  }
  std::uint64_t total = 0;
  for (auto c : conns) {
    srd::ConnStats cs;
    ASSERT_TRUE(p.gen_host->endpoint().conn_stats(c, cs));
    total += cs.counters.tx_data_pkts;
  }
  EXPECT_EQ(per_path, total);
  EXPECT_EQ(used, 8u) << "requests were sprayed over every path";
}

TEST(GenRespondOverRings, AckOnlyRepliesCompleteOnDelivery) {
  auto g = mixed_sizes(400);
  g.reply = traffic::SizeDist::fixed(0);
  Pair p(g, {}, "gr3");
  ASSERT_TRUE(p.run(30));
  EXPECT_EQ(p.gen->generator().counters().completed.read(), 400u);
  EXPECT_EQ(p.resp->responder().counters().replies.read(), 0u);
  EXPECT_EQ(p.resp->responder().violations().total(), 0u);
}

TEST(GenRespondOverRings, ResponderDefaultReplySizeIsUsedWhenTheRequestLeavesItOpen) {
  auto g = mixed_sizes(200);
  g.reply.reset();
  traffic::RespondConfig rc;
  rc.reply_size = 300;
  Pair p(g, rc, "gr4");
  ASSERT_TRUE(p.run(30));
  const auto& c = p.gen->generator().counters();
  EXPECT_EQ(c.completed.read(), 200u);
  EXPECT_EQ(p.resp->responder().counters().reply_bytes.read(), 200u * 300u);
  EXPECT_EQ(c.bad_reply.read(), 0u);
}

// Drops inside the receiving host are congestion, not path failure: every
// path ends in the same rx ring, so steering away from one cannot help, and
// quarantining paths only narrows the spray. Eight connections keep two
// requests of 256 KiB-1 MiB each in flight against a responder that cannot
// keep up: its rx ring is tiny, or its poller is away now and then (a
// preempted process). net_ring has no rx drop counter (imissed stays 0, and
// a refused tx_burst is the caller's to count): the overflow shows as the
// generator's TxBuffers drops.
struct HostDropCase {
  const char* name;
  unsigned resp_rx_ring;   // slots; a ring holds one frame fewer
  double pause_us = 0;     // the responder's poller is away this long ...
  double pause_every_ms = 0;  // ... once per this period
};

struct HostDropFigures {
  double seconds = 0;
  std::uint64_t ring_full = 0, imissed = 0, pauses = 0;
  srd::ConnCounters gen{}, resp{};
};

constexpr std::uint64_t kHostDropMessages = 400;
constexpr std::uint32_t kHostDropConnections = 8;

void run_host_drop_case(const HostDropCase& hc, std::unique_ptr<Pair>& out, HostDropFigures& f) {
  traffic::GenConfig g;
  g.peer = {kRespIp, dp::kSrdDefaultPort};
  g.connections = kHostDropConnections;
  g.outstanding = 2;
  g.request = traffic::SizeDist::parse("262144-1048576", 16, 1 << 20);
  g.reply = traffic::SizeDist::fixed(64);
  g.duration_ns = 0;
  g.warmup_ns = 0;
  g.count = kHostDropMessages;
  out = std::make_unique<Pair>(g, traffic::RespondConfig{}, hc.name,
                               HostPairOptions{.resp_rx_ring = hc.resp_rx_ring});
  Pair& p = *out;

  // The generator closes its connections once done, and their counters go
  // with them: keep the largest sums seen, the last taken as the last
  // request completes.
  auto sum_counters = [](srd::Endpoint& ep, const std::vector<srd::ConnId>& conns, srd::ConnCounters& keep) {
    srd::ConnCounters total{};
    for (auto c : conns) {
      srd::ConnStats cs;
      if (!ep.conn_stats(c, cs)) continue;
#define X(name, help) total.name += cs.counters.name;
      SPRAY_SRD_CONN_COUNTERS(X)
#undef X
    }
#define X(name, help) keep.name = std::max(keep.name, total.name);
    SPRAY_SRD_CONN_COUNTERS(X)
#undef X
  };
  rte_mbuf* pkts[dp::kBurst];
  const std::uint64_t hz = rte_get_tsc_hz(), t0 = rte_get_tsc_cycles(), deadline = t0 + 20 * hz;
  const std::uint64_t pause = static_cast<std::uint64_t>(hc.pause_us * 1e-6 * hz);
  const std::uint64_t period = static_cast<std::uint64_t>(hc.pause_every_ms * 1e-3 * hz);
  std::uint64_t next_sum = 0, next_pause = period ? t0 + period : ~std::uint64_t{0}, resume = 0;
  bool summed_at_end = false, dumped = false;
  std::uint64_t last_done = 0, last_progress = t0;
  while (!p.gen->finished() && rte_get_tsc_cycles() < deadline) {
    const std::uint64_t now = rte_get_tsc_cycles();
    if (now >= next_pause) {
      resume = now + pause;
      next_pause = now + period;
      ++f.pauses;
    }
    const bool resp_runs = now >= resume;
    std::uint16_t n = rte_eth_rx_burst(p.link.a, 0, pkts, dp::kBurst);
    if (n) p.gen_host->rx(p.gen_tx, 0, pkts, n, now);
    if (resp_runs) {
      n = rte_eth_rx_burst(p.link.b, 0, pkts, dp::kBurst);
      if (n) p.resp_host->rx(p.resp_tx, 0, pkts, n, now);
    }
    p.gen_host->poll(p.gen_tx, now);
    if (resp_runs) p.resp_host->poll(p.resp_tx, now);
    p.gen_tx.flush();
    p.resp_tx.flush();
    f.ring_full += p.gen_tx.take_dropped();
    const std::uint64_t done = p.gen->generator().counters().completed.read();
    if (done != last_done) last_done = done, last_progress = now;
    if (!dumped && done < kHostDropMessages && now - last_progress > hz / 2) {
      // Stuck: show both ends while the connections still exist.
      dumped = true;
      const srd::Nanos ns = p.clock.to_ns(now);
      std::fprintf(stderr, "no request completed for 500 ms (%llu of %llu done); generator:\n%s\nresponder:\n%s\n",
                   (unsigned long long)done, (unsigned long long)kHostDropMessages,
                   p.gen_host->endpoint().dump(ns).c_str(), p.resp_host->endpoint().dump(ns).c_str());
    }
    const bool last = !summed_at_end && done == kHostDropMessages;
    if (now >= next_sum || last) {
      next_sum = now + hz / 1000;
      sum_counters(p.gen_host->endpoint(), p.gen->generator().connections(), f.gen);
      sum_counters(p.resp_host->endpoint(), p.resp->open_connections(), f.resp);
      summed_at_end |= last;
    }
  }
  f.seconds = double(rte_get_tsc_cycles() - t0) / hz;
  rte_eth_stats rs{};
  if (rte_eth_stats_get(p.link.b, &rs) == 0) f.imissed = rs.imissed;
  const auto& gs = f.gen;
  const auto& gc = p.gen->generator().counters();
  std::printf("[ figures  ] %s: %.2f s, %llu of %llu requests completed, %llu failed, %llu connection(s) failed\n",
              hc.name, f.seconds, (unsigned long long)gc.completed.read(), (unsigned long long)kHostDropMessages,
              (unsigned long long)gc.failed.read(), (unsigned long long)gc.conn_failed.read());
  std::printf("[ figures  ] %s: responder rx ring %u slots, %llu pause(s) of %.0f us: %llu frames refused "
              "(ring full), port imissed %llu\n"
              "[ figures  ] generator: %llu data pkts, retx nack %llu same-path %llu rack %llu tlp %llu rto %llu, "
              "spurious %llu, rto events %llu, path quarantines %llu, all-paths-impaired %llu\n"
              "[ figures  ] responder: %llu data pkts, retx %llu, rto events %llu, path quarantines %llu\n",
              hc.name, hc.resp_rx_ring, (unsigned long long)f.pauses, hc.pause_us,
              (unsigned long long)f.ring_full, (unsigned long long)f.imissed, (unsigned long long)gs.tx_data_pkts,
              (unsigned long long)gs.retx_nack, (unsigned long long)gs.retx_same_path,
              (unsigned long long)gs.retx_rack, (unsigned long long)gs.retx_tlp, (unsigned long long)gs.retx_rto,
              (unsigned long long)gs.spurious_retx, (unsigned long long)gs.rto_events,
              (unsigned long long)gs.path_quarantines, (unsigned long long)gs.all_paths_impaired,
              (unsigned long long)f.resp.tx_data_pkts, (unsigned long long)f.resp.retx_pkts,
              (unsigned long long)f.resp.rto_events, (unsigned long long)f.resp.path_quarantines);
  ASSERT_TRUE(p.gen->finished()) << "generator did not finish in 20 s: "
                                 << p.gen->generator().counters().completed.read() << " of " << kHostDropMessages
                                 << " completed";
  EXPECT_TRUE(summed_at_end) << "the transport counters were not read as the last request completed";
}

void expect_host_drops_cost_nothing(const Pair& p, const HostDropFigures& f) {
  EXPECT_GT(f.ring_full, 0u) << "the responder's rx ring never overflowed: the case tested nothing";
  const auto& c = p.gen->generator().counters();
  EXPECT_EQ(c.sent.read(), kHostDropMessages);
  EXPECT_EQ(c.completed.read(), kHostDropMessages);
  EXPECT_EQ(c.failed.read(), 0u);
  EXPECT_EQ(c.bad_reply.read(), 0u);
  EXPECT_EQ(c.unexpected_reply.read(), 0u);
  EXPECT_EQ(c.conn_failed.read(), 0u);
  const auto& r = p.resp->responder();
  EXPECT_EQ(r.counters().requests.read(), kHostDropMessages) << "each request delivered exactly once";
  EXPECT_EQ(r.counters().replies.read(), kHostDropMessages);
  EXPECT_EQ(r.violations().total(), 0u);

  // Most runs quarantine no path; some still take one or a few out of
  // service for a while (doc/benchmarks.md, "The transport on real hosts"),
  // where the code before the host-drop rules took 448-669 and every path at
  // once. The bound is one per connection; the figure is printed above.
  EXPECT_LE(f.gen.path_quarantines, kHostDropConnections) << "drops in the receiving host took paths out of service";
  EXPECT_EQ(f.gen.all_paths_impaired, 0u);
  // The generator's ACKs of replies cross the same full ring.
  EXPECT_EQ(f.resp.path_quarantines, 0u) << "the responder quarantined paths";
  // Timeouts are expected here (a full ring drops a burst's tail, a pause
  // outlasts the 100 us RTO floor); what matters is that none of them took
  // a path out of service, asserted above. Their count is printed with the
  // figures.
}

TEST(GenRespondOverRings, ResponderRxRingOverflowLosesNoMessage) {
  std::unique_ptr<Pair> p;
  HostDropFigures f;
  ASSERT_NO_FATAL_FAILURE(run_host_drop_case({"gr6", 32}, p, f));
  expect_host_drops_cost_nothing(*p, f);
}

// The same with a ring of 128 slots and a responder that is away 1 ms in
// every 10 (a preempted poller): whole windows land on a ring nobody drains.
TEST(GenRespondOverRings, PreemptedResponderLosesNoMessage) {
  std::unique_ptr<Pair> p;
  HostDropFigures f;
  ASSERT_NO_FATAL_FAILURE(run_host_drop_case({"gr7", 128, 1000, 10}, p, f));
  expect_host_drops_cost_nothing(*p, f);
}

TEST(GenRespondOverRings, UnansweredArpFailsWithinTheTimeout) {
  auto g = mixed_sizes(10);
  g.peer.ip = 0x0a000063;  // nobody
  Pair p(g, {}, "gr5");
  dp::SrdHostConfig gh;
  // Rebuild the generator's host with the unreachable peer and a short timeout.
  gh.ip = kGenIp;
  gh.peer_ip = 0x0a000063;
  gh.arp_timeout_ns = 300'000'000;
  srd::EndpointConfig ep;
  ep.local = {kGenIp, gh.udp_port};
  p.gen_host = std::make_unique<dp::SrdHostPipeline>(gh, ep, 0, 0x020000000001ULL, EalEnvironment::pool(), p.clock);
  p.gen = std::make_unique<dp::GenHostApp>(g, p.gen_host->endpoint());
  p.gen_host->set_app(p.gen.get());
  const std::uint64_t t0 = rte_get_tsc_cycles();
  EXPECT_FALSE(p.run(5));
  EXPECT_EQ(p.gen_host->peer_state(), dp::NeighborState::kFailed);
  const double waited = double(rte_get_tsc_cycles() - t0) / rte_get_tsc_hz();
  EXPECT_GE(waited, 0.29);
  EXPECT_LT(waited, 2.0);
  EXPECT_GE(p.gen_host->counters().tx_arp_request.read(), 1u);
}

}  // namespace
}  // namespace spray::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new spray::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
