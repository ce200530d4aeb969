// SPDX-License-Identifier: BSD-3-Clause
// Figures the scenarios report: goodput over time windows, fairness,
// quantiles of exact samples.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "srd/types.h"

namespace spray::sim {

// Bytes completed per fixed window of virtual time.
class GoodputMeter {
 public:
  explicit GoodputMeter(srd::Nanos window_ns = 100'000) : window_ns_(window_ns ? window_ns : 1) {}

  void add(srd::Nanos now_ns, std::uint64_t bytes) {
    // Samples come in time order, mostly into the window of the last one:
    // that window's bounds spare a division per sample.
    if (bins_.empty() || now_ns - cur_start_ns_ >= window_ns_) {
      const std::size_t w = now_ns / window_ns_;
      if (w >= bins_.size()) bins_.resize(w + 1, 0);
      cur_ = w;
      cur_start_ns_ = w * window_ns_;
    }
    bins_[cur_] += bytes;
    total_ += bytes;
  }

  srd::Nanos window_ns() const noexcept { return window_ns_; }
  std::size_t windows() const noexcept { return bins_.size(); }
  std::uint64_t total_bytes() const noexcept { return total_; }
  std::uint64_t bytes_in(std::size_t w) const noexcept { return w < bins_.size() ? bins_[w] : 0; }
  // Goodput of window w in bit/s.
  double bps(std::size_t w) const noexcept {
    return static_cast<double>(bytes_in(w)) * 8e9 / static_cast<double>(window_ns_);
  }
  // Mean goodput in bit/s over [from_ns, to_ns), whole windows only.
  double mean_bps(srd::Nanos from_ns, srd::Nanos to_ns) const noexcept;
  // Start of the first window at or after from_ns whose goodput is >= bps;
  // kNever if none.
  srd::Nanos first_window_at_least(srd::Nanos from_ns, double bps) const noexcept;

 private:
  srd::Nanos window_ns_;
  std::vector<std::uint64_t> bins_;
  std::uint64_t total_ = 0;
  std::size_t cur_ = 0;            // window of the last sample, and its start
  srd::Nanos cur_start_ns_ = 0;
};

// Jain's fairness index of non-negative shares: 1 = equal, 1/n = one takes all.
double jain_fairness(std::span<const double> shares) noexcept;

// q-quantile (nearest rank) of samples; sorts a copy. 0 when empty.
std::uint64_t quantile(std::vector<std::uint64_t> samples, double q);

}  // namespace spray::sim
