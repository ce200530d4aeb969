// A counter with exactly one writing thread that any thread may read.
//
// add() is a relaxed load and store, not a read-modify-write: on x86 and
// arm64 it compiles to the same instructions as `++plain_uint64`, with no
// lock prefix, yet a concurrent read() is not a data race and never tears.
#pragma once

#include <atomic>
#include <cstdint>

namespace spray::telemetry {

class SingleWriterCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(std::uint64_t v) noexcept { v_.store(v, std::memory_order_relaxed); }
  std::uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace spray::telemetry
