// SPDX-License-Identifier: BSD-3-Clause
// In-place IPv4 edits of the switch (TTL decrement, CE marking) on valid
// headers: after every edit the header must still verify, and be byte for
// byte what a full checksum recompute gives, with only TTL or ECN changed.
//
// Input: byte 0 steers the edits; the rest is a frame. Frames whose IPv4
// header is valid but for its checksum get the checksum repaired first, so
// the fuzzer explores header contents (options, TTLs, the 0x0000 checksum
// corner) freely. Inputs of 24+ bytes also describe a flow for
// UdpFrameTemplate, whose frames are edited the same way.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "wire/frame.h"
#include "wire/ipv4.h"

using namespace spray::wire;

namespace {

// Header bytes other than TOS, TTL and checksum must never change.
bool same_except_tos_ttl_csum(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i == kIpv4OffTos || i == kIpv4OffTtl || i == kIpv4OffCsum || i == kIpv4OffCsum + 1) continue;
    if (a[i] != b[i]) return false;
  }
  return true;
}

void check_canonical(std::span<const std::uint8_t> hdr) {
  std::array<std::uint8_t, kIpv4MaxHdrLen> fresh{};
  std::memcpy(fresh.data(), hdr.data(), hdr.size());
  WIRE_FUZZ_CHECK(refresh_ipv4_checksum(std::span(fresh).first(hdr.size())));
  WIRE_FUZZ_CHECK(std::memcmp(fresh.data(), hdr.data(), hdr.size()) == 0);
}

// Runs the edits on the frame's IPv4 header (which parses, given `info`).
void edit_and_check(std::vector<std::uint8_t>& frame, const FrameInfo& info, WireError parsed,
                    std::uint8_t steer) {
  const auto ip = std::span(frame).subspan(info.l3_offset);
  const std::size_t hdr_len = std::size_t{info.l4_offset} - info.l3_offset;
  const std::vector<std::uint8_t> original(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(hdr_len));
  const auto hdr = ip.first(hdr_len);

  Ecn ecn = info.ecn;
  std::uint8_t ttl = info.ttl;
  const bool mark_first = steer & 1;
  const int decrements = steer >> 1;  // up to 127; TTL 1 stops it earlier
  auto mark = [&] {
    const CeMark m = set_ecn_ce(ip);
    if (ecn == Ecn::kNotEct) {
      WIRE_FUZZ_CHECK(m == CeMark::kNotEct);
    } else if (ecn == Ecn::kCe) {
      WIRE_FUZZ_CHECK(m == CeMark::kAlreadyCe);
    } else {
      WIRE_FUZZ_CHECK(m == CeMark::kMarked);
      ecn = Ecn::kCe;
    }
  };
  auto verify = [&] {
    check_canonical(hdr);
    WIRE_FUZZ_CHECK(same_except_tos_ttl_csum(hdr, original));
    FrameInfo after;
    WIRE_FUZZ_CHECK(parse_frame(frame, after) == parsed);
    WIRE_FUZZ_CHECK(after.ttl == ttl && after.ecn == ecn && after.dscp == info.dscp);
    WIRE_FUZZ_CHECK(after.src_ip == info.src_ip && after.dst_ip == info.dst_ip);
    WIRE_FUZZ_CHECK(after.payload_len == info.payload_len && after.src_port == info.src_port);
  };

  if (mark_first) {
    mark();
    verify();
  }
  for (int i = 0; i < decrements; ++i) {
    const bool ok = decrement_ttl(ip);
    WIRE_FUZZ_CHECK(ok == (ttl > 1));
    if (!ok) break;
    --ttl;
    verify();
  }
  if (!mark_first) {
    mark();
    verify();
  }
}

// Makes the frame's IPv4 checksum right if the header is otherwise valid.
// Returns the parse result afterwards.
WireError repair(std::vector<std::uint8_t>& frame, FrameInfo& info) {
  FrameInfo raw;
  const WireError e = parse_frame(frame, raw, FrameVerify::kSkipChecksums);
  if (!raw.is_ipv4() || raw.l4_offset == 0) return e;
  refresh_ipv4_checksum(std::span(frame).subspan(raw.l3_offset));
  return parse_frame(frame, info);
}

// A template flow from input bytes: every field comes from the fuzzer.
UdpFlow flow_from(std::span<const std::uint8_t> b) {
  UdpFlow flow;
  flow.src_mac = Mac{load_be32(b.data()) | (std::uint64_t{load_be16(b.data() + 4)} << 32)};
  flow.dst_mac = Mac{load_be32(b.data() + 6) | (std::uint64_t{load_be16(b.data() + 10)} << 32)};
  flow.src_ip = load_be32(b.data() + 12);
  flow.dst_ip = load_be32(b.data() + 16);
  flow.dst_port = load_be16(b.data() + 20);
  flow.ttl = b[22];
  flow.dscp = b[23] >> 2;
  const std::uint16_t vlan = load_be16(b.data() + 20) % (kVlanMax + 1);
  flow.vlan = (b[23] & 1) ? vlan : kVlanNone;
  flow.udp_checksum = b[23] & 2;
  return flow;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t steer = data[0];

  std::vector<std::uint8_t> frame(data + 1, data + size);
  FrameInfo info;
  const WireError e = repair(frame, info);
  if (e == WireError::kOk || e == WireError::kFragment) {
    if (info.is_ipv4()) edit_and_check(frame, info, e, steer);
  }

  if (size >= 1 + 24) {
    const UdpFrameTemplate t(flow_from({data + 1, 24}));
    const std::size_t payload_len = size - 25;
    std::vector<std::uint8_t> out(t.header_len() + payload_len);
    std::memcpy(out.data() + t.header_len(), data + 25, payload_len);
    const std::size_t n = t.write(out, load_be16(data + 1), payload_len, static_cast<Ecn>(steer & 3));
    WIRE_FUZZ_CHECK(n == out.size());
    FrameInfo tinfo;
    WIRE_FUZZ_CHECK(parse_frame(out, tinfo) == WireError::kOk);
    edit_and_check(out, tinfo, WireError::kOk, steer);
  }
  return 0;
}
