// SPDX-License-Identifier: BSD-3-Clause
#include "traffic/sizes.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <stdexcept>

namespace spray::traffic {

namespace {

std::uint32_t parse_num(const std::string& s, const std::string& spec, std::uint32_t lo,
                        std::uint32_t hi, const char* what) {
  std::uint64_t v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end)
    throw std::invalid_argument("'" + spec + "': '" + s + "' is not a number; expected a size in bytes "
                                "(1024), a range (64-1500) or a weighted list (64:7,576:4,1500:1)");
  if (v < lo || v > hi)
    throw std::invalid_argument("'" + spec + "': " + what + " " + std::to_string(v) + " is outside " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<std::uint32_t>(v);
}

}  // namespace

SizeDist SizeDist::parse(const std::string& spec, std::uint32_t min_size, std::uint32_t max_size) {
  SizeDist d;
  d.text_ = spec;
  if (spec.find(':') != std::string::npos || spec.find(',') != std::string::npos) {
    d.kind_ = Kind::kWeighted;
    std::stringstream ss(spec);
    std::string item;
    d.lo_ = max_size;
    d.hi_ = min_size;
    while (std::getline(ss, item, ',')) {
      const auto colon = item.find(':');
      Entry e;
      e.size = parse_num(item.substr(0, colon), spec, min_size, max_size, "size");
      e.weight = colon == std::string::npos ? 1 : parse_num(item.substr(colon + 1), spec, 1, 1000000, "weight");
      d.list_.push_back(e);
      d.total_weight_ += e.weight;
      d.lo_ = std::min(d.lo_, e.size);
      d.hi_ = std::max(d.hi_, e.size);
    }
    if (d.list_.empty()) throw std::invalid_argument("'" + spec + "': empty size list");
    return d;
  }
  const auto dash = spec.find('-');
  if (dash != std::string::npos && dash > 0) {
    d.kind_ = Kind::kRange;
    d.lo_ = parse_num(spec.substr(0, dash), spec, min_size, max_size, "size");
    d.hi_ = parse_num(spec.substr(dash + 1), spec, min_size, max_size, "size");
    if (d.hi_ < d.lo_) throw std::invalid_argument("'" + spec + "': the range runs backwards");
    return d;
  }
  d.kind_ = Kind::kFixed;
  d.lo_ = d.hi_ = parse_num(spec, spec, min_size, max_size, "size");
  return d;
}

double SizeDist::mean() const noexcept {
  switch (kind_) {
    case Kind::kFixed: return lo_;
    case Kind::kRange: return (double(lo_) + hi_) / 2;
    case Kind::kWeighted: {
      double s = 0;
      for (const auto& e : list_) s += double(e.size) * e.weight;
      return s / double(total_weight_);
    }
  }
  return lo_;
}

}  // namespace spray::traffic
