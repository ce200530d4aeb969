// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/egress.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace spray::dp {

namespace {

// The queue took the frame as ECN-capable, so its IPv4 header is still where
// ect() found it; a frame already CE stays as it is.
void set_ce(rte_mbuf* m) noexcept {
  auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::size_t off = ipv4_offset(p, m->data_len);
  if (off != 0) wire::set_ecn_ce({p + off, m->data_len - off});
}

}  // namespace

EgressPorts::EgressPorts(std::span<const std::optional<tor::EgressConfig>> per_port) {
  if (per_port.size() > kMaxPorts)
    throw std::invalid_argument("egress queues for " + std::to_string(per_port.size()) +
                                " ports; accepted: at most " + std::to_string(kMaxPorts));
  for (std::size_t p = 0; p < per_port.size(); ++p) {
    if (!per_port[p]) continue;
    if (std::string e = per_port[p]->validate(); !e.empty())
      throw std::invalid_argument("egress queue of port " + std::to_string(p) + ": " + e);
    queues_[p] = std::make_unique<Queue>(*per_port[p]);
    queued_ports_[nb_queued_++] = static_cast<std::uint16_t>(p);
  }
}

void EgressPorts::reconfigure(std::span<const std::optional<tor::EgressConfig>> per_port) {
  for (std::uint16_t i = 0; i < nb_queued_; ++i) {
    const std::uint16_t p = queued_ports_[i];
    if (p < per_port.size() && per_port[p]) queues_[p]->reconfigure(*per_port[p]);
  }
}

unsigned EgressPorts::poll(TxBuffers& tx, std::uint64_t now_ns) noexcept {
  unsigned moved = 0;
  rte_mbuf* out[kBurst];
  bool mark[kBurst];
  for (std::uint16_t i = 0; i < nb_queued_; ++i) {
    const std::uint16_t port = queued_ports_[i];
    Queue& q = *queues_[port];
    for (;;) {
      const std::size_t n = q.dequeue(now_ns, out, mark, kBurst);
      for (std::size_t j = 0; j < n; ++j)
        if (mark[j]) set_ce(out[j]);
      tx.send_burst(port, out, static_cast<std::uint16_t>(n));
      moved += static_cast<unsigned>(n);
      if (n < kBurst) break;
    }
  }
  return moved;
}

std::uint64_t EgressPorts::next_deadline_ns() const noexcept {
  std::uint64_t t = std::numeric_limits<std::uint64_t>::max();
  for (std::uint16_t i = 0; i < nb_queued_; ++i)
    t = std::min(t, queues_[queued_ports_[i]]->next_departure_ns());
  return t;
}

void EgressPorts::drain_free() noexcept {
  for (std::uint16_t i = 0; i < nb_queued_; ++i)
    queues_[queued_ports_[i]]->drain([](rte_mbuf* m) { rte_pktmbuf_free(m); });
}

std::optional<tor::EgressStats> EgressPorts::stats(std::uint16_t port) const noexcept {
  if (!queued(port)) return std::nullopt;
  return queues_[port]->stats();
}

}  // namespace spray::dp
