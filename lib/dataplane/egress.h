// SPDX-License-Identifier: BSD-3-Clause
// Egress queues of one worker's ports: mbufs into tor::EgressQueue, CE set on
// the IPv4 header of the mbufs it says to mark, due mbufs out to TxBuffers.
//
// Ports given a queue are shaped and/or ECN-marked; every other port is sent
// straight to TxBuffers. A frame counts as ECN-capable when it is IPv4
// (after Ethernet and at most one 802.1Q tag, in the first segment) with an
// ECN field other than Not-ECT: ECT(0), ECT(1), or CE, which only an
// ECN-capable sender's packet can carry and which marking leaves as it is.
//
//   ports.send(tx, port, m, now_ns);  // per frame, from the pipeline's rx()
//   moved = ports.poll(tx, now_ns);   // once per iteration: release what is due
//   ports.next_deadline_ns()          // caps the worker's idle sleep
//   ports.drain_free();               // shutdown, before the mempool goes away
//
// Threads: owned by one worker; every member is worker-only except stats()
// and queued(), which any thread may call once the object is built.
// Allocates only in the constructor. Dropping an EgressPorts does not free
// queued mbufs (EAL may be gone by then): call drain_free() first.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "dataplane/worker.h"
#include "tor/egress_queue.h"
#include "wire/ether.h"
#include "wire/ipv4.h"

namespace spray::dp {

// Offset of the IPv4 header in frame[0..len), or 0 when the frame is not
// IPv4 behind Ethernet and at most one 802.1Q tag, or too short to hold one.
inline std::size_t ipv4_offset(const std::uint8_t* frame, std::size_t len) noexcept {
  std::size_t off = wire::kEthHdrLen;
  if (len < off + wire::kIpv4MinHdrLen) return 0;
  std::uint16_t type = wire::load_be16(frame + 12);
  if (type == wire::kEtherTypeVlan) {
    off += wire::kVlanTagLen;
    if (len < off + wire::kIpv4MinHdrLen) return 0;
    type = wire::load_be16(frame + 16);
  }
  if (type != wire::kEtherTypeIpv4 || (frame[off] >> 4) != 4) return 0;
  return off;
}

class EgressPorts {
 public:
  using Queue = tor::EgressQueue<rte_mbuf*>;

  // per_port[p] configures port p's queue; nullopt sends port p straight to
  // TxBuffers. Throws std::invalid_argument naming the port and the field
  // when a configuration is invalid or there are more than kMaxPorts ports.
  explicit EgressPorts(std::span<const std::optional<tor::EgressConfig>> per_port);

  // Takes ownership of `m`: queued on `port`'s queue (freed if the queue is
  // full, counted as dropped_full), or handed to tx when the port has none.
  void send(TxBuffers& tx, std::uint16_t port, rte_mbuf* m, std::uint64_t now_ns) noexcept {
    Queue* q = queues_[port].get();
    if (q == nullptr) return tx.send(port, m);
    if (q->enqueue(m, m->pkt_len + tor::kWireOverheadBytes, ect(m), now_ns) ==
        Queue::Enq::kDropped)
      rte_pktmbuf_free(m);
  }

  // Hands every due mbuf of every queue to tx, marking CE where its queue
  // says so. Returns the mbufs moved (0: nothing was due).
  unsigned poll(TxBuffers& tx, std::uint64_t now_ns) noexcept;

  // The earliest next_departure_ns() of the queues; UINT64_MAX when all are empty.
  std::uint64_t next_deadline_ns() const noexcept;

  // Frees every queued mbuf (counted as drained).
  void drain_free() noexcept;
  // New rates, depths and thresholds for the ports that have a queue, kept
  // with their packets (worker, between bursts). The set of ports with a
  // queue must stay the same (same_ports() says so beforehand).
  void reconfigure(std::span<const std::optional<tor::EgressConfig>> per_port);
  bool same_ports(std::span<const std::optional<tor::EgressConfig>> per_port) const noexcept {
    for (std::size_t p = 0; p < queues_.size(); ++p)
      if ((p < per_port.size() && per_port[p].has_value()) != (queues_[p] != nullptr)) return false;
    return per_port.size() <= queues_.size();
  }

  // Any thread.
  bool queued(std::uint16_t port) const noexcept {
    return port < queues_.size() && queues_[port] != nullptr;
  }
  // The counters of `port`'s queue; nullopt when the port has none.
  std::optional<tor::EgressStats> stats(std::uint16_t port) const noexcept;

 private:
  static bool ect(const rte_mbuf* m) noexcept {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::size_t off = ipv4_offset(p, m->data_len);
    return off != 0 && (p[off + wire::kIpv4OffTos] & 0x3) !=
                           static_cast<std::uint8_t>(wire::Ecn::kNotEct);
  }

  std::array<std::unique_ptr<Queue>, kMaxPorts> queues_{};
  std::array<std::uint16_t, kMaxPorts> queued_ports_{};  // ports with a queue, ascending
  std::uint16_t nb_queued_ = 0;
};

}  // namespace spray::dp
