// SPDX-License-Identifier: BSD-3-Clause
// The transport's counter lists: the retransmission causes are exported by
// name (metric labels, JSON keys, report columns), so their names and their
// link to the connection counters are a contract.
#include <gtest/gtest.h>

#include <string>

#include "srd/counters.h"

namespace spray::srd {
namespace {

TEST(SrdRetxCauses, KeepTheNamesDashboardsAndScriptsRead) {
  const char* expected[] = {"nack", "same_path", "rack", "tlp", "rto"};
  ASSERT_EQ(kRetxCauseCount, std::size(expected));
  for (std::size_t i = 0; i < kRetxCauseCount; ++i) EXPECT_STREQ(kRetxCauseInfo[i].name, expected[i]);
  EXPECT_STREQ(to_string(RetxCause::kSamePath), "same_path");
  EXPECT_STREQ(to_string(RetxCause::kRto), "rto");
}

TEST(SrdRetxCauses, EachCountsInTheConnectionCounterOfItsName) {
  for (std::size_t i = 0; i < kRetxCauseCount; ++i) {
    const std::string field = std::string("retx_") + kRetxCauseInfo[i].name;
    ConnCounters c;
    ++retx_counter(c, static_cast<RetxCause>(i));
    std::size_t found = 0;
    for (std::size_t k = 0; k < std::size(kConnCounterInfo); ++k) {
      const bool mine = field == kConnCounterInfo[k].name;
      EXPECT_EQ(counter_at(c, k), mine ? 1u : 0u) << kConnCounterInfo[k].name << " after a " << field;
      if (!mine) continue;
      ++found;
      EXPECT_STREQ(kConnCounterInfo[k].help, kRetxCauseInfo[i].help);
    }
    EXPECT_EQ(found, 1u) << field << " is not a connection counter";
  }
}

}  // namespace
}  // namespace spray::srd
