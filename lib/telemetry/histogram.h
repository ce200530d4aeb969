// SPDX-License-Identifier: BSD-3-Clause
// Log-linear latency histogram (HDR-style) with one writer and any readers.
//
// Values are unsigned integers, nanoseconds by convention, over 0 .. 100 s.
// Below 256 every value has its own bucket; above, each power of two is cut
// into 128 equal buckets, so a bucket's width is at most 1/128 of its lower
// bound and any value reported from a bucket (its midpoint) is within 1/256
// of the truth. Values above 100 s land in the last bucket; min and max are
// kept exactly.
//
// Thread contract: record() is called by one thread only (the worker that
// owns the histogram). It is a handful of relaxed atomic loads and stores,
// no read-modify-write, no lock, so a reader on another thread (snapshot())
// never races and never sees a torn value. A snapshot is not a consistent cut
// across fields: count is derived from the buckets (so the classic buckets,
// _count and quantiles always agree), while sum/min/max may include or miss
// the one or two records in flight.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spray::telemetry {

inline constexpr unsigned kHistSubBucketBits = 7;
inline constexpr std::uint64_t kHistSubBuckets = std::uint64_t{1} << kHistSubBucketBits;  // 128
inline constexpr std::uint64_t kHistMaxValue = 100'000'000'000;  // 100 s in ns

// Bucket index of `v` (unclamped). Branch-free: shift is 0 below 256 and
// floor(log2 v) - 7 above, so v >> shift lies in [128, 256) and
// index = 128 * shift + (v >> shift).
constexpr std::size_t hist_index(std::uint64_t v) noexcept {
  const unsigned shift = static_cast<unsigned>(std::bit_width(v | (2 * kHistSubBuckets - 1))) -
                         (kHistSubBucketBits + 1);
  return (std::size_t{shift} << kHistSubBucketBits) + static_cast<std::size_t>(v >> shift);
}

inline constexpr std::size_t kHistBuckets = hist_index(kHistMaxValue) + 1;

// Smallest value that falls into bucket `i`.
constexpr std::uint64_t hist_lower(std::size_t i) noexcept {
  if (i < 2 * kHistSubBuckets) return i;
  const std::size_t shift = (i >> kHistSubBucketBits) - 1;
  const std::uint64_t sub = (i & (kHistSubBuckets - 1)) | kHistSubBuckets;
  return sub << shift;
}

// Largest value that falls into bucket `i` (the last bucket also holds every
// clamped value, but its nominal upper end is reported).
constexpr std::uint64_t hist_upper(std::size_t i) noexcept { return hist_lower(i + 1) - 1; }

// Plain copy of a histogram: merge, quantiles, classic buckets, text form.
struct HistogramSnapshot {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;  // of the recorded values (clamped values at face value)
  std::uint64_t min = std::numeric_limits<std::uint64_t>::max();  // max() when empty
  std::uint64_t max = 0;
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(kHistBuckets);

  bool empty() const noexcept { return count == 0; }
  void merge(const HistogramSnapshot& o);
  // Adds one value, for building snapshots by hand (tests, replays).
  void add(std::uint64_t v, std::uint64_t n = 1);

  // The value at quantile q in [0, 1] (0.5 = median): the midpoint of the
  // bucket holding the ceil(q * count)-th smallest value, clamped to
  // [min, max]; q <= 0 gives min, q >= 1, the largest rank or the clamped
  // last bucket give max. 0 when empty.
  std::uint64_t quantile(double q) const noexcept;
  double mean() const noexcept { return count ? static_cast<double>(sum) / count : 0.0; }

  // Cumulative counts for ascending upper bounds (same unit as the values).
  // A value v counts toward bound b when v <= b, decided per bucket: a bucket
  // counts when its lower end is <= b. Exact when b + 1 starts a bucket (all
  // bounds below 128, and every bound once min/max settle it); otherwise the
  // values of the one bucket straddling b, at most b/128 above it, are
  // counted as <= b.
  std::vector<std::uint64_t> cumulative(std::span<const double> upper_bounds) const;

  // Compact text form, one line, mergeable (see doc/telemetry.md):
  //   sprayh1 <count> <sum> <min> <max> <index>:<n> <+gap>:<n> ...
  std::string to_text() const;
  static std::optional<HistogramSnapshot> from_text(std::string_view s);

  // HdrHistogram's percentile-distribution text (a .hgrm file, what its
  // outputPercentileDistribution and wrk2 print and its plotters read):
  // values divided by `ns_per_unit` (1000: microseconds), rows at percentile
  // ticks that halve the distance to 100% with `ticks_per_half` ticks per
  // half, then a last row at percentile 1.0 with the exact max; mean, standard
  // deviation, max, count and the equivalent bucket layout in the footer.
  // A row's value is the upper end of the bucket its percentile falls in,
  // capped at max: that share of the values is at or below it. See
  // doc/telemetry.md, "Percentile distribution".
  std::string to_hgrm(double ns_per_unit = 1000.0, unsigned ticks_per_half = 5) const;
};

// 1-2-5 per decade from `lo` to `hi` inclusive (in the values' unit).
std::vector<double> bounds_125(double lo, double hi);
// Default Prometheus bucket bounds in seconds: 1 us .. 100 ms, 1-2-5.
const std::vector<double>& default_bounds_seconds();

class Histogram {
 public:
  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Writer thread only.
  void record(std::uint64_t v) noexcept {
    const std::uint64_t c = std::min(v, kHistMaxValue);
    bump(buckets_[hist_index(c)], 1);
    bump(sum_, v);
    if (v < min_.load(std::memory_order_relaxed)) min_.store(v, std::memory_order_relaxed);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
  }

  // Any thread.
  HistogramSnapshot snapshot() const;

 private:
  static void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> min_{std::numeric_limits<std::uint64_t>::max()};
  std::atomic<std::uint64_t> max_{0};
  std::array<std::atomic<std::uint64_t>, kHistBuckets> buckets_{};
};

}  // namespace spray::telemetry
