// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/switch_pipeline.h"

#include <rte_mbuf.h>

#include <bit>
#include <cstring>
#include <span>
#include <stdexcept>

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

tor::L2Config bridge_config(const tor::SwitchConfig& c) {
  tor::L2Config l2 = c.l2;
  for (const auto& i : c.l3.interfaces) l2.ports[i.port].admin_up = false;
  // Static entries on routed ports would be refused by validate(); they mean nothing there.
  std::erase_if(l2.static_entries, [&](const tor::L2StaticEntry& e) { return c.routed(e.port); });
  return l2;
}

namespace {

std::uint64_t all_ports_mask(std::size_t n) { return n >= 64 ? ~0ULL : (1ULL << n) - 1; }

std::unique_ptr<tor::SwitchConfig> checked(const tor::SwitchConfig& c) {
  if (auto e = c.validate(); !e.empty()) throw std::invalid_argument(e);
  return std::make_unique<tor::SwitchConfig>(c);
}

}  // namespace

SwitchPipeline::SwitchPipeline(const tor::SwitchConfig& config, rte_mempool* pool, TscClock clock)
    : config_(checked(config)), pool_(pool), clock_(clock), egress_(config.egress),
      applied_link_mask_(all_ports_mask(config.l2.ports.size())), link_mask_(applied_link_mask_) {
  l2_ = std::make_unique<tor::L2Switch>(bridge_config(*config_));
  l3_ = std::make_unique<tor::L3Router>(config_->l3, config_->l2.ports.size());
  for (const auto& i : config_->l3.interfaces) routed_mask_ |= std::uint64_t{1} << i.port;
  pub_l2_.store(l2_.get(), std::memory_order_release);
  pub_l3_.store(l3_.get(), std::memory_order_release);
}

SwitchPipeline::~SwitchPipeline() {
  collect_retired();
  delete pending_.exchange(nullptr);
  egress_.drain_free();
}

// An untagged frame leaving a port where its VLAN is untagged keeps its
// header as it is (tag_edit() would say kNone): the access-to-access case,
// checked without the general switch.
inline bool SwitchPipeline::edits_tag(const tor::L2Decision& d) const noexcept {
  return d.in_flags != 0 || l2_->egress_tag(d.port, d.vlan) != tor::kNoVlan;
}

inline void SwitchPipeline::send(TxBuffers& tx, tor::PortId port, rte_mbuf* m,
                                 const tor::L2Decision& d) noexcept {
  const tor::VlanId out_vid = l2_->egress_tag(port, d.vlan);
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
  out(tx, port, m);
}

void SwitchPipeline::rx(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts, std::uint16_t n,
                        std::uint64_t now_tsc) noexcept {
  now_ns_ = clock_.to_ns(now_tsc);
  if ((routed_mask_ >> in_port) & 1)
    rx_routed(tx, in_port, pkts, n);
  else
    rx_bridged(tx, in_port, pkts, n);
}

void SwitchPipeline::rx_routed(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts,
                               std::uint16_t n) noexcept {
  std::span<std::uint8_t> frames[kBurst];
  tor::L3Decision d[kBurst];
  for (std::uint16_t i = 0; i < n; ++i)
    frames[i] = {rte_pktmbuf_mtod(pkts[i], std::uint8_t*), pkts[i]->data_len};
  l3_->process_burst(in_port, {frames, n}, {d, n}, now_ns_);
  for (std::uint16_t i = 0; i < n; ++i) {
    switch (d[i].action) {
      case tor::L3Action::kForward:
        out(tx, d[i].port, pkts[i]);
        break;
      case tor::L3Action::kReply:
        out(tx, in_port, pkts[i]);
        break;
      case tor::L3Action::kDrop:
      case tor::L3Action::kConsumed:
        rte_pktmbuf_free(pkts[i]);
        break;
    }
  }
}

namespace {
// Every bit of an L2Decision but its `drop` field.
constexpr std::uint64_t kRunMask = [] {
  tor::L2Decision m;
  m.action = static_cast<tor::L2Action>(0xff);
  m.drop = static_cast<tor::L2Drop>(0);
  m.vlan = 0xffff;
  m.port = 0xffff;
  m.in_flags = 0xff;
  m.pcp = 0xff;
  return std::bit_cast<std::uint64_t>(m);
}();
}  // namespace

void SwitchPipeline::rx_bridged(TxBuffers& tx, std::uint16_t in_port, rte_mbuf** pkts,
                                std::uint16_t n) noexcept {
  // The first n views are written below and nothing reads past them: left
  // unconstructed, not zeroed per burst.
  union Frames {
    Frames() {}
    std::span<const std::uint8_t> at[kBurst];
  } frames;
  tor::L2Decision d[kBurst];
  for (std::uint16_t i = 0; i < n; ++i)
    frames.at[i] = {rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), pkts[i]->data_len};
  l2_->process_burst(in_port, {frames.at, n}, {d, n}, now_ns_);
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (d[i].action == tor::L2Action::kUnicast && !edits_tag(d[i]) && !egress_.queued(d[i].port)) {
      // Consecutive frames mostly go to one port: hand the run over at once.
      // A frame whose decision equals this one's in everything but `drop`
      // (unused for unicast) goes the same way and, being untagged in the
      // same VLAN to the same port, needs no tag edit either: one compare.
      const tor::PortId to = d[i].port;
      const std::uint64_t run = std::bit_cast<std::uint64_t>(d[i]) & kRunMask;
      std::uint16_t end = i + 1;
      while (end < n && (std::bit_cast<std::uint64_t>(d[end]) & kRunMask) == run) ++end;
      tx.send_burst(to, pkts + i, static_cast<std::uint16_t>(end - i));
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
        tor::PortMask ports = l2_->flood_ports(d[i].vlan, in_port);
        std::size_t left = ports.size();
        for (tor::PortId p : ports) {
          rte_mbuf* o = m;
          if (--left) {
            o = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
            if (!o) {
              glue_.flood_copy_failed.fetch_add(1, std::memory_order_relaxed);
              continue;
            }
          }
          send(tx, p, o, d[i]);
        }
        break;
      }
    }
  }
}

unsigned SwitchPipeline::send_generated(TxBuffers& tx) noexcept {
  unsigned sent = 0;
  std::uint8_t buf[tor::L3Router::kGeneratedMax];
  tor::PortId port = 0;
  while (std::size_t len = l3_->take_generated(buf, port)) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
      glue_.generated_no_mbuf.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)));
    std::memcpy(p, buf, len);
    out(tx, port, m);
    ++sent;
  }
  return sent;
}

unsigned SwitchPipeline::poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept {
  const std::uint64_t now_ns = clock_.to_ns(now_tsc);
  now_ns_ = now_ns;
  unsigned work = 0;
  if (now_ns >= next_tick_ns_) {
    // About every millisecond: link changes, reloads, ARP timers. Not in
    // housekeeping, which an idle worker in backoff reaches only rarely.
    next_tick_ns_ = now_ns + 1'000'000;
    apply_links();
    if (pending_.load(std::memory_order_acquire)) apply_pending(now_ns);
    if (routed_mask_) l3_->tick(now_ns);
  }
  if (routed_mask_) work += send_generated(tx);
  work += egress_.poll(tx, now_ns);
  return work;
}

std::uint64_t SwitchPipeline::next_deadline_tsc() const noexcept {
  const std::uint64_t e = egress_.next_deadline_ns();
  std::uint64_t t = routed_mask_ ? next_tick_ns_ : ~std::uint64_t{0};
  if (e < t) t = e;
  return t == ~std::uint64_t{0} ? t : clock_.from_ns(t);
}

void SwitchPipeline::apply_links() noexcept {
  const std::uint64_t mask = link_mask_.load(std::memory_order_relaxed);
  if (mask == applied_link_mask_) return;
  for (std::size_t p = 0; p < l2_->port_count(); ++p) {
    if (!(((mask ^ applied_link_mask_) >> p) & 1)) continue;
    const bool up = (mask >> p) & 1;
    l2_->set_port_link(static_cast<tor::PortId>(p), up);
    l3_->set_port_link(static_cast<tor::PortId>(p), up);
  }
  applied_link_mask_ = mask;
}

bool SwitchPipeline::post_config(std::unique_ptr<tor::SwitchConfig> config) noexcept {
  collect_retired();
  if (pending_.load(std::memory_order_acquire) || retired_.load(std::memory_order_acquire)) return false;
  pending_.store(config.release(), std::memory_order_release);
  return true;
}

void SwitchPipeline::apply_pending(std::uint64_t now_ns) noexcept {
  std::unique_ptr<tor::SwitchConfig> next(pending_.load(std::memory_order_acquire));
  try {
    // Allocation here, on the worker between two bursts: a reload is rare,
    // and building from the live objects keeps learned state exact.
    auto l2 = std::make_unique<tor::L2Switch>(bridge_config(*next), *l2_, now_ns);
    auto l3 = std::make_unique<tor::L3Router>(next->l3, next->l2.ports.size());
    l3->adopt(*l3_);
    egress_.reconfigure(next->egress);
    auto* old = new Retired{std::move(l2_), std::move(l3_), std::move(config_)};
    l2_ = std::move(l2);
    l3_ = std::move(l3);
    config_ = std::move(next);
    routed_mask_ = 0;
    for (const auto& i : config_->l3.interfaces) routed_mask_ |= std::uint64_t{1} << i.port;
    pub_l2_.store(l2_.get(), std::memory_order_release);
    pub_l3_.store(l3_.get(), std::memory_order_release);
    retired_.store(old, std::memory_order_release);
  } catch (...) {
    // The control thread validated it; only memory can fail here. Keep the
    // old configuration running.
  }
  pending_.store(nullptr, std::memory_order_release);
}

void SwitchPipeline::collect_retired() noexcept { delete retired_.exchange(nullptr, std::memory_order_acq_rel); }

void SwitchPipeline::housekeeping(std::uint64_t now_tsc) noexcept {
  l2_->age(clock_.to_ns(now_tsc), 64);
  fdb_size_.store(l2_->fdb_size(), std::memory_order_relaxed);
}

void SwitchPipeline::drain(TxBuffers&, std::uint64_t) noexcept { egress_.drain_free(); }

}  // namespace spray::dp
