// EAL for dpdk-suite tests: one initialisation per test binary, no
// hugepages, no PCI, a file prefix of its own, lcores 0 (test) and 1 (a worker).
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace spray::test {

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string prefix = "--file-prefix=spray-test-" + std::to_string(::getpid());
    std::vector<std::string> args{"test", "--no-huge", "-m", "256", "--no-pci", prefix,
                                  "--lcores=0@(0-1),1@(0-1)", "--log-level=error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "EAL init failed";
    pool_ = rte_pktmbuf_pool_create("test-pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override { rte_eal_cleanup(); }
  static rte_mempool* pool() { return pool_; }

 private:
  static inline rte_mempool* pool_ = nullptr;
};

}  // namespace spray::test
