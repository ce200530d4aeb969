// SPDX-License-Identifier: BSD-3-Clause
// Transport behaviours over two endpoints wired back to back (pair.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "pair.h"
#include "srd/endpoint.h"

namespace spray::srd::test {
namespace {

using wire::SrdType;

bool is_data(const WirePkt& p) { return p.type() == SrdType::kData; }

TEST(SrdHandshake, ConnectEstablishesBothSides) {
  Pair net;
  const ConnId c = net.connect();
  ASSERT_NE(c, kNoConn);
  EXPECT_EQ(net.a.ep->state(c), ConnState::kEstablished);
  ASSERT_NE(net.b_conn(), kNoConn);
  EXPECT_EQ(net.b.ep->state(net.b_conn()), ConnState::kEstablished);
  EXPECT_EQ(net.b.first(EventKind::kAccepted)->peer, kAddrA);
  EXPECT_EQ(net.a.first(EventKind::kConnected)->peer, kAddrB);
}

// A clock at 0 (a simulator's first instant) must still stamp the CONNECT:
// a zero timestamp reads as "none", and the connection would start without
// its first RTT, with the initial window sized for initial_rtt_ns.
TEST(SrdHandshake, ConnectAtClockZeroStillMeasuresTheRoundTrip) {
  Pair net;
  net.now = 0;
  const ConnId c = net.connect();
  ASSERT_NE(c, kNoConn);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_NEAR(static_cast<double>(st.srtt_ns), 10'000, 1);  // 5 us each way
  EXPECT_LT(st.cwnd_pkts, 64.0);   // BDP at 10 us, not the cap
}

// Endpoints on one host (or a driver that reads one clock tick for a whole
// batch) measure a handshake of a few ns: the first window still starts at
// ten packets, not at the one packet such a BDP would give.
TEST(SrdHandshake, TinyRoundTripStillStartsWithTenPackets) {
  Pair net;
  net.delay = [](const WirePkt&) { return Nanos{0}; };
  const ConnId c = net.connect();
  ASSERT_NE(c, kNoConn);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_LT(st.srtt_ns, 10u);
  EXPECT_GE(st.cwnd_pkts, 10.0);
}

TEST(SrdHandshake, RetriesLostConnect) {
  Pair net;
  int connects = 0;
  net.hook = [&](const WirePkt& p) {
    if (p.type() == SrdType::kConnect && ++connects <= 2) return Verdict::kDrop;
    return Verdict::kPass;
  };
  const ConnId c = net.connect();
  net.run(10'000'000, [&] { return net.a.count(EventKind::kConnected) > 0; });
  EXPECT_EQ(connects, 3);
  EXPECT_EQ(net.a.ep->state(c), ConnState::kEstablished);
}

TEST(SrdHandshake, LostAcceptIsAnsweredAgainWithoutASecondConnection) {
  Pair net;
  int accepts = 0;
  net.hook = [&](const WirePkt& p) {
    if (p.type() == SrdType::kAccept && ++accepts == 1) return Verdict::kDrop;
    return Verdict::kPass;
  };
  net.a.ep->connect(kAddrB);
  net.run(10'000'000, [&] { return net.a.count(EventKind::kConnected) > 0; });
  EXPECT_EQ(accepts, 2);
  EXPECT_EQ(net.b.count(EventKind::kAccepted), 1u);
  EXPECT_EQ(net.b.ep->connection_count(), 1u);
}

// A way dead from the start (a failed link the fabric still hashes onto):
// each CONNECT retry takes the next path, and the ACCEPT goes back on the
// path its CONNECT came on, so a path dead either way costs one retry. On
// path 0 alone, the five tries all died and the connection failed
// UNREACHABLE after 31 ms.
TEST(SrdHandshake, RetriesTakeTheNextPathAndTheAcceptTheConnectsPath) {
  for (const bool dead_way_back : {false, true}) {
    Pair net;
    std::vector<std::uint16_t> connect_paths, accept_paths;
    net.hook = [&](const WirePkt& p) {
      if (p.type() == SrdType::kConnect) connect_paths.push_back(p.meta.path_id);
      if (p.type() == SrdType::kAccept) accept_paths.push_back(p.meta.path_id);
      const bool connect_dies = !dead_way_back && p.type() == SrdType::kConnect;
      const bool accept_dies = dead_way_back && p.type() == SrdType::kAccept;
      return (connect_dies || accept_dies) && p.meta.path_id == 0 ? Verdict::kDrop : Verdict::kPass;
    };
    const ConnId c = net.a.ep->connect(kAddrB);
    net.run(100'000'000, [&] { return net.a.count(EventKind::kConnected) > 0; });
    ASSERT_EQ(net.a.ep->state(c), ConnState::kEstablished) << "dead way back " << dead_way_back;
    EXPECT_EQ(connect_paths, (std::vector<std::uint16_t>{0, 1}));
    EXPECT_EQ(accept_paths, dead_way_back ? (std::vector<std::uint16_t>{0, 1}) : (std::vector<std::uint16_t>{1}));
    EXPECT_LT(net.now, Nanos{1'000'000 + 2 * 1'000'000}) << "one retry, after connect_retry_ns";
  }
}

TEST(SrdHandshake, NoAnswerFailsUnreachableAfterAllTries) {
  Pair net;
  int connects = 0;
  net.hook = [&](const WirePkt& p) {
    connects += p.type() == SrdType::kConnect;
    return Verdict::kDrop;
  };
  const ConnId c = net.a.ep->connect(kAddrB);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kConnectionFailed) > 0; });
  const Event* f = net.a.first(EventKind::kConnectionFailed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, FailReason::kUnreachable);
  EXPECT_EQ(f->conn, c);
  EXPECT_EQ(f->peer, kAddrB);
  EXPECT_NE(f->hint, nullptr);
  EXPECT_EQ(connects, 5);
  EXPECT_EQ(net.a.ep->state(c), ConnState::kClosed);
  EXPECT_EQ(net.a.ep->counters().c.conn_failed_unreachable, 1u);
}

TEST(SrdHandshake, PeerNotListeningFailsWithReset) {
  Pair net;
  net.b.ep->listen(false);
  net.a.ep->connect(kAddrB);
  net.run(10'000'000, [&] { return net.a.count(EventKind::kConnectionFailed) > 0; });
  const Event* f = net.a.first(EventKind::kConnectionFailed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, FailReason::kReset);
}

TEST(SrdTransfer, SmallMessageIsDeliveredWithTag) {
  Pair net;
  const ConnId c = net.connect();
  const auto msg = pattern(100, 1);
  ASSERT_EQ(net.a.ep->send(c, msg, 77), SendStatus::kOk);
  net.run(10'000'000, [&] { return net.a.count(EventKind::kDelivered) > 0; });
  ASSERT_EQ(net.b.messages.size(), 1u);
  EXPECT_EQ(net.b.messages[0].data, msg);
  ASSERT_NE(net.a.first(EventKind::kDelivered), nullptr);
  EXPECT_EQ(net.a.first(EventKind::kDelivered)->tag, 77u);
}

TEST(SrdTransfer, LargeMessageIsReassembledInOrder) {
  Pair net;
  const ConnId c = net.connect();
  const auto msg = pattern(1 << 20, 2);
  ASSERT_EQ(net.a.ep->send(c, msg, 1), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) > 0; });
  ASSERT_EQ(net.b.messages.size(), 1u);
  EXPECT_EQ(net.b.messages[0].data, msg);
}


// DATA packets A sends before B's first ACK leaves, with `msgs` messages of
// `bytes` queued at once: what the window lets out in the first round trip.
std::size_t first_round_packets(std::size_t msgs, std::size_t bytes, double* cwnd) {
  Pair net;
  const ConnId c = net.connect();
  ConnStats st;
  EXPECT_TRUE(net.a.ep->conn_stats(c, st));
  *cwnd = st.cwnd_pkts;
  std::size_t data = 0;
  bool acked = false;
  net.hook = [&](const WirePkt& p) {
    if (!p.from_a && p.type() == SrdType::kAck) acked = true;
    if (p.from_a && p.type() == SrdType::kData && !acked) ++data;
    return Verdict::kPass;
  };
  for (std::size_t i = 0; i < msgs; ++i) EXPECT_EQ(net.send(net.a, c, pattern(bytes, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == msgs; });
  EXPECT_EQ(net.b.messages.size(), msgs);
  return data;
}

// The window is cwnd full packets' worth of bytes: single-packet messages
// weigh their size, so 64 B requests are not held to cwnd of them per round
// trip, while a bulk transfer's packets (its short last one included) weigh
// a full packet each, as before.
TEST(SrdTransfer, SmallMessagesFillTheWindowByTheirBytes) {
  double cwnd = 0;
  const std::size_t small = first_round_packets(100, 64, &cwnd);
  ASSERT_GT(cwnd, 1.0);
  EXPECT_GE(small, static_cast<std::size_t>(4 * cwnd)) << "cwnd " << cwnd;
  const std::size_t bulk = first_round_packets(4, 64 * 1024 + 100, &cwnd);
  EXPECT_LE(bulk, static_cast<std::size_t>(cwnd) + 1) << "cwnd " << cwnd;
  EXPECT_GE(bulk, static_cast<std::size_t>(cwnd)) << "cwnd " << cwnd;
}

TEST(SrdTransfer, ScatteredMessageArrivesAsOneBuffer) {
  Pair net;
  const ConnId c = net.connect();
  const auto p1 = pattern(1000, 3), p2 = pattern(3000, 4), p3 = pattern(7, 5);
  const IoVec iov[] = {{p1.data(), p1.size()}, {p2.data(), p2.size()}, {p3.data(), p3.size()}};
  ASSERT_EQ(net.a.ep->send(c, std::span<const IoVec>(iov), 9), SendStatus::kOk);
  net.run(10'000'000, [&] { return net.a.count(EventKind::kDelivered) > 0; });
  std::vector<std::uint8_t> want(p1);
  want.insert(want.end(), p2.begin(), p2.end());
  want.insert(want.end(), p3.begin(), p3.end());
  ASSERT_EQ(net.b.messages.size(), 1u);
  EXPECT_EQ(net.b.messages[0].data, want);
}

TEST(SrdTransfer, SendRejectsWhatItCannotCarry) {
  Pair net;
  const ConnId c = net.connect();
  const std::vector<std::uint8_t> empty;
  EXPECT_EQ(net.a.ep->send(c, empty, 1), SendStatus::kEmpty);
  EXPECT_EQ(net.send(net.a, kNoConn, pattern(10, 1), 1), SendStatus::kNoConnection);
  std::vector<std::uint8_t> huge(net.a.ep->config().max_msg_bytes + 1);
  EXPECT_EQ(net.a.ep->send(c, huge, 1), SendStatus::kTooLarge);
}

TEST(SrdTransfer, BothDirectionsCarryMessagesAtOnce) {
  Pair net;
  const ConnId c = net.connect();
  const ConnId cb = net.b_conn();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(5000, i), i), SendStatus::kOk);
    ASSERT_EQ(net.send(net.b, cb, pattern(3000, 100 + i), i), SendStatus::kOk);
  }
  net.run(100'000'000, [&] {
    return net.a.count(EventKind::kDelivered) == 20 && net.b.count(EventKind::kDelivered) == 20;
  });
  EXPECT_EQ(net.b.messages.size(), 20u);
  EXPECT_EQ(net.a.messages.size(), 20u);
}

// Every message sent is received exactly once with its content, whatever
// the network dropped or duplicated.
void expect_exactly_once(const Side& rx, std::size_t n, std::size_t len,
                         std::uint32_t first_id = 0) {
  ASSERT_EQ(rx.messages.size(), n);
  std::set<std::uint32_t> ids;
  for (const Received& m : rx.messages) {
    EXPECT_TRUE(ids.insert(m.msg_id).second) << "msg " << m.msg_id << " delivered twice";
    EXPECT_EQ(m.data, pattern(len, m.msg_id - first_id)) << "msg " << m.msg_id;
  }
}

TEST(SrdReliability, ExactlyOnceUnderDropsAndDuplicates) {
  Pair net;
  const ConnId c = net.connect();
  int n = 0;
  net.hook = [&](const WirePkt&) {
    ++n;
    if (n % 7 == 0) return Verdict::kDrop;        // data and ACKs alike
    if (n % 11 == 0) return Verdict::kDuplicate;
    return Verdict::kPass;
  };
  constexpr int kMsgs = 50;
  for (int i = 0; i < kMsgs; ++i) ASSERT_EQ(net.send(net.a, c, pattern(4000, i), i), SendStatus::kOk);
  net.run(1'000'000'000, [&] { return net.a.count(EventKind::kDelivered) == kMsgs; });
  EXPECT_EQ(net.a.count(EventKind::kDelivered), static_cast<std::size_t>(kMsgs));
  expect_exactly_once(net.b, kMsgs, 4000);
  ConnStats st;
  ASSERT_TRUE(net.b.ep->conn_stats(net.b_conn(), st));
  EXPECT_GT(st.counters.dup_pkts, 0u);
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GT(st.counters.retx_pkts, 0u);
}

TEST(SrdReliability, LostPacketIsResentOnAnotherPath) {
  Pair net;
  const ConnId c = net.connect();
  std::uint32_t victim_psn = 0;
  std::uint16_t victim_path = 0;
  int data_seen = 0;
  std::vector<WirePkt> resends;
  net.hook = [&](const WirePkt& p) {
    if (!is_data(p) || !p.from_a) return Verdict::kPass;
    const auto h = p.data();
    if (++data_seen == 3) {
      victim_psn = h.psn;
      victim_path = p.meta.path_id;
      return Verdict::kDrop;
    }
    if (data_seen > 3 && h.psn == victim_psn) resends.push_back(p);
    return Verdict::kPass;
  };
  for (int i = 0; i < 8; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 8; });
  ASSERT_EQ(resends.size(), 1u);
  EXPECT_NE(resends[0].meta.path_id, victim_path);
  EXPECT_TRUE(resends[0].data().flags & wire::kDataRetx);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_EQ(st.counters.retx_pkts, 1u);
  EXPECT_EQ(st.counters.path_changes, 1u);
  EXPECT_EQ(st.counters.spurious_retx, 0u);
  expect_exactly_once(net.b, 8, 1000);
}

TEST(SrdReliability, MidFlightLossIsDetectedBeforeTheRto) {
  Pair net;
  const ConnId c = net.connect();
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (is_data(p) && p.from_a && ++data_seen == 2) return Verdict::kDrop;
    return Verdict::kPass;
  };
  // More packets than paths: a later packet on the victim's path is acked.
  for (int i = 0; i < 40; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 40; });
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_EQ(st.counters.rto_events, 0u);
  EXPECT_EQ(st.counters.retx_tlp, 0u);
  EXPECT_EQ(st.counters.retx_rack + st.counters.retx_same_path, 1u);
  expect_exactly_once(net.b, 40, 1000);
}

TEST(SrdReliability, LostTailIsRecoveredByTheLossProbe) {
  Pair net;
  const ConnId c = net.connect();
  net.run(1'000'000);
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (is_data(p) && p.from_a && ++data_seen == 4) return Verdict::kDrop;
    return Verdict::kPass;
  };
  ASSERT_EQ(net.send(net.a, c, pattern(4 * 1440, 0), 0), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 1; });
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_EQ(st.counters.retx_tlp, 1u);
  EXPECT_EQ(st.counters.rto_events, 0u);
  expect_exactly_once(net.b, 1, 4 * 1440);
}

// One message at a time to a peer whose ACK is 65 us late when asked
// (its host stalled) instead of 5 us, and whose first copy of a message may
// be dropped (a real tail loss).
struct StallingPeer {
  explicit StallingPeer(std::uint32_t size) : size(size) {
    c = net.connect();
    net.run(1'000'000);
    net.delay = [this](const WirePkt& p) {
      if (!p.from_a && p.type() == SrdType::kAck && stall) {
        stall = false;
        return Nanos{65'000};
      }
      return Nanos{5'000};
    };
    net.hook = [this](const WirePkt& p) {
      if (is_data(p) && p.from_a && drop && !(p.data().flags & wire::kDataRetx)) {
        drop = false;
        return Verdict::kDrop;
      }
      return Verdict::kPass;
    };
  }
  void one(bool stall_it = false, bool drop_it = false) {
    stall = stall_it;
    drop = drop_it;
    ASSERT_EQ(net.send(net.a, c, pattern(size, static_cast<std::uint32_t>(sent)), sent), SendStatus::kOk);
    ++sent;
    net.run(10'000'000, [&] { return net.a.count(EventKind::kDelivered) == sent; });
    ASSERT_EQ(net.a.count(EventKind::kDelivered), sent);
  }
  ConnStats stats() {
    ConnStats st;
    EXPECT_TRUE(net.a.ep->conn_stats(c, st));
    return st;
  }
  std::uint64_t tlps() { return stats().counters.retx_tlp; }

  Pair net;
  ConnId c = kNoConn;
  std::uint32_t size;
  std::uint64_t sent = 0;
  bool stall = false, drop = false;
};

// A peer whose host stalls now and then (its ACK 60 us late, long after the
// ACK jitter of the previous stall has faded) draws a few spurious tail
// probes, not one per stall: the probe's wait learns the stall. A tail the probe
// then finds really lost makes tail losses real again, and the next stall
// draws a probe at the short timeout once more.
TEST(SrdReliability, SpuriousTailProbesTeachTheProbeToWaitUntilALossIsReal) {
  StallingPeer t(500);
  for (int stalls = 0; stalls < 5; ++stalls) {
    for (int i = 0; i < 40; ++i) t.one();
    t.one(true);
  }
  // Three stalls draw a probe: the first (one spurious probe proves
  // nothing), the second (it sets the floor, but its DUP came back before
  // the late ACK, so it measured less than the stall) and the third (it
  // doubles the floor). The last two pass unprobed.
  EXPECT_EQ(t.tlps(), 3u);
  t.one(false, true);  // a real tail loss, repaired by the probe
  EXPECT_EQ(t.tlps(), 4u);
  for (int i = 0; i < 40; ++i) t.one();
  t.one(true);
  EXPECT_EQ(t.tlps(), 5u);
  EXPECT_EQ(t.stats().counters.rto_events, 0u);
  expect_exactly_once(t.net.b, t.sent, 500);
}

// The probe's learned floor fades with time, not with round trips: on a
// fast link a host's hiccups come back every few milliseconds while
// thousands of round trips pass between them, and a floor that faded per
// sample was forgotten before the next hiccup (a spurious probe each).
TEST(SrdReliability, TheProbesLearnedFloorFadesWithTimeNotWithRoundTrips) {
  StallingPeer t(64);
  for (int stalls = 0; stalls < 3; ++stalls) {
    for (int i = 0; i < 40; ++i) t.one();
    t.one(true);
  }
  ASSERT_EQ(t.tlps(), 3u) << "the floor is learned as in the test above";
  const Nanos t0 = t.net.now;
  for (int i = 0; i < 5'000; ++i) t.one();
  ASSERT_LT(t.net.now - t0, Nanos{100'000'000}) << "the round trips took a tenth of the half-life at most";
  t.one(true);
  EXPECT_EQ(t.tlps(), 3u) << "5,000 round trips in a tenth of the half-life leave the floor standing";
  t.net.run(10'000'000'000);  // ten half-lives with nothing to send
  for (int i = 0; i < 40; ++i) t.one();
  t.one(true);
  EXPECT_EQ(t.tlps(), 4u) << "after ten half-lives the stall draws a probe again";
  expect_exactly_once(t.net.b, t.sent, 64);
}

TEST(SrdReliability, OutageIsRecoveredByTimeoutWithBackoff) {
  Pair net;
  const ConnId c = net.connect();
  bool outage = true;
  net.hook = [&](const WirePkt& p) {
    return outage && is_data(p) ? Verdict::kDrop : Verdict::kPass;
  };
  for (int i = 0; i < 4; ++i) ASSERT_EQ(net.send(net.a, c, pattern(2000, i), i), SendStatus::kOk);
  net.run(2'000'000);
  outage = false;
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 4; });
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GE(st.counters.rto_events, 2u);
  EXPECT_GT(st.counters.retx_rto, 0u);
  expect_exactly_once(net.b, 4, 2000);
}

TEST(SrdReliability, SilentPeerFailsUnresponsiveAndMessagesFail) {
  Pair net;
  const ConnId c = net.connect();
  net.hook = [&](const WirePkt&) { return Verdict::kDrop; };
  ASSERT_EQ(net.send(net.a, c, pattern(100, 0), 5), SendStatus::kOk);
  ASSERT_EQ(net.send(net.a, c, pattern(100, 1), 6), SendStatus::kOk);
  net.run(1'000'000'000, [&] { return net.a.count(EventKind::kConnectionFailed) > 0; });
  const Event* f = net.a.first(EventKind::kConnectionFailed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, FailReason::kUnresponsive);
  EXPECT_EQ(net.a.count(EventKind::kSendFailed), 2u);
  EXPECT_EQ(net.a.first(EventKind::kSendFailed)->reason, FailReason::kUnresponsive);
  EXPECT_EQ(net.a.ep->counters().c.conn_failed_unresponsive, 1u);
  EXPECT_EQ(net.a.ep->state(c), ConnState::kClosed);
}

TEST(SrdReliability, BlackHoledPathIsQuarantinedAndAvoided) {
  Pair net;
  const ConnId c = net.connect();
  constexpr std::uint16_t kBad = 3;
  std::size_t sent_on_bad_late = 0;
  bool late = false;
  // Every path carries traffic (and gets an RTT) before the hole opens.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, 1000 + i), i), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 50; });
  ASSERT_EQ(net.b.messages.size(), 50u);
  net.b.messages.clear();
  net.a.events.clear();
  net.hook = [&](const WirePkt& p) {
    // A black hole eats everything on the path, probes included.
    if (p.from_a && p.meta.path_id == kBad) {
      sent_on_bad_late += late && is_data(p);
      return Verdict::kDrop;
    }
    return Verdict::kPass;
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, i), i), SendStatus::kOk);
  net.run(2'000'000);
  PathStats ps;
  ASSERT_TRUE(net.a.ep->path_stats(c, kBad, ps));
  EXPECT_GE(ps.quarantines, 1u);
  EXPECT_NE(ps.state, PathState::kActive);
  late = true;
  for (int i = 200; i < 400; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, i), i), SendStatus::kOk);
  net.run(1'000'000'000, [&] { return net.a.count(EventKind::kDelivered) == 400; });
  EXPECT_EQ(sent_on_bad_late, 0u);
  expect_exactly_once(net.b, 400, 1440, /*first_id=*/50);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GE(st.counters.path_quarantines, 1u);
}

// One message at a time, one packet each (an RPC's requests): a packet lost
// on the dead path has nothing after it to be delivered, so its timeout is
// silent and judges no path. The retransmission, on another path and
// acknowledged as new, confirms the loss: the path is suspected at the
// first and quarantined at the second, and no sound path is touched.
TEST(SrdReliability, LonePacketsLostOnADeadPathQuarantineIt) {
  // Without tail probes, so that each loss waits for its timeout (the probe,
  // when on, is confirmed the same way and charges a plain loss).
  EndpointConfig ca = default_config(kAddrA, 1);
  ca.tlp = false;
  Pair net(ca);
  const ConnId c = net.connect();
  constexpr std::uint16_t kBad = 5;
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
  }
  net.hook = [&](const WirePkt& p) {
    return p.from_a && p.meta.path_id == kBad ? Verdict::kDrop : Verdict::kPass;
  };
  for (int i = 32; i < 160; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
    ASSERT_EQ(net.a.count(EventKind::kDelivered), static_cast<std::size_t>(i + 1)) << "message " << i;
  }
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GT(st.counters.silent_rtos, 0u);
  PathStats bad;
  ASSERT_TRUE(net.a.ep->path_stats(c, kBad, bad));
  EXPECT_GE(bad.quarantines, 1u);
  for (std::uint16_t i = 0; i < 16; ++i) {
    PathStats ps;
    ASSERT_TRUE(net.a.ep->path_stats(c, i, ps));
    if (i != kBad) {
      EXPECT_EQ(ps.quarantines, 0u) << "path " << i;
    }
  }
  expect_exactly_once(net.b, 160, 1000);
}

// Path 3 is dead from b to a only (in a fabric: the reverse hash of that
// source port lands on a failed spine). b's own data on path 3 is lost and
// recovered by tail probes, which count against the path, so b takes its
// path 3 out of service; a's data on path 3 arrives, and b must not send its
// ACKs back that dead way, or every one of a's messages on path 3 would wait
// for a tail probe.
TEST(SrdReliability, PathDeadOneWayStaysInServiceTheOtherWay) {
  Pair net;
  const ConnId ca = net.connect();
  const ConnId cb = net.b_conn();
  constexpr std::uint16_t kBad = 3;
  constexpr int kWarm = 40, kMsgs = 400;
  std::size_t acks_lost = 0;
  // One request and one reply at a time, as an RPC does: every message is a
  // single packet whose ACK travels alone, on the path the data took.
  const auto exchange = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_EQ(net.send(net.a, ca, pattern(1000, i), i), SendStatus::kOk);
      ASSERT_EQ(net.send(net.b, cb, pattern(1000, i), i), SendStatus::kOk);
      const std::size_t want = static_cast<std::size_t>(i + 1);
      net.run(100'000'000, [&] {
        return net.a.count(EventKind::kDelivered) == want && net.b.count(EventKind::kDelivered) == want;
      });
      ASSERT_EQ(net.a.count(EventKind::kDelivered), want);
      ASSERT_EQ(net.b.count(EventKind::kDelivered), want);
    }
  };
  exchange(0, kWarm);
  net.hook = [&](const WirePkt& p) {
    if (!p.from_a && p.meta.path_id == kBad) {
      acks_lost += p.type() == SrdType::kAck;
      return Verdict::kDrop;
    }
    return Verdict::kPass;
  };
  exchange(kWarm, kMsgs);
  PathStats pb, pa;
  ASSERT_TRUE(net.b.ep->path_stats(cb, kBad, pb));
  ASSERT_TRUE(net.a.ep->path_stats(ca, kBad, pa));
  EXPECT_GE(pb.quarantines, 1u);  // b's way out on path 3 is dead
  EXPECT_NE(pb.state, PathState::kActive);
  EXPECT_EQ(pa.quarantines, 0u);  // a's is not
  EXPECT_EQ(pa.state, PathState::kActive);
  EXPECT_GT(pa.acked_pkts, static_cast<std::uint64_t>(kMsgs / 16 / 2));  // ~1/16 of them
  // a's packets on path 3 are acknowledged as themselves, not through a
  // tail probe's copy after an ACK lost on the dead way back.
  ConnStats sa;
  ASSERT_TRUE(net.a.ep->conn_stats(ca, sa));
  EXPECT_LE(sa.counters.retx_tlp, 6u);
  EXPECT_LE(acks_lost, 6u);
}

// Path 3 is dead from b to a only, and b sends no data of its own (a pure
// receiver): only its ACKs die there. The duplicates a's timeouts bring come
// long after b acknowledged the packets, so b learns its ACKs were lost,
// takes its path 3 out of service and says so with ACK_LOST; a takes the
// retransmissions for needed ones, so its RTO does not climb as it would
// after spurious timeouts.
TEST(SrdReliability, AckLostOnADeadWayBackIsFoundByTheReceiver) {
  EndpointConfig cfg_a = default_config(kAddrA, 1);
  cfg_a.tlp = false;  // each lost ACK waits for the timeout, not a probe
  Pair net(cfg_a);
  const ConnId ca = net.connect();
  const ConnId cb = net.b_conn();
  constexpr std::uint16_t kBad = 3;
  constexpr int kWarm = 40, kMsgs = 400;
  const auto send_all = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_EQ(net.send(net.a, ca, pattern(1000, i), i), SendStatus::kOk);
      const std::size_t want = static_cast<std::size_t>(i + 1);
      net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == want; });
      ASSERT_EQ(net.a.count(EventKind::kDelivered), want) << "message " << i;
    }
  };
  send_all(0, kWarm);
  std::size_t acks_dropped = 0, flagged = 0;
  // Every packet b sends on path 3 dies: its ACKs, and its probes and
  // answers to probes.
  net.hook = [&](const WirePkt& p) {
    if (p.from_a) return Verdict::kPass;
    const bool ack = p.type() == SrdType::kAck;
    if (ack) flagged += (p.bytes[1] & wire::kAckLost) != 0;
    if (p.meta.path_id != kBad) return Verdict::kPass;
    acks_dropped += ack;
    return Verdict::kDrop;
  };
  send_all(kWarm, kMsgs);
  expect_exactly_once(net.b, kMsgs, 1000);
  ConnStats sa, sb;
  ASSERT_TRUE(net.a.ep->conn_stats(ca, sa));
  ASSERT_TRUE(net.b.ep->conn_stats(cb, sb));
  PathStats pb;
  ASSERT_TRUE(net.b.ep->path_stats(cb, kBad, pb));
  EXPECT_GE(pb.quarantines, 1u);
  EXPECT_GE(sb.counters.acks_lost, 2u);
  EXPECT_EQ(flagged, sb.counters.acks_lost);
  // Without the receiver's verdict every message on path 3 (one in 16, ~22)
  // would lose its ACK; two in a row make the path SUSPECT, its two probes
  // die too, and it is out of service after a few.
  EXPECT_LE(acks_dropped, 5u);
  EXPECT_EQ(sa.counters.spurious_rtos, 0u);
  EXPECT_EQ(sa.counters.spurious_retx, 0u);
  for (std::uint16_t i = 0; i < 16; ++i) {
    PathStats ps;
    ASSERT_TRUE(net.a.ep->path_stats(ca, i, ps));
    EXPECT_EQ(ps.quarantines, 0u) << "a's path " << i << " delivers: its data arrives";
  }
}

// Half the paths die at once and one packet is out at a time: the copy a
// timeout sends goes on the path that delivered last, not on the next one
// in the rotation, which is as likely dead as not. No packet needs a third
// transmission.
TEST(SrdReliability, TimeoutResendsOnThePathThatDeliveredLast) {
  EndpointConfig cfg_a = default_config(kAddrA, 1);
  cfg_a.tlp = false;
  Pair net(cfg_a);
  const ConnId c = net.connect();
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
  }
  std::map<std::uint32_t, int> copies;  // transmissions per PSN
  net.hook = [&](const WirePkt& p) {
    if (!p.from_a || !is_data(p)) return Verdict::kPass;
    ++copies[p.data().psn];
    return p.meta.path_id % 2 == 0 ? Verdict::kDrop : Verdict::kPass;
  };
  for (int i = 32; i < 96; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
    ASSERT_EQ(net.a.count(EventKind::kDelivered), static_cast<std::size_t>(i + 1)) << "message " << i;
  }
  int most = 0, resent = 0;
  for (const auto& [psn, n] : copies) {
    most = std::max(most, n);
    resent += n > 1;
  }
  EXPECT_GE(resent, 4);  // the dead paths were tried
  EXPECT_LE(most, 2);
}

// A failed switch cuts some paths one way and others the other way (ECMP
// hashes the two directions apart): here a's data dies on path 0 and b's
// ACKs die on path 1, so no path works both ways until each side takes its
// dead way out of service. A copy the receiver already had is answered on
// another path than the ACK that died; answered on the same path, the first
// message took 8 transmissions and 12.7 ms (a timeout backed off 7 times).
TEST(SrdReliability, PathsCutOneWayEachAreCrossedWithoutABackedOffStall) {
  EndpointConfig cfg_a = default_config(kAddrA, 1), cfg_b = default_config(kAddrB, 2);
  cfg_a.tlp = false;
  cfg_a.paths = cfg_b.paths = 2;
  Pair net(cfg_a, cfg_b);
  const ConnId c = net.connect();
  for (int i = 0; i < 32; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
  }
  std::map<std::uint32_t, int> copies;  // transmissions per PSN
  net.hook = [&](const WirePkt& p) {
    if (p.from_a && is_data(p)) {
      ++copies[p.data().psn];
      return p.meta.path_id == 0 ? Verdict::kDrop : Verdict::kPass;
    }
    return !p.from_a && p.type() == SrdType::kAck && p.meta.path_id == 1 ? Verdict::kDrop : Verdict::kPass;
  };
  Nanos slowest = 0;
  for (int i = 32; i < 96; ++i) {
    const Nanos t0 = net.now;
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
    ASSERT_EQ(net.a.count(EventKind::kDelivered), static_cast<std::size_t>(i + 1)) << "message " << i;
    slowest = std::max(slowest, net.now - t0);
  }
  int most = 0;
  for (const auto& [psn, n] : copies) most = std::max(most, n);
  EXPECT_LE(most, 4);
  // rto_min is 100 us: three timeouts in a row, backed off, take 700 us.
  EXPECT_LT(slowest, Nanos{1'000'000});
  expect_exactly_once(net.b, 96, 1000);
}

// A spine that dies under the two paths whose round trips completed last,
// and under the path the next packet takes: the packet's timeout resend
// goes to the freshest path, and when that copy times out too the resends
// must move on to the paths still alive. Swinging between the two freshest
// ones kept a message waiting at rto_max until the connection failed.
TEST(SrdReliability, ResendsAfterRepeatedTimeoutsLeaveTheDeadFreshestPaths) {
  EndpointConfig cfg_a = default_config(kAddrA, 1);
  cfg_a.tlp = false;
  Pair net(cfg_a);
  const ConnId c = net.connect();
  std::vector<std::uint16_t> used;  // path of each DATA packet, in order
  net.hook = [&](const WirePkt& p) {
    if (p.from_a && is_data(p)) used.push_back(p.meta.path_id);
    return Verdict::kPass;
  };
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
    net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == static_cast<std::size_t>(i + 1); });
  }
  ASSERT_EQ(used.size(), 40u);  // one packet each, none resent
  const std::uint16_t last = used.back(), before = used[used.size() - 2];
  const std::uint16_t next = static_cast<std::uint16_t>((last + 1) % 16);
  ASSERT_NE(last, before);
  const auto dead = [&](std::uint16_t p) { return p == last || p == before || p == next; };
  int copies = 0;
  net.hook = [&](const WirePkt& p) {
    copies += p.from_a && is_data(p);
    return dead(p.meta.path_id) ? Verdict::kDrop : Verdict::kPass;
  };
  const Nanos t0 = net.now;
  ASSERT_EQ(net.send(net.a, c, pattern(1000, 40), 40), SendStatus::kOk);
  net.run(200'000'000, [&] { return net.a.count(EventKind::kDelivered) == 41; });
  ASSERT_EQ(net.a.count(EventKind::kDelivered), 41u) << "after " << copies << " copies";
  // The original and the resends to the two freshest paths die; the next
  // resend takes a live path: three timeouts, backed off, from rto_min =
  // 100 us.
  EXPECT_LE(copies, 4);
  EXPECT_LT(net.now - t0, Nanos{1'000'000});
  expect_exactly_once(net.b, 41, 1000);
}

// Two losses in a row on a sound path make it SUSPECT; its two probes come
// back and clear it at once, and neither is taken for a loss.
TEST(SrdReliability, ASoundSuspectPathIsClearedByItsProbes) {
  Pair net;
  const ConnId c = net.connect();
  constexpr std::uint16_t kPath = 5;
  int dropped = 0;
  net.hook = [&](const WirePkt& p) {
    if (!p.from_a || !is_data(p) || p.meta.path_id != kPath || (p.data().flags & wire::kDataRetx) || dropped == 2)
      return Verdict::kPass;
    ++dropped;
    return Verdict::kDrop;
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1000, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 200; });
  ASSERT_EQ(net.a.count(EventKind::kDelivered), 200u);
  ASSERT_EQ(dropped, 2);
  ConnStats cs;
  PathStats ps;
  ASSERT_TRUE(net.a.ep->conn_stats(c, cs));
  ASSERT_TRUE(net.a.ep->path_stats(c, kPath, ps));
  EXPECT_EQ(cs.counters.probes_tx, 2u);
  EXPECT_EQ(ps.lost_pkts, 2u);
  EXPECT_EQ(ps.quarantines, 0u);
  EXPECT_EQ(ps.state, PathState::kActive);
  expect_exactly_once(net.b, 200, 1000);
}

// A burst of consecutive packets lost over every path at once (a receiver's
// ring overflowing) is the host's doing: every packet is recovered, no path
// is blamed, and the window answers instead.
TEST(SrdHostDrops, BurstLostOverEveryPathBlamesNoPath) {
  Pair net;
  const ConnId c = net.connect();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, 1000 + i), i), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 50; });
  net.b.messages.clear();
  net.a.events.clear();
  // 48 consecutive first transmissions, three rounds of the 16 paths.
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (!is_data(p) || !p.from_a || (p.data().flags & wire::kDataRetx)) return Verdict::kPass;
    ++data_seen;
    return data_seen > 20 && data_seen <= 68 ? Verdict::kDrop : Verdict::kPass;
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, i), i), SendStatus::kOk);
  net.run(1'000'000'000, [&] { return net.a.count(EventKind::kDelivered) == 200; });
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  expect_exactly_once(net.b, 200, 1440, /*first_id=*/50);
  EXPECT_EQ(st.counters.path_quarantines, 0u);
  EXPECT_GE(st.counters.shared_losses, 24u);  // the burst's edges may count against their paths
  EXPECT_GE(st.counters.shared_loss_events, 1u);
  for (std::uint16_t p = 0; p < 16; ++p) {
    PathStats ps;
    ASSERT_TRUE(net.a.ep->path_stats(c, p, ps));
    EXPECT_EQ(ps.state, PathState::kActive) << "path " << p;
  }
}

// The receiver's driver reports that its host dropped packets: for a while
// every ACK says so (HOST_DROP), and the sender counts them.
TEST(SrdHostDrops, ReportedHostDropsAreFlaggedInAcks) {
  Pair net;
  const ConnId c = net.connect();
  net.b.ep->note_host_drops(net.now);
  ASSERT_EQ(net.send(net.a, c, pattern(1000, 0), 1), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 1; });
  std::size_t flagged = 0;
  for (const WirePkt& p : net.sent)
    if (!p.from_a && p.type() == SrdType::kAck) flagged += (p.bytes[1] & wire::kAckHostDrop) != 0;
  EXPECT_GE(flagged, 1u);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GE(st.counters.host_drop_acks, 1u);
  EXPECT_EQ(net.b.ep->counters().c.host_drop_reports, 1u);
  // Long after the report, ACKs are plain again.
  net.sent.clear();
  net.run(10'000'000);
  ASSERT_EQ(net.send(net.a, c, pattern(1000, 1), 2), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 2; });
  for (const WirePkt& p : net.sent) {
    if (!p.from_a && p.type() == SrdType::kAck) {
      EXPECT_EQ(p.bytes[1] & wire::kAckHostDrop, 0);
    }
  }
}

// Losses the peer's host reported (HOST_DROP) blame no path, even lone
// ones between deliveries that would otherwise count against their path.
TEST(SrdHostDrops, LossesThePeerHostReportedBlameNoPath) {
  Pair net;
  const ConnId c = net.connect();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, 1000 + i), i), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 50; });
  net.a.events.clear();
  net.b.messages.clear();
  // Path 3 loses everything, but b's host says it dropped them.
  constexpr std::uint16_t kLossy = 3;
  net.hook = [&](const WirePkt& p) {
    if (p.from_a && is_data(p) && p.meta.path_id == kLossy) {
      net.b.ep->note_host_drops(net.now);
      return Verdict::kDrop;
    }
    return Verdict::kPass;
  };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, i), i), SendStatus::kOk);
  net.run(1'000'000'000, [&] { return net.a.count(EventKind::kDelivered) == 200; });
  expect_exactly_once(net.b, 200, 1440, /*first_id=*/50);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_EQ(st.counters.path_quarantines, 0u);
  EXPECT_GT(st.counters.host_drop_acks, 0u);
  EXPECT_GT(st.counters.shared_losses, 0u);
}

TEST(SrdReliability, QuarantinedPathReturnsAfterASuccessfulProbe) {
  Pair net;
  const ConnId c = net.connect();
  constexpr std::uint16_t kBad = 5;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, 1000 + i), i), SendStatus::kOk);
  net.run(1'000'000, [&] { return net.a.count(EventKind::kDelivered) == 50; });
  bool broken = true;
  net.hook = [&](const WirePkt& p) {
    return broken && p.from_a && p.meta.path_id == kBad ? Verdict::kDrop : Verdict::kPass;
  };
  for (int i = 0; i < 100; ++i) ASSERT_EQ(net.send(net.a, c, pattern(1440, i), i), SendStatus::kOk);
  net.run(500'000);
  PathStats ps;
  ASSERT_TRUE(net.a.ep->path_stats(c, kBad, ps));
  ASSERT_NE(ps.state, PathState::kActive);
  broken = false;
  net.run(5'000'000);
  ASSERT_TRUE(net.a.ep->path_stats(c, kBad, ps));
  EXPECT_EQ(ps.state, PathState::kActive);
  ConnStats st;
  ASSERT_TRUE(net.a.ep->conn_stats(c, st));
  EXPECT_GE(st.counters.probes_tx, 1u);
}

TEST(SrdDelivery, UnorderedMessagesDoNotWaitForEachOther) {
  Pair net;
  const ConnId c = net.connect();
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    // The only packet of message 0 is lost once.
    if (is_data(p) && p.from_a && ++data_seen == 1) return Verdict::kDrop;
    return Verdict::kPass;
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(net.send(net.a, c, pattern(100, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.b.messages.size() == 3; });
  ASSERT_EQ(net.b.messages.size(), 3u);
  EXPECT_EQ(net.b.messages.back().msg_id, 0u);
}

TEST(SrdDelivery, OrderedModeDeliversInMessageOrder) {
  EndpointConfig ca = default_config(kAddrA, 1);
  ca.ordered = true;
  Pair net(ca);
  const ConnId c = net.connect();
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (is_data(p) && p.from_a && ++data_seen == 1) return Verdict::kDrop;
    return Verdict::kPass;
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(net.send(net.a, c, pattern(100, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.b.messages.size() == 5; });
  ASSERT_EQ(net.b.messages.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(net.b.messages[i].msg_id, i);
}

TEST(SrdDelivery, OrderedOverflowIsCountedNotFatal) {
  EndpointConfig ca = default_config(kAddrA, 1);
  ca.ordered = true;
  EndpointConfig cb = default_config(kAddrB, 2);
  cb.ordered_window = 2;
  Pair net(ca, cb);
  const ConnId c = net.connect();
  int data_seen = 0;
  net.hook = [&](const WirePkt& p) {
    if (is_data(p) && p.from_a && ++data_seen == 1) return Verdict::kDrop;
    return Verdict::kPass;
  };
  for (int i = 0; i < 6; ++i) ASSERT_EQ(net.send(net.a, c, pattern(100, i), i), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.b.messages.size() == 6; });
  ASSERT_EQ(net.b.messages.size(), 6u);
  for (std::uint32_t i = 0; i < 6; ++i) EXPECT_EQ(net.b.messages[i].msg_id, i);
  ConnStats st;
  ASSERT_TRUE(net.b.ep->conn_stats(net.b_conn(), st));
  EXPECT_GT(st.counters.reorder_overflow, 0u);
}

TEST(SrdLifecycle, CloseDrainsThenClosesBothSides) {
  Pair net;
  const ConnId c = net.connect();
  int n = 0;
  net.hook = [&](const WirePkt&) { return ++n % 5 == 0 ? Verdict::kDrop : Verdict::kPass; };
  for (int i = 0; i < 10; ++i) ASSERT_EQ(net.send(net.a, c, pattern(3000, i), i), SendStatus::kOk);
  ASSERT_TRUE(net.a.ep->close(c));
  EXPECT_EQ(net.send(net.a, c, pattern(10, 0), 99), SendStatus::kClosing);
  net.run(1'000'000'000, [&] {
    return net.a.count(EventKind::kClosed) > 0 && net.b.count(EventKind::kClosed) > 0;
  });
  EXPECT_EQ(net.a.count(EventKind::kDelivered), 10u);
  EXPECT_EQ(net.a.count(EventKind::kSendFailed), 0u);
  expect_exactly_once(net.b, 10, 3000);
  EXPECT_EQ(net.a.count(EventKind::kClosed), 1u);
  EXPECT_EQ(net.b.count(EventKind::kClosed), 1u);
  EXPECT_EQ(net.a.ep->connection_count(), 0u);
  EXPECT_EQ(net.b.ep->connection_count(), 0u);
}

// A client that closes as soon as the last reply is in (spray gen): the
// ACK it owes for that reply leaves before its CLOSE, so the responder
// sees the reply delivered and closes without a RESET for a late ACK.
TEST(SrdLifecycle, CloseRightAfterTheLastReplyAcknowledgesItFirst) {
  Pair net;
  const ConnId c = net.connect();
  ASSERT_EQ(net.send(net.a, c, pattern(200, 1), 1), SendStatus::kOk);
  net.run(10'000'000, [&] { return net.b.messages.size() == 1; });
  ASSERT_EQ(net.b.messages.size(), 1u);
  ASSERT_EQ(net.send(net.b, net.b_conn(), pattern(5000, 2), 2), SendStatus::kOk);
  bool closed = false;
  net.after_rx = [&] {
    net.drain_events(net.a);
    if (!closed && !net.a.messages.empty()) closed = net.a.ep->close(c);
  };
  net.run(1'000'000'000, [&] {
    return net.a.count(EventKind::kClosed) > 0 && net.b.count(EventKind::kClosed) > 0;
  });
  ASSERT_TRUE(closed);
  EXPECT_EQ(net.b.count(EventKind::kDelivered), 1u);
  EXPECT_EQ(net.b.count(EventKind::kSendFailed), 0u);
  EXPECT_EQ(net.a.count(EventKind::kClosed), 1u);
  EXPECT_EQ(net.b.count(EventKind::kClosed), 1u);
  std::size_t resets = 0;
  for (const WirePkt& p : net.sent) resets += p.type() == wire::SrdType::kReset;
  EXPECT_EQ(resets, 0u);
}

TEST(SrdLifecycle, AbortResetsThePeer) {
  Pair net;
  const ConnId c = net.connect();
  ASSERT_TRUE(net.a.ep->abort(c));
  EXPECT_EQ(net.a.ep->state(c), ConnState::kClosed);
  net.run(1'000'000, [&] { return net.b.count(EventKind::kConnectionFailed) > 0; });
  const Event* f = net.b.first(EventKind::kConnectionFailed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, FailReason::kReset);
}

TEST(SrdLifecycle, PeerThatLostStateResetsTheConnection) {
  Pair net;
  const ConnId c = net.connect();
  net.restart_b(default_config(kAddrB, 3));
  ASSERT_EQ(net.send(net.a, c, pattern(100, 0), 1), SendStatus::kOk);
  net.run(10'000'000, [&] { return net.a.count(EventKind::kConnectionFailed) > 0; });
  const Event* f = net.a.first(EventKind::kConnectionFailed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, FailReason::kReset);
  EXPECT_EQ(net.a.count(EventKind::kSendFailed), 1u);
  EXPECT_EQ(net.b.ep->counters().c.drop_unknown_conn, 1u);
}

TEST(SrdLifecycle, ControlPacketWithWrongNonceIsDropped) {
  Pair net;
  const ConnId c = net.connect();
  wire::SrdClose h;
  h.dst_conn_id = c;
  h.nonce = 0xdeadbeef;
  std::uint8_t b[wire::kSrdCloseLen];
  ASSERT_EQ(wire::encode_srd_close(b, h, true), sizeof b);
  RxMeta m;
  m.from = kAddrB;
  net.a.ep->on_packet(b, m, net.now);
  EXPECT_EQ(net.a.ep->state(c), ConnState::kEstablished);
  EXPECT_EQ(net.a.ep->counters().c.drop_bad_nonce, 1u);
}

TEST(SrdLifecycle, MalformedPacketsAreCountedByReason) {
  Pair net;
  const std::uint8_t junk[] = {0x21, 0, 0};
  net.a.ep->on_packet(junk, RxMeta{}, net.now);
  const std::uint8_t v2[] = {0x21, 0, 0, 0, 0, 0, 0, 0};
  std::uint8_t bad_version[sizeof v2];
  std::copy(std::begin(v2), std::end(v2), bad_version);
  bad_version[0] = 0x31;
  net.a.ep->on_packet(bad_version, RxMeta{}, net.now);
  const auto& m = net.a.ep->counters().malformed;
  EXPECT_EQ(m[static_cast<std::size_t>(wire::SrdError::k_truncated)], 1u);
  EXPECT_EQ(m[static_cast<std::size_t>(wire::SrdError::k_bad_version)], 1u);
}

TEST(SrdScale, IdleConnectionStateFitsInFourKilobytes) {
  Pair net;
  const ConnId c = net.connect();
  net.run(1'000'000);
  EXPECT_GT(net.a.ep->state_bytes(c), 0u);
  EXPECT_LE(net.a.ep->state_bytes(c), 4096u);
  EXPECT_LE(net.b.ep->state_bytes(net.b_conn()), 4096u);
}

TEST(SrdScale, TenThousandConnectionsEstablishAndCarryAMessageEach) {
  EndpointConfig ca = default_config(kAddrA, 1);
  EndpointConfig cb = default_config(kAddrB, 2);
  ca.max_connections = cb.max_connections = 10'000;
  ca.max_inflight_pkts = cb.max_inflight_pkts = 20'000;
  ca.max_send_msgs = cb.max_send_msgs = 10'000;
  ca.max_rx_msgs = cb.max_rx_msgs = 10'000;
  Pair net(ca, cb);
  net.keep_sent = false;
  std::vector<ConnId> ids;
  for (int i = 0; i < 10'000; ++i) {
    ids.push_back(net.a.ep->connect(kAddrB));
    ASSERT_NE(ids.back(), kNoConn);
  }
  EXPECT_EQ(net.a.ep->connect(kAddrB), kNoConn);  // table full, not a crash
  net.run(100'000'000, [&] { return net.a.count(EventKind::kConnected) == 10'000; });
  ASSERT_EQ(net.b.ep->connection_count(), 10'000u);
  const auto msg = pattern(64, 0);
  for (ConnId c : ids) ASSERT_EQ(net.a.ep->send(c, msg, c), SendStatus::kOk);
  net.run(100'000'000, [&] { return net.a.count(EventKind::kDelivered) == 10'000; });
  EXPECT_EQ(net.b.messages.size(), 10'000u);
}

}  // namespace
}  // namespace spray::srd::test
