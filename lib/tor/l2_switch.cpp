// SPDX-License-Identifier: BSD-3-Clause
#include "tor/l2_switch.h"

#include <stdexcept>

namespace spray::tor {

namespace {
const L2Config& validated(const L2Config& config) {
  if (std::string err = config.validate(); !err.empty())
    throw std::invalid_argument("L2 switch configuration: " + err);
  return config;
}
}  // namespace

L2Switch::L2Switch(const L2Config& config)
    : fdb_(validated(config).fdb_capacity, config.age_ns, config.hash_seed), config_(config) {
  port_count_ = config.ports.size();
  for (std::size_t i = 0; i < port_count_; ++i) {
    const L2PortConfig& pc = config.ports[i];
    Port& p = ports_[i];
    p.mode = pc.mode;
    p.admin_up = pc.admin_up;
    p.link_up = true;
    p.max_macs = pc.max_macs;
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (pc.mode == PortMode::kAccess) {
      p.untagged_vlan = pc.access_vlan;
      vlan_members_[pc.access_vlan] |= bit;
    } else {
      p.untagged_vlan = pc.native_vlan;
      if (pc.native_vlan != kNoVlan) vlan_members_[pc.native_vlan] |= bit;
      for (VlanId v : pc.allowed_vlans) vlan_members_[v] |= bit;
    }
    update_up(static_cast<PortId>(i));
  }
  for (const L2StaticEntry& s : config.static_entries) {
    // validate() checked everything add_static() could refuse.
    [[maybe_unused]] const std::string err = add_static(s.vlan, s.mac, s.port, 0);
    assert(err.empty());
  }
}

L2Switch::L2Switch(const L2Config& config, const L2Switch& previous, std::uint64_t now_ns)
    : L2Switch(config) {
  for (std::size_t i = 0; i < kL2CounterCount; ++i) counters_[i].set(previous.counters_[i].read());
  for (std::size_t i = 0; i < kL2DropCount; ++i) drops_[i].set(previous.drops_[i].read());
  for (std::size_t p = 0; p < port_count_ && p < previous.port_count_; ++p) {
    ports_[p].link_up = previous.ports_[p].link_up;
    update_up(static_cast<PortId>(p));
  }
  const std::uint32_t now_tick = fdb_tick(now_ns);
  previous.fdb_.for_each([&](const FdbEntry& e) {
    if (e.is_static() || previous.fdb_.expired(e, now_tick)) return;
    const VlanId vlan = fdb_key_vlan(e.key);
    if (e.port >= port_count_ || !port_up(e.port) || !((vlan_members_[vlan] >> e.port) & 1) ||
        port_at_limit(e.port))
      return;
    const std::uint64_t h = fdb_.hash(e.key);
    if (fdb_.find(e.key, h) != nullptr) return;  // a static entry of the new configuration
    if (fdb_.insert(e.key, h, e.port, e.seen_tick, 0).entry != nullptr) learned_[e.port].add();
  });
  publish_size();
}

L2Switch::~L2Switch() = default;

bool L2Switch::learn_slow(PortId in_port, FdbEntry* e, std::uint64_t key, std::uint64_t hash,
                          std::uint32_t now_tick) noexcept {
  if (e != nullptr) {
    // A static entry on this port took the fast path (statics never expire).
    if (e->is_static()) return count(L2Counter::kLearnRefusedStatic), false;
    const PortId old_port = e->port;
    const bool was_expired = fdb_.expired(*e, now_tick);
    if (was_expired) count(L2Counter::kAged);
    if (old_port == in_port) {  // expired, back on the same port: learn afresh
      e->seen_tick = now_tick;
      return count(L2Counter::kLearned), true;
    }
    learned_[old_port].sub();
    if (port_at_limit(in_port)) {
      // The host is no longer behind old_port (or someone spoofs it); a stale
      // entry would black-hole it, flooding at least reaches it.
      fdb_.erase(e);
      return count(L2Counter::kLearnRefusedPortLimit), false;
    }
    e->port = in_port;
    e->seen_tick = now_tick;
    learned_[in_port].add();
    return count(was_expired ? L2Counter::kLearned : L2Counter::kMoved), true;
  }
  if (port_at_limit(in_port)) return count(L2Counter::kLearnRefusedPortLimit), false;
  Fdb::InsertResult r = fdb_.insert(key, hash, in_port, now_tick, 0);
  if (r.entry == nullptr && reclaim_expired(now_tick))
    r = fdb_.insert(key, hash, in_port, now_tick, 0);
  if (r.entry == nullptr) return count(L2Counter::kLearnRefusedTableFull), false;
  if (r.reclaimed.key != 0) {
    count(L2Counter::kAged);
    learned_[r.reclaimed.port].sub();
  }
  learned_[in_port].add();
  count(L2Counter::kLearned);
  return true;
}

bool L2Switch::reclaim_expired(std::uint32_t now_tick) noexcept {
  if (reclaim_tried_) return false;
  reclaim_tried_ = true;
  const std::size_t n = fdb_.sweep(now_tick, kReclaimBudget,
                                   [this](const FdbEntry& e) { learned_[e.port].sub(); });
  counters_[static_cast<std::size_t>(L2Counter::kAged)].add(n);
  return n != 0;
}

void L2Switch::update_up(PortId port) {
  const Port& p = ports_[port];
  const std::uint64_t bit = std::uint64_t{1} << port;
  up_mask_ = (p.admin_up && p.link_up) ? (up_mask_ | bit) : (up_mask_ & ~bit);
}

void L2Switch::set_port_link(PortId port, bool up) {
  assert(port < port_count_);
  ports_[port].link_up = up;
  update_up(port);
  if (port_up(port)) return;
  const std::size_t n =
      fdb_.erase_if([port](const FdbEntry& e) { return e.port == port && !e.is_static(); });
  counters_[static_cast<std::size_t>(L2Counter::kFlushed)].add(n);
  learned_[port].set(0);
  publish_size();
}

void L2Switch::set_port_admin(PortId port, bool up) {
  assert(port < port_count_);
  ports_[port].admin_up = up;
  set_port_link(port, ports_[port].link_up);
}

std::size_t L2Switch::age(std::uint64_t now_ns, std::size_t budget) noexcept {
  const std::size_t n = fdb_.sweep(fdb_tick(now_ns), budget,
                                   [this](const FdbEntry& e) { learned_[e.port].sub(); });
  if (n != 0) {
    counters_[static_cast<std::size_t>(L2Counter::kAged)].add(n);
    publish_size();
  }
  return n;
}

std::string L2Switch::add_static(VlanId vlan, wire::Mac mac, PortId port, std::uint64_t now_ns) {
  if (port >= port_count_)
    return "port " + std::to_string(port) + " does not exist; accepted: 0.." +
           std::to_string(port_count_ - 1);
  if (vlan < kMinVlan || vlan > kMaxVlan)
    return "vlan " + std::to_string(vlan) + " is out of range; accepted: 1..4094";
  if (!((vlan_members_[vlan] >> port) & 1))
    return "port " + std::to_string(port) + " does not carry vlan " + std::to_string(vlan);
  if (mac.is_group() || mac.is_zero())
    return "MAC " + mac.str() + " is a group or zero address; accepted: a unicast MAC";
  const std::uint64_t key = fdb_key(vlan, mac);
  const std::uint64_t h = fdb_.hash(key);
  const std::uint32_t now_tick = fdb_tick(now_ns);
  if (FdbEntry* e = fdb_.find(key, h)) {
    if (!e->is_static()) learned_[e->port].sub();
    *e = FdbEntry{key, now_tick, port, FdbEntry::kStatic};
    return {};
  }
  const Fdb::InsertResult r = fdb_.insert(key, h, port, now_tick, FdbEntry::kStatic);
  if (r.entry == nullptr)
    return "FDB is full (" + std::to_string(fdb_.capacity()) + " entries); no room for " +
           mac.str() + " vlan " + std::to_string(vlan);
  if (r.reclaimed.key != 0) {
    counters_[static_cast<std::size_t>(L2Counter::kAged)].add();
    learned_[r.reclaimed.port].sub();
  }
  publish_size();
  return {};
}

bool L2Switch::remove_static(VlanId vlan, wire::Mac mac) {
  const std::uint64_t key = fdb_key(vlan, mac);
  FdbEntry* e = fdb_.find(key, fdb_.hash(key));
  if (e == nullptr || !e->is_static()) return false;
  fdb_.erase(e);
  publish_size();
  return true;
}

std::optional<PortId> L2Switch::lookup(VlanId vlan, wire::Mac mac,
                                       std::uint64_t now_ns) const noexcept {
  const std::uint64_t key = fdb_key(vlan, mac);
  const FdbEntry* e = fdb_.find(key, fdb_.hash(key));
  if (e == nullptr || fdb_.expired(*e, fdb_tick(now_ns))) return std::nullopt;
  return e->port;
}

L2Stats L2Switch::snapshot() const noexcept {
  L2Stats s;
  for (std::size_t i = 0; i < kL2CounterCount; ++i) s.counters[i] = counters_[i].read();
  for (std::size_t i = 0; i < kL2DropCount; ++i) s.drops[i] = drops_[i].read();
  s.fdb_entries = fdb_entries_.read();
  return s;
}

}  // namespace spray::tor
