// SPDX-License-Identifier: BSD-3-Clause
// `--metrics` values: what is accepted, and the one-line error otherwise.
#include "telemetry/listen.h"

#include <gtest/gtest.h>

namespace spray::telemetry {
namespace {

TEST(ListenAddress, HostAndPort) {
  std::string err;
  const auto a = parse_listen("127.0.0.1:9477", &err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9477);
  EXPECT_TRUE(a->loopback());
  EXPECT_EQ(a->str(), "127.0.0.1:9477");
}

TEST(ListenAddress, BarePortAndColonPortMeanLoopback) {
  std::string err;
  for (const char* v : {"9500", ":9500"}) {
    const auto a = parse_listen(v, &err);
    ASSERT_TRUE(a) << v << ": " << err;
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9500);
  }
}

TEST(ListenAddress, AnyAddressIsNotLoopback) {
  std::string err;
  const auto a = parse_listen("0.0.0.0:9477", &err);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->loopback());
}

TEST(ListenAddress, Ipv6NeedsBrackets) {
  std::string err;
  const auto a = parse_listen("[::1]:9477", &err);
  ASSERT_TRUE(a) << err;
  EXPECT_TRUE(a->ipv6);
  EXPECT_TRUE(a->loopback());
  EXPECT_EQ(a->str(), "[::1]:9477");
}

TEST(ListenAddress, OffDisablesWithoutError) {
  std::string err = "x";
  EXPECT_FALSE(parse_listen("off", &err));
  EXPECT_TRUE(err.empty());
}

TEST(ListenAddress, BadValuesGiveOneLineNamingTheValue) {
  for (const char* v : {"", "127.0.0.1:", "127.0.0.1:70000", "host.example:9477", "1.2.3:80", "[::1]9477",
                        "[zz]:1", "127.0.0.1:12ab", "on"}) {
    std::string err;
    EXPECT_FALSE(parse_listen(v, &err)) << v;
    EXPECT_NE(err.find(std::string("'") + v + "'"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace spray::telemetry
