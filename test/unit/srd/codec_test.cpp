// SPDX-License-Identifier: BSD-3-Clause
// SRD header codec (lib/wire/srd.h): every type round-trips, every reject
// reason is reachable, and no decoder reads past the span.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "wire/srd.h"

namespace spray::wire {
namespace {

SrdDataHdr sample_data() {
  SrdDataHdr h;
  h.flags = kDataSom | kDataAckReq;
  h.path_id = 13;
  h.dst_conn_id = 0x01020304;
  h.psn = 0xfffffffe;
  h.path_seq = 0xabcd;
  h.msg_id = 77;
  h.msg_off = 2880;
  h.msg_len = 10000;
  h.tx_ts = 0x89abcdef;
  return h;
}

std::vector<std::uint8_t> data_packet(const SrdDataHdr& h, std::size_t payload, bool csum = true) {
  std::vector<std::uint8_t> b(kSrdDataHdrLen + payload, 0x5a);
  EXPECT_EQ(encode_srd_data(b, h, csum), kSrdDataHdrLen);
  return b;
}

SrdError decode(std::span<const std::uint8_t> b) {
  SrdPacket p;
  return decode_srd(b, p);
}

TEST(SrdCodec, DefaultPortIsOursNotRoceOrUet) {
  EXPECT_EQ(kSrdUdpPort, 4792);
}

TEST(SrdCodec, DataRoundTrips) {
  const SrdDataHdr h = sample_data();
  const auto b = data_packet(h, 1440);
  EXPECT_EQ(b[0], 0x11);  // version 1, type DATA
  SrdDataHdr g;
  std::span<const std::uint8_t> payload;
  ASSERT_EQ(decode_srd_data(b, g, payload), SrdError::k_ok);
  EXPECT_EQ(g.flags, h.flags);
  EXPECT_EQ(g.path_id, h.path_id);
  EXPECT_EQ(g.dst_conn_id, h.dst_conn_id);
  EXPECT_EQ(g.psn, h.psn);
  EXPECT_EQ(g.path_seq, h.path_seq);
  EXPECT_EQ(g.msg_id, h.msg_id);
  EXPECT_EQ(g.msg_off, h.msg_off);
  EXPECT_EQ(g.msg_len, h.msg_len);
  EXPECT_EQ(g.tx_ts, h.tx_ts);
  EXPECT_EQ(payload.size(), 1440u);
  EXPECT_EQ(payload.data(), b.data() + kSrdDataHdrLen);
}

TEST(SrdCodec, DataFieldsSitWhereTheSpecPutsThem) {
  const auto b = data_packet(sample_data(), 8, false);
  EXPECT_EQ(load_be16(b.data() + 2), 13);
  EXPECT_EQ(load_be32(b.data() + 4), 0x01020304u);
  EXPECT_EQ(load_be32(b.data() + 8), 0xfffffffeu);
  EXPECT_EQ(load_be16(b.data() + 12), 0xabcd);
  EXPECT_EQ(load_be16(b.data() + 14), 0);  // checksum unused
  EXPECT_EQ(load_be32(b.data() + 16), 77u);
  EXPECT_EQ(load_be32(b.data() + 20), 2880u);
  EXPECT_EQ(load_be32(b.data() + 24), 10000u);
  EXPECT_EQ(load_be32(b.data() + 28), 0x89abcdefu);
}

TEST(SrdCodec, AckAndNackRoundTrip) {
  SrdAck a;
  a.flags = kAckEce | kAckDup;
  a.path_id = 200;
  a.dst_conn_id = 42;
  a.cum_psn = 1000;
  a.ack_psn = 1063;
  a.echo_ts = 123456789;
  a.rx_delay_ns = 4321;
  a.sack_off = 1;
  a.ce_count = 3;
  a.rwnd_pkts = 4096;
  a.sack_bits = 0x8000000000000001ULL;
  std::uint8_t b[kSrdAckLen];
  ASSERT_EQ(encode_srd_ack(b, a, false, true), kSrdAckLen);
  SrdAck g;
  bool nack = true;
  ASSERT_EQ(decode_srd_ack(b, g, nack), SrdError::k_ok);
  EXPECT_FALSE(nack);
  EXPECT_EQ(g.flags, a.flags);
  EXPECT_EQ(g.path_id, a.path_id);
  EXPECT_EQ(g.cum_psn, a.cum_psn);
  EXPECT_EQ(g.ack_psn, a.ack_psn);
  EXPECT_EQ(g.echo_ts, a.echo_ts);
  EXPECT_EQ(g.rx_delay_ns, a.rx_delay_ns);
  EXPECT_EQ(g.sack_off, a.sack_off);
  EXPECT_EQ(g.ce_count, a.ce_count);
  EXPECT_EQ(g.rwnd_pkts, a.rwnd_pkts);
  EXPECT_EQ(g.sack_bits, a.sack_bits);

  a.flags = static_cast<std::uint8_t>(static_cast<unsigned>(NackReason::kNoBuffer) << kNackReasonShift);
  ASSERT_EQ(encode_srd_ack(b, a, true, true), kSrdAckLen);
  ASSERT_EQ(decode_srd_ack(b, g, nack), SrdError::k_ok);
  EXPECT_TRUE(nack);
  EXPECT_EQ(nack_reason(g), NackReason::kNoBuffer);
}

TEST(SrdCodec, HandshakeRoundTrips) {
  SrdHandshake h;
  h.dst_conn_id = 0;
  h.src_conn_id = 0x00100005;
  h.nonce = 0xcafef00d;
  h.initial_psn = 0x7fffffff;
  h.paths = 256;
  h.mtu = 9000;
  h.caps = kCapOrdered | kCapHdrCsum | (1ULL << 63);
  h.rwnd_pkts = 4096;
  h.tx_ts = 99;
  for (SrdType t : {SrdType::kConnect, SrdType::kAccept}) {
    std::uint8_t b[kSrdHandshakeLen];
    ASSERT_EQ(encode_srd_handshake(b, t, h, true), kSrdHandshakeLen);
    SrdPacket p;
    ASSERT_EQ(decode_srd(b, p), SrdError::k_ok);
    EXPECT_EQ(p.type, t);
    EXPECT_EQ(p.hs.src_conn_id, h.src_conn_id);
    EXPECT_EQ(p.hs.nonce, h.nonce);
    EXPECT_EQ(p.hs.initial_psn, h.initial_psn);
    EXPECT_EQ(p.hs.paths, h.paths);
    EXPECT_EQ(p.hs.mtu, h.mtu);
    EXPECT_EQ(p.hs.caps, h.caps);
    EXPECT_EQ(p.hs.rwnd_pkts, h.rwnd_pkts);
    EXPECT_EQ(p.hs.tx_ts, h.tx_ts);
  }
}

TEST(SrdCodec, ProbeCloseAndResetRoundTrip) {
  std::uint8_t b[kSrdMaxCtrlLen];
  SrdPacket p;
  SrdProbe pr;
  pr.path_id = 7;
  pr.dst_conn_id = 5;
  pr.nonce = 11;
  pr.tx_ts = 13;
  ASSERT_EQ(encode_srd_probe(b, SrdType::kProbeAck, pr, true), kSrdProbeLen);
  ASSERT_EQ(decode_srd(std::span(b, kSrdProbeLen), p), SrdError::k_ok);
  EXPECT_EQ(p.type, SrdType::kProbeAck);
  EXPECT_EQ(p.probe.path_id, 7);
  EXPECT_EQ(p.probe.nonce, 11u);
  EXPECT_EQ(p.probe.tx_ts, 13u);

  SrdClose cl;
  cl.flags = kCloseAck;
  cl.dst_conn_id = 9;
  cl.nonce = 10;
  cl.next_psn = 12345;
  ASSERT_EQ(encode_srd_close(b, cl, true), kSrdCloseLen);
  ASSERT_EQ(decode_srd(std::span(b, kSrdCloseLen), p), SrdError::k_ok);
  EXPECT_EQ(p.type, SrdType::kClose);
  EXPECT_EQ(p.close.flags, kCloseAck);
  EXPECT_EQ(p.close.next_psn, 12345u);

  SrdReset r;
  r.reason = ResetReason::kAborted;
  r.dst_conn_id = 1;
  r.src_conn_id = 2;
  r.nonce = 3;
  ASSERT_EQ(encode_srd_reset(b, r, true), kSrdResetLen);
  ASSERT_EQ(decode_srd(std::span(b, kSrdResetLen), p), SrdError::k_ok);
  EXPECT_EQ(p.type, SrdType::kReset);
  EXPECT_EQ(p.reset.reason, ResetReason::kAborted);
  EXPECT_EQ(p.reset.src_conn_id, 2u);
  EXPECT_EQ(p.reset.nonce, 3u);
}

TEST(SrdCodec, EncodersRefuseShortBuffers) {
  std::uint8_t b[kSrdMaxCtrlLen];
  EXPECT_EQ(encode_srd_data(std::span(b, kSrdDataHdrLen - 1), sample_data(), true), 0u);
  EXPECT_EQ(encode_srd_ack(std::span(b, kSrdAckLen - 1), SrdAck{}, false, true), 0u);
  EXPECT_EQ(encode_srd_handshake(std::span(b, kSrdHandshakeLen - 1), SrdType::kConnect,
                                 SrdHandshake{}, true), 0u);
  EXPECT_EQ(encode_srd_probe(std::span(b, kSrdProbeLen - 1), SrdType::kProbe, SrdProbe{}, true), 0u);
  EXPECT_EQ(encode_srd_close(std::span(b, kSrdCloseLen - 1), SrdClose{}, true), 0u);
  EXPECT_EQ(encode_srd_reset(std::span(b, kSrdResetLen - 1), SrdReset{}, true), 0u);
}

TEST(SrdCodec, RejectsTruncated) {
  const auto b = data_packet(sample_data(), 100);
  for (std::size_t n = 0; n < kSrdDataHdrLen; ++n)
    EXPECT_EQ(decode(std::span(b.data(), n)), SrdError::k_truncated) << n;
}

TEST(SrdCodec, RejectsBadVersion) {
  auto b = data_packet(sample_data(), 100, false);
  b[0] = 0x21;
  EXPECT_EQ(decode(b), SrdError::k_bad_version);
}

TEST(SrdCodec, RejectsUnknownType) {
  auto b = data_packet(sample_data(), 100, false);
  for (std::uint8_t t : {0, 10, 15}) {
    b[0] = static_cast<std::uint8_t>(0x10 | t);
    EXPECT_EQ(decode(b), SrdError::k_unknown_type) << int(t);
  }
}

TEST(SrdCodec, RejectsBadLength) {
  // DATA without payload; an ACK and a CLOSE with trailing bytes.
  const auto empty = data_packet(sample_data(), 0);
  EXPECT_EQ(decode(empty), SrdError::k_bad_length);
  std::uint8_t b[kSrdAckLen + 1] = {};
  encode_srd_ack(b, SrdAck{}, false, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_length);
  encode_srd_close(b, SrdClose{}, true);
  EXPECT_EQ(decode(std::span(b, kSrdCloseLen + 1)), SrdError::k_bad_length);
}

TEST(SrdCodec, RejectsBadChecksumButAcceptsAnUnsetOne) {
  auto b = data_packet(sample_data(), 100, true);
  EXPECT_NE(load_be16(b.data() + 14), 0);
  b[9] ^= 1;
  EXPECT_EQ(decode(b), SrdError::k_bad_checksum);
  auto plain = data_packet(sample_data(), 100, false);
  plain[9] ^= 1;
  EXPECT_EQ(decode(plain), SrdError::k_ok);
}

TEST(SrdCodec, RejectsBadFlags) {
  SrdDataHdr h = sample_data();
  h.flags = 0x80;
  EXPECT_EQ(decode(data_packet(h, 10)), SrdError::k_bad_flags);
  std::uint8_t b[kSrdAckLen];
  SrdAck a;
  a.flags = 0;  // a NACK needs a reason
  encode_srd_ack(b, a, true, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_flags);
  // ACK_LOST answers a duplicate: an ACK may carry it, a NACK not.
  a.flags = kAckDup | kAckLost;
  encode_srd_ack(b, a, false, true);
  EXPECT_EQ(decode(b), SrdError::k_ok);
  a.flags = static_cast<std::uint8_t>(kAckLost | (1u << kNackReasonShift));
  encode_srd_ack(b, a, true, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_flags);
  a.flags = 0x10;  // reserved in an ACK (a NACK's reason bits)
  encode_srd_ack(b, a, false, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_flags);
  SrdReset r;
  r.reason = static_cast<ResetReason>(0);
  encode_srd_reset(b, r, true);
  EXPECT_EQ(decode(std::span(b, kSrdResetLen)), SrdError::k_bad_flags);
}

TEST(SrdCodec, RejectsSegmentsOutsideTheirMessage) {
  SrdDataHdr h = sample_data();
  h.msg_off = 9990;
  h.msg_len = 10000;
  EXPECT_EQ(decode(data_packet(h, 11)), SrdError::k_bad_segment);
  EXPECT_EQ(decode(data_packet(h, 10)), SrdError::k_ok);
  h.msg_len = 0;
  h.msg_off = 0;
  EXPECT_EQ(decode(data_packet(h, 1)), SrdError::k_bad_segment);
}

TEST(SrdCodec, RejectsImpossibleHandshakes) {
  SrdHandshake h;
  h.src_conn_id = 1;
  h.paths = 0;
  h.mtu = 1500;
  h.rwnd_pkts = 1;
  std::uint8_t b[kSrdHandshakeLen];
  encode_srd_handshake(b, SrdType::kConnect, h, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_handshake);
  h.paths = 257;
  encode_srd_handshake(b, SrdType::kConnect, h, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_handshake);
  h.paths = 16;
  h.mtu = 80;
  encode_srd_handshake(b, SrdType::kConnect, h, true);
  EXPECT_EQ(decode(b), SrdError::k_bad_handshake);
}

TEST(SrdCodec, EveryErrorHasANameAndHelp) {
  for (std::size_t i = 0; i < kSrdErrorCount; ++i) {
    const auto e = static_cast<SrdError>(i);
    EXPECT_STRNE(to_string(e), "?");
    EXPECT_GT(std::strlen(help(e)), 0u);
  }
  EXPECT_STREQ(to_string(SrdError::k_bad_checksum), "bad_checksum");
}

}  // namespace
}  // namespace spray::wire
