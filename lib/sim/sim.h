// SPDX-License-Identifier: BSD-3-Clause
// Deterministic discrete-event simulator of hosts, links and switches.
//
// Single thread, virtual time in ns. Each host runs one transport endpoint
// behind the I/O contract of lib/srd (srd/types.h): the simulator delivers
// received SRD packets with on_packet, runs on_expiry when due, drains
// poll_tx, and wakes the host again at min(next_expiry, next arrival). Links
// add Ethernet/IPv4/UDP bytes to serialisation, map path_id to the UDP
// source port (base + path_id) for ECMP, carry ECT/CE, and apply the
// impairments of link.h. Same configuration and seed => identical run.
//
// Not thread-safe; every call comes from the thread that runs the scenario.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "event_queue.h"
#include "link.h"
#include "packet_pool.h"
#include "rng.h"
#include "srd/types.h"

namespace spray::sim {

using srd::kNever;
using srd::Nanos;
using srd::PeerAddr;

// What a simulated host runs: the transport's I/O contract plus one
// application step per wake-up. The simulator is test tooling, so one
// indirect call per packet here is a fair price for hosting any transport
// (or a scripted stand-in) without templates leaking into every scenario.
class HostStack {
 public:
  virtual ~HostStack() = default;
  virtual void on_packet(std::span<const std::uint8_t> srd, const srd::RxMeta& meta,
                         Nanos now_ns) noexcept = 0;
  virtual std::size_t poll_tx(std::span<std::uint8_t> buf, srd::TxMeta& meta,
                              Nanos now_ns) noexcept = 0;
  virtual Nanos next_expiry() const noexcept = 0;
  virtual void on_expiry(Nanos now_ns) noexcept = 0;
  // Runs after received packets and due timers, before transmit: the place
  // to drain transport events and submit new work.
  virtual void on_service(Nanos /*now_ns*/) {}
  // Earliest time the application wants on_service without any packet or timer.
  virtual Nanos next_app_wake() const noexcept { return kNever; }
  // The host's rx ring dropped packets since the last poll (a NIC reports
  // this as imissed); called before the poll's packets.
  virtual void on_host_drops(Nanos /*now_ns*/) noexcept {}
  // The ECMP entropy of a packet poll_tx just produced: the switches hash
  // base + this as its UDP source port. A stack that repaths a single-path
  // connection (PLB) changes it without the transport knowing; the packet
  // still carries `meta.path_id` to the peer's transport.
  virtual std::uint16_t tx_entropy(const srd::TxMeta& meta) noexcept { return meta.path_id; }
};

struct HostConfig {
  PeerAddr addr;
  Nanos rx_poll_ns = 0;        // delay from arrival to the poll that sees it (0: same instant)
  std::uint32_t rx_burst = 32; // packets handed to on_packet per poll, as rx_burst() would
  bool l4_checksum = true;     // drop corrupted packets before the transport, as a NIC's UDP check does
  // A receiver slower than its link: packets waiting for the host beyond
  // rx_ring_pkts are dropped as a full NIC or socket ring drops them
  // (0: unbounded), and each packet handed to the stack keeps the host busy
  // rx_pkt_cost_ns before its next poll (0: free).
  std::uint32_t rx_ring_pkts = 0;
  Nanos rx_pkt_cost_ns = 0;
};

struct HostStats {
  std::uint64_t rx_pkts = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_pkts = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t rx_csum_drops = 0;   // corrupted, stopped by the L4 checksum
  std::uint64_t rx_corrupt_passed = 0; // corrupted, handed to the transport (l4_checksum off)
  std::uint64_t rx_misaddressed = 0; // destination is not this host
  std::uint64_t no_uplink_drops = 0;
  std::uint64_t rx_ring_drops = 0;    // arrived to a full rx ring
  std::uint64_t wakes = 0;
  std::uint64_t stuck_wakes = 0;     // next_expiry() stayed <= now after a full poll
};

struct Host {
  std::uint32_t node = 0;
  std::string name;
  HostConfig cfg;
  std::unique_ptr<HostStack> stack;
  std::vector<std::uint32_t> uplinks;  // chosen by path_id % size
  HostStats stats;
  std::uint32_t rx_head = kNoPacket;
  std::uint32_t rx_tail = kNoPacket;
  std::uint32_t rx_queued = 0;
  std::uint64_t rx_ring_drops_told = 0;  // stats.rx_ring_drops the stack has heard of
  Nanos wake_ns = kNever;
  Nanos busy_until_ns = 0;  // no poll before: packet cost or a pause
};

struct Switch {
  std::uint32_t node = 0;
  std::string name;
  std::uint64_t hash_seed = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> route;  // dst ip -> group
  // Destinations [lo, hi) -> group, sorted by lo and disjoint: a fabric of
  // thousands of hosts routes on a few address blocks per switch instead of
  // a route per host.
  struct RangeRoute {
    std::uint32_t lo, hi, group;
  };
  std::vector<RangeRoute> ranges;
  std::uint32_t default_group = kNoGroup;  // what neither a route nor a range takes
  std::vector<std::vector<std::uint32_t>> groups;          // ECMP sets of links
  static constexpr std::uint32_t kNoGroup = ~std::uint32_t{0};
  std::uint64_t forwarded_pkts = 0;
  std::uint64_t no_route_drops = 0;
};

struct SimConfig {
  std::uint64_t seed = 1;
  std::uint16_t udp_src_port_base = 49152;  // UDP source port = base + entropy (the path id unless repathed)
  std::uint32_t max_srd_bytes = 9000 - 28;  // largest UDP payload a host may emit
};

class Sim {
 public:
  explicit Sim(SimConfig cfg = {});
  ~Sim();
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  // ---- building (cold) ----
  std::uint32_t add_host(std::string name, HostConfig cfg);   // returns a node id
  std::uint32_t add_switch(std::string name);                 // returns a node id
  // Unidirectional link from -> to. A link leaving a host becomes one of its uplinks.
  std::uint32_t add_link(std::uint32_t from_node, std::uint32_t to_node, LinkConfig cfg,
                         std::string name = {});
  // Packets to `dst_ip` leave switch `sw` by one link of `links`, picked by
  // hashing (src ip, dst ip, src port, dst port) with the switch's seed.
  void add_route(std::uint32_t sw, std::uint32_t dst_ip, std::vector<std::uint32_t> links);
  // The same for every destination in [lo_ip, hi_ip), a block that overlaps
  // no other range of the switch (std::invalid_argument otherwise). An exact
  // route wins over a range.
  void add_range_route(std::uint32_t sw, std::uint32_t lo_ip, std::uint32_t hi_ip,
                       std::vector<std::uint32_t> links);
  // Destinations no route or range of the switch covers.
  void set_default_route(std::uint32_t sw, std::vector<std::uint32_t> links);
  void set_stack(std::uint32_t host_node, std::unique_ptr<HostStack> stack);

  // ---- running ----
  Nanos now() const noexcept { return now_ns_; }
  // Processes every event up to and including `end_ns`, then sets now = end_ns.
  void run_until(Nanos end_ns);
  // Runs until `done()` holds (checked after each host poll) or `limit_ns`.
  // Returns whether `done()` held.
  bool run_until(Nanos limit_ns, const std::function<bool()>& done);
  // Calls fn at `at_ns` (>= now), before any packet event of the same instant
  // scheduled later.
  void at(Nanos at_ns, std::function<void(Sim&)> fn);
  // Calls fn every period_ns starting at first_ns, until it returns false.
  void every(Nanos first_ns, Nanos period_ns, std::function<bool(Sim&)> fn);
  // Asks for a poll of the host at now (e.g. after submitting work from outside).
  void wake(std::uint32_t host_node) { schedule_wake(host_of(host_node), now_ns_); }
  // The host stops polling (its process is descheduled) from now for
  // `for_ns`: packets queue in its rx ring (and overflow it), timers wait.
  void pause_host(std::uint32_t host_node, Nanos for_ns);

  // ---- inspection ----
  Link& link(std::uint32_t id) noexcept { return links_[id]; }
  const Link& link(std::uint32_t id) const noexcept { return links_[id]; }
  std::size_t link_count() const noexcept { return links_.size(); }
  // Throw std::invalid_argument when the node is not of that kind.
  Host& host(std::uint32_t node) { return hosts_[index_of(node, NodeKind::kHost)]; }
  const Host& host(std::uint32_t node) const { return hosts_[index_of(node, NodeKind::kHost)]; }
  Switch& sw(std::uint32_t node) { return switches_[index_of(node, NodeKind::kSwitch)]; }
  bool is_host(std::uint32_t node) const noexcept { return nodes_[node].kind == NodeKind::kHost; }
  std::size_t node_count() const noexcept { return nodes_.size(); }
  HostStack& stack(std::uint32_t host_node) { return *host(host_node).stack; }
  const SimConfig& config() const noexcept { return cfg_; }
  std::uint64_t events_processed() const noexcept { return events_; }
  std::uint32_t packets_in_use() const noexcept { return pool_.in_use() - (spare_ != kNoPacket); }
  std::uint32_t packet_pool_capacity() const noexcept { return pool_.capacity(); }

 private:
  enum class NodeKind : std::uint8_t { kHost, kSwitch };
  struct Node {
    NodeKind kind;
    std::uint32_t index;
  };

  Host& host_of(std::uint32_t node) noexcept { return hosts_[nodes_[node].index]; }
  std::uint32_t index_of(std::uint32_t node, NodeKind kind) const;  // cold, checked
  std::uint32_t add_group(std::uint32_t sw_node, std::vector<std::uint32_t> links);  // checked
  bool step(Nanos end_ns);  // one event; false when none is due by end_ns
  void service(Host& h);
  void transmit(Host& h, HostStack& st, Nanos now);  // drains poll_tx
  void schedule_wake(Host& h, Nanos at_ns);
  void enqueue(std::uint32_t link_id, std::uint32_t pkt);
  void arrive(std::uint32_t link_id, std::uint32_t pkt);
  void forward(Switch& s, std::uint32_t pkt);
  void deliver(Host& h, std::uint32_t pkt);
  void drop(Link& l, std::uint32_t pkt, DropCause c);
  void schedule_arrival(Link& l, std::uint32_t pkt, Nanos at_ns);

  SimConfig cfg_;
  Nanos now_ns_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t next_pkt_id_ = 0;
  EventQueue events_q_;
  PacketPool pool_;
  std::uint32_t spare_ = kNoPacket;  // buffer offered to poll_tx, not yet a packet
  std::vector<Node> nodes_;
  std::vector<Host> hosts_;
  std::vector<Switch> switches_;
  std::vector<Link> links_;
  std::vector<std::function<void(Sim&)>> actions_;  // slots reused: periodic actions do not grow it
  std::vector<std::uint32_t> free_actions_;
};

}  // namespace spray::sim
