// SPDX-License-Identifier: BSD-3-Clause
// Writes a pcap with one packet of every SRD type and one of every reject
// reason, encoded by lib/wire, and prints what a dissector must find in each
// frame as one JSON object per line:
//   {"frame":N,"udp_port":P,"error":"ok|<SPRAY_SRD_ERRORS name>","fields":{...}}
// The expected fields and the reject reason come from decode_srd(), so the
// Lua dissector is checked against the codec rather than against a second
// copy of the layout.
//
// usage: srd_samples OUT.pcap [OTHER_UDP_PORT]  (the last frame goes to
// OTHER_UDP_PORT, default 40000, for the heuristic and port-preference checks)
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "traffic/pattern.h"
#include "wire/frame.h"
#include "wire/srd.h"

namespace {

using namespace spray::wire;
using spray::traffic::AppHeader;

class PcapWriter {
 public:
  explicit PcapWriter(std::FILE* f) : f_(f) {
    const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};  // v2.4, Ethernet
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  void write(const std::vector<std::uint8_t>& frame) {
    ++frames_;
    const std::uint32_t rec[4] = {1700000000u + frames_, 0, static_cast<std::uint32_t>(frame.size()),
                                  static_cast<std::uint32_t>(frame.size())};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(frame.data(), frame.size(), 1, f_);
  }
  unsigned frames() const { return frames_; }

 private:
  std::FILE* f_;
  unsigned frames_ = 0;
};

std::string num(std::uint64_t v) { return std::to_string(v); }

class Fields {
 public:
  Fields& add(const char* name, std::uint64_t v) {
    if (!s_.empty()) s_ += ',';
    s_ += '"';
    s_ += name;
    s_ += "\":";
    s_ += num(v);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// What decode_srd makes of `srd`, as the fields the dissector must show.
SrdError expect(std::span<const std::uint8_t> srd, Fields& out) {
  SrdPacket p;
  const SrdError e = decode_srd(srd, p);
  if (e != SrdError::k_ok) return e;
  const auto type = static_cast<std::uint8_t>(p.type);
  out.add("srd.version", kSrdVersion).add("srd.type", type);
  const std::size_t csum_at = p.type == SrdType::kData ? 14
                              : (p.type == SrdType::kAck || p.type == SrdType::kNack) ? 30
                              : (p.type == SrdType::kConnect || p.type == SrdType::kAccept) ? 34
                                                                                              : 16;
  const std::uint16_t csum = load_be16(srd.data() + csum_at);
  out.add("srd.hdr_csum", csum).add("srd.hdr_csum.status", csum == 0 ? 0 : 1);
  switch (p.type) {
    case SrdType::kData: {
      const SrdDataHdr& h = p.data;
      out.add("srd.flags", h.flags)
          .add("srd.flags.som", (h.flags & kDataSom) != 0)
          .add("srd.flags.eom", (h.flags & kDataEom) != 0)
          .add("srd.flags.retx", (h.flags & kDataRetx) != 0)
          .add("srd.flags.ack_req", (h.flags & kDataAckReq) != 0)
          .add("srd.flags.ordered", (h.flags & kDataOrdered) != 0)
          .add("srd.path_id", h.path_id)
          .add("srd.dst_conn_id", h.dst_conn_id)
          .add("srd.psn", h.psn)
          .add("srd.path_seq", h.path_seq)
          .add("srd.msg_id", h.msg_id)
          .add("srd.msg_off", h.msg_off)
          .add("srd.msg_len", h.msg_len)
          .add("srd.tx_ts", h.tx_ts)
          .add("srd.payload_len", p.payload.size());
      if ((h.flags & kDataSom) && h.msg_off == 0 && p.payload.size() >= 16) {
        const AppHeader a = AppHeader::load(p.payload.data());
        out.add("sprayapp.magic", a.magic)
            .add("sprayapp.conn_key", a.conn_key)
            .add("sprayapp.seq", a.seq)
            .add("sprayapp.reply_len", a.reply_len);
      }
      break;
    }
    case SrdType::kAck:
    case SrdType::kNack: {
      const SrdAck& a = p.ack;
      out.add("srd.flags", a.flags)
          .add("srd.flags.ece", (a.flags & kAckEce) != 0)
          .add("srd.flags.retx_seen", (a.flags & kAckRetxSeen) != 0)
          .add("srd.flags.dup", (a.flags & kAckDup) != 0)
          .add("srd.flags.nack_follows", (a.flags & kAckNackFollows) != 0)
          .add("srd.flags.host_drop", (a.flags & kAckHostDrop) != 0)
          .add("srd.flags.ack_lost", (a.flags & kAckLost) != 0)
          .add("srd.path_id", a.path_id)
          .add("srd.dst_conn_id", a.dst_conn_id)
          .add("srd.cum_psn", a.cum_psn)
          .add(p.type == SrdType::kNack ? "srd.nack_psn" : "srd.ack_psn", a.ack_psn)
          .add("srd.echo_ts", a.echo_ts)
          .add("srd.rx_delay_ns", a.rx_delay_ns)
          .add("srd.sack_off", a.sack_off)
          .add("srd.ce_count", a.ce_count)
          .add("srd.rwnd_pkts", a.rwnd_pkts)
          .add("srd.sack_bits", a.sack_bits);
      if (p.type == SrdType::kNack) out.add("srd.flags.nack_reason", static_cast<unsigned>(nack_reason(a)));
      break;
    }
    case SrdType::kConnect:
    case SrdType::kAccept: {
      const SrdHandshake& h = p.hs;
      out.add("srd.flags", h.flags)
          .add("srd.path_id", h.path_id)
          .add("srd.dst_conn_id", h.dst_conn_id)
          .add("srd.src_conn_id", h.src_conn_id)
          .add("srd.nonce", h.nonce)
          .add("srd.initial_psn", h.initial_psn)
          .add("srd.paths", h.paths)
          .add("srd.mtu", h.mtu)
          .add("srd.caps", h.caps)
          .add("srd.caps.ordered", (h.caps & kCapOrdered) != 0)
          .add("srd.caps.hdr_csum", (h.caps & kCapHdrCsum) != 0)
          .add("srd.rwnd_pkts", h.rwnd_pkts)
          .add("srd.tx_ts", h.tx_ts);
      break;
    }
    case SrdType::kProbe:
    case SrdType::kProbeAck:
      out.add("srd.flags", p.probe.flags)
          .add("srd.path_id", p.probe.path_id)
          .add("srd.dst_conn_id", p.probe.dst_conn_id)
          .add("srd.nonce", p.probe.nonce)
          .add("srd.tx_ts", p.probe.tx_ts)
          .add("srd.reserved", 0);
      break;
    case SrdType::kClose:
      out.add("srd.flags", p.close.flags)
          .add("srd.flags.close_ack", (p.close.flags & kCloseAck) != 0)
          .add("srd.path_id", p.close.path_id)
          .add("srd.dst_conn_id", p.close.dst_conn_id)
          .add("srd.nonce", p.close.nonce)
          .add("srd.next_psn", p.close.next_psn)
          .add("srd.reserved", 0);
      break;
    case SrdType::kReset:
      out.add("srd.reset_reason", static_cast<unsigned>(p.reset.reason))
          .add("srd.path_id", p.reset.path_id)
          .add("srd.dst_conn_id", p.reset.dst_conn_id)
          .add("srd.src_conn_id", p.reset.src_conn_id)
          .add("srd.nonce", p.reset.nonce)
          .add("srd.reserved", 0);
      break;
  }
  return e;
}

struct Sampler {
  PcapWriter& pcap;
  UdpFrameTemplate tmpl_default;
  UdpFrameTemplate tmpl_other;
  std::uint16_t other_port;

  // Emits one frame carrying `srd` as UDP payload, and its expectation line.
  void emit(std::vector<std::uint8_t> srd, bool other = false) {
    const UdpFrameTemplate& t = other ? tmpl_other : tmpl_default;
    std::vector<std::uint8_t> frame(t.header_len() + srd.size());
    std::copy(srd.begin(), srd.end(), frame.begin() + static_cast<std::ptrdiff_t>(t.header_len()));
    t.write(frame, 49152, srd.size());
    pcap.write(frame);
    Fields fields;
    const SrdError e = expect(srd, fields);
    std::printf("{\"frame\":%u,\"udp_port\":%u,\"error\":\"%s\",\"fields\":{%s}}\n", pcap.frames(),
                other ? other_port : kSrdUdpPort, to_string(e), fields.str().c_str());
  }
};

std::vector<std::uint8_t> data_pkt(const SrdDataHdr& h, std::span<const std::uint8_t> payload,
                                   bool csum) {
  std::vector<std::uint8_t> v(kSrdDataHdrLen + payload.size());
  encode_srd_data(v, h, csum);
  std::copy(payload.begin(), payload.end(), v.begin() + kSrdDataHdrLen);
  return v;
}

std::vector<std::uint8_t> message(std::uint32_t magic, std::uint32_t key, std::uint32_t seq,
                                  std::uint32_t reply_len, std::size_t len) {
  std::vector<std::uint8_t> m(len);
  spray::traffic::fill_message(m, AppHeader{magic, key, seq, reply_len});
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap [OTHER_UDP_PORT]\n", argv[0]);
    return 2;
  }
  const long other = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 40000;
  if (other <= 0 || other > 65535 || other == kSrdUdpPort) {
    std::fprintf(stderr, "OTHER_UDP_PORT must be 1..65535 and not %u\n", kSrdUdpPort);
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "wb");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  PcapWriter pcap(f);
  UdpFlow flow;
  flow.src_mac = Mac{0x020000000001};
  flow.dst_mac = Mac{0x020000000002};
  flow.src_ip = 0x0a590001;
  flow.dst_ip = 0x0a590002;
  flow.dst_port = kSrdUdpPort;
  flow.udp_checksum = true;
  UdpFlow other_flow = flow;
  other_flow.dst_port = static_cast<std::uint16_t>(other);
  Sampler s{pcap, UdpFrameTemplate(flow), UdpFrameTemplate(other_flow), static_cast<std::uint16_t>(other)};

  // A request of 3000 bytes in three segments (payload 1440 at MTU 1500),
  // then a one-segment reply, then the other types.
  const auto req = message(spray::traffic::kMagicRequest, 1, 7, 100, 3000);
  SrdDataHdr d;
  d.path_id = 5;
  d.dst_conn_id = (3u << 20) | 17;
  d.psn = 0xfffffffe;  // wraps inside the message
  d.path_seq = 65535;
  d.msg_id = 7;
  d.msg_len = 3000;
  d.tx_ts = 0xdeadbeef;
  for (std::uint32_t off = 0; off < 3000; off += 1440) {
    d.msg_off = off;
    d.flags = static_cast<std::uint8_t>((off == 0 ? kDataSom : 0) | (off + 1440 >= 3000 ? kDataEom | kDataAckReq : 0));
    const std::size_t n = std::min<std::size_t>(1440, 3000 - off);
    s.emit(data_pkt(d, std::span<const std::uint8_t>(req).subspan(off, n), true));
    ++d.psn;
  }
  const auto reply = message(spray::traffic::kMagicReply, 1, 7, 100, 100);
  d = SrdDataHdr{};
  d.flags = kDataSom | kDataEom | kDataRetx | kDataOrdered;
  d.path_id = 255;
  d.dst_conn_id = 0x00100001;
  d.psn = 12345;
  d.msg_len = 100;
  s.emit(data_pkt(d, reply, false));  // hdr_csum 0: "not present"

  SrdAck a;
  a.flags = kAckEce | kAckDup | kAckHostDrop | kAckLost;
  a.path_id = 3;
  a.dst_conn_id = 0x00200002;
  a.cum_psn = 1000;
  a.ack_psn = 1005;
  a.echo_ts = 4242;
  a.rx_delay_ns = 777;
  a.sack_off = 1;
  a.ce_count = 2;
  a.rwnd_pkts = 4096;
  a.sack_bits = 0x800000000000001dULL;
  std::vector<std::uint8_t> ack(kSrdAckLen);
  encode_srd_ack(ack, a, false, true);
  s.emit(ack);
  a.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(NackReason::kNoBuffer) << kNackReasonShift);
  a.sack_bits = 0;
  encode_srd_ack(ack, a, true, true);
  s.emit(ack);

  SrdHandshake hs;
  hs.src_conn_id = 0x00300003;
  hs.nonce = 0xcafef00d;
  hs.initial_psn = 0x80000000;
  hs.paths = 16;
  hs.mtu = 1500;
  hs.caps = kCapOrdered | kCapHdrCsum;
  hs.rwnd_pkts = 4096;
  hs.tx_ts = 99;
  std::vector<std::uint8_t> hsb(kSrdHandshakeLen);
  encode_srd_handshake(hsb, SrdType::kConnect, hs, true);
  s.emit(hsb);
  hs.dst_conn_id = hs.src_conn_id;
  hs.src_conn_id = 0x00400004;
  hs.caps = kCapHdrCsum;
  encode_srd_handshake(hsb, SrdType::kAccept, hs, true);
  s.emit(hsb);

  SrdProbe pr;
  pr.path_id = 9;
  pr.dst_conn_id = 0x00500005;
  pr.nonce = 0x01020304;
  pr.tx_ts = 123456;
  std::vector<std::uint8_t> small(kSrdProbeLen);
  encode_srd_probe(small, SrdType::kProbe, pr, true);
  s.emit(small);
  encode_srd_probe(small, SrdType::kProbeAck, pr, true);
  s.emit(small);

  SrdClose cl;
  cl.path_id = 1;
  cl.dst_conn_id = 0x00600006;
  cl.nonce = 0x0a0b0c0d;
  cl.next_psn = 5000;
  encode_srd_close(small, cl, true);
  s.emit(small);
  cl.flags = kCloseAck;
  encode_srd_close(small, cl, true);
  s.emit(small);

  SrdReset rs;
  rs.reason = ResetReason::kRefused;
  rs.path_id = 2;
  rs.dst_conn_id = 0x00700007;
  rs.src_conn_id = 0x00800008;
  rs.nonce = 0x11223344;
  encode_srd_reset(small, rs, true);
  s.emit(small);

  // One packet per reject reason, each with exactly one defect.
  const std::uint8_t body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  d = SrdDataHdr{};
  d.flags = kDataSom | kDataEom;
  d.dst_conn_id = 0x00100001;
  d.msg_len = sizeof body;
  const auto good = data_pkt(d, body, true);
  s.emit({good.begin(), good.begin() + 2});                        // truncated below 4 bytes
  s.emit({good.begin(), good.begin() + 24});                       // truncated DATA
  auto v = good;
  v[0] = 0x21;
  s.emit(v);                                                       // bad_version
  v = good;
  v[0] = 0x1a;
  s.emit(v);                                                       // unknown_type
  s.emit({good.begin(), good.begin() + kSrdDataHdrLen});           // bad_length: DATA, no payload
  std::vector<std::uint8_t> long_ack(kSrdAckLen + 4);
  a = SrdAck{};
  a.rwnd_pkts = 1;
  encode_srd_ack(long_ack, a, false, true);
  s.emit(long_ack);                                                // bad_length: ACK + 4 bytes
  v = good;
  v[5] ^= 0x40;
  s.emit(v);                                                       // bad_checksum
  d.flags = kDataSom | 0x80;
  s.emit(data_pkt(d, body, true));                                 // bad_flags: reserved DATA bit
  a.flags = 0;
  encode_srd_ack(ack, a, true, true);
  s.emit(ack);                                                     // bad_flags: NACK, no reason
  d.flags = kDataEom;
  d.msg_off = 4;
  s.emit(data_pkt(d, body, true));                                 // bad_segment: 4 + 8 > 8
  hs = SrdHandshake{};
  hs.src_conn_id = 1;
  hs.paths = 0;
  hs.mtu = 1500;
  hs.rwnd_pkts = 1;
  encode_srd_handshake(hsb, SrdType::kConnect, hs, true);
  s.emit(hsb);                                                     // bad_handshake: 0 paths
  rs.reason = static_cast<ResetReason>(7);
  encode_srd_reset(small, rs, true);
  s.emit(small);                                                   // bad_flags: RESET reason 7

  // Last: a valid CONNECT on another port (heuristic, port preference).
  hs.paths = 4;
  encode_srd_handshake(hsb, SrdType::kConnect, hs, true);
  s.emit(hsb, true);
  return std::fclose(f) == 0 ? 0 : 1;
}
