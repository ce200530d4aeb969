// SPDX-License-Identifier: BSD-3-Clause
// L2Switch::process_burst cost per frame, 32-frame bursts.
//
//   ninja -C build-tor test/bench/tor/tor_l2_bench && build-tor/test/bench/tor/tor_l2_bench
//
// The ns_per_frame counter is wall time per frame. Frames are pre-built and
// replayed from a pool larger than the branch predictor's memory; their
// headers stay in cache, as they would after the driver's own prefetch.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "tor/l2_switch.h"
#include "wire/ether.h"

namespace {

using namespace spray;
using namespace spray::tor;

constexpr std::size_t kBurst = 32;
constexpr std::size_t kPoolBursts = 256;
constexpr PortId kPorts = 4;

wire::Mac mac_of(std::uint64_t i) { return wire::Mac{0x0200'0000'0000ULL | (i * 0x9e3779b1ULL & 0xffff'ffffULL)}; }

std::vector<std::uint8_t> frame(wire::Mac dst, wire::Mac src) {
  std::vector<std::uint8_t> f(64, 0);
  wire::write_eth(f, dst, src, wire::kEtherTypeIpv4);
  return f;
}

struct Fixture {
  explicit Fixture(std::uint64_t learned, std::uint32_t capacity, bool attack) {
    L2Config c;
    c.fdb_capacity = capacity;
    c.hash_seed = 0x5eed;
    for (PortId p = 0; p < kPorts; ++p) {
      L2PortConfig pc;
      pc.access_vlan = 1;
      c.ports.push_back(pc);
    }
    sw = std::make_unique<L2Switch>(c);
    // MAC i lives behind port i % kPorts. At least one source behind port 0
    // and one destination elsewhere.
    const std::uint64_t n = std::max<std::uint64_t>(learned, 2);
    for (std::uint64_t i = 0; i < n; ++i)
      send_one(static_cast<PortId>(i % kPorts), frame(wire::Mac::broadcast(), mac_of(i)));
    std::mt19937_64 rng(1);
    for (std::size_t k = 0; k < kPoolBursts * kBurst; ++k) {
      const std::uint64_t src = attack ? n + k : (rng() % ((n + kPorts - 1) / kPorts)) * kPorts;
      std::uint64_t dst = learned <= 1 ? 1 : rng() % n;
      if (dst % kPorts == 0) dst += 1 + rng() % (kPorts - 1);
      if (dst >= n) dst = 1;
      pool.push_back(frame(mac_of(dst), mac_of(src)));
    }
    spans.assign(pool.begin(), pool.end());
  }
  void send_one(PortId port, const std::vector<std::uint8_t>& f) {
    const std::span<const std::uint8_t> one[1] = {f};
    L2Decision d[1];
    sw->process_burst(port, one, d, now_ns);
  }

  std::unique_ptr<L2Switch> sw;
  std::vector<std::vector<std::uint8_t>> pool;
  std::vector<std::span<const std::uint8_t>> spans;
  std::uint64_t now_ns = 1'000'000'000;
};

void run(benchmark::State& state, Fixture& fx, L2Action expect) {
  L2Decision d[kBurst];
  std::size_t b = 0;
  std::uint64_t matched = 0, frames = 0;
  for (auto _ : state) {
    fx.sw->process_burst(0, std::span(fx.spans).subspan(b * kBurst, kBurst), d, fx.now_ns);
    benchmark::DoNotOptimize(d);
    fx.now_ns += 1'000;  // 32 frames per microsecond per port
    b = (b + 1) % kPoolBursts;
    matched += d[0].action == expect;
    frames += kBurst;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns_per_frame"] = benchmark::Counter(
      static_cast<double>(frames), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (matched * kBurst != frames) state.SkipWithError("unexpected decision in the burst");
}

// Known hosts: both the source and the destination are learned.
void BM_ProcessBurstKnownHosts(benchmark::State& state) {
  const auto learned = static_cast<std::uint64_t>(state.range(0));
  Fixture fx(learned, static_cast<std::uint32_t>(std::max<std::uint64_t>(learned + 64, 16384)), false);
  run(state, fx, L2Action::kUnicast);
  state.counters["fdb_entries"] = static_cast<double>(fx.sw->fdb_size());
}
BENCHMARK(BM_ProcessBurstKnownHosts)->Arg(1)->Arg(10'000)->Arg(1'000'000);

// A MAC flood against a full table: every source is new and refused.
void BM_ProcessBurstMacFloodTableFull(benchmark::State& state) {
  Fixture fx(10'000, 10'000, true);
  run(state, fx, L2Action::kUnicast);
}
BENCHMARK(BM_ProcessBurstMacFloodTableFull);

}  // namespace

BENCHMARK_MAIN();
