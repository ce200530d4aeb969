// SPDX-License-Identifier: BSD-3-Clause
// Assertions the simulator suites share.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "scenario.h"

namespace spray::sim {

// Every message the sender sent arrived exactly once and intact, and the
// sender was told so; no connection failed.
inline void expect_exactly_once(PairScenario& s) {
  const MessageApp& tx = s.sender();
  const std::uint64_t want = tx.conns().front().sent_msgs;
  EXPECT_EQ(s.ledger.received_unique(), want);
  EXPECT_EQ(tx.delivered_msgs(), want);
  EXPECT_EQ(s.ledger.duplicates(), 0u);
  EXPECT_EQ(s.ledger.corrupt(), 0u);
  EXPECT_EQ(s.ledger.unknown(), 0u);
  EXPECT_EQ(s.ledger.delivered_not_received(), 0u);
  EXPECT_EQ(s.ledger.missing(), 0u);
  EXPECT_TRUE(tx.failures().empty());
}

}  // namespace spray::sim
