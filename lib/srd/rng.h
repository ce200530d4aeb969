// SPDX-License-Identifier: BSD-3-Clause
// Deterministic random numbers for ids, nonces and initial PSNs. Seeded only
// from EndpointConfig::seed, so a run is reproducible (doc/conventions.md).
#pragma once

#include <cstdint>

namespace spray::srd {

// SplitMix64: tiny state, full 64-bit period, good enough for identifiers
// that only need to differ, not to be secret.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : s_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint32_t next32() noexcept { return static_cast<std::uint32_t>(next() >> 32); }

 private:
  std::uint64_t s_;
};

}  // namespace spray::srd
