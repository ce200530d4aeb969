// SPDX-License-Identifier: BSD-3-Clause
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Values are host-order 16-bit numbers equal to the big-endian words on the
// wire: store them with store_be16, compare them with load_be16.
//
// A "partial sum" is an unfolded 32-bit accumulator of such words. Partial
// sums chain (pseudo-header + header + payload) as long as every span but the
// last has an even length, as RFC 1071 requires of concatenated blocks.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace spray::wire {

// Folds an accumulator to 16 bits with end-around carry.
constexpr std::uint16_t csum_fold(std::uint64_t sum) noexcept {
  sum = (sum & 0xffff'ffffULL) + (sum >> 32);
  sum = (sum & 0xffff'ffffULL) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// One's-complement sum of `data` plus `initial`, folded to 16 bits, host
// order. Reads 8 bytes per step with end-around carry; the byte order of the
// loads does not matter to a one's-complement sum (RFC 1071 2.B), so the
// result is swapped once at the end on little-endian hosts.
inline std::uint16_t csum_partial(std::span<const std::uint8_t> data,
                                  std::uint32_t initial = 0) noexcept {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  std::uint64_t sum = 0;
  while (n >= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, 32);
    std::uint64_t s = sum + w[0];
    std::uint64_t c = s < w[0];
    s += w[1];
    c += s < w[1];
    s += w[2];
    c += s < w[2];
    s += w[3];
    c += s < w[3];
    // The carries re-enter at bit 0: end-around carry of a 64-bit sum.
    sum = s + c;
    sum += sum < c;
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    sum += w;
    sum += sum < w;
    p += 8;
    n -= 8;
  }
  // Tail: at most 7 bytes, added as 32-bit quantities so no carry is lost.
  std::uint64_t tail = 0;
  if (n >= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    tail += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    tail += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // A trailing odd byte is the high byte of a zero-padded big-endian word.
    if constexpr (std::endian::native == std::endian::little) {
      tail += *p;
    } else {
      tail += std::uint32_t{*p} << 8;
    }
  }
  std::uint16_t folded = csum_fold(csum_fold(sum) + tail);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
  }
  return csum_fold(std::uint64_t{folded} + initial);
}

// The checksum field value for `data` (whose own checksum field is zero, or
// included, when verifying): the complement of the folded sum.
inline std::uint16_t internet_checksum(std::span<const std::uint8_t> data,
                                       std::uint32_t initial = 0) noexcept {
  return static_cast<std::uint16_t>(~csum_partial(data, initial));
}

// True when `data`, checksum field included, sums to 0xffff (RFC 1071 check).
inline bool checksum_ok(std::span<const std::uint8_t> data, std::uint32_t initial = 0) noexcept {
  return csum_partial(data, initial) == 0xffff;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from
// `old_word` to `new_word`. Unlike eqn. 2 it never produces 0xffff where a
// full recompute over a non-zero header gives 0x0000, so the two agree bit
// for bit; the unit tests check that over random headers.
constexpr std::uint16_t csum_update16(std::uint16_t csum, std::uint16_t old_word,
                                      std::uint16_t new_word) noexcept {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~csum)} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_word)} + new_word;
  return static_cast<std::uint16_t>(~csum_fold(sum));
}

// The same for a 32-bit field (an address) changing as two words.
constexpr std::uint16_t csum_update32(std::uint16_t csum, std::uint32_t old_value,
                                      std::uint32_t new_value) noexcept {
  const std::uint32_t sum =
      std::uint32_t{static_cast<std::uint16_t>(~csum)} +
      std::uint32_t{static_cast<std::uint16_t>(~(old_value >> 16))} +
      std::uint32_t{static_cast<std::uint16_t>(~old_value)} + (new_value >> 16) +
      (new_value & 0xffff);
  return static_cast<std::uint16_t>(~csum_fold(sum));
}

}  // namespace spray::wire
