// SPDX-License-Identifier: BSD-3-Clause
// Counters: one writer, any reader; declared once per module from an X-list.
//
// A module lists its counters once, VPP-style:
//
//   #define MY_COUNTERS(X) X(rx_frames, "frames offered to the stage")
//                          X(tx_bytes, "bytes handed to the port")
//   (one X per line, each line but the last ending in a backslash)
//   SPRAY_COUNTER_BLOCK(MyCounters, MY_COUNTERS);
//
// and gets, from that one place:
//   - the struct: a cache-line-aligned block of SingleWriterCounter fields
//     (`c.rx_frames.add()` on the worker that owns the block);
//   - MyCounters::kInfo: {name, help} per counter, in list order. `name` is
//     the DPDK telemetry key and the CLI column; the Prometheus family is
//     counter_metric_name(prefix, info) = <prefix><name>_total;
//   - MyCounters::Values and read(): a plain copy any thread may take.
//
// Names are snake_case and carry their unit (`_bytes`, `_cycles`), so the
// exported name reads right in PromQL; counters count, never measure time in
// ns (export time as a histogram or convert at the edge).
//
// Thread contract: only the owning worker calls add()/sub()/set(); readers
// (the control thread) use read() and never write. A reset is the reader's
// business (CounterBaseline), so a worker's counters only move forward.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spray::telemetry {

// A counter with exactly one writing thread that any thread may read.
//
// add() is a relaxed load and store, not a read-modify-write: on x86 and
// arm64 it compiles to the same instructions as `++plain_uint64`, with no
// lock prefix, yet a concurrent read() is not a data race and never tears.
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

struct CounterInfo {
  const char* name;  // snake_case, stable: telemetry key, CLI column, metric name stem
  const char* help;
};

// "<prefix><name>_total", e.g. ("spray_port_", rx_bytes) -> spray_port_rx_bytes_total.
std::string counter_metric_name(std::string_view prefix, const CounterInfo& info);

// Rows "name  value" for a CLI table, one per counter; zero rows are left
// out when `skip_zero`. `indent` prefixes each row.
std::string counter_table(std::span<const CounterInfo> info, std::span<const std::uint64_t> values,
                          bool skip_zero = false, std::string_view indent = "");

// Reset baseline kept by a reader (OVS "clear"): clear() remembers the
// current values, since() reports what accumulated after. The counters
// themselves are never written by the reader. A value below its baseline
// (the source restarted, e.g. a port re-created) is reported as is.
// Control thread only.
class CounterBaseline {
 public:
  void clear(std::span<const std::uint64_t> now);
  // out[i] = now[i] - baseline[i]; `out` has now.size() elements.
  void since(std::span<const std::uint64_t> now, std::span<std::uint64_t> out) const noexcept;
  std::vector<std::uint64_t> since(std::span<const std::uint64_t> now) const;

 private:
  std::vector<std::uint64_t> base_;
};

#define SPRAY_COUNTER_FIELD_(name, help) ::spray::telemetry::SingleWriterCounter name;
#define SPRAY_COUNTER_INFO_(name, help) ::spray::telemetry::CounterInfo{#name, help},
#define SPRAY_COUNTER_READ_(name, help) name.read(),

// Declares `struct alignas(64) Type` from LIST(X) with X(name, help).
#define SPRAY_COUNTER_BLOCK(Type, LIST)                                                   \
  struct alignas(64) Type {                                                               \
    LIST(SPRAY_COUNTER_FIELD_)                                                            \
    static constexpr std::array kInfo{LIST(SPRAY_COUNTER_INFO_)};                         \
    static constexpr std::size_t kCount = kInfo.size();                                   \
    using Values = std::array<std::uint64_t, kCount>;                                     \
    Values read() const noexcept { return Values{LIST(SPRAY_COUNTER_READ_)}; }             \
  }

// {name, help} array from any X(name, help) list, for lists whose storage is
// declared elsewhere (plain per-worker structs published by copy).
#define SPRAY_COUNTER_INFO_ARRAY(LIST) std::array{LIST(SPRAY_COUNTER_INFO_)}

}  // namespace spray::telemetry
