// SPDX-License-Identifier: BSD-3-Clause
#include "role_common.h"

#include <cstdio>

namespace spray::app {

dp::RuntimeOptions runtime_options(const CommonOptions& c) {
  dp::RuntimeOptions r;
  r.ports = c.ports;
  r.worker_cpus = c.worker_cpus;
  r.eal_args = c.eal_args;
  r.file_prefix = c.file_prefix;
  r.mem_mb = c.mem_mb;
  r.port.rx_desc = static_cast<std::uint16_t>(c.rx_desc);
  r.port.tx_desc = static_cast<std::uint16_t>(c.tx_desc);
  r.worker.idle = c.idle_poll ? dp::IdleMode::kPoll : dp::IdleMode::kBackoff;
  r.stats_period_s = c.stats_period_s;
  r.log_level = c.log_level;
  return r;
}

std::string usec(std::uint64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(ns) / 1000.0);
  return b;
}

}  // namespace spray::app
