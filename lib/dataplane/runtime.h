// The process around a role: EAL, one mempool, ports, workers on lcores, the
// control loop (signals, progress line, final counters) and an orderly stop.
//
// Control thread only, except the Pipelines it runs on workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/clock.h"
#include "dataplane/eal.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"

struct rte_mempool;

namespace spray::dp {

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

// 1234567 -> "1.23M": rates and sizes in progress lines and reports.
std::string human(double v);

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

  // Per-port figures from the devices (control thread).
  struct PortStats {
    std::uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_missed, rx_errors, tx_errors,
        rx_nombuf;
  };
  PortStats port_stats(std::size_t port_index) const;

  // Prints the final per-port and per-worker table to stdout.
  void print_final_counters() const;

 private:
  void warn_numa(const Port& p) const;

  RuntimeOptions opt_;
  EalResult eal_;
  TscClock clock_;
  rte_mempool* pool_ = nullptr;
  std::vector<Port> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool eal_up_ = false;
};

}  // namespace spray::dp
