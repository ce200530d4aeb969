#include "dataplane/l2_pipeline.h"

#include <rte_mbuf.h>

#include <cstring>
#include <span>

namespace spray::dp {

namespace {

// Tag edits in place. The Ethernet addresses (12 bytes) move; the payload
// stays where it is.
bool push_tag(rte_mbuf* m, tor::VlanId vid, std::uint8_t pcp) noexcept {
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, wire::kVlanTagLen));
  if (!p) return false;
  std::memmove(p, p + wire::kVlanTagLen, 12);
  wire::store_be16(p + 12, wire::kEtherTypeVlan);
  wire::store_be16(p + 14, static_cast<std::uint16_t>((pcp << 13) | vid));
  return true;
}

void pop_tag(rte_mbuf* m) noexcept {
  auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::memmove(p + wire::kVlanTagLen, p, 12);
  rte_pktmbuf_adj(m, wire::kVlanTagLen);
}

void set_vid(rte_mbuf* m, tor::VlanId vid) noexcept {
  auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint16_t tci = wire::load_be16(p + 14);
  wire::store_be16(p + 14, static_cast<std::uint16_t>((tci & 0xf000) | vid));
}

}  // namespace

L2Pipeline::L2Pipeline(const tor::L2Config& config, rte_mempool* pool, TscClock clock)
    : sw_(config), pool_(pool), clock_(clock),
      applied_link_mask_(config.ports.size() >= 64 ? ~0ULL : (1ULL << config.ports.size()) - 1),
      link_mask_(applied_link_mask_) {}

// An untagged frame leaving a port where its VLAN is untagged keeps its
// header as it is (tag_edit() would say kNone): the access-to-access case,
// checked without the general switch.
inline bool L2Pipeline::edits_tag(const tor::L2Decision& d) const noexcept {
  return d.in_flags != 0 || sw_.egress_tag(d.port, d.vlan) != tor::kNoVlan;
}

inline void L2Pipeline::send(TxBuffers& tx, tor::PortId port, rte_mbuf* m,
                             const tor::L2Decision& d) noexcept {
  const tor::VlanId out_vid = sw_.egress_tag(port, d.vlan);
  switch (tor::tag_edit(d, out_vid)) {
    case tor::TagEdit::kNone:
      break;
    case tor::TagEdit::kPush:
      if (!push_tag(m, out_vid, d.pcp)) {
        glue_.no_headroom.fetch_add(1, std::memory_order_relaxed);
        rte_pktmbuf_free(m);
        return;
      }
      break;
    case tor::TagEdit::kPop:
      pop_tag(m);
      break;
    case tor::TagEdit::kSetVid:
      set_vid(m, out_vid);
      break;
  }
  tx.send(port, m);
}

void L2Pipeline::rx(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts, std::uint16_t n,
                    std::uint64_t now_tsc) noexcept {
  std::span<const std::uint8_t> frames[kBurst];
  tor::L2Decision d[kBurst];
  for (std::uint16_t i = 0; i < n; ++i)
    frames[i] = {rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), pkts[i]->data_len};
  sw_.process_burst(in_port, {frames, n}, {d, n}, clock_.to_ns(now_tsc));
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (d[i].action == tor::L2Action::kUnicast && !edits_tag(d[i])) {
      // Consecutive frames mostly go to one port: hand the run over at once.
      const tor::PortId out = d[i].port;
      std::uint16_t end = i + 1;
      while (end < n && d[end].action == tor::L2Action::kUnicast && d[end].port == out &&
             !edits_tag(d[end]))
        ++end;
      tx.send_burst(out, pkts + i, static_cast<std::uint16_t>(end - i));
      i = static_cast<std::uint16_t>(end - 1);
      continue;
    }
    switch (d[i].action) {
      case tor::L2Action::kDrop:
        rte_pktmbuf_free(m);
        break;
      case tor::L2Action::kUnicast:
        send(tx, d[i].port, m, d[i]);
        break;
      case tor::L2Action::kFlood: {
        // Each egress port may need its own tag edit, so every port but the
        // last gets a private copy; the last takes the original.
        tor::PortMask ports = sw_.flood_ports(d[i].vlan, in_port);
        std::size_t left = ports.size();
        for (tor::PortId p : ports) {
          rte_mbuf* out = m;
          if (--left) {
            out = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
            if (!out) {
              glue_.flood_copy_failed.fetch_add(1, std::memory_order_relaxed);
              continue;
            }
          }
          send(tx, p, out, d[i]);
        }
        break;
      }
    }
  }
}

void L2Pipeline::housekeeping(std::uint64_t now_tsc) noexcept {
  const std::uint64_t mask = link_mask_.load(std::memory_order_relaxed);
  if (mask != applied_link_mask_) {
    for (std::size_t p = 0; p < sw_.port_count(); ++p)
      if (((mask ^ applied_link_mask_) >> p) & 1) sw_.set_port_link(static_cast<tor::PortId>(p), (mask >> p) & 1);
    applied_link_mask_ = mask;
  }
  sw_.age(clock_.to_ns(now_tsc), 64);
  fdb_size_.store(sw_.fdb_size(), std::memory_order_relaxed);
}

}  // namespace spray::dp
