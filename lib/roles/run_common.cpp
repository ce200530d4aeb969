// SPDX-License-Identifier: BSD-3-Clause
#include "roles/run_common.h"

#include <rte_cycles.h>
#include <rte_version.h>

#include "roles/roles.h"
#include "spray_version.h"

namespace spray::roles {

std::string version_text() {
  return std::string("spray ") + SPRAY_VERSION + " (git " + SPRAY_GIT_SHA + "), " + rte_version();
}

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

std::uint64_t link_mask(const dp::Runtime& rt, std::span<const std::uint16_t> ports,
                        const std::function<void(std::size_t)>& on_unknown) {
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    bool unknown = false;
    if (dp::link_up_for_forwarding(rt.ports()[ports[i]], &unknown)) mask |= std::uint64_t{1} << i;
    if (unknown && on_unknown) on_unknown(i);
  }
  return mask;
}

std::uint64_t now_ns(const dp::Runtime& rt) { return rt.clock().to_ns(rte_rdtsc_precise()); }

GenFigures read_generator(const dp::GenHostApp& app, std::uint64_t now) {
  const auto& gen = app.generator();
  GenFigures r;
  static_cast<traffic::GenCounts&>(r) = gen.counters().read();
  r.conns_lost = gen.connections_lost();
  r.rtt = gen.rtt().snapshot();
  const srd::Nanos end = gen.measure_end_ns() ? gen.measure_end_ns() : now;
  r.seconds = end > gen.measure_start_ns() ? (end - gen.measure_start_ns()) / 1e9 : 0;
  const auto& s = app.summary();
  for (std::size_t i = 0; i < r.retx.size(); ++i) r.retx[i] = s.retx[i].read();
  r.spurious = s.spurious_retx.read();
  r.rto_events = s.rto_events.read();
  r.quarantines = s.path_quarantines.read();
  r.shared_losses = s.shared_losses.read();
  r.silent_rtos = s.silent_rtos.read();
  r.host_drop_acks = s.host_drop_acks.read();
  r.acks_lost = s.acks_lost.read();
  r.data_pkts = s.tx_data_pkts.read();
  return r;
}

srd::EndpointConfig endpoint_for(const srd::EndpointConfig& base, const dp::SrdHostConfig& h, std::uint64_t seed) {
  srd::EndpointConfig e = base;
  e.local = {h.ip, h.udp_port};
  e.seed = seed;
  return e;
}

}  // namespace spray::roles
