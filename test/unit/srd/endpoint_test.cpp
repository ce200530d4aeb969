// Transport behaviours over two endpoints wired back to back (pair.h).
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace spray::srd::test
