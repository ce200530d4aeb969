// SPDX-License-Identifier: BSD-3-Clause
#include "tor/lpm.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace spray::tor {
namespace {

constexpr std::uint32_t mask_of(unsigned len) noexcept {
  return len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
}

std::string dotted(std::uint32_t ip) {
  return std::to_string(ip >> 24) + '.' + std::to_string((ip >> 16) & 0xff) + '.' +
         std::to_string((ip >> 8) & 0xff) + '.' + std::to_string(ip & 0xff);
}

std::string cidr(std::uint32_t prefix, unsigned len) {
  return dotted(prefix) + '/' + std::to_string(len);
}

}  // namespace

Lpm::Lpm(std::uint32_t max_rules, std::uint32_t max_groups)
    : max_groups_(max_groups), max_rules_(max_rules) {
  if (max_rules == 0 || max_rules > kMaxRules)
    throw std::invalid_argument("route table size " + std::to_string(max_rules) +
                                " is out of range; accepted: 1.." + std::to_string(kMaxRules) +
                                " routes");
  if (max_groups > kMaxGroups)
    throw std::invalid_argument("extension group count " + std::to_string(max_groups) +
                                " is out of range; accepted: 0.." + std::to_string(kMaxGroups));
  tbl16_.assign(std::size_t{1} << 16, 0);
  groups_.assign(std::size_t{max_groups} << 8, 0);
  free_groups_.reserve(max_groups);
  clear();
}

void Lpm::clear() {
  std::fill(tbl16_.begin(), tbl16_.end(), 0);
  // Highest index at the bottom so groups are handed out from 0 upwards.
  free_groups_.clear();
  for (std::uint32_t g = max_groups_; g-- > 0;) free_groups_.push_back(g);
  for (auto& rules : rules_) rules.clear();
  rules_count_ = 0;
}

std::uint32_t Lpm::new_group(std::uint32_t fill) {
  const std::uint32_t index = free_groups_.back();
  free_groups_.pop_back();
  std::fill_n(group(index), 256, fill);
  return index;
}

void Lpm::free_group(std::uint32_t index) { free_groups_.push_back(index); }

// Entries written by a prefix no longer than len take the new entry; longer
// prefixes keep theirs, in this table and in the groups below it.
void Lpm::write_range(std::uint32_t* tbl, unsigned begin, unsigned count, std::uint32_t entry,
                      unsigned len) {
  for (unsigned k = begin; k < begin + count; ++k) {
    const std::uint32_t e = tbl[k];
    if (e & kExtended)
      write_range(group(e & kValueMask), 0, 256, entry, len);
    else if ((e >> kDepthShift) <= len)
      tbl[k] = entry;
  }
}

// Only the removed prefix's own entries change: in its range, another valid
// entry of the same length can only have come from the same prefix.
void Lpm::erase_range(std::uint32_t* tbl, unsigned begin, unsigned count,
                      std::uint32_t replacement, unsigned len) {
  for (unsigned k = begin; k < begin + count; ++k) {
    const std::uint32_t e = tbl[k];
    if (e & kExtended)
      erase_range(group(e & kValueMask), 0, 256, replacement, len);
    else if ((e & kValid) && (e >> kDepthShift) == len)
      tbl[k] = replacement;
  }
}

// A group whose entries are all equal and come from a prefix no longer than
// max_depth (the longest its parent level can hold) says nothing its parent
// entry cannot: fold it back. Groups holding longer prefixes stay, so a
// later remove() never needs a group it could fail to get.
bool Lpm::fold(std::uint32_t* parent_entry, unsigned max_depth) {
  const std::uint32_t index = *parent_entry & kValueMask;
  const std::uint32_t* g = group(index);
  const std::uint32_t first = g[0];
  if (first & kExtended) return false;
  if ((first & kValid) && (first >> kDepthShift) > max_depth) return false;
  if (!std::all_of(g + 1, g + 256, [first](std::uint32_t e) { return e == first; })) return false;
  *parent_entry = first;
  free_group(index);
  return true;
}

std::string Lpm::add(std::uint32_t prefix, std::uint8_t len, Value value) {
  if (len > 32)
    return "prefix length " + std::to_string(len) + " is out of range; accepted: 0..32";
  if (value > kMaxValue)
    return "value " + std::to_string(value) + " for " + cidr(prefix & mask_of(len), len) +
           " is too large; accepted: 0.." + std::to_string(kMaxValue);
  prefix &= mask_of(len);
  auto& rules = rules_[len];
  const auto it = rules.find(prefix);
  if (it == rules.end() && rules_count_ >= max_rules_)
    return "route table full (" + std::to_string(max_rules_) + " routes): cannot add " +
           cidr(prefix, len);

  // Count the groups this prefix needs before changing anything, so a
  // refused add leaves the table as it was.
  const std::uint32_t i16 = prefix >> 16;
  const unsigned i2 = (prefix >> 8) & 0xff;
  unsigned needed = 0;
  if (len > 16) {
    const std::uint32_t e0 = tbl16_[i16];
    if (!(e0 & kExtended))
      needed = len > 24 ? 2 : 1;
    else if (len > 24 && !(group(e0 & kValueMask)[i2] & kExtended))
      needed = 1;
  }
  if (needed > free_groups_.size())
    return "no free extension group for " + cidr(prefix, len) + " (all " +
           std::to_string(max_groups_) + " in use); a table built with more groups accepts it";

  if (it == rules.end()) {
    rules.emplace(prefix, value);
    ++rules_count_;
  } else {
    it->second = value;
  }

  const std::uint32_t entry = value | kValid | (std::uint32_t{len} << kDepthShift);
  if (len <= 16) {
    write_range(tbl16_.data(), i16, 1u << (16 - len), entry, len);
    return {};
  }
  std::uint32_t& e0 = tbl16_[i16];
  if (!(e0 & kExtended)) e0 = new_group(e0) | kExtended;
  std::uint32_t* g2 = group(e0 & kValueMask);
  if (len <= 24) {
    write_range(g2, i2, 1u << (24 - len), entry, len);
    return {};
  }
  std::uint32_t& e1 = g2[i2];
  if (!(e1 & kExtended)) e1 = new_group(e1) | kExtended;
  write_range(group(e1 & kValueMask), prefix & 0xff, 1u << (32 - len), entry, len);
  return {};
}

bool Lpm::remove(std::uint32_t prefix, std::uint8_t len) {
  if (len > 32) return false;
  prefix &= mask_of(len);
  if (rules_[len].erase(prefix) == 0) return false;
  --rules_count_;

  std::uint32_t replacement = 0;
  for (unsigned l = len; l-- > 0;) {
    const auto& rules = rules_[l];
    const auto it = rules.find(prefix & mask_of(l));
    if (it != rules.end()) {
      replacement = it->second | kValid | (std::uint32_t{l} << kDepthShift);
      break;
    }
  }

  const std::uint32_t i16 = prefix >> 16;
  if (len <= 16) {
    erase_range(tbl16_.data(), i16, 1u << (16 - len), replacement, len);
    return true;
  }
  // A prefix longer than /16 keeps its groups (fold() never takes them), so
  // the path below is extended.
  std::uint32_t& e0 = tbl16_[i16];
  assert(e0 & kExtended);
  std::uint32_t* g2 = group(e0 & kValueMask);
  const unsigned i2 = (prefix >> 8) & 0xff;
  if (len <= 24) {
    erase_range(g2, i2, 1u << (24 - len), replacement, len);
  } else {
    std::uint32_t& e1 = g2[i2];
    assert(e1 & kExtended);
    erase_range(group(e1 & kValueMask), prefix & 0xff, 1u << (32 - len), replacement, len);
    fold(&e1, 24);
  }
  fold(&e0, 16);
  return true;
}

void Lpm::lookup_bulk(const std::uint32_t* ips, Value* out, std::size_t n) const noexcept {
  // One level at a time over a slice of the burst: the loads of a level are
  // independent, and each prefetches the entry the next level will read.
  constexpr std::size_t kSlice = 16;
  std::uint32_t e[kSlice];
  for (std::size_t base = 0; base < n; base += kSlice) {
    const std::size_t m = std::min(kSlice, n - base);
    const std::uint32_t* ip = ips + base;
    for (std::size_t j = 0; j < m; ++j) {
      e[j] = tbl16_[ip[j] >> 16];
      if (e[j] & kExtended)
        __builtin_prefetch(&groups_[(std::size_t{e[j] & kValueMask} << 8) | ((ip[j] >> 8) & 0xff)]);
    }
    for (std::size_t j = 0; j < m; ++j) {
      if (!(e[j] & kExtended)) continue;
      e[j] = groups_[(std::size_t{e[j] & kValueMask} << 8) | ((ip[j] >> 8) & 0xff)];
      if (e[j] & kExtended)
        __builtin_prefetch(&groups_[(std::size_t{e[j] & kValueMask} << 8) | (ip[j] & 0xff)]);
    }
    for (std::size_t j = 0; j < m; ++j) {
      if (e[j] & kExtended) e[j] = groups_[(std::size_t{e[j] & kValueMask} << 8) | (ip[j] & 0xff)];
      out[base + j] = (e[j] & kValid) ? (e[j] & kValueMask) : kNoRoute;
    }
  }
}

}  // namespace spray::tor
