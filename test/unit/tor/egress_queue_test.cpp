// SPDX-License-Identifier: BSD-3-Clause
// EgressQueue: FIFO with tail drop, token-bucket shaper, ECN marking.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "tor/egress_queue.h"

namespace spray::tor::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Queue = EgressQueue<int>;

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kGbps = 1'000'000'000;

EgressConfig unshaped(std::uint32_t depth = 1024) {
  EgressConfig c;
  c.depth_pkts = depth;
  c.ecn = false;
  return c;
}

EgressConfig shaped(std::uint64_t rate_bps, std::uint32_t depth = 65536) {
  EgressConfig c = unshaped(depth);
  c.rate_bps = rate_bps;
  return c;
}

EgressConfig ecn(std::uint32_t k, std::uint64_t sojourn_ns) {
  EgressConfig c = unshaped();
  c.ecn = true;
  c.ecn_threshold_pkts = k;
  c.ecn_sojourn_ns = sojourn_ns;
  return c;
}

struct Out {
  std::vector<int> items;
  std::vector<bool> marks;
};

// Dequeues everything due at now_ns.
Out take(Queue& q, std::uint64_t now_ns) {
  Out o;
  int buf[16];
  bool mark[16];
  while (std::size_t n = q.dequeue(now_ns, buf, mark, 16)) {
    o.items.insert(o.items.end(), buf, buf + n);
    o.marks.insert(o.marks.end(), mark, mark + n);
  }
  return o;
}

void fill(Queue& q, int n, std::uint32_t bytes, bool ect, std::uint64_t now_ns) {
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(q.enqueue(i, bytes, ect, now_ns), Queue::Enq::kQueued) << "item " << i;
}

TEST(EgressQueue, KeepsFifoOrder) {
  Queue q(unshaped());
  for (int i : {7, 3, 9, 1}) q.enqueue(i, 100, false, 0);
  EXPECT_THAT(take(q, 0).items, ElementsAre(7, 3, 9, 1));
  EXPECT_TRUE(q.empty());
}

TEST(EgressQueue, DequeueHonoursMax) {
  Queue q(unshaped());
  fill(q, 5, 100, false, 0);
  int out[5];
  bool mark[5];
  EXPECT_EQ(q.dequeue(0, out, mark, 2), 2u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(q.size(), 3u);
}

TEST(EgressQueue, TailDropsAtDepthAndCountsIt) {
  Queue q(unshaped(4));
  fill(q, 4, 100, false, 0);
  EXPECT_EQ(q.enqueue(100, 100, false, 0), Queue::Enq::kDropped);
  EXPECT_EQ(q.enqueue(101, 100, false, 0), Queue::Enq::kDropped);
  EXPECT_THAT(take(q, 0).items, ElementsAre(0, 1, 2, 3));
  const EgressStats st = q.stats();
  EXPECT_EQ(st[EgressCounter::kEnqueued], 4u);
  EXPECT_EQ(st[EgressCounter::kDroppedFull], 2u);
  EXPECT_EQ(st[EgressCounter::kDequeued], 4u);
  EXPECT_EQ(st[EgressGauge::kQueuePkts], 0u);
  EXPECT_EQ(st[EgressGauge::kQueuePeakPkts], 4u);
}

TEST(EgressQueue, DepthNeedNotBeAPowerOfTwo) {
  Queue q(unshaped(5));
  fill(q, 5, 100, false, 0);
  EXPECT_EQ(q.enqueue(5, 100, false, 0), Queue::Enq::kDropped);
  EXPECT_EQ(q.size(), 5u);
}

TEST(EgressQueue, UnshapedReleasesEverythingAtOnce) {
  Queue q(unshaped(4096));
  fill(q, 4096, 9000, false, 5 * kUs);
  EXPECT_EQ(q.next_departure_ns(), 5 * kUs);
  EXPECT_EQ(take(q, 5 * kUs).items.size(), 4096u);
}

TEST(EgressQueue, NextDepartureIsMaxWhenEmpty) {
  Queue q(shaped(kGbps));
  EXPECT_EQ(q.next_departure_ns(), std::numeric_limits<std::uint64_t>::max());
}

TEST(EgressQueue, DefaultBurstIsTwoFullFramesOrTenMicroseconds) {
  EXPECT_EQ(shaped(kGbps).effective_burst_bytes(), 3076u);
  EXPECT_EQ(shaped(100 * kGbps).effective_burst_bytes(), 125'000u);
  EgressConfig c = shaped(kGbps);
  c.burst_bytes = 5000;
  EXPECT_EQ(c.effective_burst_bytes(), 5000u);
}

// 10,000 items of 1,000 B at 1 Gbit/s are 80 ms of wire time; polled every
// microsecond, the queue empties within 1% of that, and the bytes released
// by any poll stay within the burst plus what the rate earned.
TEST(EgressQueue, ShapesToItsRateWithinTheBurst) {
  const EgressConfig cfg = shaped(kGbps);
  Queue q(cfg);
  fill(q, 10'000, 1000, false, 0);
  std::uint64_t sent_bytes = 0, t = 0, last = 0;
  int buf[32];
  bool mark[32];
  int expect = 0;
  for (; !q.empty() && t <= 200 * kMs; t += kUs) {
    const std::size_t n = q.dequeue(t, buf, mark, 32);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(buf[i], expect++);
    if (n) last = t;
    sent_bytes += n * 1000;
    // bytes * 8e9 <= burst * 8e9 + rate * t, in integers
    ASSERT_LE(sent_bytes * 8'000'000'000, cfg.effective_burst_bytes() * 8'000'000'000 + kGbps * t)
        << "at t = " << t << " ns";
  }
  EXPECT_TRUE(q.empty());
  EXPECT_NEAR(static_cast<double>(last), 80.0 * kMs, 0.8 * kMs);
}

// Each item leaves at the first poll at or after the exact instant the rate
// has paid for it, however irregular the polls and odd the rate: nothing
// lost to rounding, nothing gained.
TEST(EgressQueue, LongRunRateIsExactUnderIrregularPolling) {
  constexpr std::uint64_t kRate = 999'999'937;  // prime: no common factor with 8e9
  const EgressConfig cfg = shaped(kRate);
  const std::uint64_t burst = cfg.effective_burst_bytes();
  Queue q(cfg);
  constexpr int kItems = 5'000;
  fill(q, kItems, 1000, false, 0);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> step(1, 9 * kUs);  // tokens never reach the cap
  std::uint64_t t = 0;
  int k = 0;
  int buf[8];
  bool mark[8];
  while (k < kItems) {
    const std::size_t n = q.dequeue(t, buf, mark, 8);
    for (std::size_t i = 0; i < n; ++i, ++k) {
      ASSERT_EQ(buf[i], k);
      const std::uint64_t owed = std::uint64_t(k + 1) * 1000;
      const std::uint64_t due =
          owed <= burst ? 0 : ((owed - burst) * 8'000'000'000 + kRate - 1) / kRate;
      ASSERT_LE(due, t) << "item " << k << " left early";
    }
    // A poll with room to spare released everything that was due, so no
    // item leaves later than the first poll after it was paid for.
    if (n < 8 && k < kItems) {
      const std::uint64_t owed = std::uint64_t(k + 1) * 1000;
      ASSERT_GT(((owed - burst) * 8'000'000'000 + kRate - 1) / kRate, t);
    }
    t += step(rng);
  }
}

TEST(EgressQueue, NextDepartureIsTheExactNanosecond) {
  Queue q(shaped(kGbps));  // burst 3076 B
  fill(q, 5, 1000, false, 0);
  EXPECT_EQ(q.next_departure_ns(), 0u);
  EXPECT_EQ(take(q, 0).items.size(), 3u);  // 76 B of tokens left
  // 924 B at 1 Gbit/s: 7392 ns
  EXPECT_EQ(q.next_departure_ns(), 7392u);
  EXPECT_TRUE(take(q, 7391).items.empty());
  EXPECT_EQ(q.next_departure_ns(), 7392u);
  EXPECT_THAT(take(q, 7392).items, ElementsAre(3));
  EXPECT_EQ(q.next_departure_ns(), 7392u + 8000u);
}

TEST(EgressQueue, NextDepartureRoundsUpAtAnOddRate) {
  Queue q(shaped(999'999'999));
  fill(q, 4, 1000, false, 0);
  EXPECT_EQ(take(q, 0).items.size(), 3u);
  // 924 * 8e9 / 999,999,999 = 7392.0000074 ns: the 7393rd nanosecond
  EXPECT_EQ(q.next_departure_ns(), 7393u);
  EXPECT_TRUE(take(q, 7392).items.empty());
  EXPECT_EQ(take(q, 7393).items.size(), 1u);
}

TEST(EgressQueue, NextDepartureIsNotBeforeTheHeadArrived) {
  Queue q(shaped(kGbps));
  q.enqueue(1, 100, false, 50 * kUs);
  EXPECT_EQ(q.next_departure_ns(), 50 * kUs);
}

TEST(EgressQueue, AnItemLargerThanTheBurstLeavesOnAFullBucket) {
  EgressConfig cfg = shaped(kGbps);
  cfg.burst_bytes = 1000;
  Queue q(cfg);
  fill(q, 2, 1500, false, 0);
  EXPECT_EQ(take(q, 0).items.size(), 1u);  // tokens now -500 B
  // back to a full bucket (1000 B) from -500 B: 1500 B = 12 us
  EXPECT_EQ(q.next_departure_ns(), 12 * kUs);
  EXPECT_TRUE(take(q, 12 * kUs - 1).items.empty());
  EXPECT_EQ(take(q, 12 * kUs).items.size(), 1u);
}

TEST(EgressQueue, IdleTimeRefillsOnlyUpToTheBurst) {
  Queue q(shaped(kGbps));  // burst 3076 B
  q.enqueue(0, 1000, false, 0);
  take(q, 0);
  fill(q, 10, 1000, false, 10 * kMs);
  EXPECT_EQ(take(q, 10 * kMs).items.size(), 3u);
}

TEST(EgressQueue, MarksExactlyTheItemsThatSawMoreThanKAhead) {
  Queue q(ecn(32, 0));
  fill(q, 100, 100, true, 0);
  const Out o = take(q, 1 * kMs);
  ASSERT_EQ(o.items.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(o.marks[i], i > 32) << "item " << i;
  EXPECT_EQ(q.stats()[EgressCounter::kCeMarked], 67u);
  EXPECT_EQ(q.stats()[EgressCounter::kOverThresholdNotEct], 0u);
}

TEST(EgressQueue, MarksExactlyTheItemsThatWaitedLongerThanTheSojourn) {
  Queue q(ecn(0, 20 * kUs));
  for (int i = 0; i < 50; ++i) q.enqueue(i, 100, true, i * kUs);
  const Out o = take(q, 50 * kUs);
  ASSERT_EQ(o.items.size(), 50u);
  // item i waited (50 - i) us: over 20 us for i < 30; exactly 20 us is not over
  for (int i = 0; i < 50; ++i) EXPECT_EQ(o.marks[i], i < 30) << "item " << i;
  EXPECT_EQ(q.stats()[EgressCounter::kCeMarked], 30u);
}

TEST(EgressQueue, NeverMarksNotEctItemsButCountsThem) {
  Queue q(ecn(2, 0));
  for (int i = 0; i < 10; ++i) q.enqueue(i, 100, i % 2 == 0, 0);
  const Out o = take(q, 0);
  ASSERT_EQ(o.items.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(o.marks[i], i > 2 && i % 2 == 0) << "item " << i;
  EXPECT_EQ(q.stats()[EgressCounter::kCeMarked], 3u);              // 4, 6, 8
  EXPECT_EQ(q.stats()[EgressCounter::kOverThresholdNotEct], 4u);  // 3, 5, 7, 9
  EXPECT_EQ(q.stats()[EgressCounter::kDequeued], 10u);            // none dropped
}

TEST(EgressQueue, MarksNothingWithEcnOff) {
  EgressConfig cfg = ecn(1, 1);
  cfg.ecn = false;
  Queue q(cfg);
  fill(q, 100, 100, true, 0);
  const Out o = take(q, 1 * kMs);
  EXPECT_EQ(o.items.size(), 100u);
  for (bool m : o.marks) EXPECT_FALSE(m);
  EXPECT_EQ(q.stats()[EgressCounter::kCeMarked], 0u);
  EXPECT_EQ(q.stats()[EgressCounter::kOverThresholdNotEct], 0u);
}

TEST(EgressQueue, ShapingBuildsTheQueueThatEcnMarks) {
  EgressConfig cfg = shaped(kGbps);  // burst 3076 B
  cfg.ecn = true;
  cfg.ecn_threshold_pkts = 0;
  cfg.ecn_sojourn_ns = 20 * kUs;
  Queue q(cfg);
  fill(q, 10, 1000, true, 0);
  Out o;
  for (std::uint64_t t = 0; t <= 100 * kUs; t += kUs) {
    Out step = take(q, t);
    o.items.insert(o.items.end(), step.items.begin(), step.items.end());
    o.marks.insert(o.marks.end(), step.marks.begin(), step.marks.end());
  }
  ASSERT_EQ(o.items.size(), 10u);
  // item k >= 3 is paid for at ((k + 1) * 1000 - 3076) * 8 ns: 15.4 us for
  // item 4, 23.4 us for item 5, so the wait passes 20 us from item 5 on
  for (int k = 0; k < 10; ++k) EXPECT_EQ(o.marks[k], k >= 5) << "item " << k;
}

TEST(EgressQueue, ReconfigureKeepsItemsAndAppliesTheNewDepth) {
  Queue q(unshaped(16));
  fill(q, 10, 100, false, 0);
  q.reconfigure(unshaped(4));
  EXPECT_EQ(q.size(), 10u);
  EXPECT_EQ(q.enqueue(10, 100, false, 0), Queue::Enq::kDropped);
  int out[7];
  bool mark[7];
  ASSERT_EQ(q.dequeue(0, out, mark, 7), 7u);
  EXPECT_EQ(q.enqueue(10, 100, false, 0), Queue::Enq::kQueued);
  EXPECT_THAT(take(q, 0).items, ElementsAre(7, 8, 9, 10));
}

TEST(EgressQueue, ReconfigureToALargerDepthKeepsOrderAndGrows) {
  Queue q(unshaped(4));
  int out[2];
  bool mark[2];
  fill(q, 4, 100, false, 0);
  q.dequeue(0, out, mark, 2);           // head moves: the ring wraps below
  q.enqueue(4, 100, false, 0);
  q.enqueue(5, 100, false, 0);
  q.reconfigure(unshaped(100));
  for (int i = 6; i < 100; ++i) ASSERT_EQ(q.enqueue(i, 100, false, 0), Queue::Enq::kQueued);
  const Out o = take(q, 0);
  ASSERT_EQ(o.items.size(), 98u);
  for (int i = 0; i < 98; ++i) EXPECT_EQ(o.items[i], i + 2);
}

TEST(EgressQueue, ReconfigureToUnshapedReleasesWhatTheShaperHeld) {
  Queue q(shaped(kGbps));
  fill(q, 10, 1000, false, 0);
  EXPECT_EQ(take(q, 0).items.size(), 3u);
  q.reconfigure(unshaped(1024));
  EXPECT_EQ(take(q, 0).items.size(), 7u);
}

TEST(EgressQueue, ReconfigureRefusesAnInvalidConfigAndKeepsTheOld) {
  Queue q(unshaped(4));
  fill(q, 4, 100, false, 0);
  EXPECT_THROW(q.reconfigure(unshaped(0)), std::invalid_argument);
  EXPECT_EQ(q.enqueue(4, 100, false, 0), Queue::Enq::kDropped);
  EXPECT_EQ(q.size(), 4u);
}

TEST(EgressQueue, DrainReturnsEveryItemInOrder) {
  Queue q(shaped(kGbps));
  fill(q, 20, 1000, false, 0);
  std::vector<int> drained;
  q.drain([&](int i) { drained.push_back(i); });
  ASSERT_EQ(drained.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(drained[i], i);
  EXPECT_TRUE(q.empty());
  const EgressStats st = q.stats();
  EXPECT_EQ(st[EgressCounter::kDrained], 20u);
  EXPECT_EQ(st[EgressGauge::kQueuePkts], 0u);
  EXPECT_EQ(st[EgressCounter::kEnqueued],
            st[EgressCounter::kDequeued] + st[EgressCounter::kDrained]);
}

TEST(EgressConfig, DefaultsAreValid) { EXPECT_EQ(EgressConfig{}.validate(), ""); }

TEST(EgressConfig, RefusesDepthZero) {
  EXPECT_EQ(unshaped(0).validate(),
            "depth_pkts 0 is out of range; accepted: 1..65536 packets");
}

TEST(EgressConfig, RefusesDepthAboveTheMaximum) {
  EXPECT_EQ(unshaped(100'000).validate(),
            "depth_pkts 100000 is out of range; accepted: 1..65536 packets");
}

TEST(EgressConfig, RefusesOutOfRangeRateBurstAndThresholds) {
  EgressConfig c;
  c.rate_bps = 20'000'000'000'000;
  EXPECT_THAT(c.validate(), HasSubstr("rate_bps 20000000000000 is out of range"));
  c = {};
  c.burst_bytes = 2'000'000'000;
  EXPECT_THAT(c.validate(), HasSubstr("burst_bytes 2000000000 is out of range"));
  c = {};
  c.ecn_threshold_pkts = 70'000;
  EXPECT_THAT(c.validate(), HasSubstr("ecn_threshold_pkts 70000 is out of range"));
  c = {};
  c.ecn_sojourn_ns = 2'000'000'000;
  EXPECT_THAT(c.validate(), HasSubstr("ecn_sojourn_ns 2000000000 is out of range"));
}

TEST(EgressConfig, ConstructorThrowsTheValidationMessage) {
  try {
    Queue q(unshaped(0));
    FAIL() << "accepted depth 0";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("depth_pkts 0"));
  }
}

}  // namespace
}  // namespace spray::tor::test
