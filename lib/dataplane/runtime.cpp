// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/runtime.h"

#include <algorithm>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "dataplane/errors.h"
#include "dataplane/ring_link.h"

namespace spray::dp {

Signals& signals() noexcept {
  static Signals s;
  return s;
}

namespace {

void on_signal(int sig) {
  auto& s = signals();
  if (sig == SIGHUP)
    s.reload.store(true);
  else if (sig == SIGUSR1)
    s.dump.store(true);
  else
    s.stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

std::uint32_t pool_size_for(std::uint64_t need, std::uint16_t data_room) {
  // Mempools are most memory-efficient at 2^n - 1 elements (their ring has
  // 2^n slots). With jumbo buffers the elements are what costs: up to
  // doubling them would waste hundreds of MB, so round to 1024 only.
  if (data_room > RTE_MBUF_DEFAULT_BUF_SIZE) return static_cast<std::uint32_t>(need | 1023);
  std::uint64_t n = 1023;
  while (n < need) n = n * 2 + 1;
  return static_cast<std::uint32_t>(n);
}

int launch_worker(void* arg) {
  static_cast<Worker*>(arg)->run();
  return 0;
}

const char* link_state_word(const Port& p) {
  bool unknown = false;
  const bool up = link_up_for_forwarding(p, &unknown);
  return unknown ? "unknown" : up ? "up" : "down";
}


}  // namespace

Runtime::Runtime(RuntimeOptions opt) : opt_(std::move(opt)) {
  install_signal_handlers();
  EalPlan plan;
  plan.worker_cpus = opt_.worker_cpus;
  if (plan.worker_cpus.empty()) {
    const auto cpus = usable_cpus();
    plan.worker_cpus.push_back(cpus.empty() ? 0 : cpus.back());
  }
  for (const auto& p : opt_.ports)
    if (p.is_pci()) plan.pci.push_back(p.devargs);
  plan.file_prefix = opt_.file_prefix;
  plan.mem_mb = opt_.mem_mb;
  plan.raw_args = opt_.eal_args;
  plan.log_level = opt_.log_level;

  const auto nb_workers = static_cast<std::uint16_t>(plan.worker_cpus.size());
  const std::size_t nb_ports = opt_.ports.size() + 2 * opt_.ring_links.size();
  if (opt_.port_per_worker && nb_ports != nb_workers)
    throw UsageError("this role runs one worker per port: " + std::to_string(nb_ports) + " port(s) need " +
                     std::to_string(nb_ports) + " CPUs in --lcores, got " + std::to_string(nb_workers));
  opt_.port.rx_queues = opt_.port_per_worker ? 1 : nb_workers;
  opt_.port.tx_queues = opt_.port_per_worker ? 1 : nb_workers;
  const std::uint16_t room = mbuf_data_room(opt_.port.mtu);
  if (room > RTE_MBUF_DEFAULT_BUF_SIZE) {
    // Jumbo buffers: fewer descriptors, so a port holds about the bytes it
    // holds at 1500 (1024 x 2 KB) and the pool stays within a few hundred
    // MB (--mem 512 fits a demo fabric at 9000). 256 still covers several
    // bursts of 32.
    auto scale = [&](std::uint16_t d) {
      const unsigned v = static_cast<unsigned>(std::uint64_t{d} * RTE_MBUF_DEFAULT_BUF_SIZE / room);
      return static_cast<std::uint16_t>(std::clamp(v, 256u, unsigned{d}));
    };
    opt_.port.rx_desc = scale(opt_.port.rx_desc);
    opt_.port.tx_desc = scale(opt_.port.tx_desc);
  }
  const std::uint64_t need = nb_ports * port_mbuf_need(opt_.port) +
                             std::uint64_t{nb_workers} * (256 + kBurst * opt_.ports.size()) +
                             opt_.extra_mbufs + 1024;
  plan.mbuf_budget = pool_size_for(need, room);
  plan.mbuf_data_room = room;

  eal_ = init_eal(plan);
  eal_up_ = true;
  clock_ = TscClock(rte_get_tsc_hz());
  try {
    start_pool_and_ports(plan);
  } catch (...) {
    // No destructor runs for a constructor that throws: close what started
    // (a memif server's socket file goes with its port) and end EAL here.
    release();
    throw;
  }
}

void Runtime::start_pool_and_ports(const EalPlan& plan) {
  const std::uint16_t room = static_cast<std::uint16_t>(plan.mbuf_data_room);
  pool_ = rte_pktmbuf_pool_create(("mbufs-" + eal_.file_prefix).substr(0, RTE_MEMPOOL_NAMESIZE - 1).c_str(),
                                  static_cast<unsigned>(plan.mbuf_budget), 256, 0, room,
                                  static_cast<int>(rte_socket_id()));
  if (!pool_)
    throw RuntimeError(
        "cannot create the mbuf pool of " + std::to_string(plan.mbuf_budget) + " mbufs of " +
        std::to_string(room) + " bytes" +
        (opt_.port.mtu > 1500 ? " (for --mtu " + std::to_string(opt_.port.mtu) + ")" : std::string()) + ": " +
        rte_strerror(rte_errno) + "; it needs about " +
        std::to_string(derive_mem_mb(plan.mbuf_budget, room)) + " MB: give more memory with --mem MB");

  for (const auto& spec : opt_.ports) {
    for (const auto& p : ports_)
      if (p.spec.name == spec.name)
        throw UsageError("--port: the name '" + spec.name + "' is used twice; names must be unique");
    ports_.push_back(probe_port(spec));
    Port& p = ports_.back();
    start_port(p, opt_.port, pool_);
    warn_numa(p);
  }
  unsigned impair_index = 0;
  for (const auto& [a, b] : opt_.ring_links) {
    const RingLink link = make_ring_link(a, b, opt_.port.rx_queues, 1024);
    for (auto [name, id] : {std::pair{a, link.a}, std::pair{b, link.b}}) {
      const auto im = std::find_if(opt_.impaired.begin(), opt_.impaired.end(),
                                   [&](const auto& x) { return x.first == name; });
      if (im != opt_.impaired.end()) {
        // The impair vdev configures and starts the ring port itself.
        const std::string vdev = "net_impair_rt" + std::to_string(impair_index++);
        ports_.push_back(probe_port(PortSpec{name, vdev + ",port=" + std::to_string(id) + "," + im->second}));
      } else {
        Port p;
        p.spec = PortSpec{name, "ring-link:" + a + "<->" + b};
        p.id = id;
        p.driver = "net_ring";
        p.numa = rte_eth_dev_socket_id(id);
        ports_.push_back(p);
      }
      start_port(ports_.back(), opt_.port, pool_);
    }
  }
}

void Runtime::warn_numa(const Port& p) const {
  if (p.numa < 0) return;
  for (unsigned lc : eal_.worker_lcores)
    if (static_cast<int>(rte_lcore_to_socket_id(lc)) != p.numa)
      std::fprintf(stderr,
                   "spray: warning: port '%s' is on NUMA node %d but worker lcore %u is on "
                   "node %u; every packet crosses the interconnect\n",
                   p.spec.name.c_str(), p.numa, lc, rte_lcore_to_socket_id(lc));
}

Runtime::~Runtime() { release(); }

void Runtime::release() noexcept {
  for (auto& p : ports_) close_port(p);
  ports_.clear();
  if (pool_) rte_mempool_free(pool_);
  pool_ = nullptr;
  if (eal_up_) cleanup_eal();
  eal_up_ = false;
}

void Runtime::run(const std::function<Pipeline*(unsigned)>& make, const Hooks& hooks) {
  workers_.clear();
  std::vector<std::uint16_t> port_ids;
  for (const auto& p : ports_) port_ids.push_back(p.id);
  for (unsigned w = 0; w < nb_workers(); ++w) {
    std::vector<RxQueueRef> rxq;
    if (opt_.port_per_worker) {
      rxq.push_back({static_cast<std::uint16_t>(w), ports_[w].id, 0});
    } else {
      for (std::uint16_t i = 0; i < ports_.size(); ++i)
        rxq.push_back({i, ports_[i].id, static_cast<std::uint16_t>(w)});
    }
    const auto txq = static_cast<std::uint16_t>(opt_.port_per_worker ? 0 : w);
    workers_.push_back(std::make_unique<Worker>(eal_.worker_lcores[w], "w" + std::to_string(w), make(w),
                                                std::move(rxq), port_ids, txq, opt_.worker, clock_));
  }
  for (auto& w : workers_) {
    if (int rc = rte_eal_remote_launch(launch_worker, w.get(), w->lcore()); rc != 0)
      throw RuntimeError("cannot launch worker on lcore " + std::to_string(w->lcore()) + ": " +
                         rte_strerror(-rc));
  }

  const auto start = std::chrono::steady_clock::now();
  auto next_stats = start + std::chrono::duration<double>(opt_.stats_period_s);
  std::vector<PortStats> prev(ports_.size());
  for (std::size_t i = 0; i < ports_.size(); ++i) prev[i] = port_stats(i);
  auto prev_t = start;
  auto& sig = signals();
  while (hooks.done ? !hooks.done() : !sig.stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (hooks.tick) hooks.tick();
    const auto now = std::chrono::steady_clock::now();
    if (opt_.stats_period_s > 0 && now >= next_stats) {
      next_stats += std::chrono::duration<double>(opt_.stats_period_s);
      const double dt = std::chrono::duration<double>(now - prev_t).count();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      std::string line;
      char head[32];
      std::snprintf(head, sizeof head, "[%6.1fs]", elapsed);
      line = head;
      for (std::size_t i = 0; i < ports_.size() && opt_.progress_ports; ++i) {
        const PortStats s = port_stats(i);
        // A driver may zero its counters when its link comes back (memif
        // does): count from zero then instead of wrapping around.
        auto since = [](std::uint64_t now_v, std::uint64_t before) { return now_v >= before ? now_v - before : now_v; };
        line += " " + ports_[i].spec.name + " rx " + human(since(s.rx_packets, prev[i].rx_packets) / dt) +
                "pps tx " + human(since(s.tx_packets, prev[i].tx_packets) / dt) + "pps";
        prev[i] = s;
      }
      prev_t = now;
      if (hooks.progress) {
        const auto extra = hooks.progress(elapsed);
        if (!extra.empty()) line += opt_.progress_ports ? " | " + extra : " " + extra;
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  for (auto& w : workers_) w->stop();
  rte_eal_mp_wait_lcore();
}

Runtime::PortStats Runtime::port_stats(std::size_t i) const {
  rte_eth_stats s{};
  rte_eth_stats_get(ports_[i].id, &s);
  PortStats p;
#define SPRAY_PORT_COPY(name, field, help) p.name = s.field;
  SPRAY_PORT_COUNTERS(SPRAY_PORT_COPY)
#undef SPRAY_PORT_COPY
  return p;
}

void Runtime::print_final_counters() const {
  std::printf("%-12s %-16s %14s %14s %10s %10s %10s %s\n", "port", "driver", "rx_packets",
              "tx_packets", "rx_missed", "rx_nombuf", "tx_errors", "link");
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    const PortStats s = port_stats(i);
    std::printf("%-12s %-16s %14llu %14llu %10llu %10llu %10llu %s\n", ports_[i].spec.name.c_str(),
                ports_[i].driver.c_str(), (unsigned long long)s.rx_packets,
                (unsigned long long)s.tx_packets, (unsigned long long)s.rx_missed,
                (unsigned long long)s.rx_nombuf, (unsigned long long)s.tx_errors,
                link_state_word(ports_[i]));
  }
  std::printf("%-12s %6s %14s %14s %10s %6s %10s\n", "worker", "lcore", "rx_packets", "tx_packets",
              "tx_dropped", "busy%", "sleeps");
  for (const auto& w : workers_) {
    const auto& c = w->final_counters();
    const double total = static_cast<double>(c.busy_cycles + c.idle_cycles);
    std::printf("%-12s %6u %14llu %14llu %10llu %5.1f%% %10llu\n", w->name().c_str(), w->lcore(),
                (unsigned long long)c.rx_packets, (unsigned long long)c.tx_packets,
                (unsigned long long)c.tx_dropped, total > 0 ? 100.0 * c.busy_cycles / total : 0.0,
                (unsigned long long)c.sleeps);
  }
}

}  // namespace spray::dp
