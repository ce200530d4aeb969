// SPDX-License-Identifier: BSD-3-Clause
#include "sim.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <utility>

namespace spray::sim {

const char* to_string(DropCause c) noexcept {
  switch (c) {
#define X(e, s) \
  case DropCause::e: return s;
    SPRAY_SIM_DROP_CAUSES(X)
#undef X
    case DropCause::kCount: break;
  }
  return "?";
}

void PacketPool::grow() {
  auto chunk = std::make_unique<std::uint8_t[]>(std::size_t{kChunk} * buf_bytes_);
  const auto base = static_cast<std::uint32_t>(pkts_.size());
  pkts_.resize(base + kChunk);
  for (std::uint32_t i = 0; i < kChunk; ++i) {
    Packet& p = pkts_[base + i];
    p.data = chunk.get() + std::size_t{i} * buf_bytes_;
    p.next = i + 1 < kChunk ? base + i + 1 : free_;
  }
  free_ = base;
  chunks_.push_back(std::move(chunk));
}

Sim::Sim(SimConfig cfg) : cfg_(cfg), pool_(cfg.max_srd_bytes) {}
Sim::~Sim() = default;

std::uint32_t Sim::add_host(std::string name, HostConfig cfg) {
  const auto node = static_cast<std::uint32_t>(nodes_.size());
  nodes_.push_back({NodeKind::kHost, static_cast<std::uint32_t>(hosts_.size())});
  Host& h = hosts_.emplace_back();
  h.node = node;
  h.name = std::move(name);
  h.cfg = cfg;
  if (h.cfg.rx_burst == 0) h.cfg.rx_burst = 1;
  return node;
}

std::uint32_t Sim::add_switch(std::string name) {
  const auto node = static_cast<std::uint32_t>(nodes_.size());
  nodes_.push_back({NodeKind::kSwitch, static_cast<std::uint32_t>(switches_.size())});
  Switch& s = switches_.emplace_back();
  s.node = node;
  s.name = std::move(name);
  std::uint64_t x = cfg_.seed ^ (0x5157'0000'0000ULL + node);
  s.hash_seed = mix64(x);
  return node;
}

std::uint32_t Sim::add_link(std::uint32_t from_node, std::uint32_t to_node, LinkConfig cfg,
                            std::string name) {
  if (from_node >= nodes_.size() || to_node >= nodes_.size())
    throw std::invalid_argument("Sim::add_link: unknown node");
  if (cfg.rate_bps == 0) throw std::invalid_argument("Sim::add_link: rate_bps must be > 0");
  if (cfg.queue_limit_pkts == 0)
    throw std::invalid_argument("Sim::add_link: queue_limit_pkts must be >= 1");
  const auto id = static_cast<std::uint32_t>(links_.size());
  Link& l = links_.emplace_back();
  l.id = id;
  l.from_node = from_node;
  l.to_node = to_node;
  l.name = name.empty() ? "link" + std::to_string(id) : std::move(name);
  l.cfg = cfg;
  std::uint64_t x = cfg_.seed ^ (0x11'0000'0000ULL + id);
  l.rng.reseed(mix64(x));
  // One slot per queued packet plus the one being serialised.
  l.ring.resize(std::size_t{cfg.queue_limit_pkts} + 1);
  if (cfg.histograms) l.hist = std::make_unique<LinkHistograms>();
  if (nodes_[from_node].kind == NodeKind::kHost) host_of(from_node).uplinks.push_back(id);
  return id;
}

std::uint32_t Sim::add_group(std::uint32_t sw_node, std::vector<std::uint32_t> links) {
  Switch& s = sw(sw_node);
  if (links.empty()) throw std::invalid_argument("Sim::add_route: empty link set");
  for (auto id : links)
    if (id >= links_.size() || links_[id].from_node != sw_node)
      throw std::invalid_argument("Sim::add_route: link " + std::to_string(id) +
                                  " does not leave switch " + s.name);
  s.groups.push_back(std::move(links));
  return static_cast<std::uint32_t>(s.groups.size() - 1);
}

void Sim::add_route(std::uint32_t sw_node, std::uint32_t dst_ip, std::vector<std::uint32_t> links) {
  const std::uint32_t g = add_group(sw_node, std::move(links));
  sw(sw_node).route[dst_ip] = g;
}

void Sim::add_range_route(std::uint32_t sw_node, std::uint32_t lo_ip, std::uint32_t hi_ip,
                          std::vector<std::uint32_t> links) {
  if (hi_ip <= lo_ip) throw std::invalid_argument("Sim::add_range_route: empty range");
  Switch& s = sw(sw_node);
  const auto at = std::lower_bound(s.ranges.begin(), s.ranges.end(), lo_ip,
                                   [](const Switch::RangeRoute& r, std::uint32_t ip) { return r.lo < ip; });
  if ((at != s.ranges.end() && at->lo < hi_ip) || (at != s.ranges.begin() && std::prev(at)->hi > lo_ip))
    throw std::invalid_argument("Sim::add_range_route: range overlaps another of switch " + s.name);
  const std::uint32_t g = add_group(sw_node, std::move(links));
  s.ranges.insert(at, {lo_ip, hi_ip, g});
}

void Sim::set_default_route(std::uint32_t sw_node, std::vector<std::uint32_t> links) {
  const std::uint32_t g = add_group(sw_node, std::move(links));
  sw(sw_node).default_group = g;
}

void Sim::set_stack(std::uint32_t host_node, std::unique_ptr<HostStack> stack) {
  Host& h = host(host_node);
  // A new stack (a restarted process) sees none of the old one's pending input.
  while (h.rx_head != kNoPacket) {
    const std::uint32_t p = h.rx_head;
    h.rx_head = pool_[p].next;
    pool_.free(p);
  }
  h.rx_tail = kNoPacket;
  h.rx_queued = 0;
  h.stack = std::move(stack);
  h.wake_ns = kNever;
  schedule_wake(h, now_ns_);
}

std::uint32_t Sim::index_of(std::uint32_t node, NodeKind kind) const {
  if (node >= nodes_.size() || nodes_[node].kind != kind)
    throw std::invalid_argument("Sim: node " + std::to_string(node) + " is not a " +
                                (kind == NodeKind::kHost ? "host" : "switch"));
  return nodes_[node].index;
}

void Sim::at(Nanos at_ns, std::function<void(Sim&)> fn) {
  std::uint32_t i;
  if (free_actions_.empty()) {
    i = static_cast<std::uint32_t>(actions_.size());
    actions_.push_back(std::move(fn));
  } else {
    i = free_actions_.back();
    free_actions_.pop_back();
    actions_[i] = std::move(fn);
  }
  events_q_.push(std::max(at_ns, now_ns_), EventKind::kAction, i);
}

namespace {
// Re-arms itself after each call that returns true.
struct Ticker {
  std::shared_ptr<std::function<bool(Sim&)>> fn;
  Nanos period_ns;
  void operator()(Sim& s) const {
    if ((*fn)(s)) s.at(s.now() + period_ns, *this);
  }
};
}  // namespace

void Sim::every(Nanos first_ns, Nanos period_ns, std::function<bool(Sim&)> fn) {
  if (period_ns == 0) throw std::invalid_argument("Sim::every: period_ns must be > 0");
  at(first_ns, Ticker{std::make_shared<std::function<bool(Sim&)>>(std::move(fn)), period_ns});
}

void Sim::schedule_wake(Host& h, Nanos at_ns) {
  if (at_ns < now_ns_) at_ns = now_ns_;
  if (at_ns >= h.wake_ns) return;
  h.wake_ns = at_ns;
  events_q_.push(at_ns, EventKind::kHostWake, h.node);
}

void Sim::run_until(Nanos end_ns) {
  while (step(end_ns)) {
  }
  if (end_ns > now_ns_) now_ns_ = end_ns;
}

bool Sim::run_until(Nanos limit_ns, const std::function<bool()>& done) {
  if (done()) return true;
  while (step(limit_ns)) {
    if (done()) return true;
  }
  if (limit_ns > now_ns_) now_ns_ = limit_ns;
  return done();
}

bool Sim::step(Nanos end_ns) {
  if (events_q_.empty() || events_q_.next_at() > end_ns) return false;
  const Event e = events_q_.pop();
  now_ns_ = e.at_ns;
  ++events_;
  switch (e.kind()) {
    case EventKind::kArrive:
      arrive(e.a, e.b);
      break;
    case EventKind::kHostWake: {
      Host& h = host_of(e.a);
      if (h.wake_ns != e.at_ns) break;  // superseded by an earlier wake
      h.wake_ns = kNever;
      service(h);
      break;
    }
    case EventKind::kAction: {
      // Moved out first: the action may schedule more actions (and grow the vector).
      auto fn = std::move(actions_[e.a]);
      actions_[e.a] = nullptr;
      free_actions_.push_back(e.a);
      fn(*this);
      break;
    }
  }
  return true;
}

void Sim::pause_host(std::uint32_t host_node, Nanos for_ns) {
  Host& h = host_of(host_node);
  h.busy_until_ns = std::max(h.busy_until_ns, now_ns_ + for_ns);
}

void Sim::service(Host& h) {
  if (!h.stack) return;
  HostStack& st = *h.stack;
  const Nanos now = now_ns_;
  if (now < h.busy_until_ns) {
    // Whatever woke it waits: the host is still busy or paused.
    h.wake_ns = kNever;
    schedule_wake(h, h.busy_until_ns);
    return;
  }
  ++h.stats.wakes;
  if (h.stats.rx_ring_drops != h.rx_ring_drops_told) {
    h.rx_ring_drops_told = h.stats.rx_ring_drops;
    st.on_host_drops(now);
  }

  std::uint32_t n = 0;
  for (; n < h.cfg.rx_burst && h.rx_head != kNoPacket; ++n) {
    const std::uint32_t pi = h.rx_head;
    Packet& p = pool_[pi];
    h.rx_head = p.next;
    if (h.rx_head == kNoPacket) h.rx_tail = kNoPacket;
    --h.rx_queued;
    const srd::RxMeta meta{p.src, p.path_id, p.ce};
    st.on_packet(p.bytes(), meta, now);
    pool_.free(pi);
  }
  if (n != 0 && h.cfg.rx_pkt_cost_ns != 0) h.busy_until_ns = now + n * h.cfg.rx_pkt_cost_ns;

  if (now >= st.next_expiry()) st.on_expiry(now);
  // The application runs twice: before transmit, and after it for the events
  // transmitting produced (a failure found in poll_tx leaves no timer behind
  // to wake the host again).
  for (int pass = 0; pass < 2; ++pass) {
    st.on_service(now);
    transmit(h, st, now);
  }

  Nanos next = std::min(st.next_expiry(), st.next_app_wake());
  if (h.rx_head != kNoPacket) next = now;  // more than one burst waiting
  else if (next <= now) {
    // A stack that stays due after a full poll would spin at one instant.
    ++h.stats.stuck_wakes;
    next = now + 1;
  }
  schedule_wake(h, std::max(next, h.busy_until_ns));
}

void Sim::transmit(Host& h, HostStack& st, Nanos now) {
  for (;;) {
    // Most polls find nothing to send: the buffer they were offered stays
    // ready for the next one instead of going back to the pool.
    if (spare_ == kNoPacket) spare_ = pool_.alloc();
    srd::TxMeta meta;
    const std::size_t len = st.poll_tx({pool_[spare_].data, pool_.buf_bytes()}, meta, now);
    if (len == 0) break;
    const std::uint32_t pi = spare_;
    spare_ = kNoPacket;
    Packet& p = pool_[pi];
    assert(len <= pool_.buf_bytes());
    p.len = static_cast<std::uint16_t>(len);
    p.src = h.cfg.addr;
    p.dst = meta.to;
    p.path_id = meta.path_id;
    p.entropy = st.tx_entropy(meta);
    p.ect = meta.ect;
    p.id = next_pkt_id_++;
    p.sent_ns = now;
    ++h.stats.tx_pkts;
    h.stats.tx_bytes += len;
    if (h.uplinks.empty()) {
      ++h.stats.no_uplink_drops;
      pool_.free(pi);
      continue;
    }
    const std::size_t n = h.uplinks.size();
    enqueue(h.uplinks[meta.path_id < n ? meta.path_id : meta.path_id % n], pi);
  }
}

void Sim::drop(Link& l, std::uint32_t pkt, DropCause c) {
  ++l.stats.drops[static_cast<std::size_t>(c)];
  pool_.free(pkt);
}

void Sim::enqueue(std::uint32_t link_id, std::uint32_t pi) {
  Link& l = links_[link_id];
  Packet& p = pool_[pi];
  const Nanos now = now_ns_;
  const std::uint64_t ordinal = ++l.stats.offered_pkts;

  if (!l.up) return drop(l, pi, DropCause::kDown);
  if (l.blackhole) return drop(l, pi, DropCause::kBlackhole);

  const std::uint32_t ahead = l.queued_pkts(now);
  if (l.hist) l.hist->queue_pkts.add(ahead);
  if (ahead > l.cfg.queue_limit_pkts ||
      (l.cfg.queue_limit_bytes && l.queued_bytes + p.len > l.cfg.queue_limit_bytes))
    return drop(l, pi, DropCause::kQueueFull);

  const Nanos start = std::max(now, l.busy_until_ns);
  const Nanos sojourn = start - now;
  // bits * 1e9 / rate, the remainder carried to the next packet. A link
  // mostly carries one packet size, so the division of that size's bits B
  // is kept: with r the carried remainder (< rate),
  // (B + r) / rate = B / rate + (B % rate + r >= rate). A 16-bit length
  // times 8e9 is below 2^49, so all of it fits 64 bits for rates below 2^63
  // (a rate lowered mid-run can leave r >= rate: the general path).
  const std::uint64_t rate = l.cfg.rate_bps;
  Nanos ser_ns;
  if (rate < (std::uint64_t{1} << 63) && l.ser_remainder < rate) {
    Link::SerCache& sc = l.ser_cache;
    if (sc.len != p.len || sc.rate_bps != rate) {
      const std::uint64_t bits_e9 = wire_bytes(p.len) * 8 * 1'000'000'000ULL;
      sc = {rate, bits_e9 / rate, bits_e9 % rate, p.len};
    }
    const std::uint64_t rem = sc.rem + l.ser_remainder;  // < 2 * rate < 2^64
    const bool carry = rem >= rate;
    ser_ns = sc.quot + carry;
    l.ser_remainder = carry ? rem - rate : rem;
  } else {
    const unsigned __int128 bits_e9 =
        static_cast<unsigned __int128>(wire_bytes(p.len)) * 8 * 1'000'000'000ULL + l.ser_remainder;
    ser_ns = static_cast<Nanos>(bits_e9 / rate);
    l.ser_remainder = static_cast<std::uint64_t>(bits_e9 % rate);
  }
  const Nanos finish = start + ser_ns;
  l.busy_until_ns = finish;
  std::uint32_t tail = l.ring_head + l.ring_len;
  if (tail >= l.ring.size()) tail -= static_cast<std::uint32_t>(l.ring.size());
  l.ring[tail] = {finish, p.len};
  ++l.ring_len;
  l.queued_bytes += p.len;
  if (l.hist) l.hist->sojourn_ns.add(sojourn);
  ++l.stats.tx_pkts;
  l.stats.tx_bytes += p.len;

  if (p.ect && ((l.cfg.ecn_mark_pkts && ahead >= l.cfg.ecn_mark_pkts) ||
                (l.cfg.ecn_mark_sojourn_ns && sojourn >= l.cfg.ecn_mark_sojourn_ns))) {
    if (!p.ce) ++l.stats.ce_marks;
    p.ce = true;
  }

  // On the wire.
  if (l.next_nth < l.drop_nth.size() && l.drop_nth[l.next_nth] == ordinal) {
    ++l.next_nth;
    return drop(l, pi, DropCause::kPattern);
  }
  if (l.drop_if && l.drop_if(p, now)) return drop(l, pi, DropCause::kPattern);
  if (l.rng.chance(l.cfg.loss_rate)) return drop(l, pi, DropCause::kRandom);
  if (const GilbertElliott& ge = l.cfg.bursty; ge.p_good_to_bad > 0) {
    const bool was_bad = l.ge_bad;
    l.ge_bad = l.ge_bad ? !l.rng.chance(ge.p_bad_to_good) : l.rng.chance(ge.p_good_to_bad);
    if (l.ge_bad && !was_bad) l.ge_bad_since_ns = now;
    if (l.ge_bad && ge.max_bad_ns && now - l.ge_bad_since_ns >= ge.max_bad_ns) l.ge_bad = false;
    if (l.rng.chance(l.ge_bad ? ge.loss_in_bad : ge.loss_in_good))
      return drop(l, pi, DropCause::kBursty);
  }
  if (p.len && l.rng.chance(l.cfg.corrupt_rate)) {
    const std::uint32_t span = l.cfg.corrupt_within && l.cfg.corrupt_within < p.len
                                   ? l.cfg.corrupt_within
                                   : p.len;
    const auto off = static_cast<std::uint32_t>(l.rng.below(span));
    // XOR with a non-zero mask so the byte always changes.
    p.data[off] ^= static_cast<std::uint8_t>(1 + l.rng.below(255));
    p.corrupted = true;
    ++l.stats.corrupted;
  }

  Nanos arrival = finish + l.cfg.delay_ns;
  if (l.cfg.jitter_ns) arrival += l.rng.below(l.cfg.jitter_ns + 1);
  if (l.rng.chance(l.cfg.reorder_rate)) {
    ++l.stats.reordered;
    arrival += l.cfg.reorder_delay_ns;
  } else {
    arrival = std::max(arrival, l.last_arrival_ns);
    l.last_arrival_ns = arrival;
  }

  if (l.rng.chance(l.cfg.dup_rate)) {
    const std::uint32_t di = pool_.alloc();
    Packet& d = pool_[di];
    Packet& orig = pool_[pi];  // alloc may have moved headers
    std::uint8_t* data = d.data;
    d = orig;
    d.data = data;
    std::copy_n(orig.data, orig.len, d.data);
    d.next = kNoPacket;
    ++l.stats.duplicated;
    schedule_arrival(l, pi, arrival);
    schedule_arrival(l, di, arrival);
    return;
  }
  schedule_arrival(l, pi, arrival);
}

void Sim::schedule_arrival(Link& l, std::uint32_t pkt, Nanos at_ns) {
  events_q_.push(at_ns, EventKind::kArrive, l.id, pkt);
}

void Sim::arrive(std::uint32_t link_id, std::uint32_t pi) {
  Link& l = links_[link_id];
  // A link that failed while the packet was on it loses the packet.
  if (!l.up) return drop(l, pi, DropCause::kDown);
  if (l.blackhole) return drop(l, pi, DropCause::kBlackhole);
  ++l.stats.delivered_pkts;
  const Node n = nodes_[l.to_node];
  if (n.kind == NodeKind::kHost) deliver(hosts_[n.index], pi);
  else forward(switches_[n.index], pi);
}

void Sim::forward(Switch& s, std::uint32_t pi) {
  const Packet& p = pool_[pi];
  std::uint32_t gi = Switch::kNoGroup;
  if (!s.route.empty()) {
    const auto it = s.route.find(p.dst.ip);
    if (it != s.route.end()) gi = it->second;
  }
  if (gi == Switch::kNoGroup && !s.ranges.empty()) {
    const auto at = std::upper_bound(s.ranges.begin(), s.ranges.end(), p.dst.ip,
                                     [](std::uint32_t ip, const Switch::RangeRoute& r) { return ip < r.lo; });
    if (at != s.ranges.begin() && p.dst.ip < std::prev(at)->hi) gi = std::prev(at)->group;
  }
  if (gi == Switch::kNoGroup) gi = s.default_group;
  if (gi == Switch::kNoGroup) {
    ++s.no_route_drops;
    pool_.free(pi);
    return;
  }
  const std::vector<std::uint32_t>& g = s.groups[gi];
  std::uint32_t out = g[0];
  if (g.size() > 1) {
    const std::uint16_t src_port = static_cast<std::uint16_t>(cfg_.udp_src_port_base + p.entropy);
    const std::uint64_t key = (std::uint64_t{p.src.ip} << 32 | p.dst.ip) ^
                              mix64(s.hash_seed ^ (std::uint64_t{src_port} << 16 | p.dst.port));
    out = g[mix64(key) % g.size()];
  }
  ++s.forwarded_pkts;
  enqueue(out, pi);
}

void Sim::deliver(Host& h, std::uint32_t pi) {
  Packet& p = pool_[pi];
  if (p.dst.ip != h.cfg.addr.ip) {
    ++h.stats.rx_misaddressed;
    pool_.free(pi);
    return;
  }
  if (p.corrupted) {
    if (h.cfg.l4_checksum) {
      ++h.stats.rx_csum_drops;
      pool_.free(pi);
      return;
    }
    ++h.stats.rx_corrupt_passed;
  }
  if (h.cfg.rx_ring_pkts != 0 && h.rx_queued >= h.cfg.rx_ring_pkts) {
    ++h.stats.rx_ring_drops;
    pool_.free(pi);
    return;
  }
  ++h.rx_queued;
  ++h.stats.rx_pkts;
  h.stats.rx_bytes += p.len;
  p.next = kNoPacket;
  if (h.rx_tail == kNoPacket) h.rx_head = pi;
  else pool_[h.rx_tail].next = pi;
  h.rx_tail = pi;
  schedule_wake(h, std::max(now_ns_ + h.cfg.rx_poll_ns, h.busy_until_ns));
}

}  // namespace spray::sim
