// SPDX-License-Identifier: BSD-3-Clause
// Message size distributions: fixed ("1024"), uniform range ("64-1500") or a
// weighted list, an "imix" for messages ("64:7,576:4,1500:1").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traffic/rng.h"

namespace spray::traffic {

class SizeDist {
 public:
  SizeDist() = default;
  // Throws std::invalid_argument naming the bad part and the accepted forms.
  // Sizes must lie in [min_size, max_size].
  static SizeDist parse(const std::string& spec, std::uint32_t min_size, std::uint32_t max_size);
  static SizeDist fixed(std::uint32_t size) {
    SizeDist d;
    d.kind_ = Kind::kFixed;
    d.lo_ = d.hi_ = size;
    d.text_ = std::to_string(size);
    return d;
  }

  std::uint32_t sample(Rng& rng) const noexcept {
    switch (kind_) {
      case Kind::kFixed:
        return lo_;
      case Kind::kRange:
        return lo_ + static_cast<std::uint32_t>(rng.below(std::uint64_t{hi_} - lo_ + 1));
      case Kind::kWeighted: {
        std::uint64_t r = rng.below(total_weight_);
        for (const auto& e : list_) {
          if (r < e.weight) return e.size;
          r -= e.weight;
        }
        return list_.back().size;
      }
    }
    return lo_;
  }
  std::uint32_t max() const noexcept { return hi_; }
  std::uint32_t min() const noexcept { return lo_; }
  double mean() const noexcept;
  const std::string& text() const noexcept { return text_; }

 private:
  enum class Kind : std::uint8_t { kFixed, kRange, kWeighted };
  struct Entry {
    std::uint32_t size;
    std::uint32_t weight;
  };
  Kind kind_ = Kind::kFixed;
  std::uint32_t lo_ = 64, hi_ = 64;
  std::vector<Entry> list_;
  std::uint64_t total_weight_ = 0;
  std::string text_ = "64";
};

}  // namespace spray::traffic
