// SPDX-License-Identifier: BSD-3-Clause
// The process around a role: EAL, one mempool, ports, workers on lcores, the
// control loop (signals, progress line, final counters) and an orderly stop.
//
// Control thread only, except the Pipelines it runs on workers.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/eal.h"
#include "dataplane/format.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "telemetry/counter.h"

struct rte_mempool;

namespace spray::dp {

// Device counters of a port, each defined once: X(name, rte_eth_stats
// field, help) gives the PortStats field, its copy from rte_eth_stats_get,
// the metric spray_port_<name>_total{port} and the `/spray/ports` key.
#define SPRAY_PORT_COUNTERS(X)                                                    \
  X(rx_packets, ipackets, "packets received by the port")                         \
  X(tx_packets, opackets, "packets transmitted by the port")                      \
  X(rx_bytes, ibytes, "bytes received by the port")                               \
  X(tx_bytes, obytes, "bytes transmitted by the port")                            \
  X(rx_missed, imissed, "packets the device dropped because the rx ring was full") \
  X(rx_errors, ierrors, "erroneous packets received")                             \
  X(tx_errors, oerrors, "packets the device failed to transmit")                  \
  X(rx_nombuf, rx_nombuf, "rx mbuf allocation failures")

struct RuntimeOptions {
  std::vector<PortSpec> ports;
  std::vector<unsigned> worker_cpus;  // empty: one worker on the last usable CPU
  std::vector<std::string> eal_args;  // raw, after --eal
  std::string file_prefix;            // empty: spray-<pid>
  unsigned mem_mb = 0;                // 0: derived
  PortOptions port;                   // queues are set per worker count
  WorkerOptions worker;
  double stats_period_s = 1.0;        // progress line period; 0 = off
  bool progress_ports = true;         // false: the progress line is the role's text alone
  std::uint64_t extra_mbufs = 0;      // a role's own mbuf needs beyond the rings
  // In-process links: each pair becomes two ports (after `ports`), joined
  // back to back by rings.
  std::vector<std::pair<std::string, std::string>> ring_links;
  // Ring-link ports (by name) to wrap in net_impair with these parameters
  // ("loss=0.01"): the port keeps its name and index, the impair vdev takes
  // the ring port over (rte_pmd_impair.h controls it at run time).
  std::vector<std::pair<std::string, std::string>> impaired;
  // false: every worker polls its own queue of every port (RSS splits the
  // traffic). true: worker i owns port i alone (one queue), e.g. a generator
  // and a responder in one process.
  bool port_per_worker = false;
  std::string log_level = "warning";
};

// Set by the signal handlers the runtime installs; readable by roles.
struct Signals {
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};  // SIGHUP
  std::atomic<bool> dump{false};    // SIGUSR1
};
Signals& signals() noexcept;

class Runtime {
 public:
  // EAL, mempool and every port started. Throws UsageError / RuntimeError.
  explicit Runtime(RuntimeOptions opt);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const std::vector<Port>& ports() const noexcept { return ports_; }
  rte_mempool* pool() const noexcept { return pool_; }
  const TscClock& clock() const noexcept { return clock_; }
  unsigned nb_workers() const noexcept { return static_cast<unsigned>(eal_.worker_lcores.size()); }
  const EalResult& eal() const noexcept { return eal_; }

  struct Hooks {
    // Called every stats period with the elapsed seconds; returns the text
    // after the common per-port part of the progress line ("" for none).
    std::function<std::string(double elapsed_s)> progress;
    // Polled every 10 ms by the control thread; true ends the run (e.g. a
    // generator that reached --duration). Without it, SIGINT/SIGTERM end the
    // run; with it, the role decides what a signal means (drain first).
    std::function<bool()> done;
    // Control-thread work every 10 ms (config reload, dumps).
    std::function<void()> tick;
  };

  // Launches one worker per lcore with the pipeline `make(i)` returns (worker
  // i polls queue i of every port and sends on tx queue i; or port i alone
  // with port_per_worker), runs the control
  // loop until a signal or hooks.done(), stops and joins the workers.
  // May be called again after it returns (new pipelines, same ports);
  // workers() then holds the last run's workers.
  void run(const std::function<Pipeline*(unsigned worker)>& make, const Hooks& hooks);

  const std::vector<std::unique_ptr<Worker>>& workers() const noexcept { return workers_; }

  // Per-port figures from the devices (control thread): one field per line
  // of SPRAY_PORT_COUNTERS, in list order.
  struct PortStats {
#define SPRAY_PORT_FIELD(name, field, help) std::uint64_t name = 0;
    SPRAY_PORT_COUNTERS(SPRAY_PORT_FIELD)
#undef SPRAY_PORT_FIELD
#define SPRAY_PORT_INFO(name, field, help) telemetry::CounterInfo{#name, help},
    static constexpr std::array kInfo{SPRAY_PORT_COUNTERS(SPRAY_PORT_INFO)};
#undef SPRAY_PORT_INFO
    static constexpr std::size_t kCount = kInfo.size();
    // The values in kInfo's order.
    std::array<std::uint64_t, kCount> values() const noexcept {
#define SPRAY_PORT_VALUE(name, field, help) name,
      return {SPRAY_PORT_COUNTERS(SPRAY_PORT_VALUE)};
#undef SPRAY_PORT_VALUE
    }
  };
  PortStats port_stats(std::size_t port_index) const;

  // Prints the final per-port and per-worker table to stdout.
  void print_final_counters() const;

 private:
  void warn_numa(const Port& p) const;
  // The mempool and every port (EAL is up), in order; throws on the first
  // failure, leaving what started for release().
  void start_pool_and_ports(const EalPlan& plan);
  // Ports closed, pool freed, EAL ended; whatever of them exists.
  void release() noexcept;

  RuntimeOptions opt_;
  EalResult eal_;
  TscClock clock_;
  rte_mempool* pool_ = nullptr;
  std::vector<Port> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool eal_up_ = false;
};

}  // namespace spray::dp
