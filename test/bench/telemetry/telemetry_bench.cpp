// SPDX-License-Identifier: BSD-3-Clause
// Cost of recording on a worker (histogram, counter) and of a scrape on the
// control thread (snapshot, collect, exposition text).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "telemetry/counter.h"
#include "telemetry/histogram.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"

namespace {

using namespace spray::telemetry;

// Latencies spread over 1 us .. 10 ms, precomputed so the loop measures
// record() only. 4096 values: the bucket touched varies like real traffic.
std::vector<std::uint64_t> latencies() {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(30'000.0), 1.2);
  std::vector<std::uint64_t> v(4096);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  const auto v = latencies();
  Histogram h;
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(v[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h.snapshot().count);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramRecordSameValue(benchmark::State& state) {
  Histogram h;
  std::uint64_t v = 25'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(v);
    h.record(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordSameValue);

void BM_CounterAdd(benchmark::State& state) {
  SingleWriterCounter c;
  for (auto _ : state) {
    c.add();
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(c.read());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterAdd);

void BM_HistogramSnapshot(benchmark::State& state) {
  const auto v = latencies();
  Histogram h;
  for (auto x : v) h.record(x);
  for (auto _ : state) benchmark::DoNotOptimize(h.snapshot());
}
BENCHMARK(BM_HistogramSnapshot);

void BM_HistogramQuantileP99(benchmark::State& state) {
  const auto v = latencies();
  Histogram h;
  for (auto x : v) h.record(x);
  const auto s = h.snapshot();
  for (auto _ : state) benchmark::DoNotOptimize(s.quantile(0.99));
}
BENCHMARK(BM_HistogramQuantileP99);

// A scrape of a switch-sized registry: 8 ports x 8 counters, 12 switch
// counters, 13 drop reasons, 4 workers x 7 counters, one histogram.
void BM_CollectAndExpose(benchmark::State& state) {
  static constexpr CounterInfo port_info[] = {{"rx_packets", "h"}, {"tx_packets", "h"}, {"rx_bytes", "h"},
                                              {"tx_bytes", "h"},   {"rx_missed", "h"},  {"rx_errors", "h"},
                                              {"tx_errors", "h"},  {"rx_nombuf", "h"}};
  static constexpr CounterInfo sw_info[] = {{"a", "h"}, {"b", "h"}, {"c", "h"}, {"d", "h"},
                                            {"e", "h"}, {"f", "h"}, {"g", "h"}, {"h", "h"},
                                            {"i", "h"}, {"j", "h"}, {"k", "h"}, {"l", "h"}};
  static constexpr CounterInfo worker_info[] = {{"rx_packets", "h"}, {"tx_packets", "h"}, {"tx_dropped", "h"},
                                                {"busy_cycles", "h"}, {"idle_cycles", "h"}, {"iterations", "h"},
                                                {"sleeps", "h"}};
  Registry reg;
  reg.add_counters("spray_port_", port_info, Instances{"port", {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"}},
                   [](std::size_t i, std::span<std::uint64_t> out) {
                     for (auto& x : out) x = 1'000'000 * (i + 1);
                   });
  reg.add_counters("spray_switch_", sw_info, [](std::span<std::uint64_t> out) {
    for (auto& x : out) x = 123'456;
  });
  reg.add_counters_by_label("spray_switch_drops_total", "h", "reason", sw_info, [](std::span<std::uint64_t> out) {
    for (auto& x : out) x = 7;
  });
  reg.add_counters("spray_worker_", worker_info, Instances{"worker", {"w0", "w1", "w2", "w3"}},
                   [](std::size_t, std::span<std::uint64_t> out) {
                     for (auto& x : out) x = 99;
                   });
  Histogram h;
  for (auto x : latencies()) h.record(x);
  reg.add_histogram("spray_test_latency_seconds", "h", [&] { return h.snapshot(); });
  for (auto _ : state) benchmark::DoNotOptimize(exposition_text(reg.collect()));
}
BENCHMARK(BM_CollectAndExpose)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
