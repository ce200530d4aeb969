// SPDX-License-Identifier: BSD-3-Clause
// Deterministic random numbers (xoshiro256**, seeded through splitmix64) for
// the generator and the simulator: neither reads a clock or rand(), so runs
// repeat for the same seed, on every platform (the std distributions are not
// portable, so uniforms are drawn here).
#pragma once

#include <cmath>
#include <cstdint>

namespace spray::traffic {

inline std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) noexcept { reseed(seed); }
  void reseed(std::uint64_t seed) noexcept {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() noexcept {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, n) (Lemire's multiply, negligible bias at 64 bits); 0 for n == 0.
  std::uint64_t below(std::uint64_t n) noexcept {
    if (n == 0) return 0;
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in [0, 1) with 53 bits of precision.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe to take the logarithm of.
  double unit() noexcept { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
  // True with probability p (p <= 0 never draws, so a disabled impairment
  // does not perturb the stream of the ones that are enabled).
  bool chance(double p) noexcept { return p > 0 && uniform() < p; }
  // Exponential with the given mean (Poisson inter-arrival times).
  double exponential(double mean) noexcept { return -std::log(unit()) * mean; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace spray::traffic
