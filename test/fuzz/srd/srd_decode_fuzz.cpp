// SPDX-License-Identifier: BSD-3-Clause
// Fuzz target: the SRD header decoder on arbitrary bytes. It must never read
// past the span, and whatever it accepts must re-encode to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "wire/srd.h"

using namespace spray::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so an over-read hits the heap redzone.
  std::vector<std::uint8_t> pkt(data, data + size);
  SrdPacket p;
  const SrdError e = decode_srd(pkt, p);
  if (static_cast<std::size_t>(e) >= kSrdErrorCount) std::abort();
  if (e != SrdError::k_ok) return 0;
  std::uint8_t out[kSrdMaxHdrLen];
  switch (p.type) {
    case SrdType::kData: {
      if (p.payload.data() != pkt.data() + kSrdDataHdrLen ||
          p.payload.size() != size - kSrdDataHdrLen)
        std::abort();
      if (p.data.msg_off + p.payload.size() > p.data.msg_len) std::abort();
      encode_srd_data(std::span(out, kSrdDataHdrLen), p.data, false);
      // Same fields except the checksum (offset 14).
      if (std::memcmp(out + 1, pkt.data() + 1, 13) != 0 ||
          std::memcmp(out + 16, pkt.data() + 16, 16) != 0)
        std::abort();
      break;
    }
    case SrdType::kAck:
    case SrdType::kNack:
      encode_srd_ack(std::span(out, kSrdAckLen), p.ack, p.type == SrdType::kNack, false);
      if (std::memcmp(out, pkt.data(), 30) != 0 || std::memcmp(out + 32, pkt.data() + 32, 8) != 0)
        std::abort();
      break;
    default:
      break;
  }
  return 0;
}
