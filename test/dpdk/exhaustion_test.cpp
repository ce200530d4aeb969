// SPDX-License-Identifier: BSD-3-Clause
// Resource exhaustion at the port edge: what happens when the mbufs run out
// on receive, and when a peer stops draining its ring on transmit. In both
// cases the port or the worker counts what it could not do, nothing crashes,
// traffic resumes once the resource is back, and every mbuf returns to its
// pool.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "common/eal_env.h"
#include "common/mbuf_frames.h"
#include "dataplane/clock.h"
#include "dataplane/port.h"
#include "dataplane/ring_link.h"
#include "dataplane/worker.h"

namespace spray::test {
namespace {

// A loopback UDP port the kernel just had free.
std::uint16_t free_udp_port() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Polls `port` for up to `ms` milliseconds, freeing what arrives; returns the
// sequence numbers of the test frames received, in arrival order. Stops early
// once `want` frames have come.
std::vector<std::uint32_t> receive(std::uint16_t port, unsigned ms, std::size_t want) {
  std::vector<std::uint32_t> seqs;
  const std::uint64_t end = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * ms;
  while (seqs.size() < want && rte_get_tsc_cycles() < end) {
    rte_mbuf* b[dp::kBurst];
    const std::uint16_t n = rte_eth_rx_burst(port, 0, b, dp::kBurst);
    for (std::uint16_t i = 0; i < n; ++i) {
      if (frame_intact(b[i])) seqs.push_back(frame_seq(b[i]));
      rte_pktmbuf_free(b[i]);
    }
    if (n == 0) rte_delay_us_sleep(100);
  }
  return seqs;
}

// Sends frames [first, first + n) on `port`; every frame must be accepted.
void send_frames(std::uint16_t port, rte_mempool* pool, std::uint32_t first, std::uint32_t n) {
  for (std::uint32_t s = first; s < first + n; ++s) {
    rte_mbuf* m = make_frame(pool, s);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_eth_tx_burst(port, 0, &m, 1), 1) << "frame " << s << " refused";
  }
}

std::uint64_t rx_nombuf(std::uint16_t port) {
  rte_eth_stats st{};
  rte_eth_stats_get(port, &st);
  return st.rx_nombuf;
}

// (a) The receiving port's mempool is empty: net_uring must replace each
// mbuf it hands up with a fresh one, finds none, and counts rx_nombuf while
// the datagrams wait in the socket. Once the held mbufs go back, everything
// sent, before and after, is received, and the pool is whole again after the
// port is closed.
TEST(Exhaustion, EmptyRxPoolCountsNombufAndRecoversWhenMbufsReturn) {
  constexpr unsigned kRxPoolSize = 255;
  constexpr std::uint32_t kBatch = 64;
  rte_mempool* rx_pool = rte_pktmbuf_pool_create("exh-rx", kRxPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(rx_pool, nullptr);

  const std::string pa = std::to_string(free_udp_port());
  std::string pb = std::to_string(free_udp_port());
  while (pb == pa) pb = std::to_string(free_udp_port());
  dp::Port tx_port = dp::probe_port({"tx", "net_uring_exh0,local=127.0.0.1:" + pa + ",remote=127.0.0.1:" + pb});
  dp::Port rx_port =
      dp::probe_port({"rx", "net_uring_exh1,local=127.0.0.1:" + pb + ",remote=127.0.0.1:" + pa + ",rx_bufs=16"});
  dp::start_port(tx_port, {}, EalEnvironment::pool());
  dp::start_port(rx_port, {}, rx_pool);

  // Take every mbuf the receive side could use.
  std::vector<rte_mbuf*> held;
  while (rte_mbuf* m = rte_pktmbuf_alloc(rx_pool)) held.push_back(m);
  ASSERT_EQ(rte_mempool_avail_count(rx_pool), 0u);
  ASSERT_EQ(rx_nombuf(rx_port.id), 0u);

  send_frames(tx_port.id, EalEnvironment::pool(), 0, kBatch);
  const auto starved = receive(rx_port.id, 300, kBatch);
  EXPECT_TRUE(starved.empty()) << starved.size() << " frames received with an empty pool";
  EXPECT_GT(rx_nombuf(rx_port.id), 0u) << "frames waited for mbufs but rx_nombuf did not count it";

  for (rte_mbuf* m : held) rte_pktmbuf_free(m);
  held.clear();
  send_frames(tx_port.id, EalEnvironment::pool(), kBatch, kBatch);
  const auto got = receive(rx_port.id, 5000, 2 * kBatch);
  std::vector<unsigned> seen(2 * kBatch, 0);
  for (auto s : got)
    if (s < seen.size()) ++seen[s];
  for (std::uint32_t s = 0; s < 2 * kBatch; ++s)
    EXPECT_EQ(seen[s], 1u) << "frame " << s << (s < kBatch ? " (sent while starved)" : " (sent after)");
  EXPECT_EQ(got.size(), 2u * kBatch);

  dp::close_port(rx_port);
  dp::close_port(tx_port);
  EXPECT_EQ(rte_mempool_avail_count(rx_pool), kRxPoolSize) << "mbufs of the receive pool leaked";
  rte_mempool_free(rx_pool);
}

// Sends `total` test frames on the worker's port 0, a burst per poll, and
// never receives anything (its peer does not answer).
class Blaster final : public dp::Pipeline {
 public:
  Blaster(rte_mempool* pool, std::uint32_t total) : pool_(pool), total_(total) {}
  void rx(dp::TxBuffers&, std::uint16_t, rte_mbuf** pkts, std::uint16_t n, std::uint64_t) noexcept override {
    rte_pktmbuf_free_bulk(pkts, n);
  }
  unsigned poll(dp::TxBuffers& tx, std::uint64_t) noexcept override {
    unsigned made = 0;
    while (made < dp::kBurst && next_ < total_) {
      rte_mbuf* m = make_frame(pool_, next_);
      if (!m) break;
      tx.send(0, m);
      ++next_;
      ++made;
    }
    if (next_ == total_) done_.store(true, std::memory_order_release);
    return made;
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  rte_mempool* pool_;
  std::uint32_t total_;
  std::uint32_t next_ = 0;
  std::atomic<bool> done_{false};
};

int run_worker(void* w) {
  static_cast<dp::Worker*>(w)->run();
  return 0;
}

// (b) The peer of a ring port is never polled, so its ring fills: the
// worker's TxBuffers count what tx_burst refused as tx_dropped and free it.
// Once the peer drains the ring and the ports are closed, the pool's
// available count is its size again.
TEST(Exhaustion, FullTxRingCountsDroppedAndLeaksNoMbuf) {
  constexpr unsigned kPoolSize = 1023;
  constexpr unsigned kRing = 64;
  constexpr std::uint32_t kFrames = 4000;  // several times the pool: refused mbufs must come back
  rte_mempool* pool = rte_pktmbuf_pool_create("exh-tx", kPoolSize, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool, nullptr);
  const dp::RingLink link = dp::make_ring_link("exh-a", "exh-b", 1, kRing);
  dp::Port a{{"a", "ring"}, link.a, "net_ring"};
  dp::Port b{{"b", "ring"}, link.b, "net_ring"};
  dp::start_port(a, {}, pool);
  dp::start_port(b, {}, pool);

  Blaster blaster(pool, kFrames);
  const std::vector<std::uint16_t> tx_ports{a.id};
  const unsigned lcore = rte_get_next_lcore(rte_lcore_id(), 1, 0);
  ASSERT_LT(lcore, RTE_MAX_LCORE) << "the test needs a second lcore";
  dp::WorkerOptions wo;
  wo.idle = dp::IdleMode::kPoll;
  dp::Worker worker(lcore, "w-exh", &blaster, {{0, a.id, 0}}, tx_ports, 0, wo, dp::TscClock(rte_get_tsc_hz()));
  ASSERT_EQ(rte_eal_remote_launch(run_worker, &worker, lcore), 0);
  const std::uint64_t deadline = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
  while (!blaster.done() && rte_get_tsc_cycles() < deadline) rte_delay_us_sleep(1000);
  worker.stop();
  rte_eal_wait_lcore(lcore);
  ASSERT_TRUE(blaster.done()) << "the worker did not get every frame out of the pipeline in 10 s";

  // A ring of kRing slots holds kRing - 1 frames.
  const auto& c = worker.final_counters();
  EXPECT_EQ(c.tx_packets, kRing - 1);
  EXPECT_EQ(c.tx_dropped, kFrames - (kRing - 1));
  // The port counts only what it took: a refusal by tx_burst is the
  // caller's to count (DPDK's convention; net_ring leaves oerrors at 0).
  rte_eth_stats st{};
  ASSERT_EQ(rte_eth_stats_get(a.id, &st), 0);
  EXPECT_EQ(st.opackets, kRing - 1);
  EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize - (kRing - 1)) << "only the ring's frames are out";

  // The peer wakes up: exactly the frames the ring took, the first ones, in order.
  const auto got = receive(b.id, 1000, kFrames);
  ASSERT_EQ(got.size(), kRing - 1u);
  for (std::uint32_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i);

  dp::close_port(a);
  dp::close_port(b);
  EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize) << "mbufs leaked";
  rte_mempool_free(pool);
}

}  // namespace
}  // namespace spray::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new spray::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
