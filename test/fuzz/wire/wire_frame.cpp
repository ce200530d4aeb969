// SPDX-License-Identifier: BSD-3-Clause
// Arbitrary bytes through every lib/wire parser. Beyond "no crash, no read
// past the end" (the sanitizers' part), it checks that what parses is
// consistent: offsets inside the frame, and re-encoding the parsed fields
// gives a frame that parses back to the same fields.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "wire/arp.h"
#include "wire/frame.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

using namespace spray::wire;

namespace {

void check_offsets(std::span<const std::uint8_t> f, const FrameInfo& info, WireError e) {
  WIRE_FUZZ_CHECK(info.l3_offset == kEthHdrLen || info.l3_offset == kEthHdrLen + kVlanTagLen);
  WIRE_FUZZ_CHECK(info.l3_offset <= f.size());
  if (!info.is_ipv4()) return;
  const std::size_t l3_end = std::size_t{info.l3_offset} + info.ip_total_len;
  WIRE_FUZZ_CHECK(l3_end <= f.size());
  WIRE_FUZZ_CHECK(info.l4_offset >= info.l3_offset + kIpv4MinHdrLen);
  WIRE_FUZZ_CHECK(info.l4_offset <= l3_end);
  WIRE_FUZZ_CHECK(info.payload_offset >= info.l4_offset);
  WIRE_FUZZ_CHECK(std::size_t{info.payload_offset} + info.payload_len <= l3_end);
  if (info.is_udp() && e == WireError::kOk) {
    WIRE_FUZZ_CHECK(info.payload_offset == info.l4_offset + kUdpHdrLen);
  }
}

// Rebuilds a UDP frame from the parsed fields and parses it again.
void check_udp_reencode(std::span<const std::uint8_t> f, const FrameInfo& info) {
  UdpFlow flow;
  flow.src_mac = info.eth.src;
  flow.dst_mac = info.eth.dst;
  flow.src_ip = info.src_ip;
  flow.dst_ip = info.dst_ip;
  flow.dst_port = info.dst_port;
  flow.ttl = info.ttl;
  flow.dscp = info.dscp;
  flow.vlan = info.eth.vlan;
  flow.pcp = info.eth.pcp;
  flow.udp_checksum = (f.size() & 1) != 0;  // both ways, chosen by the input
  const UdpFrameTemplate t(flow);
  std::vector<std::uint8_t> out(t.header_len() + info.payload_len);
  const auto payload = f.subspan(info.payload_offset, info.payload_len);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(t.header_len()));
  WIRE_FUZZ_CHECK(t.write(out, info.src_port, info.payload_len, info.ecn) == out.size());
  FrameInfo again;
  WIRE_FUZZ_CHECK(parse_frame(out, again) == WireError::kOk);
  WIRE_FUZZ_CHECK(again.eth.src == info.eth.src && again.eth.dst == info.eth.dst);
  WIRE_FUZZ_CHECK(again.eth.vlan == info.eth.vlan);
  WIRE_FUZZ_CHECK(again.src_ip == info.src_ip && again.dst_ip == info.dst_ip);
  WIRE_FUZZ_CHECK(again.src_port == info.src_port && again.dst_port == info.dst_port);
  WIRE_FUZZ_CHECK(again.ttl == info.ttl && again.dscp == info.dscp && again.ecn == info.ecn);
  WIRE_FUZZ_CHECK(again.payload_len == info.payload_len);
  WIRE_FUZZ_CHECK(std::equal(payload.begin(), payload.end(), out.begin() + again.payload_offset));
}

void check_arp(std::span<const std::uint8_t> f, const FrameInfo& info) {
  std::array<std::uint8_t, kEthHdrLen + kVlanTagLen + kArpLen> out{};
  const std::size_t l2 = write_eth(out, info.eth.dst, info.eth.src, kEtherTypeArp, info.eth.vlan);
  WIRE_FUZZ_CHECK(l2 != 0);
  WIRE_FUZZ_CHECK(write_arp(std::span(out).subspan(l2), info.arp) == kArpLen);
  FrameInfo again;
  WIRE_FUZZ_CHECK(parse_frame(std::span(out).first(l2 + kArpLen), again) == WireError::kOk);
  WIRE_FUZZ_CHECK(again.arp.op == info.arp.op && again.arp.sha == info.arp.sha &&
                  again.arp.spa == info.arp.spa && again.arp.tha == info.arp.tha &&
                  again.arp.tpa == info.arp.tpa);

  std::vector<std::uint8_t> copy(f.begin(), f.end());
  const Mac mine{0x02'00'00'00'00'01ULL};
  const WireError e = arp_request_to_reply(copy, mine);
  if (info.arp.op == ArpOp::kRequest) {
    WIRE_FUZZ_CHECK(e == WireError::kOk);
    WIRE_FUZZ_CHECK(parse_frame(copy, again) == WireError::kOk);
    WIRE_FUZZ_CHECK(again.arp.op == ArpOp::kReply && again.arp.sha == mine &&
                    again.arp.spa == info.arp.tpa && again.arp.tpa == info.arp.spa);
  } else {
    WIRE_FUZZ_CHECK(e == WireError::kBadArpOp);
    WIRE_FUZZ_CHECK(std::equal(copy.begin(), copy.end(), f.begin()));
  }
}

void check_icmp(std::span<const std::uint8_t> f, const FrameInfo& info) {
  IcmpView icmp;
  const WireError e = parse_icmp(f.subspan(info.l4_offset, info.payload_len), icmp);
  std::vector<std::uint8_t> copy(f.begin(), f.end());
  const WireError re = icmp_echo_to_reply(copy);
  if (e == WireError::kOk && icmp.type == kIcmpEchoRequest) {
    WIRE_FUZZ_CHECK(re == WireError::kOk);
    FrameInfo again;
    WIRE_FUZZ_CHECK(parse_frame(copy, again) == WireError::kOk);
    WIRE_FUZZ_CHECK(again.src_ip == info.dst_ip && again.dst_ip == info.src_ip);
    IcmpView reply;
    WIRE_FUZZ_CHECK(parse_icmp(std::span(copy).subspan(again.l4_offset, again.payload_len), reply) ==
                    WireError::kOk);
    WIRE_FUZZ_CHECK(reply.type == kIcmpEchoReply && reply.rest == icmp.rest);
  } else {
    WIRE_FUZZ_CHECK(re != WireError::kOk);
    WIRE_FUZZ_CHECK(std::equal(copy.begin(), copy.end(), f.begin()));
  }
}

void check_icmp_error(std::span<const std::uint8_t> f, const FrameInfo& info) {
  const auto l3 = f.subspan(info.l3_offset);
  (void)icmp_error_allowed(l3);
  std::array<std::uint8_t, 256> out{};
  const IcmpErrorAddr addr{Mac{0x02'00'00'00'00'fe}, info.eth.src, 0x0a0000fe, info.eth.vlan};
  const std::size_t n = build_icmp_time_exceeded(out, addr, l3);
  WIRE_FUZZ_CHECK(n != 0);
  FrameInfo err;
  WIRE_FUZZ_CHECK(parse_frame(std::span(out).first(n), err) == WireError::kOk);
  WIRE_FUZZ_CHECK(err.ip_proto == kIpProtoIcmp && err.dst_ip == info.src_ip);
  IcmpView icmp;
  WIRE_FUZZ_CHECK(parse_icmp(std::span(out).subspan(err.l4_offset, err.payload_len), icmp) ==
                  WireError::kOk);
  WIRE_FUZZ_CHECK(icmp.type == kIcmpTimeExceeded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size copy, so a read past the end is a sanitizer report.
  const std::vector<std::uint8_t> buf(data, data + size);
  const std::span<const std::uint8_t> f(buf);

  // The layer parsers on raw bytes, as if the frame were any layer.
  Ipv4View ip;
  (void)parse_ipv4(f, ip);
  UdpView udp;
  (void)parse_udp(f, 0x0a000001, 0x0a000002, udp);
  ArpView arp;
  (void)parse_arp(f, arp);
  IcmpView icmp;
  (void)parse_icmp(f, icmp);
  (void)icmp_error_allowed(f);

  FrameInfo info;
  const WireError e = parse_frame(f, info);
  FrameInfo trusting;
  const WireError te = parse_frame(f, trusting, FrameVerify::kSkipChecksums);
  // Skipping checks can only accept more.
  if (e == WireError::kOk) WIRE_FUZZ_CHECK(te == WireError::kOk);
  if (e != WireError::kOk && e != WireError::kFragment) return 0;
  check_offsets(f, info, e);
  if (info.is_arp()) {
    check_arp(f, info);
    return 0;
  }
  check_icmp_error(f, info);
  if (e == WireError::kFragment) return 0;
  if (info.is_udp()) check_udp_reencode(f, info);
  if (info.ip_proto == kIpProtoIcmp) check_icmp(f, info);
  return 0;
}
