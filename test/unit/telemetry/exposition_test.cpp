// SPDX-License-Identifier: BSD-3-Clause
// What a scrape shows for a registry fed with fake values: names, labels,
// `_total`, histogram buckets in seconds, and the exchange between the
// control thread and a scraper.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "telemetry/prometheus.h"
#include "telemetry/service.h"
#include "telemetry/registry.h"

namespace spray::telemetry {
namespace {

#define FAKE_PORT_COUNTERS(X)                 \
  X(rx_packets, "packets received") \
  X(rx_bytes, "bytes received")

#define FAKE_DROPS(X)                      \
  X(truncated, "frames too short")         \
  X(no_egress, "nowhere to send the frame")

constexpr auto kPortInfo = SPRAY_COUNTER_INFO_ARRAY(FAKE_PORT_COUNTERS);
constexpr auto kDropInfo = SPRAY_COUNTER_INFO_ARRAY(FAKE_DROPS);

Registry fake_registry() {
  Registry reg;
  reg.add_counters("spray_port_", kPortInfo, Instances{"port", {"a", "b"}},
                   [](std::size_t i, std::span<std::uint64_t> out) {
                     out[0] = 10 * (i + 1);
                     out[1] = 1500 * (i + 1);
                   });
  reg.add_counters_by_label("spray_switch_drops_total", "frames dropped, by reason", "reason", kDropInfo,
                            [](std::span<std::uint64_t> out) {
                              out[0] = 3;
                              out[1] = 4;
                            });
  reg.add_gauge("spray_switch_fdb_entries", "FDB entries", [] { return 42.0; });
  reg.add_histogram("spray_test_latency_seconds", "a latency", [] {
    HistogramSnapshot h;
    h.add(1'500);       // 1.5 us
    h.add(30'000, 2);   // 30 us
    h.add(250'000'000); // 250 ms: above the last bound
    return h;
  });
  add_build_info(reg, "0.1.0", "DPDK 22.11.0", "abc123");
  return reg;
}

std::string scrape_text() { return exposition_text(fake_registry().collect()); }

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

TEST(Exposition, PerInstanceCountersCarryTheirLabelAndTotalSuffix) {
  const auto t = scrape_text();
  EXPECT_TRUE(has_line(t, "spray_port_rx_packets_total{port=\"a\"} 10")) << t;
  EXPECT_TRUE(has_line(t, "spray_port_rx_bytes_total{port=\"b\"} 3000")) << t;
  EXPECT_TRUE(has_line(t, "# TYPE spray_port_rx_bytes_total counter")) << t;
}

TEST(Exposition, DropReasonsAreOneFamilyLabelledByReason) {
  const auto t = scrape_text();
  EXPECT_TRUE(has_line(t, "spray_switch_drops_total{reason=\"truncated\"} 3")) << t;
  EXPECT_TRUE(has_line(t, "spray_switch_drops_total{reason=\"no_egress\"} 4")) << t;
}

TEST(Exposition, EveryCounterFamilyEndsInTotal) {
  const auto s = fake_registry().collect();
  for (const auto& f : s.families) {
    if (f.kind == MetricKind::kCounter) {
      EXPECT_TRUE(f.name.ends_with("_total")) << f.name;
    }
  }
}

TEST(Exposition, EveryFamilyHasTheSprayPrefixAndHelp) {
  const auto t = scrape_text();
  const std::regex sample(R"(^([a-z_:][a-z0-9_:]*)(\{.*\})? \S+$)");
  std::istringstream in(t);
  int samples = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("# HELP ", 0) == 0) {
      EXPECT_GT(l.size(), std::string("# HELP x ").size()) << l;
      continue;
    }
    if (l.empty() || l[0] == '#') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, sample)) << l;
    EXPECT_EQ(m[1].str().rfind("spray_", 0), 0u) << l;
    ++samples;
  }
  EXPECT_GT(samples, 10);
}

TEST(Exposition, BuildInfoIsAGaugeOfOneWithItsLabels) {
  const auto t = scrape_text();
  EXPECT_TRUE(
      has_line(t, "spray_build_info{version=\"0.1.0\",dpdk_version=\"DPDK 22.11.0\",git_sha=\"abc123\"} 1"))
      << t;
}

TEST(Exposition, HistogramIsClassicBucketsInSecondsWithSumAndCount) {
  const auto t = scrape_text();
  EXPECT_TRUE(has_line(t, "# TYPE spray_test_latency_seconds histogram")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_count 4")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_bucket{le=\"1e-06\"} 0")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_bucket{le=\"2e-06\"} 1")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_bucket{le=\"5e-05\"} 3")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_bucket{le=\"0.1\"} 3")) << t;
  EXPECT_TRUE(has_line(t, "spray_test_latency_seconds_bucket{le=\"+Inf\"} 4")) << t;
  const auto fam = fake_registry().collect().find("spray_test_latency_seconds");
  ASSERT_NE(fam, nullptr);
}

TEST(Exposition, HistogramSumIsInSeconds) {
  const auto fams = to_prometheus(fake_registry().collect());
  for (const auto& f : fams)
    if (f.name == "spray_test_latency_seconds") {
      ASSERT_EQ(f.metric.size(), 1u);
      EXPECT_NEAR(f.metric[0].histogram.sample_sum, (1'500 + 60'000 + 250'000'000) * 1e-9, 1e-12);
      return;
    }
  FAIL() << "histogram family missing";
}

TEST(Exposition, HistogramBucketsNeverDecreaseAndEndAtCount) {
  const auto fams = to_prometheus(fake_registry().collect());
  for (const auto& f : fams)
    for (const auto& m : f.metric) {
      if (m.histogram.bucket.empty()) continue;
      for (std::size_t i = 1; i < m.histogram.bucket.size(); ++i) {
        EXPECT_LE(m.histogram.bucket[i - 1].cumulative_count, m.histogram.bucket[i].cumulative_count);
        EXPECT_LT(m.histogram.bucket[i - 1].upper_bound, m.histogram.bucket[i].upper_bound);
      }
      EXPECT_TRUE(std::isinf(m.histogram.bucket.back().upper_bound));
      EXPECT_EQ(m.histogram.bucket.back().cumulative_count, m.histogram.sample_count);
    }
}

TEST(Registry, FamiliesOfTheSameNameFromTwoSourcesAreMerged) {
  Registry reg;
  constexpr CounterInfo a[] = {{"truncated", "x"}};
  constexpr CounterInfo b[] = {{"no_headroom", "y"}};
  reg.add_counters_by_label("spray_switch_drops_total", "drops", "reason", a, [](auto out) { out[0] = 1; });
  reg.add_counters_by_label("spray_switch_drops_total", "drops", "reason", b, [](auto out) { out[0] = 2; });
  const auto s = reg.collect();
  ASSERT_EQ(s.families.size(), 1u);
  EXPECT_EQ(s.families[0].samples.size(), 2u);
}

TEST(Registry, SamplesWithTheSameLabelsFromTwoSourcesAreSummed) {
  Registry reg;
  constexpr CounterInfo cause[] = {{"rto", "x"}};
  for (int host = 0; host < 2; ++host)
    reg.add_counters_by_label("spray_transport_retransmits_total", "r", "cause", cause,
                              [](auto out) { out[0] = 5; });
  for (int host = 0; host < 2; ++host)
    reg.add_histogram("spray_test_latency_seconds", "h", [] {
      HistogramSnapshot h;
      h.add(1'000);
      return h;
    });
  const auto s = reg.collect();
  const auto* retx = s.find("spray_transport_retransmits_total");
  ASSERT_NE(retx, nullptr);
  ASSERT_EQ(retx->samples.size(), 1u);
  EXPECT_EQ(retx->samples[0].value, 10.0);
  const auto* lat = s.find("spray_test_latency_seconds");
  ASSERT_NE(lat, nullptr);
  ASSERT_EQ(lat->samples.size(), 1u);
  EXPECT_EQ(lat->samples[0].hist->count, 2u);
}

TEST(Registry, PerInstanceInfoPutsTheInstanceLabelFirst) {
  Registry reg;
  reg.add_info("spray_port_info", "ports", Instances{"port", {"a"}},
               [](std::size_t) { return std::vector<Label>{{"driver", "net_null"}}; });
  const auto t = exposition_text(reg.collect());
  EXPECT_TRUE(has_line(t, "spray_port_info{port=\"a\",driver=\"net_null\"} 1")) << t;
}

TEST(SnapshotExchange, AScraperGetsTheSnapshotTheControlThreadPublishesOnRequest) {
  SnapshotExchange ex;
  Registry reg;
  int collected = 0;
  reg.add_gauge("spray_test_collections", "how often", [&] { return ++collected; });
  EXPECT_FALSE(ex.wanted());
  std::atomic<bool> done{false};
  std::thread control([&] {
    while (!done.load()) {
      ex.serve(reg);
      std::this_thread::yield();
    }
  });
  const auto first = ex.fresh(std::chrono::seconds(5));
  const auto second = ex.fresh(std::chrono::seconds(5));
  done = true;
  control.join();
  ASSERT_TRUE(first && second);
  EXPECT_LT(first->find("spray_test_collections")->samples[0].value,
            second->find("spray_test_collections")->samples[0].value);
}

TEST(SnapshotExchange, WithoutAControlThreadTheScraperGetsThePreviousSnapshotInTime) {
  SnapshotExchange ex;
  Registry reg;
  reg.add_gauge("spray_test_g", "g", [] { return 1.0; });
  ex.publish(reg.collect());
  const auto s = ex.fresh(std::chrono::milliseconds(1));
  ASSERT_TRUE(s);
  EXPECT_NE(s->find("spray_test_g"), nullptr);
  EXPECT_TRUE(ex.wanted());
}

}  // namespace
}  // namespace spray::telemetry

namespace spray::telemetry {
namespace {

ListenAddress loopback_any_port() {
  std::string err;
  return *parse_listen("127.0.0.1:0", &err);
}

TEST(Service, OffServesNothingButStillCollects) {
  Service s(std::nullopt);
  s.registry().add_gauge("spray_test_g", "g", [] { return 3.0; });
  EXPECT_FALSE(s.address());
  EXPECT_NE(s.dump_text().find("spray_test_g 3"), std::string::npos);
}

// Listening servers take about two seconds each to stop (civetweb polls its
// sockets with that timeout), so the suite shares them and stops them
// together.
class ServiceInUse : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { first_ = std::make_unique<Service>(loopback_any_port()); }
  static void TearDownTestSuite() {
    std::thread t([] { first_.reset(); });
    fallback_.reset();
    t.join();
  }
  static ListenAddress taken() { return *first_->address(); }
  static inline std::unique_ptr<Service> first_;
  static inline std::unique_ptr<Service> fallback_;
};

TEST_F(ServiceInUse, AnExplicitAddressInUseIsAnErrorNamingIt) {
  try {
    Service second(taken(), false);
    FAIL() << "bound a port already in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(taken().str()), std::string::npos) << e.what();
  }
}

TEST_F(ServiceInUse, TheDefaultAddressInUseFallsBackToAFreePortAndSaysSo) {
  fallback_ = std::make_unique<Service>(taken(), true);
  ASSERT_TRUE(fallback_->address());
  EXPECT_TRUE(fallback_->fallback());
  EXPECT_NE(fallback_->address()->port, taken().port);
  EXPECT_EQ(fallback_->address()->host, taken().host);
}

}  // namespace
}  // namespace spray::telemetry
