// SPDX-License-Identifier: BSD-3-Clause
// The generator against a responder whose host dies and comes back: two
// endpoints over an in-test wire in virtual time, the generator and the
// responder as the applications, the responder's endpoint destroyed (its
// state lost) and recreated mid-run as a restarted process would be.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "srd/endpoint.h"
#include "traffic/generator.h"
#include "traffic/responder.h"
#include "wire/srd.h"

namespace spray::traffic {
namespace {

constexpr srd::PeerAddr kGen{0x0a000001, 4792};
constexpr srd::PeerAddr kResp{0x0a000002, 4792};
constexpr srd::Nanos kMs = 1'000'000;

srd::EndpointConfig endpoint_config(srd::PeerAddr local, std::uint64_t seed) {
  srd::EndpointConfig c;
  c.local = local;
  c.seed = seed;
  c.paths = 4;
  c.link_rate_bps = 10'000'000'000ULL;
  c.max_connections = 64;
  c.max_inflight_pkts = 4096;
  c.max_send_msgs = 1024;
  c.max_rx_msgs = 1024;
  c.rx_buffer_bytes = 16u << 20;
  return c;
}

GenConfig closed_loop(std::uint64_t count) {
  GenConfig g;
  g.peer = kResp;
  g.connections = 2;
  g.outstanding = 8;
  g.request = SizeDist::parse("64-3000", kMinMessageLen, 1 << 20);
  g.reply = SizeDist::parse("16-2000", 0, 1 << 20);
  g.warmup_ns = 0;
  g.duration_ns = 0;
  g.count = count;
  return g;
}

// Generator host and responder host joined by a 5 us wire. The responder's
// host can be taken down (its endpoint and responder destroyed, packets to
// it lost) and brought back with fresh state.
class Lab {
 public:
  explicit Lab(const GenConfig& g) : ep_(endpoint_config(kGen, 1)), gen(g, ep_) {
    bring_up();
    gen.start(now);
  }

  void take_down() {
    resp.reset();
    resp_ep_.reset();
  }
  void bring_up() {
    resp_ep_ = std::make_unique<srd::Endpoint>(endpoint_config(kResp, 100 + ++restarts_));
    resp = std::make_unique<Responder>(RespondConfig{}, *resp_ep_);
  }
  bool up() const { return resp != nullptr; }
  // Loses the responder's DATA (its replies) now on the wire; its ACKs go on.
  void drop_replies_on_the_wire() {
    std::erase_if(wire_, [](const auto& kv) {
      return !kv.second.to_resp && static_cast<wire::SrdType>(kv.second.bytes[0] & 0x0f) == wire::SrdType::kData;
    });
  }

  // Advances virtual time until `done()` or `limit` has passed; false on timeout.
  template <class Done>
  bool run(srd::Nanos limit, Done done) {
    const srd::Nanos end = now + limit;
    while (now < end) {
      step();
      if (done()) return true;
      srd::Nanos next = std::min({ep_.next_expiry(), gen.next_deadline(), end});
      if (resp_ep_) next = std::min(next, resp_ep_->next_expiry());
      if (!wire_.empty()) next = std::min(next, wire_.begin()->first);
      now = std::max(next, now + 1);
    }
    return done();
  }
  bool run_to_end(srd::Nanos limit) {
    return run(limit, [&] { return gen.finished(); });
  }

  srd::Nanos now = kMs;
  srd::Endpoint ep_;
  Generator gen;
  std::unique_ptr<Responder> resp;
  std::uint64_t connects_sent = 0;  // CONNECT packets the generator put on the wire

 private:
  struct Pkt {
    bool to_resp;
    srd::RxMeta meta;
    std::vector<std::uint8_t> bytes;
  };

  void step() {
    while (!wire_.empty() && wire_.begin()->first <= now) {
      Pkt p = std::move(wire_.begin()->second);
      wire_.erase(wire_.begin());
      if (!p.to_resp)
        ep_.on_packet(p.bytes, p.meta, now);
      else if (resp_ep_)
        resp_ep_->on_packet(p.bytes, p.meta, now);
    }
    if (ep_.next_expiry() <= now) ep_.on_expiry(now);
    if (resp_ep_ && resp_ep_->next_expiry() <= now) resp_ep_->on_expiry(now);
    srd::Event ev;
    while (ep_.poll_event(ev)) gen.on_event(ev, now);
    gen.poll(now);
    if (resp_ep_) {
      while (resp_ep_->poll_event(ev)) resp->on_event(ev, now);
      resp->poll(now);
    }
    transmit(ep_, true);
    if (resp_ep_) transmit(*resp_ep_, false);
  }

  void transmit(srd::Endpoint& ep, bool to_resp) {
    std::uint8_t buf[9216];
    srd::TxMeta meta;
    while (const std::size_t n = ep.poll_tx(buf, meta, now)) {
      if (to_resp && static_cast<wire::SrdType>(buf[0] & 0x0f) == wire::SrdType::kConnect) ++connects_sent;
      Pkt p{to_resp, {}, std::vector<std::uint8_t>(buf, buf + n)};
      p.meta.from = to_resp ? kGen : kResp;
      p.meta.path_id = meta.path_id;
      wire_.emplace(now + 5'000, std::move(p));
    }
  }

  std::unique_ptr<srd::Endpoint> resp_ep_;
  std::multimap<srd::Nanos, Pkt> wire_;
  unsigned restarts_ = 0;
};

// Runs until `n` requests completed, takes the responder down for `outage`,
// brings it back.
void restart_after(Lab& lab, std::uint64_t n, srd::Nanos outage) {
  ASSERT_TRUE(lab.run(10'000 * kMs, [&] { return lab.gen.counters().completed.read() >= n; }));
  lab.take_down();
  ASSERT_FALSE(lab.run(outage, [&] { return lab.gen.finished(); })) << "the run ended during the outage";
  lab.bring_up();
}

void expect_nothing_lost(const Lab& lab, std::uint64_t count) {
  const auto& c = lab.gen.counters();
  EXPECT_EQ(c.sent.read(), count);
  EXPECT_EQ(c.completed.read(), count) << lab.gen.last_failure();
  EXPECT_EQ(c.failed.read(), 0u);
  EXPECT_EQ(c.bad_reply.read(), 0u);
  EXPECT_EQ(lab.gen.connections_lost(), 0u);
  EXPECT_GE(c.conn_failed.read(), 1u);
  EXPECT_EQ(c.conn_failed_reset.read() + c.conn_failed_unresponsive.read() + c.conn_failed_unreachable.read(),
            c.conn_failed.read())
      << "every failure counted under its reason";
  EXPECT_GE(c.reconnects.read(), 2u) << "both connections replaced";
  // The restarted responder verified every request it got (header, pattern
  // for the message's number on its connection, exactly once, none missing
  // at the graceful close).
  ASSERT_TRUE(lab.resp);
  EXPECT_EQ(lab.resp->violations().total(), 0u);
  EXPECT_GE(lab.resp->counters().requests.read(), c.reissued.read());
  EXPECT_EQ(lab.resp->counters().conns_closed.read(), 2u) << "the replacements closed gracefully";
}

TEST(GeneratorReconnect, ResponderRestartedQuicklyResetsAndNoRequestIsLost) {
  Lab lab(closed_loop(3000));
  restart_after(lab, 1000, 20 * kMs);
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs));
  expect_nothing_lost(lab, 3000);
  const auto& c = lab.gen.counters();
  // Back before the 100 ms connection timeout: the new responder's RESET
  // (it does not know the connections) is what the generator sees.
  EXPECT_EQ(c.conn_failed_reset.read(), 2u);
  EXPECT_GE(c.reissued.read(), 1u) << "closed loop: requests were in flight when the responder died";
  EXPECT_LE(c.reissued.read(), 16u) << "at most the outstanding requests of the two connections";
}

TEST(GeneratorReconnect, ResponderAwayLongerFailsUnresponsiveThenReconnectsWhenBack) {
  Lab lab(closed_loop(2000));
  restart_after(lab, 500, 400 * kMs);
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs));
  expect_nothing_lost(lab, 2000);
  const auto& c = lab.gen.counters();
  EXPECT_EQ(c.conn_failed_unresponsive.read(), 2u);
  EXPECT_GE(c.conn_failed_unreachable.read(), 2u) << "replacements tried while the responder was away";
  EXPECT_GE(c.reissued.read(), 1u);
}

// The responder acknowledged a request and went away before its reply
// left. The connection has nothing outstanding and never times out; the
// request would wait for its reply forever. After reply_timeout_ns the
// connection is replaced and the request re-issued.
TEST(GeneratorReconnect, RequestAcknowledgedButNeverAnsweredIsReissued) {
  GenConfig g = closed_loop(200);
  g.connections = 1;
  g.outstanding = 1;
  g.reply_timeout_ns = 50 * kMs;
  Lab lab(g);
  ASSERT_TRUE(lab.run(10'000 * kMs, [&] { return lab.resp->counters().requests.read() >= 100; }));
  lab.drop_replies_on_the_wire();
  lab.take_down();
  ASSERT_FALSE(lab.run(200 * kMs, [&] { return lab.gen.finished(); }));
  lab.bring_up();
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs)) << "a request waited for its reply forever";
  const auto& c = lab.gen.counters();
  EXPECT_EQ(c.completed.read(), 200u) << lab.gen.last_failure();
  EXPECT_EQ(c.failed.read(), 0u);
  EXPECT_EQ(lab.gen.connections_lost(), 0u);
  EXPECT_GE(c.conn_failed_unresponsive.read(), 1u);
  EXPECT_GE(c.reissued.read(), 1u);
  EXPECT_GE(c.reconnects.read(), 1u);
  EXPECT_EQ(lab.resp->violations().total(), 0u);
}

TEST(GeneratorReconnect, OpenLoopRequestsAreReissuedToo) {
  GenConfig g = closed_loop(2000);
  g.load = LoadMode::kOpen;
  g.rate_msgs_per_s = 200'000;
  Lab lab(g);
  restart_after(lab, 600, 30 * kMs);
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs));
  expect_nothing_lost(lab, 2000);
}

TEST(GeneratorReconnect, RoundTripOfAReissuedRequestIncludesTheOutage) {
  Lab lab(closed_loop(2000));
  restart_after(lab, 500, 50 * kMs);
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs));
  ASSERT_GE(lab.gen.counters().reissued.read(), 1u);
  EXPECT_GE(lab.gen.rtt().snapshot().max, 50 * kMs);
}

TEST(GeneratorReconnect, BackoffKeepsAttemptsFewWhileThePeerIsAway) {
  GenConfig g = closed_loop(0);
  g.connections = 1;
  g.count = 0;
  g.duration_ns = 5'000 * kMs;
  Lab lab(g);
  ASSERT_TRUE(lab.run(1'000 * kMs, [&] { return lab.gen.counters().completed.read() >= 100; }));
  lab.take_down();
  const std::uint64_t before = lab.connects_sent;
  ASSERT_FALSE(lab.run(2'000 * kMs, [&] { return lab.gen.finished(); }));
  const auto& c = lab.gen.counters();
  // The backoff doubles from 1 ms to 1 s after each failed attempt (an
  // attempt itself takes ~31 ms of CONNECT retries): a dozen attempts in
  // 2 s, not thousands.
  EXPECT_GE(c.conn_failed_unreachable.read(), 4u);
  EXPECT_LE(c.conn_failed_unreachable.read(), 12u);
  EXPECT_LE(lab.connects_sent - before, 12u * 5u) << "5 CONNECT tries per attempt";
}

TEST(GeneratorReconnect, PeerThatNeverReturnsEndsAtTheDurationWithRequestsFailed) {
  GenConfig g = closed_loop(0);
  g.duration_ns = 300 * kMs;
  g.drain_ns = 100 * kMs;
  Lab lab(g);
  ASSERT_TRUE(lab.run(1'000 * kMs, [&] { return lab.gen.counters().completed.read() >= 200; }));
  lab.take_down();
  const srd::Nanos down_at = lab.now;
  ASSERT_TRUE(lab.run_to_end(5'000 * kMs));
  const auto& c = lab.gen.counters();
  EXPECT_LE(lab.now, down_at + 300 * kMs + 100 * kMs + 1'000 * kMs) << "duration, drain and a second to close";
  EXPECT_EQ(c.completed.read() + c.failed.read(), c.sent.read()) << "every request accounted for";
  EXPECT_GE(c.failed.read(), 1u) << "the requests in flight when the peer died";
  EXPECT_EQ(c.reissued.read(), 0u) << "no replacement ever connected";
}

TEST(GeneratorReconnect, CountRunGivesUpWhenThePeerStaysAway) {
  GenConfig g = closed_loop(100'000);
  g.reconnect_give_up_ns = 500 * kMs;
  Lab lab(g);
  ASSERT_TRUE(lab.run(1'000 * kMs, [&] { return lab.gen.counters().completed.read() >= 200; }));
  lab.take_down();
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs)) << "the run ended although --count was never reached";
  const auto& c = lab.gen.counters();
  EXPECT_LT(c.sent.read(), 100'000u);
  EXPECT_EQ(lab.gen.connections_lost(), 2u);
  EXPECT_EQ(c.completed.read() + c.failed.read(), c.sent.read());
  EXPECT_GE(c.failed.read(), 1u);
  EXPECT_NE(lab.gen.last_failure().find("gave up reconnecting"), std::string::npos) << lab.gen.last_failure();
}

TEST(GeneratorReconnect, OffKeepsAFailedConnectionDeadAndFailsItsRequests) {
  GenConfig g = closed_loop(3000);
  g.reconnect = false;
  Lab lab(g);
  restart_after(lab, 1000, 20 * kMs);
  ASSERT_TRUE(lab.run_to_end(10'000 * kMs));
  const auto& c = lab.gen.counters();
  EXPECT_EQ(c.conn_failed.read(), 2u);
  EXPECT_EQ(c.conn_failed_reset.read(), 2u);
  EXPECT_EQ(c.reconnects.read(), 0u);
  EXPECT_EQ(c.reissued.read(), 0u);
  EXPECT_GE(c.failed.read(), 1u);
  EXPECT_LT(c.completed.read(), 3000u);
  EXPECT_EQ(lab.gen.connections_lost(), 2u);
  EXPECT_EQ(lab.resp->counters().requests.read(), 0u) << "nothing reached the restarted responder";
}

TEST(GeneratorReconnect, BadBackoffIsRejectedByName) {
  GenConfig g = closed_loop(10);
  g.reconnect_min_ns = 0;
  EXPECT_NE(g.validate().find("reconnect backoff"), std::string::npos);
  g.reconnect = false;
  EXPECT_EQ(g.validate(), "");
}

}  // namespace

// A fixed size says what it is, as a parsed one does: reports print it.
TEST(SizeDist, FixedSizeReadsAsItsSpec) {
  const SizeDist d = SizeDist::fixed(8192);
  EXPECT_EQ(d.text(), "8192");
  EXPECT_EQ(d.text(), SizeDist::parse("8192", 0, 1 << 20).text());
  EXPECT_EQ(d.min(), 8192u);
  EXPECT_EQ(d.max(), 8192u);
}

}  // namespace spray::traffic
