// SPDX-License-Identifier: BSD-3-Clause
// The L2 switch over net_ring ports: frames injected on one host ring arrive
// exactly where they should on the others, floods and VLAN tags included.
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/eal_env.h"
#include "common/frames.h"
#include "common/mbuf_frames.h"
#include "dataplane/switch_pipeline.h"
#include "dataplane/ring_link.h"
#include "dataplane/worker.h"
#include "wire/ether.h"

namespace spray::test {
namespace {

using Frame = std::vector<std::uint8_t>;
using wire::Mac;

constexpr Mac kA{0x020000000001}, kB{0x020000000002}, kC{0x020000000003};

class SwitchOverRings : public ::testing::Test {
 protected:
  static constexpr unsigned kPorts = 4;

  void build(const tor::L2Config& cfg) {
    static unsigned instance = 0;
    ++instance;
    for (unsigned i = 0; i < kPorts; ++i) {
      const auto link = dp::make_ring_link("sw" + std::to_string(instance) + "-" + std::to_string(i),
                                           "h" + std::to_string(instance) + "-" + std::to_string(i));
      sw_ports_.push_back(link.a);
      host_ports_.push_back(link.b);
    }
    for (auto p : sw_ports_) start_port(p, 512);
    for (auto p : host_ports_) start_port(p, 512);
    pipe_ = std::make_unique<dp::SwitchPipeline>(cfg, EalEnvironment::pool(), clock_);
    tx_.init(kPorts, sw_ports_.data(), 0);
  }

  void TearDown() override {
    for (auto p : sw_ports_) rte_eth_dev_stop(p), rte_eth_dev_close(p);
    for (auto p : host_ports_) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  }

  tor::L2Config config(unsigned ports = kPorts) {
    tor::L2Config c;
    c.fdb_capacity = 1024;
    for (unsigned i = 0; i < ports; ++i) c.ports.push_back({});
    return c;
  }

  void inject(unsigned host, const Frame& f) {
    rte_mbuf* m = to_mbuf(EalEnvironment::pool(), f);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_eth_tx_burst(host_ports_[host], 0, &m, 1), 1);
  }

  // One pass of what a worker does: every switch port's rx into the pipeline.
  void run_switch() {
    rte_mbuf* pkts[dp::kBurst];
    for (std::uint16_t i = 0; i < kPorts; ++i) {
      std::uint16_t n;
      while ((n = rte_eth_rx_burst(sw_ports_[i], 0, pkts, dp::kBurst)) > 0)
        pipe_->rx(tx_, i, pkts, n, ++fake_tsc_);
    }
    tx_.flush();
  }

  std::vector<Frame> received(unsigned host) {
    std::vector<Frame> out;
    rte_mbuf* pkts[dp::kBurst];
    std::uint16_t n;
    while ((n = rte_eth_rx_burst(host_ports_[host], 0, pkts, dp::kBurst)) > 0) {
      for (std::uint16_t i = 0; i < n; ++i) {
        const auto* d = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        out.emplace_back(d, d + pkts[i]->data_len);
      }
      rte_pktmbuf_free_bulk(pkts, n);
    }
    return out;
  }

  dp::TscClock clock_{1000000000};
  std::uint64_t fake_tsc_ = 1000;
  std::vector<std::uint16_t> sw_ports_, host_ports_;
  std::unique_ptr<dp::SwitchPipeline> pipe_;
  dp::TxBuffers tx_;
};

TEST_F(SwitchOverRings, UnknownUnicastFloodsToEveryOtherPortOnly) {
  build(config());
  const Frame f = seq_frame(kB, kA, 0);
  inject(0, f);
  run_switch();
  EXPECT_TRUE(received(0).empty());
  for (unsigned h = 1; h < kPorts; ++h) {
    const auto got = received(h);
    ASSERT_EQ(got.size(), 1u) << "host " << h;
    EXPECT_EQ(got[0], f);
  }
}

TEST_F(SwitchOverRings, LearnedDestinationGoesOnlyToItsPort) {
  build(config());
  inject(2, seq_frame(kA, kB, 0));  // B lives behind port 2
  run_switch();
  for (unsigned h = 0; h < kPorts; ++h) received(h);
  const Frame f = seq_frame(kB, kA, 0);
  inject(0, f);
  run_switch();
  EXPECT_EQ(received(2), std::vector<Frame>{f});
  EXPECT_TRUE(received(1).empty());
  EXPECT_TRUE(received(3).empty());
  EXPECT_TRUE(received(0).empty());
}

TEST_F(SwitchOverRings, BroadcastReachesEveryOtherPortAndMacMoveIsFollowed) {
  build(config());
  inject(1, seq_frame(Mac::broadcast(), kC, 0));
  run_switch();
  EXPECT_TRUE(received(1).empty());
  for (unsigned h : {0u, 2u, 3u}) EXPECT_EQ(received(h).size(), 1u);
  inject(3, seq_frame(Mac::broadcast(), kC, 0));  // C moved to port 3
  run_switch();
  for (unsigned h = 0; h < kPorts; ++h) received(h);
  inject(0, seq_frame(kC, kA, 0));
  run_switch();
  EXPECT_EQ(received(3).size(), 1u);
  EXPECT_TRUE(received(1).empty());
}

TEST_F(SwitchOverRings, VlanTagsArePushedOnTrunksAndPoppedOnAccessPorts) {
  auto cfg = config();
  cfg.ports[0].access_vlan = 10;
  cfg.ports[1].mode = tor::PortMode::kTrunk;
  cfg.ports[1].allowed_vlans = {10, 20};
  cfg.ports[2].access_vlan = 20;
  cfg.ports[3].access_vlan = 10;
  build(cfg);

  inject(0, seq_frame(Mac::broadcast(), kA, 0));  // untagged into VLAN 10
  run_switch();
  const auto trunk = received(1);
  ASSERT_EQ(trunk.size(), 1u);
  wire::EthView v;
  ASSERT_EQ(wire::parse_eth(trunk[0], v), wire::EthError::kOk);
  EXPECT_TRUE(v.tagged);
  EXPECT_EQ(v.vlan, 10);
  EXPECT_EQ(received(3), std::vector<Frame>{seq_frame(Mac::broadcast(), kA, 0)});
  EXPECT_TRUE(received(2).empty()) << "VLAN 10 leaked into VLAN 20";

  const Frame tagged = seq_frame(Mac::broadcast(), kB, 0, 20);  // tagged 20 from the trunk
  Frame untagged = tagged;
  untagged.erase(untagged.begin() + 12, untagged.begin() + 16);
  inject(1, tagged);
  run_switch();
  EXPECT_EQ(received(2), std::vector<Frame>{untagged});
  EXPECT_TRUE(received(0).empty());
  EXPECT_TRUE(received(3).empty());
}

TEST_F(SwitchOverRings, NoMbufLeaksAfterFloodsAndDrops) {
  build(config());
  const unsigned before = rte_mempool_avail_count(EalEnvironment::pool());
  for (std::uint32_t i = 0; i < 200; ++i) {
    inject(i % kPorts, seq_frame(Mac::broadcast(), Mac{0x020000001000ULL + i % 7}, i));
    inject(i % kPorts, seq_frame(kA, Mac{0x010000000001ULL}, 0));  // group source: dropped
    if (i % 16 == 0) run_switch();
  }
  run_switch();
  for (unsigned h = 0; h < kPorts; ++h) received(h);
  EXPECT_EQ(rte_mempool_avail_count(EalEnvironment::pool()), before);
}

// The whole worker loop on lcore 1: 20,000 frames between two learned hosts
// arrive exactly once, in order, and nothing else leaves.
TEST_F(SwitchOverRings, WorkerLoopForwardsEveryFrameExactlyOnceInOrder) {
  build(config());
  std::vector<dp::RxQueueRef> rxq;
  for (std::uint16_t i = 0; i < kPorts; ++i) rxq.push_back({i, sw_ports_[i], 0});
  dp::WorkerOptions wo;
  wo.idle = dp::IdleMode::kBackoff;
  dp::Worker worker(1, "w", pipe_.get(), rxq, sw_ports_, 0, wo, dp::TscClock(rte_get_tsc_hz()));
  ASSERT_EQ(rte_eal_remote_launch([](void* w) { static_cast<dp::Worker*>(w)->run(); return 0; },
                                  &worker, 1),
            0);
  inject(1, seq_frame(Mac::broadcast(), kB, 0));  // learn B on port 1
  std::vector<Frame> at_b;
  constexpr std::uint32_t kFrames = 20000;
  std::uint32_t sent = 0;
  const auto deadline = rte_get_tsc_cycles() + 20 * rte_get_tsc_hz();
  received(0);
  // Wait until B is learned (its broadcast reached port 0), then stream.
  while (rte_get_tsc_cycles() < deadline) {
    if (!received(2).empty()) break;
  }
  received(3);
  while (at_b.size() < kFrames && rte_get_tsc_cycles() < deadline) {
    if (sent < kFrames && sent - at_b.size() < 256) {
      inject(0, seq_frame(kB, kA, sent));
      ++sent;
    }
    for (auto& f : received(1)) at_b.push_back(std::move(f));
  }
  worker.stop();
  rte_eal_wait_lcore(1);
  ASSERT_EQ(at_b.size(), kFrames);
  for (std::uint32_t i = 0; i < kFrames; ++i) {
    std::uint32_t seq;
    std::memcpy(&seq, at_b[i].data() + wire::kEthHdrLen, sizeof seq);
    ASSERT_EQ(seq, i) << "frame " << i << " out of order or duplicated";
  }
  EXPECT_TRUE(received(2).empty());
  EXPECT_TRUE(received(3).empty());
  EXPECT_EQ(worker.final_counters().tx_dropped, 0u);
}

}  // namespace
}  // namespace spray::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new spray::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
