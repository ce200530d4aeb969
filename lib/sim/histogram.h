// SPDX-License-Identifier: BSD-3-Clause
// Log-linear histogram of non-negative integers (ns, bytes, packets).
//
// Fixed storage, no allocation per sample: values below 2^kSubBits are exact,
// larger ones fall into one of 2^kSubBits linear sub-buckets per power of
// two, so a quantile is off by at most 1/2^kSubBits (6%) of its value.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace spray::sim {

class LogHistogram {
 public:
  static constexpr unsigned kSubBits = 4;
  static constexpr unsigned kSub = 1u << kSubBits;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSub;

  void add(std::uint64_t v, std::uint64_t n = 1) noexcept {
    counts_[index(v)] += n;
    count_ += n;
    sum_ += v * n;
    if (v > max_) max_ = v;
    if (count_ == n || v < min_) min_ = v;
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // Smallest bucket upper bound with at least q of the samples at or below
  // it, clamped to the exact maximum; 0 when empty. q in [0, 1].
  std::uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    if (rank >= count_) rank = count_ - 1;
    std::uint64_t seen = 0;
    for (unsigned i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) {
        const std::uint64_t hi = upper(i);
        return hi < max_ ? hi : max_;
      }
    }
    return max_;
  }

  void merge(const LogHistogram& o) noexcept {
    for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    if (o.count_ && (count_ == 0 || o.min_ < min_)) min_ = o.min_;
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.max_ > max_) max_ = o.max_;
  }

  void clear() noexcept { *this = LogHistogram{}; }

 private:
  static unsigned index(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<unsigned>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - kSubBits;
    return (shift + 1) * kSub + static_cast<unsigned>((v >> shift) & (kSub - 1));
  }
  // Largest value that maps to bucket i.
  static std::uint64_t upper(unsigned i) noexcept {
    if (i < kSub) return i;
    const unsigned shift = i / kSub - 1;
    const std::uint64_t base = (std::uint64_t{kSub} | (i % kSub)) << shift;
    return base + ((std::uint64_t{1} << shift) - 1);
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace spray::sim
