// SPDX-License-Identifier: BSD-3-Clause
// Per-packet costs of the transport's hot paths (Google Benchmark):
//   BM_SendSegment   poll_tx producing one 1440-byte DATA packet
//   BM_AckWithSack   on_packet of an ACK that acknowledges packets by SACK
//   BM_RecvData      on_packet of a DATA packet into reassembly
// Target: < 100 ns per packet each. Bookkeeping outside the measured
// operation runs with the timer paused and is amortised over a batch.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "srd/endpoint.h"
#include "wire/srd.h"

using namespace spray::srd;
using namespace spray::wire;

namespace {

constexpr PeerAddr kA{0x0a000001, 4792};
constexpr PeerAddr kB{0x0a000002, 4792};

EndpointConfig bench_config(PeerAddr local, std::uint64_t seed) {
  EndpointConfig c;
  c.local = local;
  c.seed = seed;
  c.max_connections = 16;
  c.link_rate_bps = 400'000'000'000ULL;  // large BDP: the window never limits
  c.initial_rtt_ns = 1'000'000;
  c.max_cwnd_bdp = 100;
  c.initial_cwnd_cap_pkts = 1024;
  c.max_msg_bytes = 1u << 30;
  c.pacing = false;
  return c;
}

// Two endpoints with one established connection, packets moved by hand.
struct Conn {
  Endpoint a{bench_config(kA, 1)};
  Endpoint b{bench_config(kB, 2)};
  ConnId ca = kNoConn, cb = kNoConn;
  std::uint32_t remote_b = 0;  // b's id for the connection (what a sends to)
  Nanos now = 1'000'000;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(2048);

  Conn() {
    b.listen(true);
    ca = a.connect(kB);
    for (int i = 0; i < 4; ++i) {
      shuttle(a, b, kA);
      shuttle(b, a, kB);
    }
    Event ev;
    while (b.poll_event(ev))
      if (ev.kind == EventKind::kAccepted) cb = ev.conn;
    while (a.poll_event(ev)) {
    }
    if (a.state(ca) != ConnState::kEstablished || cb == kNoConn) std::abort();
  }
  void shuttle(Endpoint& from, Endpoint& to, PeerAddr from_addr) {
    TxMeta tm;
    RxMeta rm;
    rm.from = from_addr;
    while (std::size_t n = from.poll_tx(buf, tm, now)) {
      SrdPacket p;
      if (decode_srd(std::span(buf.data(), n), p) == SrdError::k_ok && p.type == SrdType::kAccept)
        remote_b = p.hs.src_conn_id;
      rm.path_id = tm.path_id;
      to.on_packet(std::span(buf.data(), n), rm, now);
    }
  }
};

void BM_SendSegment(benchmark::State& state) {
  Conn c;
  constexpr std::uint32_t kBatch = 128;
  // One message per batch, re-sent from the same bytes: the queue stays
  // two messages deep.
  std::vector<std::uint8_t> msg(kBatch * 1440, 0xab);
  std::vector<std::uint8_t> pkt(1500);
  c.a.send(c.ca, msg, 0);
  c.a.send(c.ca, msg, 1);
  TxMeta tm;
  RxMeta rm;
  rm.from = kB;
  std::uint32_t first_psn = 0;
  std::uint32_t sent = 0;
  for (auto _ : state) {
    const std::size_t n = c.a.poll_tx(pkt, tm, c.now);
    if (n != kSrdDataHdrLen + 1440) state.SkipWithError("no DATA packet produced");
    if (sent++ == 0) first_psn = load_be32(pkt.data() + 8);
    benchmark::DoNotOptimize(pkt.data());
    if (sent == kBatch) {
      // Acknowledge the batch cumulatively so the window stays open.
      state.PauseTiming();
      SrdAck a;
      a.dst_conn_id = c.ca;
      a.cum_psn = first_psn + kBatch;
      a.ack_psn = first_psn + kBatch - 1;
      a.echo_ts = static_cast<std::uint32_t>(c.now);
      a.rwnd_pkts = 4096;
      std::uint8_t ab[kSrdAckLen];
      encode_srd_ack(ab, a, false, true);
      c.now += 1000;
      c.a.on_packet(ab, rm, c.now);
      Event ev;
      while (c.a.poll_event(ev)) {
      }
      c.a.send(c.ca, msg, 2);
      sent = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendSegment);

void BM_AckWithSack(benchmark::State& state) {
  Conn c;
  constexpr std::uint32_t kBatch = 64;
  std::vector<std::uint8_t> msg(kBatch * 1440, 0xcd);
  c.a.send(c.ca, msg, 0);
  std::vector<std::uint8_t> pkt(1500);
  TxMeta tm;
  RxMeta rm;
  rm.from = kB;
  std::vector<std::array<std::uint8_t, kSrdAckLen>> acks(kBatch / 2);
  std::uint32_t i = kBatch / 2;
  for (auto _ : state) {
    if (i == kBatch / 2) {
      // Put a batch in flight and prepare its ACKs: each one advances
      // cum_psn by one and SACKs the packet after the next, as spraying
      // makes them look.
      state.PauseTiming();
      c.a.send(c.ca, msg, 1);
      std::uint32_t first = 0;
      for (std::uint32_t k = 0; k < kBatch; ++k) {
        c.a.poll_tx(pkt, tm, c.now);
        if (k == 0) first = load_be32(pkt.data() + 8);
      }
      for (std::uint32_t k = 0; k < kBatch / 2; ++k) {
        SrdAck a;
        a.dst_conn_id = c.ca;
        a.cum_psn = first + 2 * k + 1;
        a.sack_off = 1;
        a.sack_bits = 1;  // cum_psn + 1 arrived too
        a.ack_psn = first + 2 * k + 2;
        a.echo_ts = static_cast<std::uint32_t>(c.now);
        a.path_id = static_cast<std::uint16_t>(k % 16);
        a.rwnd_pkts = 4096;
        encode_srd_ack(acks[k], a, false, true);
      }
      c.now += 2000;
      i = 0;
      Event ev;
      while (c.a.poll_event(ev)) {
      }
      state.ResumeTiming();
    }
    c.a.on_packet(acks[i++], rm, c.now);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AckWithSack);

void BM_RecvData(benchmark::State& state) {
  Conn c;
  // Learn b's initial PSN and a's id by letting a send one real packet.
  std::vector<std::uint8_t> one(1440, 1);
  c.a.send(c.ca, one, 0);
  c.shuttle(c.a, c.b, kA);
  std::uint32_t psn = 0;
  {
    ConnStats st;
    c.b.conn_stats(c.cb, st);
    psn = st.cum_psn_rx;
  }
  constexpr std::uint32_t kSegs = 2048;  // one message of 2048 x 1440 bytes
  std::vector<std::vector<std::uint8_t>> pkts(kSegs, std::vector<std::uint8_t>(kSrdDataHdrLen + 1440, 0x77));
  std::uint32_t msg_id = 1;
  std::uint32_t i = kSegs;
  RxMeta rm;
  rm.from = kA;
  TxMeta tm;
  std::vector<std::uint8_t> out(1500);
  for (auto _ : state) {
    if (i == kSegs) {
      state.PauseTiming();
      Event ev;
      while (c.b.poll_event(ev))
        if (ev.kind == EventKind::kMessage) c.b.release(ev.msg);
      while (c.b.poll_tx(out, tm, c.now)) {
      }
      for (std::uint32_t k = 0; k < kSegs; ++k) {
        SrdDataHdr h;
        h.dst_conn_id = c.remote_b;
        h.psn = psn + k;
        h.path_id = static_cast<std::uint16_t>(k % 16);
        h.msg_id = msg_id;
        h.msg_off = k * 1440;
        h.msg_len = kSegs * 1440;
        h.flags = (k == 0 ? kDataSom : 0) | (k == kSegs - 1 ? kDataEom : 0);
        h.tx_ts = static_cast<std::uint32_t>(c.now);
        encode_srd_data(pkts[k], h, true);
      }
      psn += kSegs;
      ++msg_id;
      c.now += 1000;
      i = 0;
      state.ResumeTiming();
    }
    c.b.on_packet(pkts[i++], rm, c.now);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 1440);
}
BENCHMARK(BM_RecvData);

}  // namespace

BENCHMARK_MAIN();
