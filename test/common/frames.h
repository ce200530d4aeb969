// SPDX-License-Identifier: BSD-3-Clause
// Frame and packet builders shared by the tests of every suite: byte vectors
// written through lib/wire's own writers, so a test builds what a peer would
// send. No DPDK (mbuf_frames.h puts a frame in an mbuf), no test framework
// (the fuzz targets use it too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/ether.h"
#include "wire/frame.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/srd.h"

namespace spray::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint16_t kTestEtherType = 0x88b5;  // IEEE local experimental

// 64 bytes: Ethernet header ([802.1Q tag] when vlan is set), then `seq` in
// host order, then zeros. A switch forwards it by its header alone.
inline Bytes seq_frame(wire::Mac dst, wire::Mac src, std::uint32_t seq,
                       std::uint16_t vlan = wire::kVlanNone) {
  Bytes f(64, 0);
  const auto n = wire::write_eth(f, dst, src, kTestEtherType, vlan);
  std::memcpy(f.data() + n, &seq, sizeof seq);
  return f;
}

// Ethernet/[802.1Q]/IPv4/UDP around `payload`, written by the template the
// data path uses.
inline Bytes udp_frame(const wire::UdpFlow& flow, std::uint16_t src_port,
                       std::span<const std::uint8_t> payload, wire::Ecn ecn = wire::Ecn::kNotEct) {
  const wire::UdpFrameTemplate t(flow);
  Bytes f(t.header_len() + payload.size());
  std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(t.header_len()));
  f.resize(t.write(f, src_port, payload.size(), ecn));
  return f;
}

struct IcmpSpec {
  wire::Mac dst_mac, src_mac;
  std::uint32_t src_ip = 0, dst_ip = 0;
  std::uint8_t type = 0;
  std::uint16_t id = 0, seq = 0;
  std::uint8_t ttl = 64;
  std::uint16_t vlan = wire::kVlanNone;
};

// Ethernet/[802.1Q]/IPv4/ICMP: an 8-byte ICMP header (type, code 0, checksum,
// id, sequence) and `payload`.
inline Bytes icmp_frame(const IcmpSpec& s, std::span<const std::uint8_t> payload) {
  const std::size_t icmp_len = wire::kIcmpHdrLen + payload.size();
  Bytes f(wire::kEthHdrLen + wire::kVlanTagLen + wire::kIpv4MinHdrLen + icmp_len, 0);
  const std::size_t l2 = wire::write_eth(f, s.dst_mac, s.src_mac, wire::kEtherTypeIpv4, s.vlan);
  wire::Ipv4Fields ip;
  ip.src = s.src_ip;
  ip.dst = s.dst_ip;
  ip.proto = wire::kIpProtoIcmp;
  ip.ttl = s.ttl;
  wire::write_ipv4(std::span(f).subspan(l2), ip, icmp_len);
  std::uint8_t* m = f.data() + l2 + wire::kIpv4MinHdrLen;
  m[0] = s.type;
  wire::store_be16(m + 4, s.id);
  wire::store_be16(m + 6, s.seq);
  std::copy(payload.begin(), payload.end(), m + wire::kIcmpHdrLen);
  wire::store_be16(m + 2, wire::internet_checksum({m, icmp_len}));
  f.resize(l2 + wire::kIpv4MinHdrLen + icmp_len);
  return f;
}

inline Bytes arp_request(wire::Mac from_mac, std::uint32_t from_ip, std::uint32_t target) {
  Bytes f(64);
  f.resize(wire::build_arp_request(f, from_mac, from_ip, target));
  return f;
}

inline Bytes arp_reply(wire::Mac from_mac, std::uint32_t from_ip, wire::Mac to_mac, std::uint32_t to_ip) {
  Bytes f(64);
  f.resize(wire::build_arp_reply(f, from_mac, from_ip, to_mac, to_ip));
  return f;
}

// SRD packets (UDP payloads), with the checksum unless `csum` is false.

// A DATA header and `payload` bytes of 0x5a.
inline Bytes srd_data(const wire::SrdDataHdr& h, std::size_t payload, bool csum = true) {
  Bytes b(wire::kSrdDataHdrLen + payload, 0x5a);
  wire::encode_srd_data(b, h, csum);
  return b;
}

inline Bytes srd_data(std::uint32_t dst_conn, std::uint32_t psn, std::uint32_t msg_id, std::uint32_t msg_len,
                      std::uint32_t msg_off, std::size_t payload,
                      std::uint8_t flags = wire::kDataSom | wire::kDataEom) {
  wire::SrdDataHdr h;
  h.flags = flags;
  h.dst_conn_id = dst_conn;
  h.psn = psn;
  h.msg_id = msg_id;
  h.msg_len = msg_len;
  h.msg_off = msg_off;
  return srd_data(h, payload);
}

inline Bytes srd_ack(std::uint32_t dst_conn, std::uint32_t cum_psn, std::uint32_t ack_psn,
                     std::uint64_t sack = 0, bool nack = false) {
  wire::SrdAck a;
  a.dst_conn_id = dst_conn;
  a.cum_psn = cum_psn;
  a.ack_psn = ack_psn;
  a.sack_bits = sack;
  a.rwnd_pkts = 1;
  if (nack) a.flags = static_cast<std::uint8_t>(1u << wire::kNackReasonShift);
  Bytes b(wire::kSrdAckLen);
  wire::encode_srd_ack(b, a, nack, true);
  return b;
}

inline Bytes srd_probe(wire::SrdType t, std::uint32_t dst_conn, std::uint32_t nonce) {
  wire::SrdProbe p;
  p.dst_conn_id = dst_conn;
  p.nonce = nonce;
  p.tx_ts = 12345;
  Bytes b(wire::kSrdProbeLen);
  b.resize(wire::encode_srd_probe(b, t, p, true));
  return b;
}

inline Bytes srd_close(std::uint32_t dst_conn, std::uint32_t nonce, bool ack) {
  wire::SrdClose c;
  c.flags = ack ? wire::kCloseAck : 0;
  c.dst_conn_id = dst_conn;
  c.nonce = nonce;
  Bytes b(wire::kSrdCloseLen);
  b.resize(wire::encode_srd_close(b, c, true));
  return b;
}

inline Bytes srd_reset(std::uint32_t dst_conn, std::uint32_t src_conn, std::uint32_t nonce,
                       wire::ResetReason r) {
  wire::SrdReset h;
  h.reason = r;
  h.dst_conn_id = dst_conn;
  h.src_conn_id = src_conn;
  h.nonce = nonce;
  Bytes b(wire::kSrdResetLen);
  b.resize(wire::encode_srd_reset(b, h, true));
  return b;
}

inline Bytes srd_handshake(wire::SrdType t, std::uint32_t dst_conn, std::uint32_t src_conn,
                           std::uint32_t nonce, std::uint16_t paths = 8) {
  wire::SrdHandshake h;
  h.dst_conn_id = dst_conn;
  h.src_conn_id = src_conn;
  h.nonce = nonce;
  h.initial_psn = 1000;
  h.paths = paths;
  h.mtu = 1500;
  h.rwnd_pkts = 64;
  Bytes b(wire::kSrdHandshakeLen);
  b.resize(wire::encode_srd_handshake(b, t, h, true));
  return b;
}

}  // namespace spray::test
