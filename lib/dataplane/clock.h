// SPDX-License-Identifier: BSD-3-Clause
// TSC time for workers: read once per loop iteration (doc/architecture.md,
// "Threads") and converted to the nanoseconds the pure libraries take.
#pragma once

#include <cstdint>

namespace spray::dp {

class TscClock {
 public:
  TscClock() = default;
  explicit TscClock(std::uint64_t hz) noexcept
      : hz_(hz), ns_per_tsc_q32_((std::uint64_t{1000000000} << 32) / hz) {}

  std::uint64_t hz() const noexcept { return hz_; }
  // Exact enough for hours of uptime: 128-bit product, Q32 scale.
  std::uint64_t to_ns(std::uint64_t tsc) const noexcept {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(tsc) * ns_per_tsc_q32_) >> 32);
  }
  std::uint64_t from_ns(std::uint64_t ns) const noexcept {
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(ns) * hz_ / 1000000000u);
  }
  std::uint64_t from_us(std::uint64_t us) const noexcept { return from_ns(us * 1000); }

 private:
  std::uint64_t hz_ = 1;
  std::uint64_t ns_per_tsc_q32_ = 0;
};

}  // namespace spray::dp
