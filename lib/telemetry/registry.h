// SPDX-License-Identifier: BSD-3-Clause
// What a role exports, declared once at start-up; collected by the control
// thread into a plain Snapshot that the Prometheus exporter and the DPDK
// telemetry commands read.
//
// A role adds one line per metric group:
//
//   reg.add_counters("spray_switch_", tor_counter_info, [&](auto out) { ... });
//   reg.add_counters_by_label("spray_switch_drops_total", "...", "reason", drop_info, read);
//   reg.add_counters("spray_port_", port_info, ports, [&](std::size_t i, auto out) { ... });
//   reg.add_gauge("spray_switch_fdb_entries", "...", [&] { return fdb_size(); });
//   reg.add_histogram("spray_gen_latency_seconds", "...", streams, [&](std::size_t i) { ... });
//
// Readers run on the control thread inside collect(), never on a worker and
// never on the scrape thread; they read workers' published values (relaxed
// atomics, snapshots), never lock a worker. Families with the same name from
// several add_* calls are merged (e.g. drop reasons from two modules), and
// samples with the same labels in them summed (e.g. the transports of two
// hosts in one process).
//
// Names follow doc/telemetry.md: `spray_` prefix, counters end in `_total`,
// time in seconds and sizes in bytes at this edge, labels bounded (port,
// worker, path, reason, stream, role). Histograms are recorded in ns and
// exported in seconds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "telemetry/counter.h"
#include "telemetry/histogram.h"

namespace spray::telemetry {

enum class MetricKind : std::uint8_t { kCounter, kGauge, kHistogram };

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

struct Sample {
  std::vector<Label> labels;
  double value = 0;                               // counter, gauge
  std::shared_ptr<const HistogramSnapshot> hist;  // histogram (recorded unit)
};

struct Family {
  std::string name;
  std::string help;
  MetricKind kind = MetricKind::kGauge;
  std::vector<Sample> samples;
  // Histograms: upper bounds in the exported unit, and exported unit per
  // recorded unit (1e-9: recorded ns, exported s).
  std::vector<double> bounds;
  double scale = 1.0;
};

struct Snapshot {
  std::vector<Family> families;
  const Family* find(std::string_view name) const noexcept;
};

// The label values of a bounded set of instances: {"port", {"a", "b"}}.
// With `live` set, the values are asked for at every collect instead (e.g.
// workers, which exist only while the runtime runs).
struct Instances {
  Instances(std::string label_name, std::vector<std::string> label_values)
      : label(std::move(label_name)), values(std::move(label_values)) {}
  Instances(std::string label_name, std::function<std::vector<std::string>()> live_values)
      : label(std::move(label_name)), live(std::move(live_values)) {}

  std::vector<std::string> current() const { return live ? live() : values; }

  std::string label;
  std::vector<std::string> values;
  std::function<std::vector<std::string>()> live;
};

struct HistogramExport {
  std::vector<double> bounds = default_bounds_seconds();  // exported unit
  double scale = 1e-9;                                     // ns -> s
};

class Registry {
 public:
  using CounterReader = std::function<void(std::span<std::uint64_t> out)>;
  using InstanceCounterReader = std::function<void(std::size_t instance, std::span<std::uint64_t> out)>;

  // One counter family per entry: <prefix><name>_total.
  void add_counters(std::string prefix, std::span<const CounterInfo> info, CounterReader read);
  // The same, one sample per instance, labelled inst.label=inst.values[i].
  void add_counters(std::string prefix, std::span<const CounterInfo> info, Instances inst,
                    InstanceCounterReader read);
  // One counter family `family` (ending in _total), one sample per entry,
  // labelled label=<entry name>: drop reasons, retransmit causes.
  void add_counters_by_label(std::string family, std::string help, std::string label,
                             std::span<const CounterInfo> info, CounterReader read);

  void add_gauge(std::string name, std::string help, std::function<double()> read);
  void add_gauge(std::string name, std::string help, Instances inst,
                 std::function<double(std::size_t instance)> read);

  void add_histogram(std::string name, std::string help, std::function<HistogramSnapshot()> read,
                     HistogramExport ex = {});
  void add_histogram(std::string name, std::string help, Instances inst,
                     std::function<HistogramSnapshot(std::size_t instance)> read, HistogramExport ex = {});

  // An `_info` gauge of value 1 carrying fixed labels (spray_build_info).
  void add_info(std::string name, std::string help, std::vector<Label> labels);
  // One `_info` sample per instance; `labels(i)` gives the labels after the instance's.
  void add_info(std::string name, std::string help, Instances inst,
                std::function<std::vector<Label>(std::size_t instance)> labels);

  // Anything else: the source appends families itself.
  void add_source(std::function<void(Snapshot&)> source);

  // Control thread: runs every reader.
  Snapshot collect() const;

 private:
  std::vector<std::function<void(Snapshot&)>> sources_;
};

// A human-readable dump of a snapshot (state dumps on SIGUSR1): one line
// per sample, `name{labels} value`, histograms as count/mean/p50/p99/p99.9/max
// in the exported unit. Only families whose name starts with one of
// `prefixes` (all when empty).
std::string snapshot_text(const Snapshot& s, const std::vector<std::string>& prefixes = {});

// spray_build_info{version,dpdk_version,git_sha} 1
void add_build_info(Registry& reg, std::string version, std::string dpdk_version, std::string git_sha);

// Hands snapshots from the control thread to reader threads (scrapes,
// telemetry socket) without either blocking a worker.
//
// A reader calls fresh(): it flags a request and waits (bounded) until the
// control thread, polling wanted() in its tick, publishes a new snapshot. If
// the control thread is busy or gone, the reader gets the previous snapshot.
class SnapshotExchange {
 public:
  // Reader threads. May return null before the first publish().
  std::shared_ptr<const Snapshot> fresh(std::chrono::milliseconds timeout);
  std::shared_ptr<const Snapshot> latest() const;

  // Control thread.
  bool wanted() const noexcept { return wanted_.load(std::memory_order_acquire); }
  void publish(Snapshot s);
  // Publishes registry.collect() when a reader asked; call every tick.
  void serve(const Registry& reg) {
    if (wanted()) publish(reg.collect());
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Snapshot> latest_;
  std::uint64_t generation_ = 0;
  std::atomic<bool> wanted_{false};
};

}  // namespace spray::telemetry
