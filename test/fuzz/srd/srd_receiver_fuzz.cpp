// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: one endpoint fed arbitrary packet sequences from a scripted
// peer. Whatever arrives, it must not crash, must never deliver a message
// twice, and must never deliver bytes that were not sent: every DATA
// payload byte the script sends is content(msg_id, offset), so a delivered
// message is checked byte by byte.
//
// Input: a sequence of operations, each one opcode byte and its operands.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "srd/endpoint.h"
#include "wire/srd.h"

using namespace spray::srd;
using namespace spray::wire;

namespace {

constexpr PeerAddr kPeer{0x0a000001, 4792};
constexpr std::uint32_t kPeerConnId = 0x00100001;
constexpr std::uint32_t kNonce = 0x12345678;
constexpr std::uint32_t kInitialPsn = 0xfffff000;  // wraps during the run
constexpr std::uint32_t kPayload = 1500 - 20 - 8 - 32;

std::uint8_t content(std::uint32_t msg_id, std::uint32_t off) {
  return static_cast<std::uint8_t>((msg_id * 131u) ^ (off * 7u) ^ (off >> 8));
}

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() { return n ? (--n, *p++) : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() { return u16() | (std::uint32_t{u16()} << 16); }
};

EndpointConfig small_config() {
  EndpointConfig c;
  c.local = PeerAddr{0x0a000002, 4792};
  c.seed = 99;
  c.max_connections = 4;
  c.max_inflight_pkts = 64;
  c.max_send_msgs = 16;
  c.max_rx_msgs = 16;
  c.rx_buffer_bytes = 1 << 20;
  c.max_msg_bytes = 64 * 1024;
  c.wheel_slots = 1024;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Endpoint ep(small_config());
  ep.listen(true);
  Nanos now = 1'000'000;
  std::uint8_t buf[2048];
  TxMeta tm;
  RxMeta rm;
  rm.from = kPeer;

  // Handshake from the scripted peer; B's ACCEPT names its connection id.
  SrdHandshake hs;
  hs.src_conn_id = kPeerConnId;
  hs.nonce = kNonce;
  hs.initial_psn = kInitialPsn;
  hs.paths = 4;
  hs.mtu = 1500;
  hs.rwnd_pkts = 4096;
  std::size_t n = encode_srd_handshake(buf, SrdType::kConnect, hs, true);
  ep.on_packet(std::span(buf, n), rm, now);
  std::uint32_t conn_id = 0;
  while ((n = ep.poll_tx(buf, tm, now)) != 0) {
    SrdPacket p;
    if (decode_srd(std::span(buf, n), p) == SrdError::k_ok && p.type == SrdType::kAccept)
      conn_id = p.hs.src_conn_id;
  }
  if (conn_id == 0) std::abort();

  std::set<std::uint32_t> delivered;
  auto drain = [&] {
    Event ev;
    while (ep.poll_event(ev)) {
      if (ev.kind != EventKind::kMessage) continue;
      if (!delivered.insert(ev.msg.msg_id).second) std::abort();  // twice
      for (std::uint32_t i = 0; i < ev.msg.data.size(); ++i)
        if (ev.msg.data[i] != content(ev.msg.msg_id, i)) std::abort();  // wrong bytes
      ep.release(ev.msg);
    }
  };

  Input in{data, size};
  while (in.n != 0) {
    const std::uint8_t op = in.u8();
    switch (op % 6) {
      case 0:
      case 1: {  // a canonical segment: msg_id, segment index, message length
        SrdDataHdr h;
        h.dst_conn_id = conn_id;
        h.msg_id = in.u8() % 16;
        const std::uint32_t seg = in.u8() % 8;
        h.msg_len = 1 + in.u16() % (8 * kPayload);
        h.msg_off = seg * kPayload;
        if (h.msg_off >= h.msg_len) h.msg_off = 0;
        const std::uint32_t first = kInitialPsn + (in.u8() % 64) * 8;
        h.psn = first + h.msg_off / kPayload;
        h.flags = in.u8() & kDataFlagsMask;
        h.path_id = in.u8() % 4;
        h.tx_ts = static_cast<std::uint32_t>(now);
        const std::uint32_t len = std::min(kPayload, h.msg_len - h.msg_off);
        encode_srd_data(buf, h, true);
        for (std::uint32_t i = 0; i < len; ++i) buf[kSrdDataHdrLen + i] = content(h.msg_id, h.msg_off + i);
        rm.ce = op & 0x80;
        rm.path_id = h.path_id;
        ep.on_packet(std::span(buf, kSrdDataHdrLen + len), rm, now);
        break;
      }
      case 2: {  // an arbitrary segment (offset, length, PSN), content still honest
        SrdDataHdr h;
        h.dst_conn_id = (op & 0x80) ? in.u32() : conn_id;
        h.msg_id = in.u8() % 16;
        h.msg_len = 1 + in.u16();
        h.msg_off = in.u16() % h.msg_len;
        h.psn = kInitialPsn + in.u16();
        const std::uint32_t len =
            std::min<std::uint32_t>(1 + in.u16() % kPayload, h.msg_len - h.msg_off);
        encode_srd_data(buf, h, false);
        for (std::uint32_t i = 0; i < len; ++i) buf[kSrdDataHdrLen + i] = content(h.msg_id, h.msg_off + i);
        ep.on_packet(std::span(buf, kSrdDataHdrLen + len), rm, now);
        break;
      }
      case 3: {  // raw bytes as a packet
        const std::size_t len = std::min<std::size_t>(in.u8(), in.n);
        std::vector<std::uint8_t> raw(in.p, in.p + len);
        in.p += len;
        in.n -= len;
        ep.on_packet(raw, rm, now);
        break;
      }
      case 4: {  // an ACK / NACK from the peer, for data the endpoint never sent
        SrdAck a;
        a.dst_conn_id = conn_id;
        a.cum_psn = in.u32();
        a.ack_psn = in.u32();
        a.sack_bits = in.u32();
        a.rwnd_pkts = in.u16();
        a.path_id = in.u8();
        const bool nack = op & 0x80;
        a.flags = nack ? static_cast<std::uint8_t>(1 + in.u8() % 3) << kNackReasonShift
                       : (in.u8() & kAckFlagsMask);
        encode_srd_ack(buf, a, nack, true);
        ep.on_packet(std::span(buf, kSrdAckLen), rm, now);
        break;
      }
      default: {  // time passes; the endpoint runs timers and transmits
        now += 1 + in.u16() * 100ULL;
        if (ep.next_expiry() <= now) ep.on_expiry(now);
        for (int k = 0; k < 256 && ep.poll_tx(buf, tm, now) != 0; ++k) {
        }
        break;
      }
    }
    drain();
  }
  drain();
  return 0;
}
