// SPDX-License-Identifier: BSD-3-Clause
// The transport's histograms (srd/histograms.h) over two endpoints wired
// back to back (pair.h): what a scripted exchange must record, and where.
#include <gtest/gtest.h>

#include <map>

#include "pair.h"
#include "srd/endpoint.h"
#include "srd/histograms.h"

namespace spray::srd::test {
namespace {

using wire::SrdType;

bool is_data(const WirePkt& p) { return p.type() == SrdType::kData; }

// Index of the bucket holding `v` for the latency bounds, found by reading
// the bounds (not by calling record()).
std::size_t latency_bucket(std::uint64_t v) {
  std::size_t i = 0;
  while (i < kLatencyBoundsNs.size() && v > kLatencyBoundsNs[i]) ++i;
  return i;
}

EndpointConfig config(PeerAddr local, std::uint64_t seed, std::uint16_t paths) {
  EndpointConfig c = default_config(local, seed);
  c.paths = paths;
  return c;
}

TEST(SrdHistogramBuckets, BoundsAreInclusiveUpperEnds) {
  LatencyHistogram h;
  h.record(0);
  h.record(1'000);          // exactly 1 us: the first bucket
  h.record(1'001);          // just above: the second
  h.record(100'000'000);    // exactly 100 ms: the last bounded bucket
  h.record(100'000'001);    // above every bound
  EXPECT_EQ(h.buckets[0], 2u);
  EXPECT_EQ(h.buckets[1], 1u);
  EXPECT_EQ(h.buckets[kLatencyBoundsNs.size() - 1], 1u);
  EXPECT_EQ(h.buckets[kLatencyBoundsNs.size()], 1u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum, 0u + 1'000 + 1'001 + 100'000'000 + 100'000'001);

  DepthHistogram d;
  d.record(0);
  d.record(3);     // (2, 4]
  d.record(5000);  // beyond 1024
  EXPECT_EQ(d.buckets[0], 1u);
  EXPECT_EQ(d.buckets[3], 1u);
  EXPECT_EQ(d.buckets[kReorderDepthBounds.size()], 1u);
}

TEST(SrdHistograms, EndpointSizesOnePathRttHistogramPerConfiguredPath) {
  Endpoint ep(config(kAddrA, 1, 5));
  EXPECT_EQ(ep.histograms().path_rtt_ns.size(), 5u);
  EXPECT_EQ(ep.histograms().loss_recovery_ns.count(), 0u);
  EXPECT_EQ(ep.histograms().reorder_depth_pkts.count(), 0u);
}

TEST(SrdHistograms, EveryAckRttSampleLandsInItsPathsBucket) {
  Pair net(config(kAddrA, 1, 2), config(kAddrB, 2, 2));
  // Both directions of path 0 take 4 us, of path 1 30 us: every RTT sample
  // is 8 us on path 0 and 60 us on path 1 (the receiver's hold is taken off).
  constexpr Nanos kOneWay[2] = {4'000, 30'000};
  net.delay = [&](const WirePkt& p) { return kOneWay[p.meta.path_id]; };
  const ConnId c = net.connect();
  std::map<std::uint16_t, std::uint64_t> acks;  // ACKs b sent, by path
  net.hook = [&](const WirePkt& p) {
    if (!p.from_a && p.type() == SrdType::kAck) ++acks[p.meta.path_id];
    return Verdict::kPass;
  };
  for (int i = 0; i < 40; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 40; }));
  net.run(1'000'000);  // ACKs still on the wire arrive

  const TransportHistograms& h = net.a.ep->histograms();
  ASSERT_EQ(h.path_rtt_ns.size(), 2u);
  for (std::uint16_t path = 0; path < 2; ++path) {
    SCOPED_TRACE(path);
    const LatencyHistogram& r = h.path_rtt_ns[path];
    const Nanos rtt = 2 * kOneWay[path];
    ASSERT_GT(acks[path], 0u) << "the sender never used path " << path;
    EXPECT_EQ(r.count(), acks[path]);
    EXPECT_EQ(r.buckets[latency_bucket(rtt)], acks[path]);
    EXPECT_EQ(r.sum, acks[path] * rtt);
  }
  // b sent no data, so it took no RTT sample.
  for (const LatencyHistogram& r : net.b.ep->histograms().path_rtt_ns) EXPECT_EQ(r.count(), 0u);
}

TEST(SrdHistograms, CleanTransferRecordsNoLossRecoveryAndDepthZero) {
  Pair net;
  const ConnId c = net.connect();
  for (int i = 0; i < 40; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 40; }));
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  ASSERT_EQ(st.counters.retx_pkts, 0u);

  EXPECT_EQ(net.a.ep->histograms().loss_recovery_ns.count(), 0u);
  const DepthHistogram& d = net.b.ep->histograms().reorder_depth_pkts;
  EXPECT_EQ(d.count(), 40u);  // one per DATA packet, all in order
  EXPECT_EQ(d.buckets[0], 40u);
  EXPECT_EQ(d.sum, 0u);
}

TEST(SrdHistograms, DroppedPacketRecordsOneLossRecoveryFromItsFirstTransmission) {
  Pair net;  // 5 us each way on every path
  const ConnId c = net.connect();
  std::uint32_t victim_psn = 0;
  Nanos first_tx = 0, retx_tx = 0;
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (!is_data(p) || !p.from_a) return Verdict::kPass;
    const auto h = p.data();
    if (++data_seen == 3) {
      victim_psn = h.psn;
      first_tx = net.now;
      return Verdict::kDrop;
    }
    if (data_seen > 3 && h.psn == victim_psn) retx_tx = net.now;
    return Verdict::kPass;
  };
  for (int i = 0; i < 8; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 8; }));
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  ASSERT_EQ(st.counters.retx_pkts, 1u);
  ASSERT_GT(retx_tx, first_tx);

  // The retransmission is acknowledged at once (it fills a hole): its ACK
  // is back 10 us after it left.
  const Nanos expected = retx_tx + 10'000 - first_tx;
  const LatencyHistogram& l = net.a.ep->histograms().loss_recovery_ns;
  EXPECT_EQ(l.count(), 1u);
  EXPECT_EQ(l.sum, expected);
  EXPECT_EQ(l.buckets[latency_bucket(expected)], 1u);
  // The receiver records each first transmission it got, not the resend.
  EXPECT_EQ(net.b.ep->histograms().reorder_depth_pkts.count(), 7u);
}

TEST(SrdHistograms, LateOriginalAndItsResendRecordOneLossRecovery) {
  Pair net;
  const ConnId c = net.connect();
  std::uint32_t victim_psn = 0;
  bool victim_known = false;
  Nanos first_tx = 0, retx_tx = 0;
  int data_seen = 0;
  // The hook runs before the delay is asked for, so the victim is known.
  net.delay = [&](const WirePkt& p) {
    const bool late = is_data(p) && p.from_a && victim_known && p.data().psn == victim_psn &&
                      !(p.data().flags & wire::kDataRetx);
    return late ? Nanos{2'000'000} : Nanos{5'000};
  };
  net.hook = [&](const WirePkt& p) {
    if (!is_data(p) || !p.from_a) return Verdict::kPass;
    const auto h = p.data();
    if (++data_seen == 3) {
      victim_psn = h.psn;
      victim_known = true;
      first_tx = net.now;
    } else if (data_seen > 3 && h.psn == victim_psn) {
      retx_tx = net.now;
    }
    return Verdict::kPass;
  };
  // Single-packet messages, fewer than paths: the late packet's path
  // carries nothing after it, so only the victim is late.
  for (int i = 0; i < 8; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 8; }));
  net.run(5'000'000);  // the original arrives too, as a duplicate
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  ASSERT_EQ(st.counters.retx_pkts, 1u);
  ASSERT_EQ(st.counters.spurious_retx, 1u) << "the late original never arrived";

  const LatencyHistogram& l = net.a.ep->histograms().loss_recovery_ns;
  EXPECT_EQ(l.count(), 1u);
  EXPECT_EQ(l.sum, retx_tx + 10'000 - first_tx);
}

TEST(SrdHistograms, ReorderedArrivalsRecordTheirDistanceBelowTheHighestPsn) {
  // No tail loss probe: it would resend the newest packet while the late
  // ones are still on their way, and this test is about reordering alone.
  EndpointConfig ca = default_config(kAddrA, 1);
  ca.tlp = false;
  Pair net(ca);
  const ConnId c = net.connect();
  // The 2nd and 4th DATA packets take 100 us longer than the rest: they
  // arrive after the 8th, 6 and 4 packets below the highest PSN.
  std::uint32_t first_psn = 0;
  int data_seen = 0;
  std::map<std::uint16_t, int> per_path;
  net.hook = [&](const WirePkt& p) {
    if (is_data(p) && p.from_a) {
      if (++data_seen == 1) first_psn = p.data().psn;
      ++per_path[p.meta.path_id];
    }
    return Verdict::kPass;
  };
  net.delay = [&](const WirePkt& p) {
    if (!is_data(p) || !p.from_a) return Nanos{5'000};
    const std::uint32_t k = p.data().psn - first_psn;
    return k == 1 || k == 3 ? Nanos{105'000} : Nanos{5'000};
  };
  for (int i = 0; i < 8; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 8; }));
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  ASSERT_EQ(st.counters.retx_pkts, 0u);
  ASSERT_EQ(per_path.size(), 8u) << "two packets shared a path: one delay would hold back the other";

  const DepthHistogram& d = net.b.ep->histograms().reorder_depth_pkts;
  EXPECT_EQ(d.count(), 8u);
  EXPECT_EQ(d.buckets[0], 6u);  // in order: the highest PSN so far
  EXPECT_EQ(d.buckets[3], 1u);  // 4: the 4th packet, below the 8th
  EXPECT_EQ(d.buckets[4], 1u);  // 6: the 2nd packet, in (4, 8]
  EXPECT_EQ(d.sum, 6u + 4u);
  // Reordering is not loss: nothing was resent, nothing recorded.
  EXPECT_EQ(net.a.ep->histograms().loss_recovery_ns.count(), 0u);
}

}  // namespace
}  // namespace spray::srd::test
