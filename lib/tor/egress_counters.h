// SPDX-License-Identifier: BSD-3-Clause
// Counters and gauges of an egress queue, each defined once.
//
// Every list below expands into an enum, a snake_case name (a Prometheus
// label value or metric stem, a telemetry key, a CLI column) and a help text,
// so the data path, the exporter and the CLI cannot disagree. Adding a
// counter is one line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "telemetry/counter.h"

namespace spray::tor {

// X(enumerator, snake_case_name, "help text")
//
// Every item offered to EgressQueue::enqueue ends in exactly one of
// dropped_full, dequeued or drained; until then it counts in queue_pkts
// (enqueued = dequeued + drained + queue_pkts). ce_marked and
// over_threshold_not_ect classify dequeued items.
#define SPRAY_EGRESS_COUNTERS(X)                                                              \
  X(kEnqueued, enqueued, "packets accepted into the egress queue")                           \
  X(kDequeued, dequeued, "packets the shaper released from the egress queue")                \
  X(kDroppedFull, dropped_full, "packets tail-dropped because the queue was at its depth")    \
  X(kCeMarked, ce_marked,                                                                     \
    "ECN-capable packets marked congestion experienced (queue length or sojourn over threshold)") \
  X(kOverThresholdNotEct, over_threshold_not_ect,                                             \
    "packets over an ECN threshold that were not ECN-capable (sent unmarked, not dropped)")   \
  X(kDrained, drained, "packets removed without being sent (shutdown)")

#define SPRAY_EGRESS_GAUGES(X)                                                  \
  X(kQueuePkts, queue_pkts, "packets waiting in the egress queue")             \
  X(kQueuePeakPkts, queue_peak_pkts, "most packets ever waiting in the egress queue at once")

#define SPRAY_EGRESS_ENUMERATOR(e, name, help) e,
enum class EgressCounter : std::uint8_t { SPRAY_EGRESS_COUNTERS(SPRAY_EGRESS_ENUMERATOR) };
enum class EgressGauge : std::uint8_t { SPRAY_EGRESS_GAUGES(SPRAY_EGRESS_ENUMERATOR) };
#undef SPRAY_EGRESS_ENUMERATOR

#define SPRAY_EGRESS_ONE(e, name, help) +1
inline constexpr std::size_t kEgressCounterCount = 0 SPRAY_EGRESS_COUNTERS(SPRAY_EGRESS_ONE);
inline constexpr std::size_t kEgressGaugeCount = 0 SPRAY_EGRESS_GAUGES(SPRAY_EGRESS_ONE);
#undef SPRAY_EGRESS_ONE

// {name, help} per counter and gauge, in enum order; a name is exported as a
// metric name stem or label value.
#define SPRAY_EGRESS_INFO(e, name, help) telemetry::CounterInfo{#name, help},
inline constexpr std::array<telemetry::CounterInfo, kEgressCounterCount> kEgressCounterInfo{
    SPRAY_EGRESS_COUNTERS(SPRAY_EGRESS_INFO)};
inline constexpr std::array<telemetry::CounterInfo, kEgressGaugeCount> kEgressGaugeInfo{
    SPRAY_EGRESS_GAUGES(SPRAY_EGRESS_INFO)};
#undef SPRAY_EGRESS_INFO

constexpr const char* to_string(EgressCounter c) noexcept {
  return kEgressCounterInfo[static_cast<std::size_t>(c)].name;
}
constexpr const char* to_string(EgressGauge g) noexcept {
  return kEgressGaugeInfo[static_cast<std::size_t>(g)].name;
}

// Point-in-time copy of a queue's counters; plain data, safe to pass around.
// Counters only grow (reset baselines belong to the reader, as in OVS);
// queue_peak_pkts is the maximum since the queue was built.
struct EgressStats {
  std::array<std::uint64_t, kEgressCounterCount> counters{};
  std::array<std::uint64_t, kEgressGaugeCount> gauges{};

  std::uint64_t operator[](EgressCounter c) const noexcept {
    return counters[static_cast<std::size_t>(c)];
  }
  std::uint64_t operator[](EgressGauge g) const noexcept {
    return gauges[static_cast<std::size_t>(g)];
  }
};

}  // namespace spray::tor
