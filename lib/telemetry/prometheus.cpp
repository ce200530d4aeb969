// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/prometheus.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>
#include <stdexcept>

namespace spray::telemetry {

namespace {

prometheus::MetricType type_of(MetricKind k) {
  switch (k) {
    case MetricKind::kCounter: return prometheus::MetricType::Counter;
    case MetricKind::kHistogram: return prometheus::MetricType::Histogram;
    case MetricKind::kGauge: break;
  }
  return prometheus::MetricType::Gauge;
}

void fill_histogram(const Family& f, const HistogramSnapshot& h, prometheus::ClientMetric& m) {
  // Bounds are in the exported unit; the histogram counts recorded units.
  std::vector<double> recorded(f.bounds.size());
  for (std::size_t i = 0; i < f.bounds.size(); ++i) recorded[i] = f.bounds[i] / f.scale;
  const auto cum = h.cumulative(recorded);
  m.histogram.sample_count = h.count;
  m.histogram.sample_sum = static_cast<double>(h.sum) * f.scale;
  for (std::size_t i = 0; i < f.bounds.size(); ++i) m.histogram.bucket.push_back({cum[i], f.bounds[i]});
  m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
}

}  // namespace

std::vector<prometheus::MetricFamily> to_prometheus(const Snapshot& s) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(s.families.size());
  for (const auto& f : s.families) {
    prometheus::MetricFamily pf;
    pf.name = f.name;
    pf.help = f.help;
    pf.type = type_of(f.kind);
    for (const auto& smp : f.samples) {
      prometheus::ClientMetric m;
      for (const auto& l : smp.labels) m.label.push_back({l.name, l.value});
      switch (f.kind) {
        case MetricKind::kCounter: m.counter.value = smp.value; break;
        case MetricKind::kGauge: m.gauge.value = smp.value; break;
        case MetricKind::kHistogram:
          if (smp.hist) fill_histogram(f, *smp.hist, m);
          break;
      }
      pf.metric.push_back(std::move(m));
    }
    out.push_back(std::move(pf));
  }
  return out;
}

std::string exposition_text(const Snapshot& s) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, to_prometheus(s));
  return os.str();
}

class MetricsServer::Collector final : public prometheus::Collectable {
 public:
  Collector(std::shared_ptr<SnapshotExchange> ex, std::chrono::milliseconds wait)
      : ex_(std::move(ex)), wait_(wait) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto snap = ex_->fresh(wait_);
    return snap ? to_prometheus(*snap) : std::vector<prometheus::MetricFamily>{};
  }

 private:
  std::shared_ptr<SnapshotExchange> ex_;
  std::chrono::milliseconds wait_;
};

MetricsServer::MetricsServer(const ListenAddress& addr, std::shared_ptr<SnapshotExchange> exchange,
                             std::chrono::milliseconds wait)
    : addr_(addr), collector_(std::make_shared<Collector>(std::move(exchange), wait)) {
  try {
    // Two threads: a scrape in progress never delays a second scraper much.
    exposer_ = std::make_unique<prometheus::Exposer>(addr.str(), 2);
  } catch (const std::exception& e) {
    throw std::runtime_error("--metrics " + addr.str() + ": cannot listen (" + e.what() +
                             "); is the port in use? choose another with --metrics ADDR:PORT, or --metrics off");
  }
  const auto ports = exposer_->GetListeningPorts();
  if (!ports.empty()) addr_.port = static_cast<std::uint16_t>(ports.front());
  exposer_->RegisterCollectable(collector_);
}

MetricsServer::~MetricsServer() {
  if (exposer_) exposer_->RemoveCollectable(collector_);
}

}  // namespace spray::telemetry
