// SPDX-License-Identifier: BSD-3-Clause
// The Prometheus endpoint: prometheus-cpp's Exposer serving /metrics, with a
// Collectable that turns the latest telemetry Snapshot into metric families
// at scrape time. Nothing is observed on a hot path: workers record into
// their own counters and histograms, the control thread collects, the scrape
// thread converts.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/listen.h"
#include "telemetry/registry.h"

#include <prometheus/metric_family.h>

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace spray::telemetry {

// Snapshot -> prometheus-cpp families (counters, gauges, classic-bucket
// histograms in the exported unit with _sum and _count). Any thread.
std::vector<prometheus::MetricFamily> to_prometheus(const Snapshot& s);

// The text exposition format of `s`, as served on /metrics.
std::string exposition_text(const Snapshot& s);

class MetricsServer {
 public:
  // Starts listening on `addr` (scrape threads of its own). Each scrape asks
  // `exchange` for a snapshot fresher than `wait` at most, else serves the
  // previous one. Throws std::runtime_error naming the address when it
  // cannot bind.
  MetricsServer(const ListenAddress& addr, std::shared_ptr<SnapshotExchange> exchange,
                std::chrono::milliseconds wait = std::chrono::milliseconds(250));
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The address actually bound (port resolved when 0 was asked).
  const ListenAddress& address() const noexcept { return addr_; }

 private:
  class Collector;
  ListenAddress addr_;
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace spray::telemetry
