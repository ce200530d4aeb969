// Deterministic generator RNG (xoshiro256**), seeded by splitmix64. The
// generator never reads a clock or rand(); runs repeat for the same seed.
#pragma once

#include <cmath>
#include <cstdint>

namespace spray::traffic {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) noexcept {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
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
  // Uniform in [0, n), n > 0 (Lemire's multiply, negligible bias at 64 bits).
  std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in (0, 1].
  double unit() noexcept { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
  // Exponential with the given mean (Poisson inter-arrival times).
  double exponential(double mean) noexcept { return -std::log(unit()) * mean; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace spray::traffic
