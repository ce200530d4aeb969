// SPDX-License-Identifier: BSD-3-Clause
// IPv4 longest-prefix match for the router's data plane.
//
// Why not rte_lpm: lib/tor includes no DPDK header (it is tested without EAL
// and reused by the simulator), and rte_lpm's first level indexes 24 bits,
// 64 MiB per instance, while `spray demo` runs six routers in one 512 MiB
// --no-huge process. This table indexes 16 bits first: 256 KiB, plus 1 KiB
// per extension group actually used (4 MiB for the default 4096 groups).
//
// Layout (DIR-16-8-8): tbl16 holds 65,536 entries, one per /16. An entry
// either answers (a value and the length of the prefix that wrote it) or
// names a 256-entry group that splits its /16 by the next 8 bits; an entry
// of such a group may in turn name a group for the last 8 bits. A lookup is
// therefore at most 3 dependent loads. Groups come from a pool sized by the
// constructor; lookups never allocate.
//
// Each entry keeps the length of the prefix that wrote it, so add() leaves
// entries of longer prefixes alone and remove() rewrites only the entries of
// the removed prefix, with the next-shorter prefix that covers them (taken
// from the rule store), as rte_lpm does. A group whose entries all come from
// one prefix short enough for its parent is folded back into the parent and
// returned to the pool.
//
// Thread affinity: not synchronised. Build and modify a table on one thread
// (the control thread); once published it is read-only, and any number of
// workers may call lookup()/lookup_bulk() on it concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace spray::tor {

class Lpm {
 public:
  using Value = std::uint32_t;  // 0..kMaxValue (a next hop or an ECMP group id)
  static constexpr Value kMaxValue = (1u << 24) - 1;
  static constexpr Value kNoRoute = ~Value{0};
  // Limits of the constructor's arguments: beyond them the pool alone would
  // take more memory than a router has any use for.
  static constexpr std::uint32_t kMaxRules = 1u << 24;
  static constexpr std::uint32_t kMaxGroups = 1u << 18;  // 256 MiB of groups

  // max_rules: routes accepted at most (1..kMaxRules). max_groups: 256-entry
  // extension groups (0..kMaxGroups); a /17../24 prefix needs at most one, a
  // /25../32 at most two, and prefixes in the same /16 (/24) share them.
  // Throws std::invalid_argument naming the bad size.
  explicit Lpm(std::uint32_t max_rules = 65536, std::uint32_t max_groups = 4096);

  // Adds prefix/len -> value, or replaces the value of an existing prefix.
  // Bits of `prefix` beyond len are ignored. Returns "" on success, else
  // what was wrong and what is accepted; the table is then unchanged.
  // Control path: may allocate (the rule store), never blocks.
  std::string add(std::uint32_t prefix, std::uint8_t len, Value value);
  // Removes exactly prefix/len (bits beyond len ignored); false if absent.
  bool remove(std::uint32_t prefix, std::uint8_t len);

  // The value of the longest prefix containing ip (host order), or kNoRoute.
  Value lookup(std::uint32_t ip) const noexcept {
    std::uint32_t e = tbl16_[ip >> 16];
    if (e & kExtended) {
      e = groups_[(std::size_t{e & kValueMask} << 8) | ((ip >> 8) & 0xff)];
      if (e & kExtended) e = groups_[(std::size_t{e & kValueMask} << 8) | (ip & 0xff)];
    }
    return (e & kValid) ? (e & kValueMask) : kNoRoute;
  }
  // out[i] = lookup(ips[i]) for i < n. Walks the burst one level at a time,
  // prefetching the next level, so the misses of a burst overlap.
  void lookup_bulk(const std::uint32_t* ips, Value* out, std::size_t n) const noexcept;

  std::size_t size() const noexcept { return rules_count_; }
  // Extension groups in use (of max_groups).
  std::size_t groups_used() const noexcept { return max_groups_ - free_groups_.size(); }
  // Removes every route; keeps the memory.
  void clear();

  // Calls f(prefix, len, value) once per route, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t len = 0; len < rules_.size(); ++len)
      for (const auto& [prefix, value] : rules_[len])
        f(prefix, static_cast<std::uint8_t>(len), value);
  }

 private:
  // Entry: value or group index in bits 0..23, then valid, extended, and the
  // prefix length (0..32) in the top 6 bits. An invalid entry is 0.
  static constexpr std::uint32_t kValueMask = (1u << 24) - 1;
  static constexpr std::uint32_t kValid = 1u << 24;
  static constexpr std::uint32_t kExtended = 1u << 25;
  static constexpr unsigned kDepthShift = 26;

  std::uint32_t* group(std::uint32_t index) noexcept {
    return &groups_[std::size_t{index} << 8];
  }
  std::uint32_t new_group(std::uint32_t fill);
  void free_group(std::uint32_t index);
  void write_range(std::uint32_t* tbl, unsigned begin, unsigned count, std::uint32_t entry,
                   unsigned len);
  void erase_range(std::uint32_t* tbl, unsigned begin, unsigned count, std::uint32_t replacement,
                   unsigned len);
  bool fold(std::uint32_t* parent_entry, unsigned max_depth);

  std::vector<std::uint32_t> tbl16_;
  std::vector<std::uint32_t> groups_;       // max_groups * 256 entries
  std::vector<std::uint32_t> free_groups_;  // reserved to max_groups: freeing never allocates
  std::uint32_t max_groups_;
  std::uint32_t max_rules_;
  std::size_t rules_count_ = 0;
  std::array<std::unordered_map<std::uint32_t, Value>, 33> rules_;  // by length: prefix -> value
};

}  // namespace spray::tor
