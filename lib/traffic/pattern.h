// SPDX-License-Identifier: BSD-3-Clause
// What a generator puts in a message and a responder checks: a 16-byte
// application header, then a byte pattern derived from (connection key,
// sequence number, offset), so any corruption, truncation or mix-up between
// messages is caught without keeping copies of what was sent.
//
// Pure, allocation-free, thread-agnostic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace spray::traffic {

inline constexpr std::uint32_t kMagicRequest = 0x53505251;  // "SPRQ"
inline constexpr std::uint32_t kMagicReply = 0x53505250;    // "SPRP"
inline constexpr std::uint32_t kReplyDefault = 0xffffffff;  // responder chooses the size
inline constexpr std::size_t kAppHeaderLen = 16;
inline constexpr std::size_t kMinMessageLen = kAppHeaderLen;

// Little-endian on the wire, like the payload pattern.
struct AppHeader {
  std::uint32_t magic = 0;
  std::uint32_t conn_key = 0;   // the generator's connection number
  std::uint32_t seq = 0;        // message number on that connection, from 0
  std::uint32_t reply_len = 0;  // requests: reply size wanted; replies: own length

  void store(std::uint8_t* p) const noexcept {
    std::memcpy(p, &magic, 4);
    std::memcpy(p + 4, &conn_key, 4);
    std::memcpy(p + 8, &seq, 4);
    std::memcpy(p + 12, &reply_len, 4);
  }
  static AppHeader load(const std::uint8_t* p) noexcept {
    AppHeader h;
    std::memcpy(&h.magic, p, 4);
    std::memcpy(&h.conn_key, p + 4, 4);
    std::memcpy(&h.seq, p + 8, 4);
    std::memcpy(&h.reply_len, p + 12, 4);
    return h;
  }
};

namespace detail {
inline std::uint64_t pattern_seed(std::uint32_t magic, std::uint32_t conn_key, std::uint32_t seq) noexcept {
  std::uint64_t z = (std::uint64_t{conn_key} << 32 | seq) ^ (std::uint64_t{magic} * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
// Word i of a message's pattern (little-endian bytes 8i..8i+7 of the body).
inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t i) noexcept {
  return seed + i * 0xd1b54a32d192ed03ULL;
}
}  // namespace detail

// Writes header + pattern over the whole of `msg` (msg.size() >= 16).
inline void fill_message(std::span<std::uint8_t> msg, const AppHeader& h) noexcept {
  h.store(msg.data());
  const std::uint64_t seed = detail::pattern_seed(h.magic, h.conn_key, h.seq);
  std::uint8_t* body = msg.data() + kAppHeaderLen;
  const std::size_t n = msg.size() - kAppHeaderLen;
  std::size_t i = 0;
  for (; (i + 1) * 8 <= n; ++i) {
    const std::uint64_t w = detail::pattern_word(seed, i);
    std::memcpy(body + i * 8, &w, 8);
  }
  const std::uint64_t w = detail::pattern_word(seed, i);
  std::memcpy(body + i * 8, &w, n - i * 8);
}

// True when `msg` carries exactly the pattern its own header announces.
inline bool check_pattern(std::span<const std::uint8_t> msg, const AppHeader& h) noexcept {
  const std::uint64_t seed = detail::pattern_seed(h.magic, h.conn_key, h.seq);
  const std::uint8_t* body = msg.data() + kAppHeaderLen;
  const std::size_t n = msg.size() - kAppHeaderLen;
  std::size_t i = 0;
  for (; (i + 1) * 8 <= n; ++i) {
    std::uint64_t got;
    std::memcpy(&got, body + i * 8, 8);
    if (got != detail::pattern_word(seed, i)) return false;
  }
  const std::uint64_t w = detail::pattern_word(seed, i);
  return std::memcmp(body + i * 8, &w, n - i * 8) == 0;
}

}  // namespace spray::traffic
