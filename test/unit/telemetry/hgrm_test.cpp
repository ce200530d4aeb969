// SPDX-License-Identifier: BSD-3-Clause
// The percentile-distribution text (.hgrm) as HdrHistogram's plotters read
// it: parsed back here by a reader written from the format alone, its rows
// must climb in value, percentile and count, end at percentile 1.0 on the
// exact max and the recorded count, and agree with the histogram's quantiles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "telemetry/histogram.h"

namespace spray::telemetry {
namespace {

struct Row {
  double value = 0, percentile = 0;
  std::uint64_t total = 0;
  std::optional<double> inverse;  // 1/(1-percentile); absent on the last row
};

struct Hgrm {
  std::vector<Row> rows;
  double mean = 0, stddev = 0, max = 0;
  std::uint64_t total = 0, buckets = 0, sub_buckets = 0;
};

// The format: a header line, a blank line, rows of 3 or 4 columns, and three
// "#[...]" footer lines. Anything else fails the parse.
std::optional<Hgrm> parse_hgrm(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  std::istringstream head(line);
  std::string a, b, c, d, extra;
  head >> a >> b >> c >> d;
  if (a != "Value" || b != "Percentile" || c != "TotalCount" || d != "1/(1-Percentile)" || (head >> extra))
    return std::nullopt;
  if (!std::getline(in, line) || !line.empty()) return std::nullopt;
  Hgrm h;
  int footer = 0;
  while (std::getline(in, line)) {
    if (line.rfind("#[", 0) == 0) {
      unsigned long long n1 = 0, n2 = 0;
      if (footer == 0 &&
          std::sscanf(line.c_str(), "#[Mean = %lf, StdDeviation = %lf]", &h.mean, &h.stddev) == 2) {
      } else if (footer == 1 &&
                 std::sscanf(line.c_str(), "#[Max = %lf, Total count = %llu]", &h.max, &n1) == 2) {
        h.total = n1;
      } else if (footer == 2 &&
                 std::sscanf(line.c_str(), "#[Buckets = %llu, SubBuckets = %llu]", &n1, &n2) == 2) {
        h.buckets = n1;
        h.sub_buckets = n2;
      } else {
        return std::nullopt;
      }
      ++footer;
      continue;
    }
    if (footer) return std::nullopt;  // a row after the footer
    std::istringstream r(line);
    Row row;
    if (!(r >> row.value >> row.percentile >> row.total)) return std::nullopt;
    double inv;
    if (r >> inv) row.inverse = inv;
    if (r >> extra) return std::nullopt;
    h.rows.push_back(row);
  }
  if (footer != 3) return std::nullopt;
  return h;
}

HistogramSnapshot uniform_us(std::uint64_t from_us, std::uint64_t to_us, std::uint64_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint64_t> d(from_us * 1000, to_us * 1000);
  HistogramSnapshot s;
  for (std::uint64_t i = 0; i < n; ++i) s.add(d(rng));
  return s;
}

TEST(Hgrm, HeaderIsHdrHistogramsColumnLine) {
  const std::string t = uniform_us(1, 100, 100, 1).to_hgrm();
  EXPECT_EQ(t.substr(0, t.find('\n')), "       Value     Percentile TotalCount 1/(1-Percentile)");
}

TEST(Hgrm, RowsClimbAndEndAtTheMaxAndTheCount) {
  const HistogramSnapshot s = uniform_us(5, 5000, 100'000, 2);
  const auto h = parse_hgrm(s.to_hgrm());
  ASSERT_TRUE(h);
  ASSERT_GE(h->rows.size(), 2u);
  for (std::size_t i = 1; i < h->rows.size(); ++i) {
    EXPECT_GT(h->rows[i].percentile, h->rows[i - 1].percentile) << "row " << i;
    EXPECT_GE(h->rows[i].value, h->rows[i - 1].value) << "row " << i;
    EXPECT_GE(h->rows[i].total, h->rows[i - 1].total) << "row " << i;
  }
  for (std::size_t i = 0; i + 1 < h->rows.size(); ++i) {
    ASSERT_TRUE(h->rows[i].inverse) << "row " << i;
    EXPECT_NEAR(*h->rows[i].inverse, 1.0 / (1.0 - h->rows[i].percentile), 0.01) << "row " << i;
  }
  const Row& last = h->rows.back();
  EXPECT_EQ(last.percentile, 1.0);
  EXPECT_FALSE(last.inverse);
  EXPECT_DOUBLE_EQ(last.value, static_cast<double>(s.max) / 1000.0);
  EXPECT_EQ(last.total, s.count);
  EXPECT_EQ(h->rows.front().percentile, 0.0);
  EXPECT_EQ(h->total, s.count);
  EXPECT_NEAR(h->max, static_cast<double>(s.max) / 1000.0, 0.0005);
  EXPECT_NEAR(h->mean, s.mean() / 1000.0, 0.0005);
  // Uniform on [5, 5000] us: the standard deviation is width / sqrt(12).
  EXPECT_NEAR(h->stddev, 4995.0 / std::sqrt(12.0), 15.0);
}

// HdrHistogram's ticks with 5 per half distance: 10% steps to 50%, 5% to
// 75%, 2.5% to 87.5%, and so on; wrk2 and the plotters print the same levels.
TEST(Hgrm, PercentileTicksHalveTheRemainingDistance) {
  const auto h = parse_hgrm(uniform_us(1, 10'000, 1'000'000, 3).to_hgrm());
  ASSERT_TRUE(h);
  const double expected[] = {0.0,  0.1,   0.2, 0.3,   0.4,  0.5,   0.55,   0.6, 0.65,   0.7,
                             0.75, 0.775, 0.8, 0.825, 0.85, 0.875, 0.8875, 0.9, 0.9125, 0.925};
  ASSERT_GE(h->rows.size(), std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i)
    EXPECT_NEAR(h->rows[i].percentile, expected[i], 1e-9) << i;
}

TEST(Hgrm, EachRowBoundsItsShareOfTheValues) {
  const HistogramSnapshot s = uniform_us(10, 1000, 50'000, 4);
  const auto h = parse_hgrm(s.to_hgrm());
  ASSERT_TRUE(h);
  for (const Row& r : h->rows) {
    // The row's count is the values at or below its value, which is at least
    // its percentile's share.
    EXPECT_GE(static_cast<double>(r.total), r.percentile * static_cast<double>(s.count) - 1e-6);
    // And the value is within a bucket (1/128) of the histogram's quantile.
    if (r.percentile > 0 && r.percentile < 1) {
      const double q = static_cast<double>(s.quantile(r.percentile)) / 1000.0;
      EXPECT_NEAR(r.value, q, q / 128.0 + 0.001) << "percentile " << r.percentile;
    }
  }
}

TEST(Hgrm, OneValueGivesTheFirstAndTheLastRow) {
  HistogramSnapshot s;
  s.add(42'000, 7);
  const auto h = parse_hgrm(s.to_hgrm());
  ASSERT_TRUE(h);
  ASSERT_EQ(h->rows.size(), 2u);
  EXPECT_EQ(h->rows[0].percentile, 0.0);
  EXPECT_EQ(h->rows[1].percentile, 1.0);
  for (const Row& r : h->rows) {
    EXPECT_DOUBLE_EQ(r.value, 42.0);
    EXPECT_EQ(r.total, 7u);
  }
  EXPECT_DOUBLE_EQ(h->stddev, 0.0);
}

TEST(Hgrm, EmptyHistogramHasOnlyHeaderAndFooter) {
  const auto h = parse_hgrm(HistogramSnapshot{}.to_hgrm());
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->rows.empty());
  EXPECT_EQ(h->total, 0u);
  EXPECT_EQ(h->max, 0.0);
}

TEST(Hgrm, FooterGivesTheEquivalentHdrLayout) {
  const auto h = parse_hgrm(uniform_us(1, 2, 10, 5).to_hgrm());
  ASSERT_TRUE(h);
  // 256 sub-buckets (exact below 256, 1/128 above) and one bucket per power
  // of two up to 100 s in ns.
  EXPECT_EQ(h->sub_buckets, 256u);
  EXPECT_EQ(h->buckets, 30u);
  EXPECT_GE(static_cast<double>(h->sub_buckets / 2) * std::pow(2.0, static_cast<double>(h->buckets)),
            static_cast<double>(kHistMaxValue));
}

TEST(Hgrm, ValuesAreInTheUnitAsked) {
  HistogramSnapshot s;
  s.add(1'500'000);
  const auto us = parse_hgrm(s.to_hgrm(1000.0));
  const auto ms = parse_hgrm(s.to_hgrm(1'000'000.0));
  ASSERT_TRUE(us && ms);
  EXPECT_DOUBLE_EQ(us->rows.back().value, 1500.0);
  EXPECT_DOUBLE_EQ(ms->rows.back().value, 1.5);
}

}  // namespace
}  // namespace spray::telemetry
