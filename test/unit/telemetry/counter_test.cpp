// SPDX-License-Identifier: BSD-3-Clause
// Counter blocks declared from one list, and the reader's reset baseline.
#include "telemetry/counter.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace spray::telemetry {
namespace {

#define TEST_STAGE_COUNTERS(X)               \
  X(rx_frames, "frames offered to the stage") \
  X(tx_bytes, "bytes handed to the port")     \
  X(drops, "frames dropped")

SPRAY_COUNTER_BLOCK(StageCounters, TEST_STAGE_COUNTERS);

TEST(CounterBlock, OneListGivesFieldsNamesAndHelpInOrder) {
  static_assert(StageCounters::kCount == 3);
  static_assert(alignof(StageCounters) == 64);
  EXPECT_STREQ(StageCounters::kInfo[0].name, "rx_frames");
  EXPECT_STREQ(StageCounters::kInfo[1].help, "bytes handed to the port");
  EXPECT_STREQ(StageCounters::kInfo[2].name, "drops");
}

TEST(CounterBlock, ReadReturnsValuesInListOrder) {
  StageCounters c;
  c.rx_frames.add(3);
  c.tx_bytes.add(1500);
  c.drops.add();
  c.drops.sub();
  EXPECT_EQ(c.read(), (StageCounters::Values{3, 1500, 0}));
}

TEST(CounterBlock, MetricNameIsPrefixNameAndTotal) {
  EXPECT_EQ(counter_metric_name("spray_port_", StageCounters::kInfo[1]), "spray_port_tx_bytes_total");
}

TEST(CounterBlock, InfoArrayFromAnyList) {
  constexpr auto info = SPRAY_COUNTER_INFO_ARRAY(TEST_STAGE_COUNTERS);
  static_assert(info.size() == 3);
  EXPECT_STREQ(info[1].name, "tx_bytes");
}

TEST(CounterBlock, AReaderOnAnotherThreadSeesTheWritersFinalValue) {
  StageCounters c;
  std::thread w([&] {
    for (int i = 0; i < 100'000; ++i) c.rx_frames.add();
  });
  std::uint64_t last = 0;
  for (int i = 0; i < 1'000; ++i) {
    const auto v = c.rx_frames.read();
    EXPECT_GE(v, last);  // one writer, relaxed: never goes backwards
    last = v;
  }
  w.join();
  EXPECT_EQ(c.rx_frames.read(), 100'000u);
}

TEST(CounterTable, OneRowPerCounterWithItsName) {
  const std::uint64_t v[] = {7, 0, 2};
  const auto t = counter_table(StageCounters::kInfo, v);
  EXPECT_NE(t.find("rx_frames"), std::string::npos);
  EXPECT_NE(t.find("tx_bytes"), std::string::npos);
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 3);
}

TEST(CounterTable, SkipZeroLeavesOutZeroRows) {
  const std::uint64_t v[] = {7, 0, 2};
  const auto t = counter_table(StageCounters::kInfo, v, true);
  EXPECT_EQ(t.find("tx_bytes"), std::string::npos);
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 2);
}

TEST(CounterBaseline, WithoutClearReportsTheRawValues) {
  CounterBaseline b;
  const std::uint64_t now[] = {5, 6};
  EXPECT_EQ(b.since(now), (std::vector<std::uint64_t>{5, 6}));
}

TEST(CounterBaseline, ClearSubtractsTheValuesAtClearTime) {
  StageCounters c;
  c.rx_frames.add(10);
  c.drops.add(4);
  CounterBaseline b;
  b.clear(c.read());
  c.rx_frames.add(3);
  EXPECT_EQ(b.since(c.read()), (std::vector<std::uint64_t>{3, 0, 0}));
}

TEST(CounterBaseline, ClearNeverWritesTheCounters) {
  StageCounters c;
  c.rx_frames.add(10);
  CounterBaseline b;
  b.clear(c.read());
  EXPECT_EQ(c.rx_frames.read(), 10u);
}

TEST(CounterBaseline, AValueBelowItsBaselineIsReportedAsIs) {
  CounterBaseline b;
  const std::uint64_t before[] = {100};
  const std::uint64_t after_restart[] = {7};
  b.clear(before);
  EXPECT_EQ(b.since(after_restart), (std::vector<std::uint64_t>{7}));
}

}  // namespace
}  // namespace spray::telemetry
