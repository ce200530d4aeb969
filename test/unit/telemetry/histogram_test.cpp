// SPDX-License-Identifier: BSD-3-Clause
// The latency histogram's promises: bounded relative error against exact
// order statistics, exact min/max, merge equal to recording everything in
// one, classic buckets that count right at their bounds, and a text form
// that round-trips and merges.
#include "telemetry/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace spray::telemetry {
namespace {

// The q-quantile by the same rank rule the histogram documents.
std::uint64_t exact_quantile(std::vector<std::uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

HistogramSnapshot record_all(const std::vector<std::uint64_t>& values) {
  Histogram h;
  for (auto v : values) h.record(v);
  return h.snapshot();
}

void expect_quantiles_within_bound(const std::vector<std::uint64_t>& values, const char* what) {
  const auto s = record_all(values);
  for (double q : {0.5, 0.75, 0.9, 0.99, 0.999, 0.9999}) {
    const double exact = static_cast<double>(exact_quantile(values, q));
    const double got = static_cast<double>(s.quantile(q));
    // Midpoint of a bucket no wider than 1/128 of its lower end: within 1/256,
    // and exact below 128.
    EXPECT_LE(std::abs(got - exact), exact / 256.0 + 0.5) << what << " q=" << q;
  }
}

TEST(Histogram, BucketsTileTheRangeWithoutGapsAndWithBoundedWidth) {
  for (std::size_t i = 0; i + 1 < kHistBuckets; ++i) {
    ASSERT_EQ(hist_upper(i) + 1, hist_lower(i + 1)) << i;
    ASSERT_EQ(hist_index(hist_lower(i)), i);
    ASSERT_EQ(hist_index(hist_upper(i)), i);
    const double width = static_cast<double>(hist_upper(i) - hist_lower(i) + 1);
    if (width > 1) {
      ASSERT_LE(width / static_cast<double>(hist_lower(i)), 1.0 / 128) << i;
    }
  }
  EXPECT_EQ(hist_index(kHistMaxValue), kHistBuckets - 1);
}

TEST(Histogram, QuantilesOfUniformValuesAreWithinOne256th) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> d(1'000, 10'000'000);
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) x = d(rng);
  expect_quantiles_within_bound(v, "uniform");
}

TEST(Histogram, QuantilesOfLogNormalLatenciesAreWithinOne256th) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(20'000.0), 1.0);  // ~20 us median, long tail
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng)) + 1;
  expect_quantiles_within_bound(v, "lognormal");
}

TEST(Histogram, QuantilesOfABimodalMixAreWithinOne256th) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> fast(8'000, 500), slow(2'000'000, 100'000);
  std::bernoulli_distribution is_slow(0.02);
  std::vector<std::uint64_t> v(50'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::max(1.0, is_slow(rng) ? slow(rng) : fast(rng)));
  expect_quantiles_within_bound(v, "bimodal");
}

TEST(Histogram, SmallValuesAreExact) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t x = 0; x < 256; ++x) v.push_back(x);
  const auto s = record_all(v);
  for (double q : {0.1, 0.5, 0.9}) EXPECT_EQ(s.quantile(q), exact_quantile(v, q));
}

TEST(Histogram, MinAndMaxAreExact) {
  const auto s = record_all({123'456'789, 1'001, 77'777'777, 5'000'003});
  EXPECT_EQ(s.min, 1'001u);
  EXPECT_EQ(s.max, 123'456'789u);
  EXPECT_EQ(s.quantile(0), 1'001u);
  EXPECT_EQ(s.quantile(1), 123'456'789u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.sum, 123'456'789u + 1'001u + 77'777'777u + 5'000'003u);
}

TEST(Histogram, ValuesAbove100SecondsClampIntoTheLastBucketButKeepTheirMax) {
  const auto s = record_all({1'000, 500'000'000'000});
  EXPECT_EQ(s.buckets[kHistBuckets - 1], 1u);
  EXPECT_EQ(s.max, 500'000'000'000u);
  EXPECT_EQ(s.quantile(0.99), 500'000'000'000u);  // clamped to the exact max
}

TEST(Histogram, EmptyHistogramAnswersZero) {
  const Histogram h;
  const auto s = h.snapshot();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.quantile(0.99), 0u);
  EXPECT_EQ(s.mean(), 0.0);
  const std::vector<double> b{1000, 2000};
  EXPECT_EQ(s.cumulative(b), (std::vector<std::uint64_t>{0, 0}));
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<std::uint64_t> d(0, 1'000'000'000);
  std::vector<std::uint64_t> a(5'000), b(7'000);
  for (auto& x : a) x = d(rng) >> (x % 20);
  for (auto& x : b) x = d(rng);
  auto merged = record_all(a);
  merged.merge(record_all(b));
  std::vector<std::uint64_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  const auto one = record_all(all);
  EXPECT_EQ(merged.count, one.count);
  EXPECT_EQ(merged.sum, one.sum);
  EXPECT_EQ(merged.min, one.min);
  EXPECT_EQ(merged.max, one.max);
  EXPECT_EQ(merged.buckets, one.buckets);
}

TEST(Histogram, MeanIsSumOverCount) {
  const auto s = record_all({10, 20, 30, 40});
  EXPECT_DOUBLE_EQ(s.mean(), 25.0);
}

TEST(HistogramBuckets, AValueExactlyOnABoundCountsTowardIt) {
  // 1 us, 2 us, 5 us in ns; 900 and 20000 keep min/max off the bounds.
  const auto s = record_all({900, 1'000, 2'000, 5'000, 20'000});
  const std::vector<double> b{1'000, 2'000, 5'000, 10'000};
  EXPECT_EQ(s.cumulative(b), (std::vector<std::uint64_t>{2, 3, 4, 4}));
}

TEST(HistogramBuckets, AValueOneBucketAboveABoundDoesNotCountTowardIt) {
  // 1000 sits in bucket [1000, 1003]; 1004 starts the next one.
  ASSERT_EQ(hist_upper(hist_index(1'000)), 1'003u);
  const auto s = record_all({500, 1'004, 50'000});
  const std::vector<double> b{1'000};
  EXPECT_EQ(s.cumulative(b), (std::vector<std::uint64_t>{1}));
}

TEST(HistogramBuckets, BoundsBelowMinCountNothingAndAtMaxCountEverything) {
  const auto s = record_all({3'000, 3'001, 4'000});
  const std::vector<double> b{2'999, 3'000, 4'000};
  const auto c = s.cumulative(b);
  EXPECT_EQ(c[0], 0u);
  EXPECT_EQ(c[2], 3u);
}

TEST(HistogramBuckets, CumulativeCountsNeverDecrease) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(std::log(50'000.0), 2.0);
  Histogram h;
  for (int i = 0; i < 20'000; ++i) h.record(static_cast<std::uint64_t>(d(rng)));
  const auto s = h.snapshot();
  std::vector<double> ns;
  for (double sec : default_bounds_seconds()) ns.push_back(sec * 1e9);
  const auto c = s.cumulative(ns);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_LE(c[i - 1], c[i]);
  EXPECT_LE(c.back(), s.count);
}

TEST(HistogramBuckets, Default125BoundsRunFrom1usTo100ms) {
  const auto& b = default_bounds_seconds();
  const std::vector<double> want{1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4,
                                 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1};
  EXPECT_EQ(b, want);
}

TEST(HistogramText, RoundTripsExactly) {
  const auto s = record_all({0, 7, 1'000, 1'000, 65'536, 3'000'000'000});
  const auto text = s.to_text();
  const auto back = HistogramSnapshot::from_text(text);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(back->count, s.count);
  EXPECT_EQ(back->sum, s.sum);
  EXPECT_EQ(back->min, s.min);
  EXPECT_EQ(back->max, s.max);
  EXPECT_EQ(back->buckets, s.buckets);
}

TEST(HistogramText, ParsedFilesMergeLikeTheHistogramsTheyCameFrom) {
  auto a = record_all({10, 20'000, 30'000'000});
  const auto b = record_all({5, 40'000});
  auto pa = HistogramSnapshot::from_text(a.to_text());
  const auto pb = HistogramSnapshot::from_text(b.to_text());
  ASSERT_TRUE(pa && pb);
  pa->merge(*pb);
  a.merge(b);
  EXPECT_EQ(pa->buckets, a.buckets);
  EXPECT_EQ(pa->min, 5u);
  EXPECT_EQ(pa->max, 30'000'000u);
}

TEST(HistogramText, EmptyRoundTrips) {
  const auto back = HistogramSnapshot::from_text(HistogramSnapshot{}.to_text());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST(HistogramText, RejectsMalformedInput) {
  for (const char* bad : {"", "sprayh2 0 0 0 0", "sprayh1 1 5 5 5", "sprayh1 1 5 5 5 +3:1",
                          "sprayh1 2 5 5 5 3:1", "sprayh1 1 5 5 5 99999:1", "sprayh1 1 5 5 5 5:0",
                          "sprayh1 x", "sprayh1 2 10 5 5 5:1 5:1", "sprayh1 1 5 9 5 5:1"})
    EXPECT_FALSE(HistogramSnapshot::from_text(bad)) << bad;
}

}  // namespace
}  // namespace spray::telemetry
