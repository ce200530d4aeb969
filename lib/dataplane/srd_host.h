// SPDX-License-Identifier: BSD-3-Clause
// An SRD host on one port of a worker: owns the port's IPv4 address (answers
// ARP and ICMP echo for it), runs an srd::Endpoint over UDP, and hands the
// endpoint's events to a HostApp (the generator or the responder logic).
//
// Frames in: ARP and ICMP are answered in place; UDP to our SRD port goes to
// the endpoint (the payload is copied once, by the endpoint, into
// reassembly); anything else is counted by reason and freed. Frames out:
// poll_tx writes each SRD packet straight into an mbuf after the headers,
// which a per-peer UdpFrameTemplate then fills (UDP source port = base +
// path id, ECT(0) when the transport asks).
//
// Worker-only, except the atomics documented as readable by the control
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/host_config.h"
#include "dataplane/worker.h"
#include "srd/endpoint.h"
#include "telemetry/counter.h"
#include "wire/frame.h"

struct rte_mempool;

namespace spray::dp {

// The role's logic above the endpoint. One virtual call per event or poll,
// never per packet.
class HostApp {
 public:
  virtual ~HostApp() = default;
  virtual void start(srd::Nanos /*now*/) {}
  virtual void on_event(const srd::Event& ev, srd::Nanos now) = 0;
  virtual unsigned poll(srd::Nanos now) = 0;
  virtual srd::Nanos next_deadline() const noexcept = 0;
};


#define SPRAY_HOST_COUNTERS(X)                                                     \
  X(rx_srd, "SRD packets handed to the transport")                                 \
  X(rx_arp, "ARP packets received")                                                \
  X(tx_arp_reply, "ARP replies sent")                                              \
  X(tx_arp_request, "ARP requests sent")                                           \
  X(icmp_echo, "ICMP echo requests answered")                                      \
  X(tx_srd, "SRD packets sent")                                                    \
  X(tx_srd_bytes, "SRD bytes sent (UDP payload)")                                  \
  X(drop_malformed, "frames that failed to parse (truncated, bad checksum, ...)")  \
  X(drop_not_for_us, "frames for another address, port or protocol")              \
  X(drop_no_mbuf, "packets not sent: the mempool was empty")                       \
  X(drop_no_neighbor, "packets not sent: the peer's MAC is unknown")

struct HostCounters {
#define X(name, help) telemetry::SingleWriterCounter name;
  SPRAY_HOST_COUNTERS(X)
#undef X
};

enum class NeighborState : std::uint8_t { kResolving, kResolved, kFailed };

class SrdHostPipeline final : public Pipeline {
 public:
  // `app` is created by the caller with a reference to endpoint(); the host
  // starts it once the peer's MAC is known (at once when peer_ip is 0).
  SrdHostPipeline(const SrdHostConfig& cfg, const srd::EndpointConfig& ep_cfg,
                  std::uint16_t port_index, std::uint64_t port_mac, rte_mempool* pool,
                  TscClock clock);
  ~SrdHostPipeline() override;

  srd::Endpoint& endpoint() noexcept { return ep_; }
  void set_app(HostApp* app) noexcept { app_ = app; }

  void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
          std::uint64_t now_tsc) noexcept override;
  unsigned poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept override;
  // Hands the transport's packets due now to the port (bounded).
  unsigned drain_tx(TxBuffers& tx, srd::Nanos now, std::uint64_t now_tsc) noexcept;
  std::uint64_t next_deadline_tsc() const noexcept override;
  void housekeeping(std::uint64_t now_tsc) noexcept override;

  // Control thread.
  NeighborState peer_state() const noexcept { return peer_state_.load(std::memory_order_acquire); }
  const HostCounters& counters() const noexcept { return c_; }
  // Asks the worker to print the endpoint's state dump to stderr.
  void request_dump() noexcept { dump_requested_.store(true, std::memory_order_relaxed); }

 private:
  struct Neighbor {
    std::uint32_t ip;
    wire::Mac mac;
  };
  // Headers towards one destination, through its next hop (the peer itself,
  // or the gateway): the IP header names the destination, the Ethernet
  // header the next hop.
  struct Flow {
    std::uint32_t dst_ip;
    std::uint32_t hop;
    wire::UdpFrameTemplate tmpl;
  };
  Neighbor* neighbor(std::uint32_t ip) noexcept;
  const wire::UdpFrameTemplate* flow_to(std::uint32_t dst_ip) noexcept;
  wire::UdpFrameTemplate make_template(std::uint32_t dst_ip, wire::Mac mac) const noexcept;
  void learn(std::uint32_t ip, wire::Mac mac) noexcept;
  std::uint32_t next_hop(std::uint32_t ip) const noexcept;
  void handle_arp(TxBuffers& tx, rte_mbuf* m, const wire::FrameInfo& fi) noexcept;
  void send_arp_request(TxBuffers& tx, std::uint32_t target) noexcept;
  rte_mbuf* alloc() noexcept;

  SrdHostConfig cfg_;
  srd::Endpoint ep_;
  HostApp* app_ = nullptr;
  std::uint16_t port_;
  wire::Mac mac_;
  rte_mempool* pool_;
  TscClock clock_;
  std::vector<Neighbor> neighbors_;
  std::size_t last_neighbor_ = 0;
  std::vector<Flow> flows_;
  std::size_t last_flow_ = 0;
  bool app_started_ = false;
  std::uint64_t arp_deadline_tsc_ = 0;
  std::uint64_t arp_next_tsc_ = 0;
  // Host drops the transport hears of (srd::Endpoint::note_host_drops).
  std::uint64_t tx_dropped_seen_ = 0;
  std::uint32_t arp_pending_ = 0;  // next hop being resolved for the peer
  rte_mbuf* stash_[kBurst];
  unsigned stash_n_ = 0;
  HostCounters c_;
  std::atomic<NeighborState> peer_state_{NeighborState::kResolving};
  std::atomic<bool> dump_requested_{false};
};

}  // namespace spray::dp
