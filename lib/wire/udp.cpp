// SPDX-License-Identifier: BSD-3-Clause
#include "wire/udp.h"

namespace spray::wire {

bool fill_udp_checksum(std::span<std::uint8_t> datagram, std::uint32_t src_ip,
                       std::uint32_t dst_ip) noexcept {
  if (datagram.size() < kUdpHdrLen) return false;
  const std::uint16_t length = load_be16(datagram.data() + kUdpOffLen);
  if (length < kUdpHdrLen || length > datagram.size()) return false;
  store_be16(datagram.data() + kUdpOffCsum, 0);
  std::uint16_t csum = internet_checksum(datagram.first(length),
                                         ipv4_pseudo_sum(src_ip, dst_ip, kIpProtoUdp, length));
  // RFC 768: a computed zero is transmitted as all ones; zero means "none".
  if (csum == 0) csum = 0xffff;
  store_be16(datagram.data() + kUdpOffCsum, csum);
  return true;
}

}  // namespace spray::wire
