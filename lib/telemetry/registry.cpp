// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/registry.h"

#include <algorithm>
#include <cstdio>

namespace spray::telemetry {

namespace {

// Adds `x` to `g`: a sample with the same labels is summed into (two hosts'
// transports in one process), a new one appended.
void add_sample(Family& g, Sample x) {
  for (auto& y : g.samples) {
    if (y.labels != x.labels) continue;
    y.value += x.value;
    if (x.hist) {
      auto merged = std::make_shared<HistogramSnapshot>(y.hist ? *y.hist : HistogramSnapshot{});
      merged->merge(*x.hist);
      y.hist = std::move(merged);
    }
    return;
  }
  g.samples.push_back(std::move(x));
}

// Appends `f` to `s`, merging with a family of the same name.
void put(Snapshot& s, Family f) {
  for (auto& g : s.families)
    if (g.name == f.name) {
      for (auto& x : f.samples) add_sample(g, std::move(x));
      return;
    }
  s.families.push_back(std::move(f));
}

}  // namespace

const Family* Snapshot::find(std::string_view name) const noexcept {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

void Registry::add_source(std::function<void(Snapshot&)> source) { sources_.push_back(std::move(source)); }

void Registry::add_counters(std::string prefix, std::span<const CounterInfo> info, CounterReader read) {
  add_source([prefix = std::move(prefix), info, read = std::move(read)](Snapshot& s) {
    std::vector<std::uint64_t> v(info.size());
    read(v);
    for (std::size_t i = 0; i < info.size(); ++i)
      put(s, Family{counter_metric_name(prefix, info[i]), info[i].help, MetricKind::kCounter,
                    {Sample{{}, static_cast<double>(v[i]), nullptr}}, {}, 1.0});
  });
}

void Registry::add_counters(std::string prefix, std::span<const CounterInfo> info, Instances inst,
                            InstanceCounterReader read) {
  add_source([prefix = std::move(prefix), info, inst = std::move(inst), read = std::move(read)](Snapshot& s) {
    std::vector<Family> fams(info.size());
    for (std::size_t i = 0; i < info.size(); ++i)
      fams[i] = Family{counter_metric_name(prefix, info[i]), info[i].help, MetricKind::kCounter, {}, {}, 1.0};
    std::vector<std::uint64_t> v(info.size());
    const auto values = inst.current();
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::fill(v.begin(), v.end(), 0);
      read(k, v);
      for (std::size_t i = 0; i < info.size(); ++i)
        fams[i].samples.push_back(Sample{{{inst.label, values[k]}}, static_cast<double>(v[i]), nullptr});
    }
    for (auto& f : fams) put(s, std::move(f));
  });
}

void Registry::add_counters_by_label(std::string family, std::string help, std::string label,
                                     std::span<const CounterInfo> info, CounterReader read) {
  add_source([family = std::move(family), help = std::move(help), label = std::move(label), info,
              read = std::move(read)](Snapshot& s) {
    std::vector<std::uint64_t> v(info.size());
    read(v);
    Family f{family, help, MetricKind::kCounter, {}, {}, 1.0};
    for (std::size_t i = 0; i < info.size(); ++i)
      f.samples.push_back(Sample{{{label, info[i].name}}, static_cast<double>(v[i]), nullptr});
    put(s, std::move(f));
  });
}

void Registry::add_gauge(std::string name, std::string help, std::function<double()> read) {
  add_source([name = std::move(name), help = std::move(help), read = std::move(read)](Snapshot& s) {
    put(s, Family{name, help, MetricKind::kGauge, {Sample{{}, read(), nullptr}}, {}, 1.0});
  });
}

void Registry::add_gauge(std::string name, std::string help, Instances inst,
                         std::function<double(std::size_t)> read) {
  add_source([name = std::move(name), help = std::move(help), inst = std::move(inst),
              read = std::move(read)](Snapshot& s) {
    Family f{name, help, MetricKind::kGauge, {}, {}, 1.0};
    const auto values = inst.current();
    for (std::size_t k = 0; k < values.size(); ++k)
      f.samples.push_back(Sample{{{inst.label, values[k]}}, read(k), nullptr});
    put(s, std::move(f));
  });
}

void Registry::add_histogram(std::string name, std::string help, std::function<HistogramSnapshot()> read,
                             HistogramExport ex) {
  add_source([name = std::move(name), help = std::move(help), read = std::move(read),
              ex = std::move(ex)](Snapshot& s) {
    put(s, Family{name, help, MetricKind::kHistogram,
                  {Sample{{}, 0, std::make_shared<const HistogramSnapshot>(read())}}, ex.bounds, ex.scale});
  });
}

void Registry::add_histogram(std::string name, std::string help, Instances inst,
                             std::function<HistogramSnapshot(std::size_t)> read, HistogramExport ex) {
  add_source([name = std::move(name), help = std::move(help), inst = std::move(inst), read = std::move(read),
              ex = std::move(ex)](Snapshot& s) {
    Family f{name, help, MetricKind::kHistogram, {}, ex.bounds, ex.scale};
    const auto values = inst.current();
    for (std::size_t k = 0; k < values.size(); ++k)
      f.samples.push_back(
          Sample{{{inst.label, values[k]}}, 0, std::make_shared<const HistogramSnapshot>(read(k))});
    put(s, std::move(f));
  });
}

void Registry::add_info(std::string name, std::string help, std::vector<Label> labels) {
  add_source([name = std::move(name), help = std::move(help), labels = std::move(labels)](Snapshot& s) {
    put(s, Family{name, help, MetricKind::kGauge, {Sample{labels, 1.0, nullptr}}, {}, 1.0});
  });
}

void Registry::add_info(std::string name, std::string help, Instances inst,
                        std::function<std::vector<Label>(std::size_t)> labels) {
  add_source([name = std::move(name), help = std::move(help), inst = std::move(inst),
              labels = std::move(labels)](Snapshot& s) {
    Family f{name, help, MetricKind::kGauge, {}, {}, 1.0};
    const auto values = inst.current();
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::vector<Label> l{{inst.label, values[k]}};
      for (auto& x : labels(k)) l.push_back(std::move(x));
      f.samples.push_back(Sample{std::move(l), 1.0, nullptr});
    }
    put(s, std::move(f));
  });
}

Snapshot Registry::collect() const {
  Snapshot s;
  for (const auto& src : sources_) src(s);
  return s;
}

void add_build_info(Registry& reg, std::string version, std::string dpdk_version, std::string git_sha) {
  reg.add_info("spray_build_info", "spray build: version, DPDK version it runs with, git revision",
               {{"version", std::move(version)}, {"dpdk_version", std::move(dpdk_version)},
                {"git_sha", std::move(git_sha)}});
}

std::string snapshot_text(const Snapshot& s, const std::vector<std::string>& prefixes) {
  std::string out;
  char num[64];
  for (const auto& f : s.families) {
    bool match = prefixes.empty();
    for (const auto& p : prefixes) match |= f.name.rfind(p, 0) == 0;
    if (!match) continue;
    for (const auto& smp : f.samples) {
      std::string line = f.name;
      if (!smp.labels.empty()) {
        line += '{';
        for (std::size_t i = 0; i < smp.labels.size(); ++i)
          line += (i ? "," : "") + smp.labels[i].name + "=\"" + smp.labels[i].value + "\"";
        line += '}';
      }
      if (f.kind == MetricKind::kHistogram && smp.hist) {
        const auto& h = *smp.hist;
        std::snprintf(num, sizeof num, " count %llu", static_cast<unsigned long long>(h.count));
        line += num;
        if (h.count) {
          const auto q = [&](double x) { return static_cast<double>(x) * f.scale; };
          std::snprintf(num, sizeof num, " mean %.4g", h.mean() * f.scale);
          line += num;
          std::snprintf(num, sizeof num, " p50 %.4g p99 %.4g", q(static_cast<double>(h.quantile(0.5))),
                        q(static_cast<double>(h.quantile(0.99))));
          line += num;
          std::snprintf(num, sizeof num, " p99.9 %.4g max %.4g", q(static_cast<double>(h.quantile(0.999))),
                        q(static_cast<double>(h.max)));
          line += num;
        }
      } else {
        std::snprintf(num, sizeof num, " %.17g", smp.value);
        line += num;
      }
      out += line;
      out += '\n';
    }
  }
  return out;
}

std::shared_ptr<const Snapshot> SnapshotExchange::fresh(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const std::uint64_t gen = generation_;
  wanted_.store(true, std::memory_order_release);
  cv_.wait_for(lk, timeout, [&] { return generation_ != gen; });
  return latest_;
}

std::shared_ptr<const Snapshot> SnapshotExchange::latest() const {
  std::lock_guard lk(mu_);
  return latest_;
}

void SnapshotExchange::publish(Snapshot s) {
  auto p = std::make_shared<const Snapshot>(std::move(s));
  {
    std::lock_guard lk(mu_);
    latest_ = std::move(p);
    ++generation_;
    wanted_.store(false, std::memory_order_release);
  }
  cv_.notify_all();
}

}  // namespace spray::telemetry
