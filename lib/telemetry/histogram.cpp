// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/histogram.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace spray::telemetry {

void HistogramSnapshot::merge(const HistogramSnapshot& o) {
  count += o.count;
  sum += o.sum;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  for (std::size_t i = 0; i < kHistBuckets; ++i) buckets[i] += o.buckets[i];
}

void HistogramSnapshot::add(std::uint64_t v, std::uint64_t n) {
  if (n == 0) return;
  buckets[hist_index(std::min(v, kHistMaxValue))] += n;
  count += n;
  sum += v * n;
  min = std::min(min, v);
  max = std::max(max, v);
}

std::uint64_t HistogramSnapshot::quantile(double q) const noexcept {
  if (count == 0) return 0;
  if (!(q > 0)) return min;
  if (q >= 1) return max;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count)));
  rank = std::clamp<std::uint64_t>(rank, 1, count);
  if (rank == count) return max;  // the largest value is known exactly
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kHistBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank) {
      if (i == kHistBuckets - 1) return max;  // clamped values: max is all we know
      const std::uint64_t lo = hist_lower(i), hi = hist_upper(i);
      return std::clamp(lo + (hi - lo) / 2, min, max);
    }
  }
  return max;
}

std::vector<std::uint64_t> HistogramSnapshot::cumulative(std::span<const double> upper_bounds) const {
  std::vector<std::uint64_t> out;
  out.reserve(upper_bounds.size());
  std::size_t i = 0;
  std::uint64_t acc = 0;
  for (double b : upper_bounds) {
    if (count == 0 || b < static_cast<double>(min)) {
      out.push_back(0);
      continue;
    }
    if (b >= static_cast<double>(max)) {
      out.push_back(count);
      continue;
    }
    while (i < kHistBuckets && static_cast<double>(hist_lower(i)) <= b) acc += buckets[i++];
    out.push_back(acc);
  }
  return out;
}

std::string HistogramSnapshot::to_text() const {
  std::string s = "sprayh1 " + std::to_string(count) + ' ' + std::to_string(sum) + ' ' +
                  std::to_string(count ? min : 0) + ' ' + std::to_string(max);
  std::size_t prev = 0;
  bool first = true;
  for (std::size_t i = 0; i < kHistBuckets; ++i) {
    if (!buckets[i]) continue;
    s += first ? " " : " +";
    s += std::to_string(first ? i : i - prev);
    s += ':';
    s += std::to_string(buckets[i]);
    prev = i;
    first = false;
  }
  return s;
}

namespace {

void appendf(std::string& s, const char* fmt, auto... args) {
  char line[128];
  const int n = std::snprintf(line, sizeof line, fmt, args...);
  if (n > 0) s.append(line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}

}  // namespace

std::string HistogramSnapshot::to_hgrm(double ns_per_unit, unsigned ticks_per_half) const {
  // The layout HdrHistogram would need for the same resolution: a first
  // bucket of 256 unit-wide sub-buckets, then one bucket per power of two.
  constexpr std::size_t kSubBuckets = 2 * kHistSubBuckets;
  constexpr std::size_t kBuckets = (kHistBuckets - 1) >> kHistSubBucketBits;
  std::string s;
  appendf(s, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  const auto unit = [&](std::uint64_t v) { return static_cast<double>(v) / ns_per_unit; };
  double sq = 0;
  if (count) {
    const double n = static_cast<double>(count);
    const double mean_ns = mean();
    double level = 0;  // percent, as HdrHistogram's PercentileIterator keeps it
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kHistBuckets && seen < count; ++i) {
      if (!buckets[i]) continue;
      seen += buckets[i];
      const std::uint64_t mid =
          i == kHistBuckets - 1 ? max
                                : std::clamp(hist_lower(i) + (hist_upper(i) - hist_lower(i)) / 2, min, max);
      sq += static_cast<double>(buckets[i]) * (static_cast<double>(mid) - mean_ns) *
            (static_cast<double>(mid) - mean_ns);
      const double v = unit(std::min(hist_upper(i), max));
      // As HdrHistogram's iterator: a bucket that reaches several ticks
      // prints a row for each, and the step to the next tick halves with
      // each halving of the distance to 100%.
      while (100.0 * static_cast<double>(seen) / n >= level) {
        appendf(s, "%12.3f %2.12f %10llu %14.2f\n", v, level / 100.0, static_cast<unsigned long long>(seen),
                1.0 / (1.0 - level / 100.0));
        if (seen == count) break;  // HdrHistogram then jumps to its last row
        const double ticks =
            ticks_per_half * std::pow(2.0, std::floor(std::log(100.0 / (100.0 - level)) / std::log(2.0)) + 1);
        level += 100.0 / ticks;
      }
    }
    appendf(s, "%12.3f %2.12f %10llu\n", unit(max), 1.0, static_cast<unsigned long long>(count));
    sq /= n;
  }
  appendf(s, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean() / ns_per_unit,
          std::sqrt(sq) / ns_per_unit);
  appendf(s, "#[Max     = %12.3f, Total count    = %12llu]\n", unit(max),
          static_cast<unsigned long long>(count));
  appendf(s, "#[Buckets = %12zu, SubBuckets     = %12zu]\n", kBuckets, kSubBuckets);
  return s;
}

namespace {

bool take_u64(std::string_view& s, std::uint64_t& v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return true;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<HistogramSnapshot> HistogramSnapshot::from_text(std::string_view s) {
  constexpr std::string_view magic = "sprayh1";
  if (s.substr(0, magic.size()) != magic) return std::nullopt;
  s.remove_prefix(magic.size());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  HistogramSnapshot h;
  std::uint64_t count = 0, mn = 0;
  if (!take_char(s, ' ') || !take_u64(s, count) || !take_char(s, ' ') || !take_u64(s, h.sum) ||
      !take_char(s, ' ') || !take_u64(s, mn) || !take_char(s, ' ') || !take_u64(s, h.max))
    return std::nullopt;
  std::uint64_t idx = 0, total = 0;
  bool first = true;
  while (!s.empty()) {
    if (!take_char(s, ' ')) return std::nullopt;
    const bool delta = take_char(s, '+');
    if (delta == first) return std::nullopt;  // first absolute, then gaps
    std::uint64_t v = 0, n = 0;
    if (!take_u64(s, v) || !take_char(s, ':') || !take_u64(s, n) || n == 0) return std::nullopt;
    if (delta && v == 0) return std::nullopt;
    idx = first ? v : idx + v;
    if (idx >= kHistBuckets) return std::nullopt;
    h.buckets[idx] = n;
    total += n;
    first = false;
  }
  if (total != count) return std::nullopt;
  h.count = count;
  h.min = count ? mn : std::numeric_limits<std::uint64_t>::max();
  if (count && (mn > h.max)) return std::nullopt;
  return h;
}

std::vector<double> bounds_125(double lo, double hi) {
  std::vector<double> out;
  if (!(lo > 0) || hi < lo) return out;
  double decade = std::pow(10.0, std::floor(std::log10(lo)));
  for (;;) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double b = m * decade;
      // Compare with a tolerance: 1e-6 * 5 is not exactly 5e-6 in binary.
      if (b < lo * (1 - 1e-9)) continue;
      if (b > hi * (1 + 1e-9)) return out;
      // Round to 12 significant digits so labels read "5e-06", not "5.000000000000001e-06".
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.12g", b);
      out.push_back(std::strtod(buf, nullptr));
    }
    decade *= 10;
  }
}

const std::vector<double>& default_bounds_seconds() {
  static const std::vector<double> b = bounds_125(1e-6, 0.1);
  return b;
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  for (std::size_t i = 0; i < kHistBuckets; ++i) {
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    s.count += s.buckets[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  s.min = min_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  if (s.count == 0) {
    s.min = std::numeric_limits<std::uint64_t>::max();
    s.max = 0;
  }
  return s;
}

}  // namespace spray::telemetry
