// SPDX-License-Identifier: BSD-3-Clause
// EAL start-up with defaults that need no flags on a laptop.
//
// Control thread only; called once before anything else touches DPDK.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace spray::dp {

struct EalPlan {
  std::vector<unsigned> worker_cpus;   // one worker lcore per entry, pinned there
  std::vector<std::string> pci;        // allow-listed PCI devices (-a)
  std::string file_prefix;             // empty: "spray-<pid>"
  unsigned mem_mb = 0;                 // 0: derived from the mbuf budget
  std::uint64_t mbuf_budget = 0;       // mbufs the process will allocate (sizes -m)
  std::uint32_t mbuf_data_room = 0;    // bytes of each, headroom included; 0: DPDK's default
  std::vector<std::string> raw_args;   // passed through after --eal, verbatim
  std::string log_level = "warning";
  bool quiet = false;                  // no "running with --no-huge" notice
};

struct EalResult {
  std::vector<unsigned> worker_lcores;  // lcore ids, in worker_cpus order
  unsigned main_lcore = 0;
  bool no_huge = false;
  unsigned mem_mb = 0;
  std::string file_prefix;
};

// Online CPUs this process may run on (sched_getaffinity), ascending.
std::vector<unsigned> usable_cpus();

// Free hugepages of any size, in bytes (0 when none are reserved).
std::uint64_t free_hugepage_bytes();

// Megabytes of EAL memory a plan needs: its pool and everything else.
unsigned derive_mem_mb(std::uint64_t mbufs, std::uint32_t data_room);

// Builds the EAL argv for `plan` (exposed for tests and for --dry-run).
std::vector<std::string> eal_args(const EalPlan& plan, bool no_huge, unsigned mem_mb,
                                  const std::string& file_prefix);

// Initialises the EAL. Throws RuntimeError (exit 1) naming what failed; a CPU
// that does not exist is a UsageError (exit 2).
EalResult init_eal(const EalPlan& plan);

// Releases EAL resources (rte_eal_cleanup); safe to call once at exit.
void cleanup_eal();

}  // namespace spray::dp
