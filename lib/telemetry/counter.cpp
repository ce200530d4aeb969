// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/counter.h"

#include <algorithm>
#include <cstdio>

namespace spray::telemetry {

std::string counter_metric_name(std::string_view prefix, const CounterInfo& info) {
  std::string s(prefix);
  s += info.name;
  s += "_total";
  return s;
}

std::string counter_table(std::span<const CounterInfo> info, std::span<const std::uint64_t> values,
                          bool skip_zero, std::string_view indent) {
  std::size_t width = 0;
  for (const auto& i : info) width = std::max(width, std::string_view(i.name).size());
  std::string out;
  const std::size_t n = std::min(info.size(), values.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (skip_zero && values[i] == 0) continue;
    char row[160];
    std::snprintf(row, sizeof row, "%.*s%-*s %20llu\n", static_cast<int>(indent.size()), indent.data(),
                  static_cast<int>(width), info[i].name, static_cast<unsigned long long>(values[i]));
    out += row;
  }
  return out;
}

void CounterBaseline::clear(std::span<const std::uint64_t> now) { base_.assign(now.begin(), now.end()); }

void CounterBaseline::since(std::span<const std::uint64_t> now, std::span<std::uint64_t> out) const noexcept {
  for (std::size_t i = 0; i < now.size() && i < out.size(); ++i) {
    const std::uint64_t b = i < base_.size() ? base_[i] : 0;
    out[i] = now[i] >= b ? now[i] - b : now[i];
  }
}

std::vector<std::uint64_t> CounterBaseline::since(std::span<const std::uint64_t> now) const {
  std::vector<std::uint64_t> out(now.size());
  since(now, out);
  return out;
}

}  // namespace spray::telemetry
