// SPDX-License-Identifier: BSD-3-Clause
// Deterministic random numbers for the simulator: the generator's RNG
// (lib/traffic/rng.h), so a simulated workload and a real one draw alike.
#pragma once

#include <cstdint>

#include "traffic/rng.h"

namespace spray::sim {

using traffic::Rng;
using traffic::splitmix64;

// Stateless 64-bit mix; used for ECMP hashing and per-object seed derivation.
inline std::uint64_t mix64(std::uint64_t x) noexcept { return splitmix64(x); }

}  // namespace spray::sim
