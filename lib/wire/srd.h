// SPDX-License-Identifier: BSD-3-Clause
// SRD transport header (doc/protocol.md section 2): encode and
// decode of every packet type over byte spans.
//
// The SRD packet is the UDP payload. DATA and ACK, the per-packet types, are
// encoded and decoded inline here; the control types (CONNECT, ACCEPT,
// PROBE, PROBE_ACK, CLOSE, RESET) out of line in srd.cpp. A decoder never
// reads past the span and rejects with one reason from SPRAY_SRD_ERRORS.
// All multi-byte fields are big-endian on the wire, host order here.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/ether.h"

namespace spray::wire {

// Default UDP destination port of an SRD endpoint. Not 4791 (RoCEv2) nor
// 4793 (Ultra Ethernet); configurable everywhere.
inline constexpr std::uint16_t kSrdUdpPort = 4792;
inline constexpr std::uint8_t kSrdVersion = 1;

enum class SrdType : std::uint8_t {
  kData = 1,
  kAck = 2,
  kNack = 3,
  kProbe = 4,
  kProbeAck = 5,
  kConnect = 6,
  kAccept = 7,
  kClose = 8,
  kReset = 9,
};
inline constexpr std::uint8_t kSrdTypeMax = 9;
const char* to_string(SrdType t) noexcept;

inline constexpr std::size_t kSrdDataHdrLen = 32;
inline constexpr std::size_t kSrdAckLen = 40;        // ACK and NACK
inline constexpr std::size_t kSrdHandshakeLen = 40;  // CONNECT and ACCEPT
inline constexpr std::size_t kSrdProbeLen = 20;      // PROBE and PROBE_ACK
inline constexpr std::size_t kSrdCloseLen = 20;
inline constexpr std::size_t kSrdResetLen = 20;
inline constexpr std::size_t kSrdMaxCtrlLen = 40;
// The largest header: a buffer this size holds any non-DATA packet.
inline constexpr std::size_t kSrdMaxHdrLen = 40;

// DATA flags.
inline constexpr std::uint8_t kDataSom = 0x01;
inline constexpr std::uint8_t kDataEom = 0x02;
inline constexpr std::uint8_t kDataRetx = 0x04;
inline constexpr std::uint8_t kDataAckReq = 0x08;
inline constexpr std::uint8_t kDataOrdered = 0x10;
inline constexpr std::uint8_t kDataFlagsMask = 0x1f;
// ACK / NACK flags. A NACK carries its reason in bits 4-5.
inline constexpr std::uint8_t kAckEce = 0x01;
inline constexpr std::uint8_t kAckRetxSeen = 0x02;
inline constexpr std::uint8_t kAckDup = 0x04;
inline constexpr std::uint8_t kAckNackFollows = 0x08;
// The receiver's host dropped packets lately (its rx ring overflowed, or
// its driver could not send): losses around now are the host's, not a
// path's.
inline constexpr std::uint8_t kAckHostDrop = 0x40;
// With DUP: the receiver had acknowledged this packet long before the copy
// came (longer than a round trip), so its ACK was lost on the way back and
// the retransmission was needed: not a spurious one.
inline constexpr std::uint8_t kAckLost = 0x80;
inline constexpr std::uint8_t kAckFlagsMask = 0xcf;
inline constexpr std::uint8_t kNackReasonShift = 4;
inline constexpr std::uint8_t kNackReasonMask = 0x30;
enum class NackReason : std::uint8_t { kGap = 1, kTrimmed = 2, kNoBuffer = 3 };
// CLOSE flags.
inline constexpr std::uint8_t kCloseAck = 0x01;
// CONNECT/ACCEPT capability bits (64-bit bitmap).
inline constexpr std::uint64_t kCapOrdered = 1ULL << 0;
inline constexpr std::uint64_t kCapHdrCsum = 1ULL << 1;
// Why a RESET was sent: no state for the id, wrong nonce, the peer aborted,
// or it refused the CONNECT (not listening / table full).
enum class ResetReason : std::uint8_t { kUnknownConn = 1, kBadNonce = 2, kAborted = 3, kRefused = 4 };

// Every reason a decoder rejects a packet, in one list: it expands into the
// enum, the names and the drop counters (count by reason, then free).
#define SPRAY_SRD_ERRORS(X)                                                   \
  X(ok, "accepted")                                                           \
  X(truncated, "shorter than the fixed header of its type")                  \
  X(bad_version, "version is not 1")                                         \
  X(unknown_type, "type is not one of DATA..RESET")                          \
  X(bad_length, "length does not fit the type (control packet size, empty DATA)") \
  X(bad_checksum, "hdr_csum is set and does not match")                      \
  X(bad_flags, "reserved flag bits set or invalid reason")                   \
  X(bad_segment, "msg_off + payload exceeds msg_len, or msg_len is zero")    \
  X(bad_handshake, "path count, MTU or window out of range")

enum class SrdError : std::uint8_t {
#define SPRAY_SRD_X(name, help) k_##name,
  SPRAY_SRD_ERRORS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
};
inline constexpr std::size_t kSrdErrorCount = 0
#define SPRAY_SRD_X(name, help) +1
    SPRAY_SRD_ERRORS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
    ;
const char* to_string(SrdError e) noexcept;
const char* help(SrdError e) noexcept;

struct SrdDataHdr {
  std::uint8_t flags = 0;
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;
  std::uint32_t psn = 0;
  std::uint16_t path_seq = 0;
  std::uint32_t msg_id = 0;
  std::uint32_t msg_off = 0;
  std::uint32_t msg_len = 0;
  std::uint32_t tx_ts = 0;  // sender clock, ns, low 32 bits
};

// ACK, and NACK (type kNack, nack_psn in ack_psn, reason in flags).
struct SrdAck {
  std::uint8_t flags = 0;
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;
  std::uint32_t cum_psn = 0;
  std::uint32_t ack_psn = 0;
  std::uint32_t echo_ts = 0;
  std::uint32_t rx_delay_ns = 0;
  std::uint16_t sack_off = 0;   // bit i of sack_bits = PSN cum_psn + sack_off + i
  std::uint16_t ce_count = 0;
  std::uint16_t rwnd_pkts = 0;
  std::uint64_t sack_bits = 0;
};

struct SrdHandshake {  // CONNECT and ACCEPT
  std::uint8_t flags = 0;
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;  // 0 in CONNECT
  std::uint32_t src_conn_id = 0;
  std::uint32_t nonce = 0;        // chosen by the initiator, echoed in ACCEPT
  std::uint32_t initial_psn = 0;
  std::uint16_t paths = 0;        // 1..256
  std::uint16_t mtu = 0;
  std::uint64_t caps = 0;
  std::uint16_t rwnd_pkts = 0;
  std::uint32_t tx_ts = 0;
};

struct SrdProbe {  // PROBE and PROBE_ACK
  std::uint8_t flags = 0;
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;
  std::uint32_t nonce = 0;
  std::uint32_t tx_ts = 0;  // echoed unchanged in PROBE_ACK
};

struct SrdClose {
  std::uint8_t flags = 0;  // kCloseAck in the answer
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;
  std::uint32_t nonce = 0;
  std::uint32_t next_psn = 0;  // sender's next PSN: everything below was sent
};

struct SrdReset {
  ResetReason reason = ResetReason::kUnknownConn;
  std::uint16_t path_id = 0;
  std::uint32_t dst_conn_id = 0;  // the receiver's id if known, else 0
  std::uint32_t src_conn_id = 0;  // the id the offending packet was sent to
  std::uint32_t nonce = 0;        // the nonce we hold for it, 0 if none
};

// ---------------------------------------------------------------------------
// Header checksum: 16-bit ones' complement sum over the header with the
// checksum field zero. 0 on the wire means "not used"; a computed 0 is sent
// as 0xffff.
inline std::uint16_t srd_csum(const std::uint8_t* p, std::size_t len,
                              std::size_t csum_off) noexcept {
  // RFC 1071: the ones' complement sum may be taken over wider words in
  // host order and folded; len is a multiple of 4 for every SRD header.
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < len; i += 4) {
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    sum += w;
  }
  // The checksum field counts as zero: take its word's share back out.
  std::uint32_t w;
  std::memcpy(&w, p + (csum_off & ~std::size_t{3}), 4);
  std::uint8_t tmp[4];
  std::memcpy(tmp, &w, 4);
  tmp[csum_off & 3] = 0;
  tmp[(csum_off & 3) + 1] = 0;
  std::uint32_t w0;
  std::memcpy(&w0, tmp, 4);
  sum -= w - w0;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  std::uint16_t folded = static_cast<std::uint16_t>(sum);
  if constexpr (std::endian::native == std::endian::little)
    folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
  const auto c = static_cast<std::uint16_t>(~folded);
  return c == 0 ? 0xffff : c;
}

inline bool srd_csum_ok(const std::uint8_t* p, std::size_t len, std::size_t csum_off) noexcept {
  const std::uint16_t got = load_be16(p + csum_off);
  return got == 0 || got == srd_csum(p, len, csum_off);
}

// The first byte: version (high nibble) and type (low nibble).
inline std::uint8_t srd_vt(SrdType t) noexcept {
  return static_cast<std::uint8_t>((kSrdVersion << 4) | static_cast<std::uint8_t>(t));
}

// Reads version and type only. The full decoders re-check them.
inline SrdError srd_peek_type(std::span<const std::uint8_t> p, SrdType& type) noexcept {
  if (p.size() < 4) return SrdError::k_truncated;
  if ((p[0] >> 4) != kSrdVersion) return SrdError::k_bad_version;
  const std::uint8_t t = p[0] & 0x0f;
  if (t == 0 || t > kSrdTypeMax) return SrdError::k_unknown_type;
  type = static_cast<SrdType>(t);
  return SrdError::k_ok;
}

// ---------------------------------------------------------------------------
// DATA: header at p[0..32), payload follows. Writes the header only (the
// caller places the payload at out[32..]); returns 32, or 0 if `out` is too
// small. `csum` fills hdr_csum.
inline std::size_t encode_srd_data(std::span<std::uint8_t> out, const SrdDataHdr& h,
                                   bool csum) noexcept {
  if (out.size() < kSrdDataHdrLen) return 0;
  std::uint8_t* p = out.data();
  p[0] = srd_vt(SrdType::kData);
  p[1] = h.flags;
  store_be16(p + 2, h.path_id);
  store_be32(p + 4, h.dst_conn_id);
  store_be32(p + 8, h.psn);
  store_be16(p + 12, h.path_seq);
  store_be16(p + 14, 0);
  store_be32(p + 16, h.msg_id);
  store_be32(p + 20, h.msg_off);
  store_be32(p + 24, h.msg_len);
  store_be32(p + 28, h.tx_ts);
  if (csum) store_be16(p + 14, srd_csum(p, kSrdDataHdrLen, 14));
  return kSrdDataHdrLen;
}

// Decodes a whole DATA packet; `payload` is the bytes after the header.
inline SrdError decode_srd_data(std::span<const std::uint8_t> pkt, SrdDataHdr& h,
                                std::span<const std::uint8_t>& payload) noexcept {
  if (pkt.size() < kSrdDataHdrLen) return SrdError::k_truncated;
  const std::uint8_t* p = pkt.data();
  if ((p[0] >> 4) != kSrdVersion) return SrdError::k_bad_version;
  if ((p[0] & 0x0f) != static_cast<std::uint8_t>(SrdType::kData)) return SrdError::k_unknown_type;
  if (!srd_csum_ok(p, kSrdDataHdrLen, 14)) return SrdError::k_bad_checksum;
  h.flags = p[1];
  if (h.flags & ~kDataFlagsMask) return SrdError::k_bad_flags;
  h.path_id = load_be16(p + 2);
  h.dst_conn_id = load_be32(p + 4);
  h.psn = load_be32(p + 8);
  h.path_seq = load_be16(p + 12);
  h.msg_id = load_be32(p + 16);
  h.msg_off = load_be32(p + 20);
  h.msg_len = load_be32(p + 24);
  h.tx_ts = load_be32(p + 28);
  payload = pkt.subspan(kSrdDataHdrLen);
  if (payload.empty()) return SrdError::k_bad_length;
  if (h.msg_len == 0 || h.msg_off > h.msg_len || payload.size() > h.msg_len - h.msg_off)
    return SrdError::k_bad_segment;
  return SrdError::k_ok;
}

// ---------------------------------------------------------------------------
// ACK / NACK (40 bytes; hdr_csum in the reserved field at offset 30).
inline std::size_t encode_srd_ack(std::span<std::uint8_t> out, const SrdAck& a, bool nack,
                                  bool csum) noexcept {
  if (out.size() < kSrdAckLen) return 0;
  std::uint8_t* p = out.data();
  p[0] = srd_vt(nack ? SrdType::kNack : SrdType::kAck);
  p[1] = a.flags;
  store_be16(p + 2, a.path_id);
  store_be32(p + 4, a.dst_conn_id);
  store_be32(p + 8, a.cum_psn);
  store_be32(p + 12, a.ack_psn);
  store_be32(p + 16, a.echo_ts);
  store_be32(p + 20, a.rx_delay_ns);
  store_be16(p + 24, a.sack_off);
  store_be16(p + 26, a.ce_count);
  store_be16(p + 28, a.rwnd_pkts);
  store_be16(p + 30, 0);
  store_be32(p + 32, static_cast<std::uint32_t>(a.sack_bits >> 32));
  store_be32(p + 36, static_cast<std::uint32_t>(a.sack_bits));
  if (csum) store_be16(p + 30, srd_csum(p, kSrdAckLen, 30));
  return kSrdAckLen;
}

inline SrdError decode_srd_ack(std::span<const std::uint8_t> pkt, SrdAck& a, bool& nack) noexcept {
  if (pkt.size() < kSrdAckLen) return SrdError::k_truncated;
  const std::uint8_t* p = pkt.data();
  if ((p[0] >> 4) != kSrdVersion) return SrdError::k_bad_version;
  const std::uint8_t t = p[0] & 0x0f;
  if (t != static_cast<std::uint8_t>(SrdType::kAck) && t != static_cast<std::uint8_t>(SrdType::kNack))
    return SrdError::k_unknown_type;
  if (pkt.size() != kSrdAckLen) return SrdError::k_bad_length;
  if (!srd_csum_ok(p, kSrdAckLen, 30)) return SrdError::k_bad_checksum;
  nack = t == static_cast<std::uint8_t>(SrdType::kNack);
  a.flags = p[1];
  // ACK_LOST answers a duplicate: a NACK never carries it.
  const std::uint8_t allowed =
      nack ? static_cast<std::uint8_t>((kAckFlagsMask & ~kAckLost) | kNackReasonMask) : kAckFlagsMask;
  if (a.flags & ~allowed) return SrdError::k_bad_flags;
  if (nack && (a.flags & kNackReasonMask) == 0) return SrdError::k_bad_flags;
  a.path_id = load_be16(p + 2);
  a.dst_conn_id = load_be32(p + 4);
  a.cum_psn = load_be32(p + 8);
  a.ack_psn = load_be32(p + 12);
  a.echo_ts = load_be32(p + 16);
  a.rx_delay_ns = load_be32(p + 20);
  a.sack_off = load_be16(p + 24);
  a.ce_count = load_be16(p + 26);
  a.rwnd_pkts = load_be16(p + 28);
  a.sack_bits = (std::uint64_t{load_be32(p + 32)} << 32) | load_be32(p + 36);
  return SrdError::k_ok;
}

inline NackReason nack_reason(const SrdAck& a) noexcept {
  return static_cast<NackReason>((a.flags & kNackReasonMask) >> kNackReasonShift);
}

// ---------------------------------------------------------------------------
// Control packets (cold path). Encoders return the bytes written or 0 when
// `out` is too small; `type` selects CONNECT/ACCEPT resp. PROBE/PROBE_ACK.
std::size_t encode_srd_handshake(std::span<std::uint8_t> out, SrdType type,
                                 const SrdHandshake& h, bool csum) noexcept;
std::size_t encode_srd_probe(std::span<std::uint8_t> out, SrdType type, const SrdProbe& h,
                             bool csum) noexcept;
std::size_t encode_srd_close(std::span<std::uint8_t> out, const SrdClose& h, bool csum) noexcept;
std::size_t encode_srd_reset(std::span<std::uint8_t> out, const SrdReset& h, bool csum) noexcept;

// Any SRD packet, decoded by type. Only the member for `type` is meaningful.
struct SrdPacket {
  SrdType type = SrdType::kData;
  SrdDataHdr data;
  std::span<const std::uint8_t> payload;  // DATA only
  SrdAck ack;                             // ACK and NACK
  SrdHandshake hs;                        // CONNECT and ACCEPT
  SrdProbe probe;                         // PROBE and PROBE_ACK
  SrdClose close;
  SrdReset reset;
};
SrdError decode_srd(std::span<const std::uint8_t> pkt, SrdPacket& out) noexcept;

}  // namespace spray::wire
