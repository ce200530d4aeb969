// SPDX-License-Identifier: BSD-3-Clause
// L2 learning switch (802.1D bridge with 802.1Q VLANs), sans I/O.
//
// The caller owns the frames (mbufs); the switch reads the first bytes of
// each frame and returns a decision per frame:
//
//   L2Decision d[32];
//   sw.process_burst(in_port, frames, d, now_ns);
//   for each frame i:
//     kDrop    -> count nothing more (the switch counted d[i].drop), free
//     kUnicast -> send to d[i].port
//     kFlood   -> send a copy to every port of sw.flood_ports(d[i].vlan, in_port)
//   and for each egress port p, edit the 802.1Q tag as
//     tag_edit(d[i], sw.egress_tag(p, d[i].vlan)) says.
//
// Semantics: source MACs are learned per (VLAN, MAC) on every accepted
// frame; unknown unicast, broadcast and multicast are flooded to every other
// up port of the VLAN; a frame never leaves by its ingress port (one whose
// destination was learned there is dropped as kHairpin). VLANs are
// isolated: lookups, learning and flooding never cross them. Only the outer
// 0x8100 tag is interpreted (a C-VLAN bridge): 0x88a8 S-tagged and
// double-tagged frames are bridged on their outer classification untouched.
//
// Protection: the FDB has a capacity and each port a learned-MAC limit.
// When either is reached, new MACs are counted and not learned; a live entry
// is never evicted to make room, so known hosts keep being forwarded at full
// rate while a MAC flood is counted and flooded.
//
// Threads: an L2Switch is owned by one worker thread; every member function
// must be called on it, except snapshot() and port_learned(), which any
// thread may call at any time (single-writer relaxed atomics: each value is
// exact, the set is not a consistent cut). Time is always an argument, in
// nanoseconds of one monotonic clock shared by every call; age() must keep
// being called (see there) for ageing to stay exact.
#pragma once

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tor/fdb.h"
#include "tor/l2_config.h"
#include "tor/l2_counters.h"
#include "wire/ether.h"

namespace spray::tor {

// A set of ports as a bit mask; iterates in increasing port order.
class PortMask {
 public:
  constexpr PortMask() noexcept = default;
  constexpr explicit PortMask(std::uint64_t bits) noexcept : bits_(bits) {}

  constexpr std::uint64_t bits() const noexcept { return bits_; }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr std::size_t size() const noexcept {
    return static_cast<std::size_t>(std::popcount(bits_));
  }
  constexpr bool contains(PortId p) const noexcept { return p < 64 && (bits_ >> p) & 1; }

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = PortId;
    using difference_type = std::ptrdiff_t;
    using pointer = const PortId*;
    using reference = PortId;

    constexpr iterator() noexcept = default;
    constexpr explicit iterator(std::uint64_t rest) noexcept : rest_(rest) {}
    constexpr PortId operator*() const noexcept {
      return static_cast<PortId>(std::countr_zero(rest_));
    }
    constexpr iterator& operator++() noexcept {
      rest_ &= rest_ - 1;
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    constexpr bool operator==(const iterator&) const noexcept = default;

   private:
    std::uint64_t rest_ = 0;
  };
  constexpr iterator begin() const noexcept { return iterator{bits_}; }
  constexpr iterator end() const noexcept { return iterator{0}; }

 private:
  std::uint64_t bits_ = 0;
};

enum class L2Action : std::uint8_t { kDrop, kUnicast, kFlood };

struct L2Decision {
  static constexpr std::uint8_t kInTagged = 1;          // arrived with an 802.1Q tag
  static constexpr std::uint8_t kInPriorityTagged = 2;  // ... whose VID was 0

  L2Action action = L2Action::kDrop;
  L2Drop drop = L2Drop::kTruncated;  // why, when action == kDrop
  VlanId vlan = kNoVlan;  // the frame's VLAN; kNoVlan if dropped before classification
  PortId port = 0;        // egress port when action == kUnicast
  std::uint8_t in_flags = 0;
  std::uint8_t pcp = 0;   // priority from the ingress tag, 0 when untagged

  constexpr bool in_tagged() const noexcept { return in_flags & kInTagged; }
};
static_assert(sizeof(L2Decision) == 8);

// How to rewrite a frame's 802.1Q tag for one egress port.
enum class TagEdit : std::uint8_t {
  kNone,    // leave the header as it arrived
  kPush,    // insert a tag: VID = egress VID, PCP = decision.pcp (0)
  kPop,     // remove the tag
  kSetVid,  // keep the tag, set its VID to the egress VID (priority-tagged in)
};
// egress_vid: L2Switch::egress_tag(port, d.vlan), kNoVlan meaning untagged.
constexpr TagEdit tag_edit(const L2Decision& d, VlanId egress_vid) noexcept {
  if (!d.in_tagged()) return egress_vid == kNoVlan ? TagEdit::kNone : TagEdit::kPush;
  if (egress_vid == kNoVlan) return TagEdit::kPop;
  return (d.in_flags & L2Decision::kInPriorityTagged) ? TagEdit::kSetVid : TagEdit::kNone;
}

// One FDB entry as shown by `show fdb`.
struct FdbRecord {
  VlanId vlan;
  wire::Mac mac;
  PortId port;
  bool is_static;
  std::uint64_t idle_ns;  // since the last frame from this MAC (~1 ms resolution)
};

class L2Switch {
 public:
  // Bursts longer than this are processed in chunks of this size.
  static constexpr std::size_t kChunk = 64;

  // Allocates the FDB and installs the static entries; nothing allocates after.
  // Throws std::invalid_argument carrying config.validate()'s message if the
  // configuration is invalid. Every port starts with its link up.
  explicit L2Switch(const L2Config& config);
  // For a configuration change at a quiescent point of the owning worker:
  // a switch for `config` that keeps from `previous` its counters, the link
  // state of ports present in both, and every live learned entry the new
  // configuration still admits (port exists, is up and carries the VLAN,
  // limits allow). `previous` is not modified. Same failure as above.
  L2Switch(const L2Config& config, const L2Switch& previous, std::uint64_t now_ns);
  ~L2Switch();
  L2Switch(const L2Switch&) = delete;
  L2Switch& operator=(const L2Switch&) = delete;

  // Decides the fate of frames received together on `in_port` and learns
  // their sources. frames[i] must cover at least the frame's first 18 bytes
  // or the whole frame if shorter (its size is taken as the frame's length
  // for the truncation check); decisions.size() >= frames.size().
  // Sequentially consistent: frame i sees what frames 0..i-1 learned.
  // No allocation, no failure: every problem is a counted kDrop.
  void process_burst(PortId in_port, std::span<const std::span<const std::uint8_t>> frames,
                     std::span<L2Decision> decisions, std::uint64_t now_ns) noexcept;

  // Up ports of `vlan` other than `in_port`; empty for an unknown VLAN.
  PortMask flood_ports(VlanId vlan, PortId in_port) const noexcept {
    return PortMask{vlan_members_[vlan & 0xfff] & up_mask_ & ~(std::uint64_t{1} << in_port)};
  }

  // The VID a frame of `vlan` carries when leaving `port`, or kNoVlan when
  // it leaves untagged (access port, or the trunk's native VLAN).
  // Precondition: `port` carries `vlan` (it came from flood_ports or kUnicast).
  VlanId egress_tag(PortId port, VlanId vlan) const noexcept {
    return ports_[port].untagged_vlan == vlan ? kNoVlan : vlan;
  }

  // Link state from the driver. Going down removes the port's dynamic
  // entries (counted as kFlushed); the port neither receives nor appears in
  // flood sets until both link and administrative state are up again.
  void set_port_link(PortId port, bool up);
  void set_port_admin(PortId port, bool up);
  bool port_up(PortId port) const noexcept { return (up_mask_ >> port) & 1; }

  // Incremental ageing: examines at most `budget` FDB slots, continuing
  // where the previous call stopped, and removes entries idle for the
  // ageing time. Call every N loop iterations with a small budget (e.g. 64);
  // a full pass takes fdb_slots() / budget calls. Returns entries removed.
  // Lookups already ignore expired entries, so the sweep only frees room.
  std::size_t age(std::uint64_t now_ns, std::size_t budget) noexcept;

  // Adds or replaces a static entry. Returns an empty string on success,
  // otherwise why not (unknown port, VLAN not on that port, table full).
  std::string add_static(VlanId vlan, wire::Mac mac, PortId port, std::uint64_t now_ns);
  // Removes a static entry; false if there was none.
  bool remove_static(VlanId vlan, wire::Mac mac);

  // Where a frame to (vlan, mac) would go; nullopt if unknown or expired.
  std::optional<PortId> lookup(VlanId vlan, wire::Mac mac, std::uint64_t now_ns) const noexcept;

  // Visits every live entry, in no particular order, as f(const FdbRecord&).
  template <class F>
  void for_each_entry(std::uint64_t now_ns, F&& f) const;

  std::size_t fdb_size() const noexcept { return fdb_.size(); }
  std::size_t fdb_capacity() const noexcept { return fdb_.capacity(); }
  std::size_t fdb_slots() const noexcept { return fdb_.slot_count(); }
  std::size_t port_count() const noexcept { return port_count_; }
  const L2Config& config() const noexcept { return config_; }

  // Any thread (see the header comment).
  L2Stats snapshot() const noexcept;
  std::uint64_t port_learned(PortId port) const noexcept { return learned_[port].read(); }

 private:
  struct Port {
    VlanId untagged_vlan = kNoVlan;  // access VLAN, trunk native VLAN, or none
    PortMode mode = PortMode::kAccess;
    bool admin_up = true;
    bool link_up = true;
    std::uint32_t max_macs = 0;  // 0 = no limit
  };
  // What the resolve stage needs from the classify stage.
  struct Pending {
    std::uint64_t src_key;
    std::uint64_t src_hash;
    std::uint64_t dst_key;
    std::uint64_t dst_hash;
  };

  void process_chunk(PortId in_port, const std::span<const std::uint8_t>* frames,
                     L2Decision* decisions, std::size_t n, std::uint32_t now_tick) noexcept;
  bool classify(const Port& port, PortId in_port, std::span<const std::uint8_t> frame,
                L2Decision& d, Pending& p) noexcept;
  // Both return true when the key is afterwards stored on in_port and
  // stamped now_tick (learned, refreshed or moved), false when it was
  // refused (limits, full table, a static entry elsewhere).
  bool learn(PortId in_port, std::uint64_t key, std::uint64_t hash, std::uint32_t now_tick,
             Fdb::AgeCheck age) noexcept;
  bool learn_slow(PortId in_port, FdbEntry* e, std::uint64_t key, std::uint64_t hash,
                  std::uint32_t now_tick) noexcept;
  void flood(L2Decision& d, PortId in_port, L2Counter kind) noexcept;
  void drop(L2Decision& d, L2Drop why) noexcept {
    d.action = L2Action::kDrop;
    d.drop = why;
    drops_[static_cast<std::size_t>(why)].add();
  }
  void count(L2Counter c) noexcept { counters_[static_cast<std::size_t>(c)].add(); }
  bool port_at_limit(PortId p) const noexcept {
    return ports_[p].max_macs != 0 && learned_[p].read() >= ports_[p].max_macs;
  }
  void update_up(PortId port);
  void publish_size() noexcept { fdb_entries_.set(fdb_.size()); }
  bool reclaim_expired(std::uint32_t now_tick) noexcept;

  // When the FDB is full, a learn may sweep this many slots for expired
  // entries, once per chunk, so a table of stale entries refills without
  // waiting for age() while a table of live ones costs little to refuse.
  static constexpr std::size_t kReclaimBudget = 64;

  // Hot, written per frame by the owning thread only.
  alignas(64) SingleWriterCounter counters_[kL2CounterCount];
  SingleWriterCounter drops_[kL2DropCount];
  SingleWriterCounter fdb_entries_;
  alignas(64) SingleWriterCounter learned_[kMaxPorts];  // dynamic entries per port

  // Hot, read per frame.
  alignas(64) std::uint64_t up_mask_ = 0;
  std::size_t port_count_ = 0;
  bool reclaim_tried_ = false;  // this chunk
  Port ports_[kMaxPorts];
  Fdb fdb_;
  // Bit p of vlan_members_[v]: port p carries VLAN v. 32 KiB, read on
  // tagged ingress and floods.
  alignas(64) std::uint64_t vlan_members_[4096] = {};

  L2Config config_;  // cold: as constructed, for port names in show commands
};

// ---------------------------------------------------------------------------
// Data path. Two passes per chunk, as fast software switches do: classify
// every frame and prefetch both of its FDB buckets, then resolve them in
// order, by which time the buckets are in cache.

inline void L2Switch::process_burst(PortId in_port,
                                    std::span<const std::span<const std::uint8_t>> frames,
                                    std::span<L2Decision> decisions,
                                    std::uint64_t now_ns) noexcept {
  assert(in_port < port_count_);
  assert(decisions.size() >= frames.size());
  const std::uint32_t now_tick = fdb_tick(now_ns);
  for (std::size_t base = 0; base < frames.size(); base += kChunk) {
    const std::size_t n = frames.size() - base < kChunk ? frames.size() - base : kChunk;
    process_chunk(in_port, frames.data() + base, decisions.data() + base, n, now_tick);
  }
  publish_size();
}

inline bool L2Switch::classify(const Port& port, PortId in_port,
                               std::span<const std::uint8_t> frame, L2Decision& d,
                               Pending& p) noexcept {
  d.in_flags = 0;
  d.pcp = 0;
  d.vlan = kNoVlan;
  if (frame.size() < wire::kEthHdrLen) return drop(d, L2Drop::kTruncated), false;
  const std::uint8_t* b = frame.data();
  const wire::Mac dst = wire::Mac::load(b);
  const wire::Mac src = wire::Mac::load(b + 6);
  VlanId vlan = port.untagged_vlan;
  if (wire::load_be16(b + 12) == wire::kEtherTypeVlan) {
    if (frame.size() < wire::kEthHdrLen + wire::kVlanTagLen)
      return drop(d, L2Drop::kTruncated), false;
    const std::uint16_t tci = wire::load_be16(b + 14);
    const VlanId vid = tci & 0x0fff;
    d.pcp = static_cast<std::uint8_t>(tci >> 13);
    d.in_flags = L2Decision::kInTagged;
    if (vid == 0) {
      d.in_flags |= L2Decision::kInPriorityTagged;  // priority only: untagged VLAN
    } else if (vid == 0x0fff) {
      return drop(d, L2Drop::kBadVlanId), false;
    } else if (port.mode == PortMode::kAccess) {
      return drop(d, L2Drop::kTaggedOnAccess), false;
    } else if (!((vlan_members_[vid] >> in_port) & 1)) {
      return drop(d, L2Drop::kVlanNotAllowed), false;
    } else {
      vlan = vid;
    }
  }
  if (vlan == kNoVlan) return drop(d, L2Drop::kUntaggedNoNative), false;
  d.vlan = vlan;
  if (src.is_group() || src.is_zero()) return drop(d, L2Drop::kInvalidSrcMac), false;
  // 01:80:c2:00:00:00..0f (STP, LACP, LLDP, 802.1X, ...) are for the bridge
  // itself; a bridge that forwards them breaks those protocols.
  if ((dst.bits & ~std::uint64_t{0xf}) == 0x0180'c200'0000ULL)
    return drop(d, L2Drop::kReservedDst), false;

  p.src_key = fdb_key(vlan, src);
  p.dst_key = fdb_key(vlan, dst);
  return true;
}

inline bool L2Switch::learn(PortId in_port, std::uint64_t key, std::uint64_t hash,
                            std::uint32_t now_tick, Fdb::AgeCheck age) noexcept {
  FdbEntry* e = fdb_.find(key, hash);
  // Common case: a known host talking again. Write the entry only when the
  // tick changed, so a busy host does not dirty its cache line per frame.
  if (e != nullptr && e->port == in_port && !Fdb::expired(*e, age)) {
    if (e->seen_tick != now_tick) e->seen_tick = now_tick;
    return true;
  }
  return learn_slow(in_port, e, key, hash, now_tick);
}

inline void L2Switch::process_chunk(PortId in_port, const std::span<const std::uint8_t>* frames,
                                    L2Decision* decisions, std::size_t n,
                                    std::uint32_t now_tick) noexcept {
  counters_[static_cast<std::size_t>(L2Counter::kRxFrames)].add(n);
  const Port& port = ports_[in_port];
  if (!port_up(in_port)) {
    for (std::size_t i = 0; i < n; ++i) drop(decisions[i], L2Drop::kPortDown);
    return;
  }
  Pending pending[kChunk];
  reclaim_tried_ = false;
  // Frames of a burst mostly come from one host and often go to one: a key
  // equal to the previous frame's reuses its hash (and its prefetch).
  std::uint64_t last_src_key = 0, last_src_hash = 0;
  std::uint64_t last_dst_key = 0, last_dst_hash = 0;
  for (std::size_t i = 0; i < n; ++i) {
    L2Decision& d = decisions[i];
    Pending& p = pending[i];
    if (!classify(port, in_port, frames[i], d, p)) continue;
    d.action = L2Action::kFlood;
    if (p.src_key != last_src_key) {
      last_src_key = p.src_key;
      last_src_hash = fdb_.hash(p.src_key);
      fdb_.prefetch(last_src_hash);
    }
    p.src_hash = last_src_hash;
    p.dst_hash = 0;
    if (!fdb_key_mac(p.dst_key).is_group()) {
      if (p.dst_key != last_dst_key) {
        last_dst_key = p.dst_key;
        last_dst_hash = fdb_.hash(p.dst_key);
        fdb_.prefetch(last_dst_hash);
      }
      p.dst_hash = last_dst_hash;
    }
  }
  // The ageing test in locals: entry writes below would force reloads.
  const Fdb::AgeCheck age = fdb_.age_check(now_tick);
  // A source that the previous learn left fresh on in_port needs no second
  // learn: it would find the same entry, stamped this tick, and change
  // nothing. Only learns change the FDB here, so the key is all we keep
  // (entries may move when another learn erases; keys do not).
  std::uint64_t settled_src_key = 0;
  std::uint64_t forwarded = 0;
  for (std::size_t i = 0; i < n; ++i) {
    L2Decision& d = decisions[i];
    if (d.action == L2Action::kDrop) continue;
    const Pending& p = pending[i];
    if (p.src_key != settled_src_key)
      settled_src_key = learn(in_port, p.src_key, p.src_hash, now_tick, age) ? p.src_key : 0;
    const wire::Mac dst = fdb_key_mac(p.dst_key);
    if (dst.is_group()) {
      flood(d, in_port, dst.is_broadcast() ? L2Counter::kBroadcast : L2Counter::kMulticast);
      continue;
    }
    const FdbEntry* e = fdb_.find(p.dst_key, p.dst_hash);
    if (e == nullptr || Fdb::expired(*e, age)) {
      flood(d, in_port, L2Counter::kFlooded);
    } else if (e->port == in_port) {
      drop(d, L2Drop::kHairpin);
    } else if (!port_up(e->port)) {
      drop(d, L2Drop::kEgressDown);
    } else {
      d.action = L2Action::kUnicast;
      d.port = e->port;
      ++forwarded;
    }
  }
  counters_[static_cast<std::size_t>(L2Counter::kForwarded)].add(forwarded);
}

inline void L2Switch::flood(L2Decision& d, PortId in_port, L2Counter kind) noexcept {
  if (flood_ports(d.vlan, in_port).empty()) return drop(d, L2Drop::kNoEgress);
  d.action = L2Action::kFlood;
  count(kind);
}

template <class F>
void L2Switch::for_each_entry(std::uint64_t now_ns, F&& f) const {
  const std::uint32_t now_tick = fdb_tick(now_ns);
  fdb_.for_each([&](const FdbEntry& e) {
    if (fdb_.expired(e, now_tick)) return;
    const std::uint32_t idle_ticks = now_tick - e.seen_tick;
    f(FdbRecord{fdb_key_vlan(e.key), fdb_key_mac(e.key), e.port, e.is_static(),
                e.is_static() ? 0 : std::uint64_t{idle_ticks} << kFdbTickShift});
  });
}

}  // namespace spray::tor
