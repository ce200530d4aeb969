// SPDX-License-Identifier: BSD-3-Clause
#include "wire/arp.h"

#include "wire/frame.h"

namespace spray::wire {

namespace {

std::size_t build_arp(std::span<std::uint8_t> out, Mac eth_dst, std::uint16_t vlan,
                      const ArpView& a) noexcept {
  const std::size_t l2 = write_eth(out, eth_dst, a.sha, kEtherTypeArp, vlan);
  if (l2 == 0 || out.size() < l2 + kArpLen) return 0;
  return l2 + write_arp(out.subspan(l2), a);
}

}  // namespace

std::size_t build_arp_request(std::span<std::uint8_t> out, Mac src_mac, std::uint32_t src_ip,
                              std::uint32_t target_ip, std::uint16_t vlan) noexcept {
  return build_arp(out, Mac::broadcast(), vlan,
                   ArpView{ArpOp::kRequest, src_mac, src_ip, Mac{}, target_ip});
}

std::size_t build_arp_reply(std::span<std::uint8_t> out, Mac src_mac, std::uint32_t src_ip,
                            Mac dst_mac, std::uint32_t dst_ip, std::uint16_t vlan) noexcept {
  return build_arp(out, dst_mac, vlan, ArpView{ArpOp::kReply, src_mac, src_ip, dst_mac, dst_ip});
}

WireError arp_request_to_reply(std::span<std::uint8_t> frame, Mac my_mac) noexcept {
  EthView eth;
  if (const EthError e = parse_eth(frame, eth); e != EthError::kOk) return to_wire_error(e);
  if (eth.ether_type != kEtherTypeArp) return WireError::kUnsupportedEthertype;
  const auto pkt = frame.subspan(eth.l3_offset);
  ArpView req;
  if (const WireError e = parse_arp(pkt, req); e != WireError::kOk) return e;
  if (req.op != ArpOp::kRequest) return WireError::kBadArpOp;
  // Ethernet: back to the requester as it named itself in the ARP body.
  req.sha.store(frame.data());
  my_mac.store(frame.data() + 6);
  write_arp(pkt, ArpView{ArpOp::kReply, my_mac, req.tpa, req.sha, req.spa});
  return WireError::kOk;
}

}  // namespace spray::wire
