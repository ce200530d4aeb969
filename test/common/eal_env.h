// SPDX-License-Identifier: BSD-3-Clause
// EAL for the dpdk-suite tests: one initialisation per test binary, no
// hugepages, no PCI, a file prefix unique to the process, and EAL's log
// captured so a test can assert on the line a user would read.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace spray::test {

struct EalOptions {
  std::string prefix = "spray-test-";                           // the process id is appended
  std::vector<std::string> lcores{"--lcores=0@(0-1),1@(0-1)"};  // the test thread and one worker
  std::string log_level = "--log-level=error";
  bool capture_log = false;  // when set, captured_log() returns what EAL and drivers logged
};

// The driver tests: one lcore, and the notices a driver prints on a bad
// parameter captured to be asserted on.
inline EalOptions driver_eal() {
  EalOptions o;
  o.prefix = "spray_drv_test_";
  o.lcores = {"-l", "0"};
  o.log_level = "--log-level=notice";
  o.capture_log = true;
  return o;
}

inline FILE*& log_stream() {
  static FILE* f = nullptr;
  return f;
}

// Everything EAL and drivers logged so far (EalOptions::capture_log).
inline std::string captured_log() {
  FILE* f = log_stream();
  if (f == nullptr) return {};
  std::fflush(f);
  std::string s;
  std::rewind(f);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fseek(f, 0, SEEK_END);
  return s;
}

inline bool init_eal(const char* argv0, const EalOptions& o = {}) {
  if (o.capture_log) {
    log_stream() = std::tmpfile();
    rte_openlog_stream(log_stream());
  }
  std::vector<std::string> args{argv0, "--no-huge", "-m", "256", "--no-pci"};
  args.push_back("--file-prefix=" + o.prefix + std::to_string(::getpid()));
  args.insert(args.end(), o.lcores.begin(), o.lcores.end());
  args.push_back(o.log_level);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
}

// For gtest binaries: EAL and one mbuf pool around the whole run.
class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_TRUE(init_eal("test")) << "EAL init failed";
    pool_ = rte_pktmbuf_pool_create("test-pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override { rte_eal_cleanup(); }
  static rte_mempool* pool() { return pool_; }

 private:
  static inline rte_mempool* pool_ = nullptr;
};

// One rx and one tx queue of `descriptors` on `port`, receiving into
// EalEnvironment's pool, started.
inline void start_port(std::uint16_t port, std::uint16_t descriptors = 1024) {
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
  ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, descriptors, 0, nullptr, EalEnvironment::pool()), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, descriptors, 0, nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(port), 0);
}

}  // namespace spray::test
