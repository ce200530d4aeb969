/* SPDX-License-Identifier: BSD-3-Clause */
// Deterministic per-queue random numbers: xoshiro256** seeded through
// splitmix64, so one 64-bit seed gives independent, repeatable streams.
#pragma once

#include <cstdint>

namespace spray::pmd {

constexpr uint64_t splitmix64(uint64_t &state) noexcept
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

class Xoshiro256 {
public:
	constexpr Xoshiro256() noexcept { seed(0); }
	constexpr explicit Xoshiro256(uint64_t s) noexcept { seed(s); }

	constexpr void seed(uint64_t s) noexcept
	{
		for (auto &w : s_)
			w = splitmix64(s);
	}

	constexpr uint64_t next() noexcept
	{
		const uint64_t result = rotl(s_[1] * 5, 7) * 9;
		const uint64_t t = s_[1] << 17;
		s_[2] ^= s_[0];
		s_[3] ^= s_[1];
		s_[1] ^= s_[2];
		s_[0] ^= s_[3];
		s_[2] ^= t;
		s_[3] = rotl(s_[3], 45);
		return result;
	}

	// True with probability threshold / 2^64 (see probability_threshold()).
	constexpr bool chance(uint64_t threshold) noexcept
	{
		return threshold != 0 && next() < threshold;
	}

	// Uniform in [0, bound); bound > 0. Lemire's multiply-shift, bias < 2^-32
	// for the bounds we use (delays in TSC cycles, byte offsets).
	constexpr uint64_t below(uint64_t bound) noexcept
	{
		return static_cast<uint64_t>(
			(static_cast<unsigned __int128>(next()) * bound) >> 64);
	}

private:
	static constexpr uint64_t rotl(uint64_t x, int k) noexcept
	{
		return (x << k) | (x >> (64 - k));
	}
	uint64_t s_[4]{};
};

// Maps a probability in [0, 1] to a threshold for Xoshiro256::chance().
constexpr uint64_t probability_threshold(double p) noexcept
{
	if (p <= 0.0)
		return 0;
	if (p >= 1.0)
		return UINT64_MAX;
	return static_cast<uint64_t>(p * 18446744073709551616.0);
}

} // namespace spray::pmd
