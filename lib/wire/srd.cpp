// SPDX-License-Identifier: BSD-3-Clause
// SRD control packets (cold path) and the generic decoder. Layouts are in
// doc/protocol.md; DATA and ACK live inline in srd.h.
#include "wire/srd.h"

namespace spray::wire {

const char* to_string(SrdType t) noexcept {
  switch (t) {
    case SrdType::kData: return "DATA";
    case SrdType::kAck: return "ACK";
    case SrdType::kNack: return "NACK";
    case SrdType::kProbe: return "PROBE";
    case SrdType::kProbeAck: return "PROBE_ACK";
    case SrdType::kConnect: return "CONNECT";
    case SrdType::kAccept: return "ACCEPT";
    case SrdType::kClose: return "CLOSE";
    case SrdType::kReset: return "RESET";
  }
  return "?";
}

const char* to_string(SrdError e) noexcept {
  switch (e) {
#define SPRAY_SRD_X(name, help) \
  case SrdError::k_##name:      \
    return #name;
    SPRAY_SRD_ERRORS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
  }
  return "?";
}

const char* help(SrdError e) noexcept {
  switch (e) {
#define SPRAY_SRD_X(name, help) \
  case SrdError::k_##name:      \
    return help;
    SPRAY_SRD_ERRORS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
  }
  return "?";
}

namespace {

// Common first 8 bytes of every control packet: version/type, flags,
// path_id, dst_conn_id.
void put_common(std::uint8_t* p, SrdType type, std::uint8_t flags, std::uint16_t path_id,
                std::uint32_t dst_conn_id) noexcept {
  p[0] = srd_vt(type);
  p[1] = flags;
  store_be16(p + 2, path_id);
  store_be32(p + 4, dst_conn_id);
}

// Fixed-size control packets: exact length, checksum at `csum_off`.
SrdError check_ctrl(std::span<const std::uint8_t> pkt, std::size_t len,
                    std::size_t csum_off) noexcept {
  if (pkt.size() < len) return SrdError::k_truncated;
  if (pkt.size() != len) return SrdError::k_bad_length;
  if (!srd_csum_ok(pkt.data(), len, csum_off)) return SrdError::k_bad_checksum;
  return SrdError::k_ok;
}

}  // namespace

// CONNECT / ACCEPT, 40 bytes:
//  0 vt | 1 flags | 2 path_id | 4 dst_conn_id | 8 src_conn_id | 12 nonce |
// 16 initial_psn | 20 paths | 22 mtu | 24 caps(8) | 32 rwnd_pkts |
// 34 hdr_csum | 36 tx_ts
std::size_t encode_srd_handshake(std::span<std::uint8_t> out, SrdType type,
                                 const SrdHandshake& h, bool csum) noexcept {
  if (out.size() < kSrdHandshakeLen) return 0;
  std::uint8_t* p = out.data();
  put_common(p, type, h.flags, h.path_id, h.dst_conn_id);
  store_be32(p + 8, h.src_conn_id);
  store_be32(p + 12, h.nonce);
  store_be32(p + 16, h.initial_psn);
  store_be16(p + 20, h.paths);
  store_be16(p + 22, h.mtu);
  store_be32(p + 24, static_cast<std::uint32_t>(h.caps >> 32));
  store_be32(p + 28, static_cast<std::uint32_t>(h.caps));
  store_be16(p + 32, h.rwnd_pkts);
  store_be16(p + 34, 0);
  store_be32(p + 36, h.tx_ts);
  if (csum) store_be16(p + 34, srd_csum(p, kSrdHandshakeLen, 34));
  return kSrdHandshakeLen;
}

// PROBE / PROBE_ACK, 20 bytes:
//  0 vt | 1 flags | 2 path_id | 4 dst_conn_id | 8 nonce | 12 tx_ts |
// 16 hdr_csum | 18 reserved
std::size_t encode_srd_probe(std::span<std::uint8_t> out, SrdType type, const SrdProbe& h,
                             bool csum) noexcept {
  if (out.size() < kSrdProbeLen) return 0;
  std::uint8_t* p = out.data();
  put_common(p, type, h.flags, h.path_id, h.dst_conn_id);
  store_be32(p + 8, h.nonce);
  store_be32(p + 12, h.tx_ts);
  store_be16(p + 16, 0);
  store_be16(p + 18, 0);
  if (csum) store_be16(p + 16, srd_csum(p, kSrdProbeLen, 16));
  return kSrdProbeLen;
}

// CLOSE, 20 bytes:
//  0 vt | 1 flags (CLOSE_ACK) | 2 path_id | 4 dst_conn_id | 8 nonce |
// 12 next_psn | 16 hdr_csum | 18 reserved
std::size_t encode_srd_close(std::span<std::uint8_t> out, const SrdClose& h, bool csum) noexcept {
  if (out.size() < kSrdCloseLen) return 0;
  std::uint8_t* p = out.data();
  put_common(p, SrdType::kClose, h.flags, h.path_id, h.dst_conn_id);
  store_be32(p + 8, h.nonce);
  store_be32(p + 12, h.next_psn);
  store_be16(p + 16, 0);
  store_be16(p + 18, 0);
  if (csum) store_be16(p + 16, srd_csum(p, kSrdCloseLen, 16));
  return kSrdCloseLen;
}

// RESET, 20 bytes:
//  0 vt | 1 reason | 2 path_id | 4 dst_conn_id | 8 src_conn_id | 12 nonce |
// 16 hdr_csum | 18 reserved
std::size_t encode_srd_reset(std::span<std::uint8_t> out, const SrdReset& h, bool csum) noexcept {
  if (out.size() < kSrdResetLen) return 0;
  std::uint8_t* p = out.data();
  put_common(p, SrdType::kReset, static_cast<std::uint8_t>(h.reason), h.path_id, h.dst_conn_id);
  store_be32(p + 8, h.src_conn_id);
  store_be32(p + 12, h.nonce);
  store_be16(p + 16, 0);
  store_be16(p + 18, 0);
  if (csum) store_be16(p + 16, srd_csum(p, kSrdResetLen, 16));
  return kSrdResetLen;
}

SrdError decode_srd(std::span<const std::uint8_t> pkt, SrdPacket& out) noexcept {
  SrdType type{};
  if (const SrdError e = srd_peek_type(pkt, type); e != SrdError::k_ok) return e;
  out.type = type;
  const std::uint8_t* p = pkt.data();
  switch (type) {
    case SrdType::kData:
      return decode_srd_data(pkt, out.data, out.payload);
    case SrdType::kAck:
    case SrdType::kNack: {
      bool nack = false;
      return decode_srd_ack(pkt, out.ack, nack);
    }
    case SrdType::kConnect:
    case SrdType::kAccept: {
      if (const SrdError e = check_ctrl(pkt, kSrdHandshakeLen, 34); e != SrdError::k_ok) return e;
      SrdHandshake& h = out.hs;
      h.flags = p[1];
      if (h.flags != 0) return SrdError::k_bad_flags;
      h.path_id = load_be16(p + 2);
      h.dst_conn_id = load_be32(p + 4);
      h.src_conn_id = load_be32(p + 8);
      h.nonce = load_be32(p + 12);
      h.initial_psn = load_be32(p + 16);
      h.paths = load_be16(p + 20);
      h.mtu = load_be16(p + 22);
      h.caps = (std::uint64_t{load_be32(p + 24)} << 32) | load_be32(p + 28);
      h.rwnd_pkts = load_be16(p + 32);
      h.tx_ts = load_be32(p + 36);
      // 68 is the IPv4 minimum MTU, but a DATA packet needs room for a
      // payload after 20 + 8 + 32 bytes of headers.
      if (h.paths == 0 || h.paths > 256 || h.mtu < 61 + 28 || h.rwnd_pkts == 0 ||
          h.src_conn_id == 0)
        return SrdError::k_bad_handshake;
      return SrdError::k_ok;
    }
    case SrdType::kProbe:
    case SrdType::kProbeAck: {
      if (const SrdError e = check_ctrl(pkt, kSrdProbeLen, 16); e != SrdError::k_ok) return e;
      SrdProbe& h = out.probe;
      h.flags = p[1];
      if (h.flags != 0 || load_be16(p + 18) != 0) return SrdError::k_bad_flags;
      h.path_id = load_be16(p + 2);
      h.dst_conn_id = load_be32(p + 4);
      h.nonce = load_be32(p + 8);
      h.tx_ts = load_be32(p + 12);
      return SrdError::k_ok;
    }
    case SrdType::kClose: {
      if (const SrdError e = check_ctrl(pkt, kSrdCloseLen, 16); e != SrdError::k_ok) return e;
      SrdClose& h = out.close;
      h.flags = p[1];
      if ((h.flags & ~kCloseAck) != 0 || load_be16(p + 18) != 0) return SrdError::k_bad_flags;
      h.path_id = load_be16(p + 2);
      h.dst_conn_id = load_be32(p + 4);
      h.nonce = load_be32(p + 8);
      h.next_psn = load_be32(p + 12);
      return SrdError::k_ok;
    }
    case SrdType::kReset: {
      if (const SrdError e = check_ctrl(pkt, kSrdResetLen, 16); e != SrdError::k_ok) return e;
      SrdReset& h = out.reset;
      if (p[1] < static_cast<std::uint8_t>(ResetReason::kUnknownConn) ||
          p[1] > static_cast<std::uint8_t>(ResetReason::kRefused) || load_be16(p + 18) != 0)
        return SrdError::k_bad_flags;
      h.reason = static_cast<ResetReason>(p[1]);
      h.path_id = load_be16(p + 2);
      h.dst_conn_id = load_be32(p + 4);
      h.src_conn_id = load_be32(p + 8);
      h.nonce = load_be32(p + 12);
      return SrdError::k_ok;
    }
  }
  return SrdError::k_unknown_type;
}

}  // namespace spray::wire
