// spray gen and spray respond logic over DPDK ports joined by rings, in one
// process: every message of mixed sizes delivered exactly once and verified,
// and the report's figures consistent with each other.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <memory>
#include <vector>

#include "dataplane/host_apps.h"
#include "dataplane/ring_link.h"
#include "dataplane/srd_host.h"
#include "eal_env.h"
#include "wire/ipv4.h"

namespace spray::test {
namespace {

constexpr std::uint32_t kGenIp = 0x0a000001, kRespIp = 0x0a000002;

void start_port(std::uint16_t port) {
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
  ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 1024, 0, nullptr, EalEnvironment::pool()), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 1024, 0, nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(port), 0);
}

struct Pair {
  dp::RingLink link;
  dp::TscClock clock{rte_get_tsc_hz()};
  std::unique_ptr<dp::SrdHostPipeline> gen_host, resp_host;
  std::unique_ptr<dp::GenHostApp> gen;
  std::unique_ptr<dp::RespondHostApp> resp;
  dp::TxBuffers gen_tx, resp_tx;

  Pair(const traffic::GenConfig& gcfg, const traffic::RespondConfig& rcfg, const std::string& name,
       std::uint16_t paths = 8) {
    link = dp::make_ring_link(name + "-g", name + "-r");
    start_port(link.a);
    start_port(link.b);
    dp::SrdHostConfig gh;
    gh.ip = kGenIp;
    gh.peer_ip = kRespIp;
    dp::SrdHostConfig rh;
    rh.ip = kRespIp;
    srd::EndpointConfig ep;
    ep.paths = paths;
    ep.link_rate_bps = 10'000'000'000ULL;
    ep.max_connections = 256;
    ep.local = {kGenIp, gh.udp_port};
    gen_host = std::make_unique<dp::SrdHostPipeline>(gh, ep, 0, 0x020000000001ULL, EalEnvironment::pool(), clock);
    ep.local = {kRespIp, rh.udp_port};
    ep.seed = 2;
    resp_host = std::make_unique<dp::SrdHostPipeline>(rh, ep, 0, 0x020000000002ULL, EalEnvironment::pool(), clock);
    gen = std::make_unique<dp::GenHostApp>(gcfg, gen_host->endpoint());
    resp = std::make_unique<dp::RespondHostApp>(rcfg, resp_host->endpoint());
    gen_host->set_app(gen.get());
    resp_host->set_app(resp.get());
    gen_tx.init(1, &link.a, 0);
    resp_tx.init(1, &link.b, 0);
  }
  ~Pair() {
    for (auto p : {link.a, link.b}) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  }

  // Both hosts' loops, interleaved on this thread, until the generator is done.
  bool run(double max_seconds) {
    rte_mbuf* pkts[dp::kBurst];
    const std::uint64_t deadline = rte_get_tsc_cycles() + static_cast<std::uint64_t>(max_seconds * rte_get_tsc_hz());
    while (!gen->finished() && gen_host->peer_state() != dp::NeighborState::kFailed) {
      const std::uint64_t now = rte_get_tsc_cycles();
      if (now > deadline) return false;
      std::uint16_t n = rte_eth_rx_burst(link.a, 0, pkts, dp::kBurst);
      if (n) gen_host->rx(gen_tx, 0, pkts, n, now);
      n = rte_eth_rx_burst(link.b, 0, pkts, dp::kBurst);
      if (n) resp_host->rx(resp_tx, 0, pkts, n, now);
      gen_host->poll(gen_tx, now);
      resp_host->poll(resp_tx, now);
      gen_tx.flush();
      resp_tx.flush();
    }
    return gen->finished();
  }
};

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
  rte_mbuf* pkts[dp::kBurst];
  const std::uint64_t deadline = rte_get_tsc_cycles() + 30 * rte_get_tsc_hz();
  while (p.gen->generator().counters().completed.read() < 500 && rte_get_tsc_cycles() < deadline) {
    const std::uint64_t now = rte_get_tsc_cycles();
    std::uint16_t n = rte_eth_rx_burst(p.link.a, 0, pkts, dp::kBurst);
    if (n) p.gen_host->rx(p.gen_tx, 0, pkts, n, now);
    n = rte_eth_rx_burst(p.link.b, 0, pkts, dp::kBurst);
    if (n) p.resp_host->rx(p.resp_tx, 0, pkts, n, now);
    p.gen_host->poll(p.gen_tx, now);
    p.resp_host->poll(p.resp_tx, now);
    p.gen_tx.flush();
    p.resp_tx.flush();
  }
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
