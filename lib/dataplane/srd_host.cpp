// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/srd_host.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <cstdio>

#include "wire/arp.h"
#include "wire/icmp.h"
#include "wire/srd.h"

namespace spray::dp {

SrdHostPipeline::SrdHostPipeline(const SrdHostConfig& cfg, const srd::EndpointConfig& ep_cfg,
                                 std::uint16_t port_index, std::uint64_t port_mac, rte_mempool* pool,
                                 TscClock clock)
    : cfg_(cfg), ep_(ep_cfg), port_(port_index), mac_{port_mac}, pool_(pool), clock_(clock) {
  neighbors_.reserve(64);
  if (cfg_.peer_ip && cfg_.peer_mac) learn(next_hop(cfg_.peer_ip), *cfg_.peer_mac);
  if (!cfg_.peer_ip) peer_state_.store(NeighborState::kResolved, std::memory_order_release);
}

SrdHostPipeline::~SrdHostPipeline() {
  if (stash_n_) rte_pktmbuf_free_bulk(stash_, stash_n_);
}

std::uint32_t SrdHostPipeline::next_hop(std::uint32_t ip) const noexcept {
  const std::uint32_t mask = cfg_.prefix_len ? ~std::uint32_t{0} << (32 - cfg_.prefix_len) : 0;
  if (cfg_.gateway && (ip & mask) != (cfg_.ip & mask)) return cfg_.gateway;
  return ip;
}

SrdHostPipeline::Neighbor* SrdHostPipeline::neighbor(std::uint32_t ip) noexcept {
  if (last_neighbor_ < neighbors_.size() && neighbors_[last_neighbor_].ip == ip)
    return &neighbors_[last_neighbor_];
  for (std::size_t i = 0; i < neighbors_.size(); ++i)
    if (neighbors_[i].ip == ip) {
      last_neighbor_ = i;
      return &neighbors_[i];
    }
  return nullptr;
}

wire::UdpFrameTemplate SrdHostPipeline::make_template(std::uint32_t dst_ip, wire::Mac mac) const noexcept {
  wire::UdpFlow flow;
  flow.src_mac = mac_;
  flow.dst_mac = mac;
  flow.src_ip = cfg_.ip;
  flow.dst_ip = dst_ip;
  flow.dst_port = cfg_.udp_port;
  flow.vlan = cfg_.vlan;
  return wire::UdpFrameTemplate(flow);
}

void SrdHostPipeline::learn(std::uint32_t ip, wire::Mac mac) noexcept {
  if (Neighbor* n = neighbor(ip)) {
    if (n->mac == mac) return;
    n->mac = mac;
    for (Flow& f : flows_)
      if (f.hop == ip) f.tmpl = make_template(f.dst_ip, mac);
    return;
  }
  // Bounded: a flood of spoofed senders must not grow this without limit.
  if (neighbors_.size() >= 4096) return;
  neighbors_.push_back(Neighbor{ip, mac});
}

const wire::UdpFrameTemplate* SrdHostPipeline::flow_to(std::uint32_t dst_ip) noexcept {
  if (last_flow_ < flows_.size() && flows_[last_flow_].dst_ip == dst_ip) return &flows_[last_flow_].tmpl;
  for (std::size_t i = 0; i < flows_.size(); ++i)
    if (flows_[i].dst_ip == dst_ip) {
      last_flow_ = i;
      return &flows_[i].tmpl;
    }
  const std::uint32_t hop = next_hop(dst_ip);
  const Neighbor* nb = neighbor(hop);
  if (!nb || flows_.size() >= 4096) return nullptr;
  flows_.push_back(Flow{dst_ip, hop, make_template(dst_ip, nb->mac)});
  last_flow_ = flows_.size() - 1;
  return &flows_.back().tmpl;
}

rte_mbuf* SrdHostPipeline::alloc() noexcept {
  if (stash_n_ == 0) {
    if (rte_pktmbuf_alloc_bulk(pool_, stash_, kBurst) != 0) return rte_pktmbuf_alloc(pool_);
    stash_n_ = kBurst;
  }
  return stash_[--stash_n_];
}

void SrdHostPipeline::handle_arp(TxBuffers& tx, rte_mbuf* m, const wire::FrameInfo& fi) noexcept {
  c_.rx_arp.add();
  const wire::ArpView& a = fi.arp;
  if (a.spa != 0 && !a.sha.is_group()) {
    // Learn from any ARP about a neighbour we talk to or that asks for us.
    if (a.tpa == cfg_.ip || neighbor(a.spa) || a.spa == arp_pending_) learn(a.spa, a.sha);
  }
  if (a.op == wire::ArpOp::kRequest && a.tpa == cfg_.ip) {
    rte_mbuf* r = alloc();
    if (!r) {
      c_.drop_no_mbuf.add();
    } else {
      auto* p = rte_pktmbuf_mtod(r, std::uint8_t*);
      const std::size_t n = wire::build_arp_reply({p, rte_pktmbuf_tailroom(r)}, mac_, cfg_.ip, a.sha, a.spa,
                                                  cfg_.vlan);
      r->data_len = r->pkt_len = static_cast<std::uint32_t>(n);
      tx.send(port_, r);
      c_.tx_arp_reply.add();
    }
  }
  rte_pktmbuf_free(m);
}

void SrdHostPipeline::send_arp_request(TxBuffers& tx, std::uint32_t target) noexcept {
  rte_mbuf* r = alloc();
  if (!r) {
    c_.drop_no_mbuf.add();
    return;
  }
  auto* p = rte_pktmbuf_mtod(r, std::uint8_t*);
  const std::size_t n = wire::build_arp_request({p, rte_pktmbuf_tailroom(r)}, mac_, cfg_.ip, target, cfg_.vlan);
  r->data_len = r->pkt_len = static_cast<std::uint32_t>(n);
  tx.send(port_, r);
  c_.tx_arp_request.add();
}

namespace {

bool is_connect(std::span<const std::uint8_t> srd) noexcept {
  wire::SrdPacket p;
  return wire::decode_srd(srd, p) == wire::SrdError::k_ok && p.type == wire::SrdType::kConnect;
}

}  // namespace

void SrdHostPipeline::rx(TxBuffers& tx, std::uint16_t, rte_mbuf** pkts, std::uint16_t n,
                         std::uint64_t now_tsc) noexcept {
  const srd::Nanos now = clock_.to_ns(now_tsc);
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // A driver that builds a frame from its own smaller buffers hands over
    // several segments; the parser and the transport read one. The pool's
    // buffers hold a whole frame of this MTU, so only a frame larger than
    // that stays chained.
    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
      c_.drop_malformed.add();
      rte_pktmbuf_free(m);
      continue;
    }
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::FrameInfo fi;
    const wire::WireError e = wire::parse_frame({data, m->data_len}, fi);
    if (e != wire::WireError::kOk) {
      c_.drop_malformed.add();
      rte_pktmbuf_free(m);
      continue;
    }
    if (fi.is_arp()) {
      handle_arp(tx, m, fi);
      continue;
    }
    if (fi.dst_ip != cfg_.ip || (!fi.eth.dst.is_broadcast() && fi.eth.dst != mac_)) {
      c_.drop_not_for_us.add();
      rte_pktmbuf_free(m);
      continue;
    }
    if (fi.is_udp() && fi.dst_port == cfg_.udp_port) {
      // Replies go back to where requests come from: learn the sender. A
      // known neighbour's MAC moves only through ARP or a well-formed
      // CONNECT (a peer restarted with a new MAC and --peer-mac sends no
      // ARP): this runs before the transport has checked the packet, so any
      // frame would let one forgery send the peer's traffic to another MAC.
      const std::uint32_t hop = next_hop(fi.src_ip);
      if (hop == fi.src_ip) {
        const Neighbor* nb = neighbor(hop);
        if (!nb || (nb->mac != fi.eth.src && is_connect({data + fi.payload_offset, fi.payload_len})))
          learn(hop, fi.eth.src);
      }
      srd::RxMeta meta;
      meta.from = {fi.src_ip, cfg_.udp_port};
      const std::uint16_t off = static_cast<std::uint16_t>(fi.src_port - cfg_.src_port_base);
      meta.path_id = off < 256 ? off : 0;
      meta.ce = fi.ecn == wire::Ecn::kCe;
      ep_.on_packet({data + fi.payload_offset, fi.payload_len}, meta, now);
      c_.rx_srd.add();
      rte_pktmbuf_free(m);
      continue;
    }
    if (fi.ip_proto == wire::kIpProtoIcmp &&
        wire::icmp_echo_to_reply({data, m->data_len}) == wire::WireError::kOk) {
      c_.icmp_echo.add();
      tx.send(port_, m);
      continue;
    }
    c_.drop_not_for_us.add();
    rte_pktmbuf_free(m);
  }
  // The ACKs this burst earned leave now, before the application works
  // through what it delivered (verifying a 1 MiB message takes longer than
  // the peer's RTO floor): the peer's timers wait on the network, not on us.
  if (app_started_) drain_tx(tx, now, now_tsc);
}

unsigned SrdHostPipeline::poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept {
  const srd::Nanos now = clock_.to_ns(now_tsc);
  unsigned work = 0;
  // A transmit queue that refused packets dropped them in this host.
  if (tx.dropped_total() != tx_dropped_seen_) {
    tx_dropped_seen_ = tx.dropped_total();
    ep_.note_host_drops(now);
  }
  if (!app_started_) {
    const std::uint32_t hop = cfg_.peer_ip ? next_hop(cfg_.peer_ip) : 0;
    if (!cfg_.peer_ip || neighbor(hop)) {
      app_started_ = true;
      peer_state_.store(NeighborState::kResolved, std::memory_order_release);
      if (app_) app_->start(now);
    } else if (peer_state_.load(std::memory_order_relaxed) == NeighborState::kResolving) {
      if (arp_deadline_tsc_ == 0) arp_deadline_tsc_ = now_tsc + clock_.from_ns(cfg_.arp_timeout_ns);
      if (now_tsc >= arp_deadline_tsc_) {
        peer_state_.store(NeighborState::kFailed, std::memory_order_release);
      } else if (now_tsc >= arp_next_tsc_) {
        arp_pending_ = hop;
        send_arp_request(tx, hop);
        arp_next_tsc_ = now_tsc + clock_.from_us(200'000);
        ++work;
      }
    }
    if (!app_started_) return work;
  }
  if (now >= ep_.next_expiry()) ep_.on_expiry(now);
  srd::Event ev;
  while (ep_.poll_event(ev)) {
    app_->on_event(ev, now);
    ++work;
  }
  work += app_->poll(now);
  work += drain_tx(tx, now, now_tsc);
  return work;
}

unsigned SrdHostPipeline::drain_tx(TxBuffers& tx, srd::Nanos now, std::uint64_t now_tsc) noexcept {
  unsigned work = 0;
  // Drain what the transport has to send now, bounded so rx keeps its turn.
  for (unsigned i = 0; i < 4 * kBurst; ++i) {
    rte_mbuf* m = alloc();
    if (!m) {
      c_.drop_no_mbuf.add();
      break;
    }
    // Headers are at most 46 bytes (tagged); the SRD packet goes after them.
    constexpr std::size_t kHdr = wire::UdpFrameTemplate::kMaxHeaderLen;
    auto* base = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::size_t room = rte_pktmbuf_tailroom(m);
    srd::TxMeta meta;
    const std::size_t hdr = cfg_.vlan ? kHdr : kHdr - wire::kVlanTagLen;
    const std::size_t len = ep_.poll_tx({base + hdr, room - hdr}, meta, now);
    if (len == 0) {
      stash_[stash_n_++] = m;
      break;
    }
    const wire::UdpFrameTemplate* tmpl = flow_to(meta.to.ip);
    if (!tmpl) {
      // The transport recovers the packet; ask for the MAC meanwhile.
      c_.drop_no_neighbor.add();
      stash_[stash_n_++] = m;
      if (now_tsc >= arp_next_tsc_) {
        send_arp_request(tx, next_hop(meta.to.ip));
        arp_next_tsc_ = now_tsc + clock_.from_us(100'000);
      }
      continue;
    }
    const std::size_t flen = tmpl->write({base, room}, static_cast<std::uint16_t>(cfg_.src_port_base + meta.path_id),
                                            len, meta.ect ? wire::Ecn::kEct0 : wire::Ecn::kNotEct);
    m->data_len = m->pkt_len = static_cast<std::uint32_t>(flen);
    tx.send(port_, m);
    c_.tx_srd.add();
    c_.tx_srd_bytes.add(len);
    ++work;
  }
  return work;
}

std::uint64_t SrdHostPipeline::next_deadline_tsc() const noexcept {
  srd::Nanos d = ep_.next_expiry();
  if (app_ && app_started_) d = std::min(d, app_->next_deadline());
  if (!app_started_) return arp_next_tsc_;
  if (d == srd::kNever) return ~std::uint64_t{0};
  // TSC and ns share the epoch of the TSC (to_ns(0) == 0).
  return clock_.from_ns(d);
}

void SrdHostPipeline::housekeeping(std::uint64_t now_tsc) noexcept {
  if (dump_requested_.exchange(false, std::memory_order_relaxed)) {
    const std::string d = ep_.dump(clock_.to_ns(now_tsc));
    std::fputs(d.c_str(), stderr);
  }
}

}  // namespace spray::dp
