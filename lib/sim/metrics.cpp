// SPDX-License-Identifier: BSD-3-Clause
#include "metrics.h"

#include <algorithm>
#include <cmath>

namespace spray::sim {

double GoodputMeter::mean_bps(srd::Nanos from_ns, srd::Nanos to_ns) const noexcept {
  const std::size_t a = (from_ns + window_ns_ - 1) / window_ns_;
  const std::size_t b = to_ns / window_ns_;
  if (b <= a) return 0;
  std::uint64_t sum = 0;
  for (std::size_t w = a; w < std::min(b, bins_.size()); ++w) sum += bins_[w];
  return static_cast<double>(sum) * 8e9 / static_cast<double>((b - a) * window_ns_);
}

srd::Nanos GoodputMeter::first_window_at_least(srd::Nanos from_ns, double bps_min) const noexcept {
  for (std::size_t w = from_ns / window_ns_; w < bins_.size(); ++w)
    if (w * window_ns_ >= from_ns && bps(w) >= bps_min) return w * window_ns_;
  return srd::kNever;
}

double jain_fairness(std::span<const double> x) noexcept {
  double sum = 0, sq = 0;
  for (double v : x) {
    sum += v;
    sq += v * v;
  }
  if (x.empty() || sq == 0) return 0;
  return sum * sum / (static_cast<double>(x.size()) * sq);
}

std::uint64_t quantile(std::vector<std::uint64_t> s, double q) {
  if (s.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(s.size())));
  if (rank > 0) --rank;
  if (rank >= s.size()) rank = s.size() - 1;
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(rank), s.end());
  return s[rank];
}

}  // namespace spray::sim
