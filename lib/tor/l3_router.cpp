// SPDX-License-Identifier: BSD-3-Clause
#include "tor/l3_router.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>
#include <stdexcept>

#include "tor/ecmp.h"
#include "wire/arp.h"
#include "wire/icmp.h"

namespace spray::tor {

namespace {

bool martian(std::uint32_t a) noexcept {
  const std::uint32_t top = a >> 24;
  return top == 0 || top == 127 || top >= 224;
}

std::uint32_t pow2_at_least(std::uint32_t n) noexcept { return n <= 1 ? 1 : std::bit_ceil(n); }

}  // namespace

L3Router::L3Router(const L3Config& config, std::size_t port_count)
    : config_(config), port_count_(port_count), ports_(std::make_unique<Port[]>(port_count)),
      lpm_(std::max<std::uint32_t>(config.max_routes + static_cast<std::uint32_t>(2 * config.interfaces.size()), 16),
           std::max<std::uint32_t>(256, (config.max_routes + 2 * static_cast<std::uint32_t>(config.interfaces.size())) / 4)) {
  if (auto err = config.validate(port_count); !err.empty()) throw std::invalid_argument(err);
  for (const auto& i : config.interfaces) {
    Port& p = ports_[i.port];
    p.routed = true;
    p.ip = i.addr.addr;
    p.mask = i.addr.mask();
    p.mac = i.mac;
    const wire::Ipv4Prefix net{i.addr.addr & i.addr.mask(), i.addr.len};
    lpm_.add(net.addr, net.len, (kKindConnected << kKindShift) | i.port);
    lpm_.add(i.addr.addr, 32, (kKindLocal << kKindShift) | i.port);
  }
  // Next hops are shared between routes; groups between routes with the same
  // set of next hops (1,000 routes over the same 8 uplinks are one group).
  std::vector<std::vector<std::uint32_t>> group_keys;
  for (const auto& r : config.routes) {
    std::vector<std::uint32_t> members;
    for (std::uint32_t ip : r.next_hops) {
      std::size_t idx = next_hops_.size();
      for (std::size_t k = 0; k < next_hops_.size(); ++k)
        if (next_hops_[k].ip == ip) idx = k;
      if (idx == next_hops_.size()) {
        NextHop nh;
        nh.ip = ip;
        nh.port = config.interface_for(ip)->port;
        next_hops_.push_back(nh);
      }
      members.push_back(static_cast<std::uint32_t>(idx));
    }
    // The member order is the configuration's: the hash maps onto it, so two
    // switches with the same seed and route pick the same uplink.
    std::size_t g = group_keys.size();
    for (std::size_t k = 0; k < group_keys.size(); ++k)
      if (group_keys[k] == members) g = k;
    if (g == group_keys.size()) {
      group_keys.push_back(members);
      Group grp{};
      grp.member_count = static_cast<std::uint16_t>(members.size());
      std::copy(members.begin(), members.end(), grp.members);
      groups_.push_back(grp);
    }
    if (auto err = lpm_.add(r.prefix.addr, r.prefix.len, (kKindGroup << kKindShift) | static_cast<Lpm::Value>(g));
        !err.empty())
      throw std::invalid_argument("route " + wire::format_ipv4_prefix(r.prefix) + ": " + err);
  }
  rebuild_groups();
  const std::uint32_t slots = pow2_at_least(config.neighbor_capacity * 2);
  neighbors_.resize(slots);
  neighbor_mask_ = slots - 1;
  hash_shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
  if (slots == 1) hash_shift_ = 63;  // (x >> 63) is 0 or 1; masked below
  std::seed_seq seq{static_cast<std::uint32_t>(config.ecmp_seed), static_cast<std::uint32_t>(config.ecmp_seed >> 32),
                    0x9e3779b9u};
  std::mt19937_64 rng(seq);
  hash_mul_ = rng() | 1;
  generated_.resize(kGeneratedSlots);
  icmp_tokens_ = config.icmp_burst;
}

L3Router::~L3Router() = default;

void L3Router::rebuild_groups() noexcept {
  for (Group& g : groups_) {
    g.active_count = 0;
    for (std::uint16_t k = 0; k < g.member_count; ++k)
      if (ports_[next_hops_[g.members[k]].port].up) g.active[g.active_count++] = g.members[k];
  }
}

// The hash picks among all members, so a member going down moves only its own
// flows (every other flow keeps its path, and SRD's view of it); those are
// spread over the members still up by other bits of the same hash, and come
// back when the member does. g.active_count must be nonzero.
std::uint32_t L3Router::pick_member(const Group& g, std::uint32_t hash) const noexcept {
  const std::uint32_t member = g.members[ecmp_pick(hash, g.member_count)];
  if (ports_[next_hops_[member].port].up) return member;
  return g.active[ecmp_pick(std::rotl(hash, 16), g.active_count)];
}

void L3Router::set_port_link(PortId port, bool up) noexcept {
  if (port >= port_count_ || ports_[port].up == up) return;
  ports_[port].up = up;
  rebuild_groups();
}

void L3Router::adopt(const L3Router& previous) noexcept {
  for (std::size_t i = 0; i < kL3CounterCount; ++i) counters_[i].set(previous.counters_[i].read());
  for (std::size_t i = 0; i < kL3DropCount; ++i) drops_[i].set(previous.drops_[i].read());
  for (std::size_t p = 0; p < port_count_ && p < previous.port_count_; ++p) ports_[p].up = previous.ports_[p].up;
  rebuild_groups();
  for (const Neighbor& old : previous.neighbors_) {
    if (old.state == NState::kEmpty || old.state == NState::kIncomplete) continue;
    const L3Interface* i = config_.interface_for(old.ip);
    if (!i || i->port != old.port) continue;
    Neighbor* n = insert_neighbor(old.ip, old.port);
    if (!n) break;
    n->mac = old.mac;
    n->state = old.state;
    n->confirmed_ns = old.confirmed_ns;
    n->requested_ns = old.requested_ns;
    n->tries = old.tries;
    for (NextHop& nh : next_hops_)
      if (nh.ip == old.ip) {
        nh.resolved = true;
        nh.mac = old.mac;
      }
  }
}

// ---- neighbors ----

L3Router::Neighbor* L3Router::find_neighbor(std::uint32_t ip) noexcept {
  for (std::size_t i = slot_of(ip) & neighbor_mask_;; i = (i + 1) & neighbor_mask_) {
    Neighbor& n = neighbors_[i];
    if (n.state == NState::kEmpty) return nullptr;
    if (n.ip == ip) return &n;
  }
}

L3Router::Neighbor* L3Router::insert_neighbor(std::uint32_t ip, PortId port) noexcept {
  for (std::size_t i = slot_of(ip) & neighbor_mask_;; i = (i + 1) & neighbor_mask_) {
    Neighbor& n = neighbors_[i];
    if (n.state == NState::kEmpty) {
      if (neighbor_count_.read() >= config_.neighbor_capacity) return nullptr;
      n = Neighbor{};
      n.ip = ip;
      n.port = port;
      n.state = NState::kIncomplete;
      neighbor_count_.add();
      return &n;
    }
    if (n.ip == ip) return &n;
  }
}

// Backward-shift deletion: no tombstones, probes stay short.
void L3Router::erase_neighbor(Neighbor* victim) noexcept {
  for (NextHop& nh : next_hops_)
    if (nh.ip == victim->ip) nh.resolved = false;
  std::size_t hole = static_cast<std::size_t>(victim - neighbors_.data());
  neighbors_[hole].state = NState::kEmpty;
  neighbor_count_.sub();
  for (std::size_t i = (hole + 1) & neighbor_mask_; neighbors_[i].state != NState::kEmpty;
       i = (i + 1) & neighbor_mask_) {
    const std::size_t home = slot_of(neighbors_[i].ip) & neighbor_mask_;
    // Move entry i into the hole if its home is not in (hole, i] cyclically.
    const bool between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!between) {
      neighbors_[hole] = neighbors_[i];
      neighbors_[i].state = NState::kEmpty;
      hole = i;
    }
  }
}

void L3Router::neighbor_resolved(Neighbor& n, wire::Mac mac, std::uint64_t now_ns) noexcept {
  n.mac = mac;
  n.state = NState::kReachable;
  n.confirmed_ns = now_ns;
  n.tries = 0;
  for (NextHop& nh : next_hops_)
    if (nh.ip == n.ip) {
      nh.resolved = true;
      nh.mac = mac;
    }
}

void L3Router::request(Neighbor& n, std::uint64_t now_ns) noexcept {
  if (n.tries != 0 && now_ns - n.requested_ns < config_.arp_retry_ns) return;
  Generated* g = push_generated();
  if (!g) return;
  const Port& p = ports_[n.port];
  g->port = n.port;
  g->len = static_cast<std::uint16_t>(wire::build_arp_request({g->bytes, kGeneratedMax}, p.mac, p.ip, n.ip));
  n.requested_ns = now_ns;
  if (n.tries < 255) ++n.tries;
  count(L3Counter::kArpRequestsSent);
}

L3Router::Generated* L3Router::push_generated() noexcept {
  if (gen_count_ == generated_.size()) {
    count(L3Counter::kGeneratedOverflow);
    return nullptr;
  }
  Generated* g = &generated_[(gen_head_ + gen_count_) % generated_.size()];
  ++gen_count_;
  return g;
}

std::size_t L3Router::take_generated(std::span<std::uint8_t> out, PortId& port) noexcept {
  while (gen_count_ != 0) {
    const Generated& g = generated_[gen_head_];
    gen_head_ = (gen_head_ + 1) % generated_.size();
    --gen_count_;
    if (g.len == 0 || out.size() < g.len) continue;
    std::memcpy(out.data(), g.bytes, g.len);
    port = g.port;
    return g.len;
  }
  return 0;
}

void L3Router::tick(std::uint64_t now_ns) noexcept {
  // Configured next hops are asked for until they answer; a dead one is
  // asked every retry interval for ever (it may come back).
  for (const NextHop& nh : next_hops_) {
    if (nh.resolved || !ports_[nh.port].up) continue;
    Neighbor* n = insert_neighbor(nh.ip, nh.port);
    if (n && n->state == NState::kIncomplete) {
      if (n->tries >= config_.arp_tries) n->tries = 1;  // keep trying, at the retry pace
      request(*n, now_ns);
    }
  }
  // A slice of the table per tick: refresh ageing entries, drop dead ones.
  const std::size_t budget = std::min<std::size_t>(64, neighbors_.size());
  for (std::size_t k = 0; k < budget; ++k) {
    tick_cursor_ = (tick_cursor_ + 1) & neighbor_mask_;
    Neighbor& n = neighbors_[tick_cursor_];
    if (n.state == NState::kEmpty) continue;
    if (n.state == NState::kReachable && now_ns - n.confirmed_ns >= config_.arp_reachable_ns) {
      n.state = NState::kStale;
      n.tries = 0;
    }
    if (n.state == NState::kStale || n.state == NState::kIncomplete) {
      if (n.tries >= config_.arp_tries && now_ns - n.requested_ns >= config_.arp_retry_ns) {
        count(L3Counter::kNeighborsExpired);
        erase_neighbor(&n);
        // The entry moved into this slot (if any) is looked at next pass.
        continue;
      }
      if (ports_[n.port].up) request(n, now_ns);
    }
  }
}

// ---- data path ----

void L3Router::handle_arp(PortId in_port, std::span<std::uint8_t> frame, L3Decision& d,
                          std::uint64_t now_ns) noexcept {
  wire::ArpView a;
  if (wire::parse_arp(frame.subspan(wire::kEthHdrLen), a) != wire::WireError::kOk) return drop(d, L3Drop::kBadArp);
  const Port& p = ports_[in_port];
  const bool sender_on_subnet = (a.spa & p.mask) == (p.ip & p.mask) && a.spa != p.ip && !a.sha.is_group() &&
                                !a.sha.is_zero();
  Neighbor* known = sender_on_subnet ? find_neighbor(a.spa) : nullptr;
  if (a.op == wire::ArpOp::kRequest) {
    if (a.tpa != p.ip) {
      // Someone else's request: only refresh what we already know.
      if (known && known->port == in_port) neighbor_resolved(*known, a.sha, now_ns);
      return drop(d, L3Drop::kBadArp);
    }
    if (sender_on_subnet) {
      // RFC 826: the target of a request learns the requester.
      if (!known) known = insert_neighbor(a.spa, in_port);
      if (known) {
        known->port = in_port;
        neighbor_resolved(*known, a.sha, now_ns);
      }
    }
    if (wire::arp_request_to_reply(frame, p.mac) != wire::WireError::kOk) return drop(d, L3Drop::kBadArp);
    count(L3Counter::kArpRequestsAnswered);
    d.action = L3Action::kReply;
    d.port = in_port;
    return;
  }
  if (known && known->port == in_port) {
    neighbor_resolved(*known, a.sha, now_ns);
    count(L3Counter::kArpRepliesLearned);
  } else {
    count(L3Counter::kArpRepliesIgnored);
  }
  d.action = L3Action::kConsumed;
  d.port = in_port;
}

bool L3Router::icmp_token(std::uint64_t now_ns) noexcept {
  if (config_.icmp_errors_per_s == 0) return false;
  if (now_ns > icmp_last_ns_) {
    icmp_tokens_ = std::min<double>(config_.icmp_burst,
                                    icmp_tokens_ + (now_ns - icmp_last_ns_) * 1e-9 * config_.icmp_errors_per_s);
    icmp_last_ns_ = now_ns;
  }
  if (icmp_tokens_ < 1) return false;
  icmp_tokens_ -= 1;
  return true;
}

void L3Router::icmp_error(PortId in_port, std::span<const std::uint8_t> frame, std::size_t l3, bool ttl,
                          std::uint64_t now_ns) noexcept {
  const auto offending = frame.subspan(l3);
  if (!wire::icmp_error_allowed(offending)) return;
  if (!icmp_token(now_ns)) return count(L3Counter::kIcmpRateLimited);
  Generated* g = push_generated();
  if (!g) return;
  const Port& p = ports_[in_port];
  // Back the way it came: to the previous hop's MAC, from our port.
  wire::IcmpErrorAddr addr{p.mac, wire::Mac::load(frame.data() + 6), p.ip};
  const std::span<std::uint8_t> out{g->bytes, kGeneratedMax};
  g->len = static_cast<std::uint16_t>(ttl ? wire::build_icmp_time_exceeded(out, addr, offending)
                                          : wire::build_icmp_dest_unreachable(out, addr, wire::kIcmpNetUnreachable,
                                                                              offending));
  g->port = in_port;
  if (g->len) count(L3Counter::kIcmpErrorsSent);
}

void L3Router::route_one(PortId in_port, std::span<std::uint8_t> frame, std::size_t l3, L3Decision& d,
                         Lpm::Value v, std::uint64_t now_ns) noexcept {
  std::uint8_t* ip = frame.data() + l3;
  const std::uint32_t dst = wire::load_be32(ip + wire::kIpv4OffDst);
  if (v == Lpm::kNoRoute) {
    icmp_error(in_port, frame, l3, false, now_ns);
    return drop(d, L3Drop::kNoRoute);
  }
  const Lpm::Value kind = v >> kKindShift;
  if (kind == kKindLocal) {
    if (ip[wire::kIpv4OffProto] == wire::kIpProtoIcmp && wire::icmp_echo_to_reply(frame) == wire::WireError::kOk) {
      count(L3Counter::kIcmpEchoAnswered);
      d.action = L3Action::kReply;
      d.port = in_port;
      return;
    }
    return drop(d, L3Drop::kToRouter);
  }
  if (ip[wire::kIpv4OffTtl] <= 1) {
    icmp_error(in_port, frame, l3, true, now_ns);
    return drop(d, L3Drop::kTtlExceeded);
  }
  PortId out;
  wire::Mac next_mac;
  if (kind == kKindConnected) {
    out = static_cast<PortId>(v & kPayloadMask);
    const Port& op = ports_[out];
    // Directed broadcast (a /31 has none: RFC 3021).
    if (op.mask != 0xfffffffeu && (dst & ~op.mask) == ~op.mask) return drop(d, L3Drop::kMartian);
    if (!op.up) return drop(d, L3Drop::kEgressDown);
    Neighbor* n = insert_neighbor(dst, out);
    if (!n) return drop(d, L3Drop::kNeighborTableFull);
    if (n->state == NState::kIncomplete) {
      request(*n, now_ns);
      return drop(d, L3Drop::kNeighborUnresolved);
    }
    next_mac = n->mac;
  } else {
    const Group& g = groups_[v & kPayloadMask];
    if (g.active_count == 0) return drop(d, L3Drop::kEgressDown);
    std::uint32_t member = g.active[0];
    if (g.member_count > 1) {
      FlowKey k{wire::load_be32(ip + wire::kIpv4OffSrc), dst, 0, 0, ip[wire::kIpv4OffProto]};
      const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
      const bool fragment = (wire::load_be16(ip + wire::kIpv4OffFrag) & (wire::kIpv4FlagMf | wire::kIpv4FragOffsetMask)) != 0;
      if ((k.proto == wire::kIpProtoUdp || k.proto == wire::kIpProtoTcp) && !fragment &&
          l3 + ihl + 4 <= frame.size()) {
        k.src_port = wire::load_be16(ip + ihl);
        k.dst_port = wire::load_be16(ip + ihl + 2);
      }
      member = pick_member(g, flow_hash(k, config_.ecmp_seed));
      count(L3Counter::kEcmpForwarded);
    }
    const NextHop& nh = next_hops_[member];
    if (!nh.resolved) {
      if (Neighbor* n = insert_neighbor(nh.ip, nh.port)) request(*n, now_ns);
      return drop(d, L3Drop::kNeighborUnresolved);
    }
    out = nh.port;
    next_mac = nh.mac;
  }
  wire::decrement_ttl({ip, frame.size() - l3});
  next_mac.store(frame.data());
  ports_[out].mac.store(frame.data() + 6);
  d.action = L3Action::kForward;
  d.port = out;
  count(L3Counter::kForwarded);
}

void L3Router::process_burst(PortId in_port, std::span<const std::span<std::uint8_t>> frames,
                             std::span<L3Decision> decisions, std::uint64_t now_ns) noexcept {
  constexpr std::size_t kChunk = 64;
  count(L3Counter::kRxFrames, frames.size());
  const Port& p = ports_[in_port];
  if (!p.up || !p.routed) {
    for (std::size_t i = 0; i < frames.size(); ++i) drop(decisions[i], L3Drop::kPortDown);
    return;
  }
  for (std::size_t base = 0; base < frames.size(); base += kChunk) {
    const std::size_t n = std::min(kChunk, frames.size() - base);
    std::uint32_t dst[kChunk];
    Lpm::Value val[kChunk];
    std::uint8_t route[kChunk];  // 1: IPv4 to look up
    // Pass 1: validate and collect destinations for one bulk lookup.
    for (std::size_t i = 0; i < n; ++i) {
      const std::span<std::uint8_t> f = frames[base + i];
      L3Decision& d = decisions[base + i];
      route[i] = 0;
      dst[i] = 0;
      if (f.size() < wire::kEthHdrLen) {
        drop(d, L3Drop::kTruncated);
        continue;
      }
      const std::uint16_t et = wire::load_be16(f.data() + 12);
      const wire::Mac dmac = wire::Mac::load(f.data());
      if (et == wire::kEtherTypeVlan || et == wire::kEtherTypeQinQ) {
        drop(d, L3Drop::kTagged);
        continue;
      }
      if (et == wire::kEtherTypeArp) {
        if (dmac != p.mac && !dmac.is_broadcast()) {
          drop(d, L3Drop::kNotForUs);
          continue;
        }
        handle_arp(in_port, f, d, now_ns);
        continue;
      }
      if (dmac != p.mac) {
        drop(d, L3Drop::kNotForUs);
        continue;
      }
      if (et != wire::kEtherTypeIpv4) {
        drop(d, L3Drop::kUnsupportedEthertype);
        continue;
      }
      wire::Ipv4View ip;
      const wire::WireError e = wire::parse_ipv4(f.subspan(wire::kEthHdrLen), ip);
      if (e != wire::WireError::kOk && e != wire::WireError::kFragment) {
        drop(d, e == wire::WireError::kTruncated   ? L3Drop::kTruncated
                : e == wire::WireError::kBadIpChecksum ? L3Drop::kBadIpChecksum
                                                       : L3Drop::kBadIp);
        continue;
      }
      if (martian(ip.dst) || martian(ip.src) || ip.src == 0xffffffffu) {
        drop(d, L3Drop::kMartian);
        continue;
      }
      route[i] = 1;
      dst[i] = ip.dst;
    }
    // Pass 2: every lookup of the chunk at once (the LPM overlaps its misses).
    lpm_.lookup_bulk(dst, val, n);
    for (std::size_t i = 0; i < n; ++i)
      if (route[i]) route_one(in_port, frames[base + i], wire::kEthHdrLen, decisions[base + i], val[i], now_ns);
  }
}

int L3Router::egress_for(std::uint32_t src_ip, std::uint32_t dst_ip, std::uint8_t proto, std::uint16_t src_port,
                         std::uint16_t dst_port) const noexcept {
  const Lpm::Value v = lpm_.lookup(dst_ip);
  if (v == Lpm::kNoRoute) return -1;
  const Lpm::Value kind = v >> kKindShift;
  if (kind == kKindConnected) return static_cast<int>(v & kPayloadMask);
  if (kind != kKindGroup) return -1;
  const Group& g = groups_[v & kPayloadMask];
  if (g.active_count == 0) return -1;
  if (g.member_count == 1) return next_hops_[g.active[0]].port;
  const FlowKey k{src_ip, dst_ip, src_port, dst_port, proto};
  return next_hops_[pick_member(g, flow_hash(k, config_.ecmp_seed))].port;
}

L3Stats L3Router::snapshot() const noexcept {
  L3Stats s;
  for (std::size_t i = 0; i < kL3CounterCount; ++i) s.counters[i] = counters_[i].read();
  for (std::size_t i = 0; i < kL3DropCount; ++i) s.drops[i] = drops_[i].read();
  s.neighbors = neighbor_count_.read();
  s.routes = config_.routes.size();
  return s;
}

}  // namespace spray::tor
