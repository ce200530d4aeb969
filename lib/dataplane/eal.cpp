// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dataplane/errors.h"

namespace spray::dp {

std::vector<unsigned> usable_cpus() {
  std::vector<unsigned> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

std::uint64_t free_hugepage_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t free_pages = 0, page_kb = 0;
  while (in >> key) {
    std::uint64_t v = 0;
    if (key == "HugePages_Free:") {
      in >> v;
      free_pages = v;
    } else if (key == "Hugepagesize:") {
      in >> v;
      page_kb = v;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return free_pages * page_kb * 1024;
}

namespace {

std::string join_cpus(const std::vector<unsigned>& cpus) {
  std::ostringstream s;
  for (std::size_t i = 0; i < cpus.size(); ++i) s << (i ? "," : "") << cpus[i];
  return s.str();
}

}  // namespace

// Memory EAL reserves without hugepages: the mempool plus the rings, tap and
// memif regions, telemetry and EAL's own heap. Each mbuf takes its data room
// and 384 bytes of mbuf and mempool headers (2.5 KB for the default 2 KB
// data room); the floor covers the rest.
unsigned derive_mem_mb(std::uint64_t mbufs, std::uint32_t data_room) {
  const std::uint64_t per = (data_room ? data_room : RTE_MBUF_DEFAULT_BUF_SIZE) + 384;
  const std::uint64_t pool_mb = (mbufs * per + (1u << 20) - 1) >> 20;
  return static_cast<unsigned>(std::max<std::uint64_t>(256, 128 + pool_mb * 3 / 2));
}

std::vector<std::string> eal_args(const EalPlan& plan, bool no_huge, unsigned mem_mb,
                                  const std::string& file_prefix) {
  std::vector<std::string> a{"spray"};
  // lcore 0 is the control thread (main lcore), floating over the CPUs no
  // worker owns; workers are lcores 1..N, each pinned to its CPU. On a machine
  // where workers take every CPU, the control thread shares them (it sleeps
  // most of the time).
  const auto all = usable_cpus();
  std::vector<unsigned> spare;
  for (unsigned c : all)
    if (std::find(plan.worker_cpus.begin(), plan.worker_cpus.end(), c) == plan.worker_cpus.end())
      spare.push_back(c);
  if (spare.empty()) spare = all;
  std::ostringstream lcores;
  lcores << "0@(" << join_cpus(spare) << ")";
  for (std::size_t i = 0; i < plan.worker_cpus.size(); ++i)
    lcores << "," << (i + 1) << "@" << plan.worker_cpus[i];
  a.push_back("--lcores=" + lcores.str());
  a.push_back("--main-lcore=0");
  a.push_back("--file-prefix=" + file_prefix);
  if (no_huge) {
    a.push_back("--no-huge");
    a.push_back("-m");
    a.push_back(std::to_string(mem_mb));
  } else if (mem_mb) {
    a.push_back("-m");
    a.push_back(std::to_string(mem_mb));
  }
  if (plan.pci.empty()) {
    a.push_back("--no-pci");
  } else {
    for (const auto& p : plan.pci) {
      a.push_back("-a");
      a.push_back(p);
    }
  }
  a.push_back("--log-level=" + plan.log_level);
  a.insert(a.end(), plan.raw_args.begin(), plan.raw_args.end());
  return a;
}

EalResult init_eal(const EalPlan& plan) {
  const auto cpus = usable_cpus();
  for (unsigned c : plan.worker_cpus) {
    if (std::find(cpus.begin(), cpus.end(), c) == cpus.end())
      throw UsageError("--lcores: CPU " + std::to_string(c) +
                       " does not exist or is not usable by this process; usable CPUs: " +
                       join_cpus(cpus));
  }
  for (std::size_t i = 0; i < plan.worker_cpus.size(); ++i)
    for (std::size_t j = i + 1; j < plan.worker_cpus.size(); ++j)
      if (plan.worker_cpus[i] == plan.worker_cpus[j])
        throw UsageError("--lcores: CPU " + std::to_string(plan.worker_cpus[i]) +
                         " is listed twice; give each worker its own CPU");

  EalResult r;
  r.file_prefix = plan.file_prefix.empty() ? "spray-" + std::to_string(::getpid()) : plan.file_prefix;
  const bool user_chose_memory =
      std::any_of(plan.raw_args.begin(), plan.raw_args.end(), [](const std::string& s) {
        return s == "--no-huge" || s == "-m" || s.rfind("--socket-mem", 0) == 0 || s == "--in-memory";
      });
  const std::uint64_t need = std::uint64_t{derive_mem_mb(plan.mbuf_budget, plan.mbuf_data_room)} << 20;
  r.mem_mb = plan.mem_mb ? plan.mem_mb : derive_mem_mb(plan.mbuf_budget, plan.mbuf_data_room);
  r.no_huge = !user_chose_memory && free_hugepage_bytes() < need;
  if (r.no_huge && !plan.quiet)
    std::fprintf(stderr, "spray: no hugepages free; running with --no-huge -m %u (sized for %llu mbufs)\n",
                 r.mem_mb, static_cast<unsigned long long>(plan.mbuf_budget));

  // virtio_user writes its vhost-user socket without MSG_NOSIGNAL: a peer
  // that goes away (a switch restarting under its VMs) must show as a link
  // down, not end this process. The metrics server ignores SIGPIPE too once
  // it starts; this keeps a process with --metrics off the same.
  std::signal(SIGPIPE, SIG_IGN);
  auto args = eal_args(plan, r.no_huge, user_chose_memory ? plan.mem_mb : r.mem_mb, r.file_prefix);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  if (rc < 0) {
    std::string cmd;
    for (const auto& s : args) cmd += " " + s;
    throw RuntimeError("EAL initialisation failed (" + std::string(rte_strerror(rte_errno)) +
                       ") with arguments:" + cmd);
  }
  r.main_lcore = rte_get_main_lcore();
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) r.worker_lcores.push_back(lc);
  return r;
}

void cleanup_eal() { rte_eal_cleanup(); }

}  // namespace spray::dp
