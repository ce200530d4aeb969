// SPDX-License-Identifier: BSD-3-Clause
// Telemetry glue for DPDK-facing figures: port and worker metrics for the
// registry, `/spray/...` commands on DPDK's telemetry socket, and packet
// capture through rte_pdump (dpdk-dumpcap).
//
// Control thread only, after the Runtime is constructed (EAL up, ports
// started) and before it is destroyed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "telemetry/counter.h"
#include "telemetry/registry.h"

namespace spray::dp {

class Runtime;
class SwitchPipeline;
class GenHostApp;
class RespondHostApp;
class SrdHostPipeline;
struct TransportSummary;

// spray_port_*{port} (SPRAY_PORT_COUNTERS, runtime.h), spray_port_link_up{port}, spray_port_info{port,driver,
// name,numa}, spray_worker_*_total{worker}: what every role exports.
// `version` and `git_sha` label spray_build_info, with rte_version().
void add_runtime_metrics(telemetry::Registry& reg, const Runtime& rt, const std::string& version,
                         const std::string& git_sha);

// spray_switch_<counter>_total, spray_switch_drops_total{reason} (the
// switch logic's and the glue's reasons) and spray_switch_fdb_entries, summed
// over the workers' pipelines. `pipes` must outlive the registry's use.
void add_switch_metrics(telemetry::Registry& reg, const std::vector<std::unique_ptr<SwitchPipeline>>& pipes,
                        const Runtime& rt);

// spray_gen_<counter>_total (SPRAY_GEN_COUNTERS), spray_gen_latency_seconds
// (the generators' round-trip histograms, merged) and the transport figures
// of their hosts. The apps must outlive the registry's use.
void add_gen_metrics(telemetry::Registry& reg, std::vector<const GenHostApp*> apps);

// spray_respond_<counter>_total (SPRAY_RESPOND_COUNTERS),
// spray_respond_violations_total{reason} (SPRAY_RESPOND_VIOLATIONS) and the
// transport figures of their hosts.
void add_respond_metrics(telemetry::Registry& reg, std::vector<const RespondHostApp*> apps);

// spray_host_<counter>_total (SPRAY_HOST_COUNTERS: ARP, ICMP, SRD packets
// in and out, drops by reason), summed over the hosts.
void add_host_metrics(telemetry::Registry& reg, std::vector<const SrdHostPipeline*> hosts);

// spray_transport_retransmits_total{cause}, spray_transport_*_total, the
// connection/path gauges and the histograms (RTT by path, loss recovery,
// reorder depth, cwnd), summed over the summaries (published by the workers
// every 100 ms).
void add_transport_metrics(telemetry::Registry& reg, std::vector<const TransportSummary*> sums);

// Registers /spray/ports, /spray/workers and /spray/switch on the DPDK
// telemetry socket (answers built from `exchange` snapshots), and calls
// rte_pdump_init() so dpdk-dumpcap can attach as a secondary process.
// Undone by the destructor: commands then answer an error, pdump is
// uninitialised. One instance per process.
class EcosystemHooks {
 public:
  explicit EcosystemHooks(std::shared_ptr<telemetry::SnapshotExchange> exchange);
  ~EcosystemHooks();
  EcosystemHooks(const EcosystemHooks&) = delete;
  EcosystemHooks& operator=(const EcosystemHooks&) = delete;

  bool pdump() const noexcept { return pdump_; }

 private:
  bool pdump_ = false;
};

}  // namespace spray::dp
