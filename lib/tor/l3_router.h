// SPDX-License-Identifier: BSD-3-Clause
// IPv4 router for the top-of-rack, sans I/O: routed ports with addresses,
// ARP, longest-prefix-match routes with ECMP groups, TTL, ICMP errors.
//
// The caller owns the frames (mbufs) and hands their bytes as mutable spans;
// the router rewrites forwarded frames in place and returns a decision per
// frame:
//
//   L3Decision d[32];
//   router.process_burst(in_port, frames, d, now_ns);
//   for each frame i:
//     kDrop    -> free it (the router counted d[i].drop)
//     kForward -> send it on d[i].port (MACs rewritten, TTL decremented,
//                 IPv4 checksum updated)
//     kReply   -> send it back on in_port (an ARP or ICMP echo answer,
//                 rewritten in place)
//     kConsumed-> free it (an ARP message the router learned from)
//   then, while n = router.take_generated(buf, port): send buf[0..n) on port
//   (ARP requests for next hops, ICMP errors), and call tick(now) every
//   millisecond or so (ARP retries and refreshes, neighbor expiry).
//
// Semantics (RFC 1812 where it applies):
// - A port with an L3Interface is a routed port: untagged frames to its MAC
//   (and broadcast ARP) are accepted, everything else counted and dropped.
// - ARP: requests for the interface address are answered in place; the
//   requester is learned. Replies refresh or resolve entries the router
//   asked for (an unsolicited reply for an address never asked about is
//   consumed without creating an entry). An entry older than
//   arp_reachable_ns stays in use while the router asks again (a broadcast
//   request every arp_retry_ns) and is removed after arp_tries unanswered
//   requests; configured next hops are asked for at once.
// - Forwarding: LPM on the destination; connected subnets are routes of
//   their interface; a static route's next hops form an ECMP group, and the
//   member is picked by a keyed hash of the 5-tuple (ports 0 for non-UDP/TCP
//   and fragments), so SRD's per-path UDP source ports spread over uplinks.
//   A member whose port is down leaves its group at once (set_port_link) and
//   rejoins when the port comes back; only its own flows move meanwhile.
// - TTL <= 1: ICMP time exceeded. No route: ICMP net unreachable. Both to
//   the source, from the ingress interface's address, rate-limited by one
//   token bucket, never about ICMP errors, fragments or broadcast (wire/icmp.h).
// - Packets to one of the router's addresses: ICMP echo requests are
//   answered; the rest are dropped (the router runs no other service).
//
// Protection: the ARP table has a fixed capacity and never evicts a live
// entry; frames to unresolved next hops are dropped (not queued), so no
// input makes the router hold packets or allocate.
//
// Threads: one owning worker calls everything except snapshot(), which any
// thread may call. Nothing allocates after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "telemetry/counter.h"
#include "tor/l3_config.h"
#include "tor/l3_counters.h"
#include "tor/lpm.h"

namespace spray::tor {

enum class L3Action : std::uint8_t { kDrop, kForward, kReply, kConsumed };

struct L3Decision {
  L3Action action = L3Action::kDrop;
  L3Drop drop = L3Drop::kTruncated;  // why, when action == kDrop
  PortId port = 0;                   // egress when kForward
};

// One ARP entry as shown by `show arp`.
struct NeighborRecord {
  std::uint32_t ip;
  wire::Mac mac;
  PortId port;
  bool resolved;
  std::uint64_t age_ns;  // since last confirmed
};

class L3Router {
 public:
  static constexpr std::size_t kGeneratedSlots = 64;
  static constexpr std::size_t kGeneratedMax = 128;  // bytes per generated frame

  // Builds the tables; throws std::invalid_argument carrying
  // config.validate(port_count)'s message. Every port starts up.
  L3Router(const L3Config& config, std::size_t port_count);
  ~L3Router();
  L3Router(const L3Router&) = delete;
  L3Router& operator=(const L3Router&) = delete;

  // After a reload, on the owning worker: takes over `previous`'s counters,
  // link states of ports present in both, and every ARP entry still on a
  // subnet of this configuration (so unchanged next hops keep forwarding
  // without a new resolution). Allocation-free.
  void adopt(const L3Router& previous) noexcept;

  // frames[i]: the whole frame, writable. decisions.size() >= frames.size().
  void process_burst(PortId in_port, std::span<const std::span<std::uint8_t>> frames,
                     std::span<L3Decision> decisions, std::uint64_t now_ns) noexcept;

  // Copies the next frame the router wants to send (ARP request, ICMP error)
  // into `out` (>= kGeneratedMax bytes) and returns its length, with its
  // port in `port`; 0 when there is none.
  std::size_t take_generated(std::span<std::uint8_t> out, PortId& port) noexcept;

  // ARP retries, refreshes of ageing entries, first resolution of configured
  // next hops. Cheap; call about every millisecond.
  void tick(std::uint64_t now_ns) noexcept;

  void set_port_link(PortId port, bool up) noexcept;
  bool port_up(PortId port) const noexcept { return port < port_count_ && ports_[port].up; }
  bool is_routed(PortId port) const noexcept { return port < port_count_ && ports_[port].routed; }

  // The member of `prefix`'s route a 5-tuple would leave by, for tools and
  // the demo's path map: the egress port, or -1 when unroutable.
  int egress_for(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint8_t proto,
                 std::uint16_t src_port, std::uint16_t dst_port) const noexcept;

  template <class F>
  void for_each_neighbor(std::uint64_t now_ns, F&& f) const;

  const L3Config& config() const noexcept { return config_; }
  std::size_t port_count() const noexcept { return port_count_; }

  // Any thread.
  L3Stats snapshot() const noexcept;

 private:
  // LPM values: the top two bits of the 24 say what the rest is.
  static constexpr Lpm::Value kKindShift = 22;
  static constexpr Lpm::Value kKindGroup = 0, kKindConnected = 1, kKindLocal = 2;
  static constexpr Lpm::Value kPayloadMask = (Lpm::Value{1} << kKindShift) - 1;

  struct Port {
    bool routed = false;
    bool up = true;
    std::uint32_t ip = 0;
    std::uint32_t mask = 0;
    wire::Mac mac;
  };
  struct NextHop {
    std::uint32_t ip = 0;
    PortId port = 0;
    bool resolved = false;
    wire::Mac mac;
  };
  struct Group {
    std::uint16_t active_count = 0;
    std::uint16_t member_count = 0;
    std::uint32_t active[kMaxEcmpWays];   // next-hop indexes, ports up
    std::uint32_t members[kMaxEcmpWays];  // all next-hop indexes
  };
  enum class NState : std::uint8_t { kEmpty, kIncomplete, kReachable, kStale };
  struct Neighbor {
    std::uint32_t ip = 0;
    NState state = NState::kEmpty;
    PortId port = 0;
    std::uint8_t tries = 0;  // requests sent since the last confirmation
    wire::Mac mac;
    std::uint64_t confirmed_ns = 0;
    std::uint64_t requested_ns = 0;
  };
  struct Generated {
    PortId port;
    std::uint16_t len;
    std::uint8_t bytes[kGeneratedMax];
  };

  void route_one(PortId in_port, std::span<std::uint8_t> frame, std::size_t l3, L3Decision& d,
                 Lpm::Value v, std::uint64_t now_ns) noexcept;
  void handle_arp(PortId in_port, std::span<std::uint8_t> frame, L3Decision& d,
                  std::uint64_t now_ns) noexcept;
  void icmp_error(PortId in_port, std::span<const std::uint8_t> frame, std::size_t l3, bool ttl,
                  std::uint64_t now_ns) noexcept;
  bool icmp_token(std::uint64_t now_ns) noexcept;
  Neighbor* find_neighbor(std::uint32_t ip) noexcept;
  // The entry for `ip`, created (kIncomplete, on `port`) if there is none;
  // nullptr only when a new entry is needed and the table is at capacity.
  Neighbor* insert_neighbor(std::uint32_t ip, PortId port) noexcept;
  void erase_neighbor(Neighbor* n) noexcept;
  void neighbor_resolved(Neighbor& n, wire::Mac mac, std::uint64_t now_ns) noexcept;
  void request(Neighbor& n, std::uint64_t now_ns) noexcept;
  void rebuild_groups() noexcept;
  std::uint32_t pick_member(const Group& g, std::uint32_t hash) const noexcept;
  Generated* push_generated() noexcept;
  std::size_t slot_of(std::uint32_t ip) const noexcept {
    return static_cast<std::size_t>((std::uint64_t{ip} * hash_mul_) >> hash_shift_);
  }
  void drop(L3Decision& d, L3Drop why) noexcept {
    d.action = L3Action::kDrop;
    d.drop = why;
    drops_[static_cast<std::size_t>(why)].add();
  }
  void count(L3Counter c, std::uint64_t n = 1) noexcept { counters_[static_cast<std::size_t>(c)].add(n); }

  alignas(64) telemetry::SingleWriterCounter counters_[kL3CounterCount];
  telemetry::SingleWriterCounter drops_[kL3DropCount];
  telemetry::SingleWriterCounter neighbor_count_;

  L3Config config_;
  std::size_t port_count_ = 0;
  std::unique_ptr<Port[]> ports_;
  Lpm lpm_;
  std::vector<NextHop> next_hops_;
  std::vector<Group> groups_;
  std::vector<Neighbor> neighbors_;  // open addressing, linear probing, power of two
  std::uint64_t hash_mul_ = 0;
  unsigned hash_shift_ = 0;
  std::size_t neighbor_mask_ = 0;
  std::size_t tick_cursor_ = 0;  // incremental neighbor sweep
  std::vector<Generated> generated_;  // ring
  std::size_t gen_head_ = 0, gen_count_ = 0;
  double icmp_tokens_ = 0;
  std::uint64_t icmp_last_ns_ = 0;
};

template <class F>
void L3Router::for_each_neighbor(std::uint64_t now_ns, F&& f) const {
  for (const Neighbor& n : neighbors_) {
    if (n.state == NState::kEmpty) continue;
    f(NeighborRecord{n.ip, n.mac, n.port, n.state != NState::kIncomplete,
                     n.state == NState::kIncomplete || now_ns < n.confirmed_ns ? 0 : now_ns - n.confirmed_ns});
  }
}

}  // namespace spray::tor
