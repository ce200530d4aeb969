// SPDX-License-Identifier: BSD-3-Clause
// Packet buffers for the simulator: a free list of fixed-size slots.
//
// Packets are named by a 32-bit index everywhere (events, queues, host RX
// lists) so headers may move when the pool grows; payload bytes live in
// chunks that never move. The pool grows only when every slot is in use, so
// a scenario in steady state allocates nothing per packet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "srd/types.h"

namespace spray::sim {

inline constexpr std::uint32_t kNoPacket = ~std::uint32_t{0};

struct Packet {
  srd::PeerAddr src;
  srd::PeerAddr dst;
  std::uint16_t path_id = 0;
  // What the switches hash as the path's part of the UDP source port
  // (base + entropy): the path id, unless the host's stack repaths
  // (HostStack::tx_entropy).
  std::uint16_t entropy = 0;
  std::uint16_t len = 0;          // SRD bytes (the UDP payload)
  bool ect = false;
  bool ce = false;
  bool corrupted = false;         // a byte was flipped on some link
  std::uint32_t next = kNoPacket; // free list / host RX list
  std::uint64_t id = 0;           // global emission ordinal, stable across hops
  srd::Nanos sent_ns = 0;         // when the source host emitted it
  std::uint8_t* data = nullptr;

  std::span<const std::uint8_t> bytes() const noexcept { return {data, len}; }
};

class PacketPool {
 public:
  static constexpr std::uint32_t kChunk = 1024;

  explicit PacketPool(std::uint32_t buf_bytes) : buf_bytes_(buf_bytes) {}
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  std::uint32_t buf_bytes() const noexcept { return buf_bytes_; }
  std::uint32_t in_use() const noexcept { return in_use_; }
  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(pkts_.size()); }

  std::uint32_t alloc() {
    if (free_ == kNoPacket) grow();
    const std::uint32_t i = free_;
    Packet& p = pkts_[i];
    free_ = p.next;
    std::uint8_t* data = p.data;
    p = Packet{};
    p.data = data;
    ++in_use_;
    return i;
  }

  void free(std::uint32_t i) noexcept {
    pkts_[i].next = free_;
    free_ = i;
    --in_use_;
  }

  Packet& operator[](std::uint32_t i) noexcept { return pkts_[i]; }
  const Packet& operator[](std::uint32_t i) const noexcept { return pkts_[i]; }

 private:
  void grow();  // cold: adds kChunk slots

  std::uint32_t buf_bytes_;
  std::vector<Packet> pkts_;
  std::vector<std::unique_ptr<std::uint8_t[]>> chunks_;
  std::uint32_t free_ = kNoPacket;
  std::uint32_t in_use_ = 0;
};

}  // namespace spray::sim
