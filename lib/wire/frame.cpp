// SPDX-License-Identifier: BSD-3-Clause
#include "wire/frame.h"

namespace spray::wire {

UdpFrameTemplate::UdpFrameTemplate(const UdpFlow& flow_in) noexcept
    : udp_checksum_(flow_in.udp_checksum) {
  UdpFlow flow = flow_in;
  flow.dscp &= 0x3f;
  flow.vlan &= 0x0fff;
  flow.pcp &= 0x7;
  const std::span<std::uint8_t> h(hdr_);
  l3_offset_ = static_cast<std::uint8_t>(
      write_eth(h, flow.dst_mac, flow.src_mac, kEtherTypeIpv4, flow.vlan, flow.pcp));
  hdr_len_ = static_cast<std::uint8_t>(l3_offset_ + kIpv4MinHdrLen + kUdpHdrLen);
  tos_base_ = static_cast<std::uint8_t>(flow.dscp << 2);

  // Lay the headers out with the per-packet fields zero; their words are
  // added back per packet. The version/IHL byte is the high half of the
  // word holding TOS, so it is part of the base and TOS is added alone.
  const auto ip = h.subspan(l3_offset_, kIpv4MinHdrLen);
  Ipv4Fields f;
  f.src = flow.src_ip;
  f.dst = flow.dst_ip;
  f.proto = kIpProtoUdp;
  f.ttl = flow.ttl;
  write_ipv4(ip, f, 0);
  store_be16(ip.data() + kIpv4OffTotalLen, 0);
  store_be16(ip.data() + kIpv4OffCsum, 0);
  ip_sum_base_ = csum_partial(ip);

  const auto udp = h.subspan(l3_offset_ + kIpv4MinHdrLen, kUdpHdrLen);
  write_udp(udp, 0, flow.dst_port, 0);
  store_be16(udp.data() + kUdpOffLen, 0);
  udp_sum_base_ = ipv4_pseudo_sum(flow.src_ip, flow.dst_ip, kIpProtoUdp, 0) + flow.dst_port;
}

}  // namespace spray::wire
