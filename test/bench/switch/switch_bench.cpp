// Forwarding-rate harness for the L2 switch; tools/bench/switch.sh drives it
// and sets testpmd beside it.
//
//   switch_bench ring [OPTIONS] -- EAL-ARGS
//     The switch exactly as `spray switch` runs it (dp::Worker polling,
//     dp::SwitchPipeline) on the first worker lcore, over two net_ring ports
//     joined back to back: what the switch sends on port b is received on
//     port a. Frames from one host behind a to destinations learned behind b
//     therefore circulate through the switch with no other core involved,
//     the same closed loop testpmd's --tx-first builds over net_ring vdevs.
//     Measures the per-frame CPU cost of switching.
//
//   switch_bench gen [OPTIONS] -- EAL-ARGS
//     Traffic source and sink for a device under test in another process:
//     EAL port 0 feeds the DUT's ingress, EAL port 1 drains its egress.
//     Frames go one way, from one source MAC to 1..N destination MACs that
//     were first announced (learned) from the egress side, which testpmd's
//     flowgen cannot do: it sends on every port with one fixed MAC pair.
//     After the window it prints its result and waits, connected but idle,
//     until the DUT process has exited (the caller stops it).
//
// Both print one line of key=value results on stdout. mpps is wall clock;
// mpps_per_cpu divides by the CPU time the forwarding thread actually got
// (its schedstat run time, cpu_share of the window), which is what stays
// comparable on a machine where other processes compete for the cores. gen
// also reports ingress_full, the share of its tx bursts the DUT's ingress
// ring could not take whole: near 1, the DUT and not the generator set the
// rate.
#include <dirent.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/switch_pipeline.h"
#include "dataplane/ring_link.h"
#include "dataplane/worker.h"
#include "tor/l2_config.h"
#include "wire/ether.h"

namespace spray::bench {
namespace {

using wire::Mac;

constexpr Mac kSourceHost{0x020000000001ULL};       // the one sender, behind the ingress port
constexpr std::uint64_t kFirstDestination = 0x020100000000ULL;  // then +1 per destination
constexpr std::uint16_t kEtherType = 0x88b5;        // IEEE local experimental
constexpr std::uint16_t kDescriptors = 1024;

struct Options {
  std::string mode;
  unsigned frame_bytes = 64;   // on the wire, FCS included
  unsigned macs = 1;           // destination MACs learned behind the egress port
  double seconds = 5;          // measured window
  double warmup_s = 1;
  unsigned inflight = 64;      // ring: frames circulating (testpmd --tx-first: 32 per port)
  int dut_pid = 0;             // gen: the DUT process whose worker thread is timed
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "switch_bench: %s\n"
               "usage: switch_bench ring|gen [--frame-bytes 64..1518] [--macs N] [--seconds S]\n"
               "                             [--warmup S] [--inflight N] [--dut-pid PID] -- EAL-ARGS\n",
               why.c_str());
  std::exit(2);
}

template <class T>
T number(std::string_view flag, std::string_view text) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    usage(std::string(flag) + ": '" + std::string(text) + "' is not a number");
  return v;
}

// Splits argv at "--": ours before, EAL's after (argv[0] kept for EAL).
Options parse(int argc, char** argv, std::vector<char*>& eal_argv) {
  Options o;
  int i = 1;
  if (i < argc) o.mode = argv[i++];
  if (o.mode != "ring" && o.mode != "gen") usage("the first argument is ring or gen");
  for (; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    const std::string_view v = argv[++i];
    if (flag == "--frame-bytes") o.frame_bytes = number<unsigned>(flag, v);
    else if (flag == "--macs") o.macs = number<unsigned>(flag, v);
    else if (flag == "--seconds") o.seconds = number<double>(flag, v);
    else if (flag == "--warmup") o.warmup_s = number<double>(flag, v);
    else if (flag == "--inflight") o.inflight = number<unsigned>(flag, v);
    else if (flag == "--dut-pid") o.dut_pid = number<int>(flag, v);
    else usage("unknown option " + std::string(flag));
  }
  if (o.frame_bytes < 64 || o.frame_bytes > 1518) usage("--frame-bytes: accepted 64..1518");
  if (o.macs < 1 || o.macs > 1'000'000) usage("--macs: accepted 1..1000000");
  if (o.seconds <= 0 || o.warmup_s < 0) usage("--seconds must be > 0 and --warmup >= 0");
  if (o.inflight == 0 || o.inflight % dp::kBurst != 0 || o.inflight > 960)
    usage("--inflight: a multiple of 32 up to 960 (partial bursts would wait for the tx drain timer)");
  if (o.mode == "gen" && o.dut_pid <= 0) usage("gen needs --dut-pid");
  eal_argv.push_back(argv[0]);
  for (++i; i < argc; ++i) eal_argv.push_back(argv[i]);
  return o;
}

// CPU time (ns) that the threads of `pid` whose name starts with `prefix`
// have run, from /proc/<pid>/task/*/schedstat; nullopt if none matched.
// EAL names its worker threads "rte-worker-<lcore>".
std::optional<std::uint64_t> thread_cpu_ns(int pid, std::string_view prefix) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::optional<std::uint64_t> total;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(dir + "/" + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    std::ifstream stat(dir + "/" + e->d_name + "/schedstat");
    std::uint64_t run_ns = 0;
    if (stat >> run_ns) total = total.value_or(0) + run_ns;
  }
  closedir(d);
  return total;
}

std::uint64_t self_cpu_ns() {
  std::ifstream stat("/proc/thread-self/schedstat");
  std::uint64_t run_ns = 0;
  stat >> run_ns;
  return run_ns;
}

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

void start_port(std::uint16_t port, rte_mempool* pool) {
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(port, 0, kDescriptors, rte_eth_dev_socket_id(port), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(port, 0, kDescriptors, rte_eth_dev_socket_id(port), nullptr) != 0 ||
      rte_eth_dev_start(port) != 0)
    throw std::runtime_error("cannot start port " + std::to_string(port));
  rte_eth_promiscuous_enable(port);
}

// A frame of `frame_bytes` on the wire (the FCS is the port's business, so
// the mbuf holds 4 bytes less). Only the header is written: the payload is
// whatever the buffer held, which the switch never reads.
rte_mbuf* make_frame(rte_mempool* pool, Mac dst, Mac src, unsigned frame_bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (!m) throw std::runtime_error("mbuf pool exhausted");
  const auto len = static_cast<std::uint16_t>(frame_bytes - 4);
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, len));
  wire::write_eth({p, len}, dst, src, kEtherType);
  return m;
}

Mac destination(unsigned i) { return Mac{kFirstDestination + i}; }

// ---------------------------------------------------------------------------
// ring

// Rewrites each received frame's destination to the next of N learned MACs,
// so a few circulating frames visit the whole FDB. Runs inside rx_burst on
// the switch's own lcore: its cost is charged to the switch.
struct DestinationRotor {
  std::vector<std::array<std::uint8_t, 6>> macs;
  std::size_t next = 0;

  static std::uint16_t on_rx(std::uint16_t, std::uint16_t, rte_mbuf** pkts, std::uint16_t n,
                             std::uint16_t, void* self) {
    auto* r = static_cast<DestinationRotor*>(self);
    for (std::uint16_t i = 0; i < n; ++i) {
      std::memcpy(rte_pktmbuf_mtod(pkts[i], std::uint8_t*), r->macs[r->next].data(), 6);
      if (++r->next == r->macs.size()) r->next = 0;
    }
    return n;
  }
};

int run_ring(const Options& o) {
  const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  if (lcore >= RTE_MAX_LCORE) usage("ring needs a worker lcore besides the main one (EAL --lcores)");
  rte_mempool* pool = rte_pktmbuf_pool_create("bench", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) throw std::runtime_error("cannot create the mbuf pool");
  const dp::RingLink link = dp::make_ring_link("bench-a", "bench-b", 1, kDescriptors);
  start_port(link.a, pool);
  start_port(link.b, pool);
  const std::uint16_t ids[2] = {link.a, link.b};  // switch port 0 = a, 1 = b

  tor::L2Config cfg;
  cfg.fdb_capacity = std::max(16384u, o.macs + 16);
  cfg.hash_seed = rte_rand();
  cfg.ports.resize(2);
  cfg.ports[0].name = "a";
  cfg.ports[1].name = "b";
  const dp::TscClock clock(rte_get_tsc_hz());
  dp::SwitchPipeline pipe(cfg, pool, clock);

  // Learn the destinations behind b and the source behind a, through the
  // pipeline itself: each frame comes from the MAC it is addressed to, so it
  // is learned and then dropped as a hairpin.
  dp::TxBuffers tx;
  tx.init(2, ids, 0);
  std::vector<rte_mbuf*> burst;
  auto announce = [&](std::uint16_t port, Mac mac) {
    burst.push_back(make_frame(pool, mac, mac, o.frame_bytes));
    if (burst.size() == dp::kBurst) {
      pipe.rx(tx, port, burst.data(), static_cast<std::uint16_t>(burst.size()), rte_rdtsc());
      burst.clear();
    }
  };
  for (unsigned i = 0; i < o.macs; ++i) announce(1, destination(i));
  if (!burst.empty()) pipe.rx(tx, 1, burst.data(), static_cast<std::uint16_t>(burst.size()), rte_rdtsc());
  burst.clear();
  announce(0, kSourceHost);
  pipe.rx(tx, 0, burst.data(), 1, rte_rdtsc());
  tx.flush();
  if (pipe.logic().fdb_size() != o.macs + 1u)
    throw std::runtime_error("pre-learning left " + std::to_string(pipe.logic().fdb_size()) + " FDB entries, expected " +
                             std::to_string(o.macs + 1));

  // The circulating frames enter at a (sent on b, the link's other end).
  for (unsigned i = 0; i < o.inflight; ++i) {
    rte_mbuf* m = make_frame(pool, destination(i % o.macs), kSourceHost, o.frame_bytes);
    if (rte_eth_tx_burst(link.b, 0, &m, 1) != 1) throw std::runtime_error("cannot inject frames");
  }
  DestinationRotor rotor;
  if (o.macs > 1) {
    for (unsigned i = 0; i < o.macs; ++i) destination(i).store(rotor.macs.emplace_back().data());
    rotor.next = o.inflight % o.macs;
    if (!rte_eth_add_rx_callback(link.a, 0, &DestinationRotor::on_rx, &rotor))
      throw std::runtime_error("rte_eth_add_rx_callback failed");
  }

  dp::WorkerOptions wo;
  wo.idle = dp::IdleMode::kPoll;
  dp::Worker worker(lcore, "bench", &pipe, {{0, link.a, 0}, {1, link.b, 0}}, {link.a, link.b}, 0, wo, clock);
  rte_eal_remote_launch([](void* w) { static_cast<dp::Worker*>(w)->run(); return 0; }, &worker, lcore);

  sleep_s(o.warmup_s);
  const std::string worker_thread = "rte-worker-" + std::to_string(lcore);
  const std::uint64_t t0 = rte_rdtsc();
  const std::uint64_t tx0 = worker.published().tx_packets;
  const auto cpu0 = thread_cpu_ns(getpid(), worker_thread);
  sleep_s(o.seconds);
  const std::uint64_t t1 = rte_rdtsc();
  const std::uint64_t tx1 = worker.published().tx_packets;
  const auto cpu1 = thread_cpu_ns(getpid(), worker_thread);
  worker.stop();
  rte_eal_wait_lcore(lcore);

  const double wall_s = static_cast<double>(t1 - t0) / static_cast<double>(rte_get_tsc_hz());
  const double frames = static_cast<double>(tx1 - tx0);
  const double cpu_s = cpu0 && cpu1 ? static_cast<double>(*cpu1 - *cpu0) / 1e9 : 0;
  const tor::L2Stats s = pipe.snapshot();
  const auto counter = [&](tor::L2Counter c) { return s.counters[static_cast<std::size_t>(c)]; };
  std::uint64_t drops = 0;
  for (auto d : s.drops) drops += d;
  const std::uint64_t hairpins = o.macs + 1u;  // the pre-learning frames
  std::printf("ring frame_bytes=%u macs=%u inflight=%u mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f "
              "forwarded=%llu flooded=%llu drops=%llu tx_dropped=%llu\n",
              o.frame_bytes, o.macs, o.inflight, frames / wall_s / 1e6, cpu_s / wall_s,
              cpu_s > 0 ? frames / cpu_s / 1e6 : 0.0,
              static_cast<unsigned long long>(counter(tor::L2Counter::kForwarded)),
              static_cast<unsigned long long>(counter(tor::L2Counter::kFlooded)),
              static_cast<unsigned long long>(drops - hairpins),
              static_cast<unsigned long long>(worker.final_counters().tx_dropped));
  for (std::uint16_t p : ids) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  return counter(tor::L2Counter::kFlooded) == 0 && drops == hairpins ? 0 : 1;
}

// ---------------------------------------------------------------------------
// gen

constexpr std::uint16_t kToDut = 0;    // EAL port 0: into the DUT's ingress
constexpr std::uint16_t kFromDut = 1;  // EAL port 1: out of the DUT's egress

bool wait_links(double timeout_s) {
  const std::uint64_t end = rte_rdtsc() + static_cast<std::uint64_t>(timeout_s * rte_get_tsc_hz());
  while (rte_rdtsc() < end) {
    rte_eth_link a{}, b{};
    rte_eth_link_get_nowait(kToDut, &a);
    rte_eth_link_get_nowait(kFromDut, &b);
    if (a.link_status && b.link_status) return true;
    sleep_s(0.05);
  }
  return false;
}

std::uint64_t drain(std::uint16_t port) {
  rte_mbuf* pkts[dp::kBurst];
  std::uint64_t total = 0;
  std::uint16_t n;
  while ((n = rte_eth_rx_burst(port, 0, pkts, dp::kBurst)) > 0) {
    rte_pktmbuf_free_bulk(pkts, n);
    total += n;
  }
  return total;
}

void send_all(std::uint16_t port, std::vector<rte_mbuf*>& frames) {
  std::size_t done = 0;
  while (done < frames.size()) {
    done += rte_eth_tx_burst(port, 0, frames.data() + done,
                             static_cast<std::uint16_t>(std::min<std::size_t>(dp::kBurst, frames.size() - done)));
    drain(kToDut);
    drain(kFromDut);
  }
  frames.clear();
}

struct GenCounters {
  std::uint64_t bursts = 0;    // tx_burst calls
  std::uint64_t full = 0;      // ... that the DUT's ingress ring could not take whole
  std::uint64_t sent = 0;      // frames the DUT's ingress ring took
  std::uint64_t received = 0;  // frames out of the DUT's egress
  std::uint64_t stray = 0;     // frames that came back on the ingress side
};

int run_gen(const Options& o) {
  if (rte_eth_dev_count_avail() != 2) usage("gen needs exactly two EAL ports (--vdev ...)");
  rte_mempool* pool = rte_pktmbuf_pool_create("gen", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) throw std::runtime_error("cannot create the mbuf pool");
  start_port(kToDut, pool);
  start_port(kFromDut, pool);
  if (!wait_links(30)) throw std::runtime_error("the DUT did not connect within 30 s");
  // The DUT sees the links come up on its own schedule (spray polls link
  // state every 10 ms and its worker applies it at housekeeping); frames
  // announced before that are dropped on a port it still thinks is down.
  sleep_s(0.5);

  // Announce every destination from the egress side, then the source from
  // the ingress side (broadcasts: a learning switch floods them back).
  std::vector<rte_mbuf*> frames;
  for (unsigned i = 0; i < o.macs; ++i) {
    frames.push_back(make_frame(pool, Mac::broadcast(), destination(i), o.frame_bytes));
    if (frames.size() == dp::kBurst) send_all(kFromDut, frames);
  }
  send_all(kFromDut, frames);
  frames.push_back(make_frame(pool, Mac::broadcast(), kSourceHost, o.frame_bytes));
  send_all(kToDut, frames);
  for (const std::uint64_t end = rte_rdtsc() + rte_get_tsc_hz() / 5; rte_rdtsc() < end;) {
    drain(kToDut);
    drain(kFromDut);
  }

  std::vector<std::array<std::uint8_t, 6>> dst(o.macs);
  for (unsigned i = 0; i < o.macs; ++i) destination(i).store(dst[i].data());
  std::array<std::uint8_t, 6> src;
  kSourceHost.store(src.data());
  const auto len = static_cast<std::uint16_t>(o.frame_bytes - 4);

  GenCounters c, at_start;
  std::optional<std::uint64_t> dut_cpu0;
  std::uint64_t self_cpu0 = 0, t0 = 0;
  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t begin = rte_rdtsc();
  const std::uint64_t start_at = begin + static_cast<std::uint64_t>(o.warmup_s * hz);
  const std::uint64_t end_at = start_at + static_cast<std::uint64_t>(o.seconds * hz);
  bool measuring = false;
  rte_mbuf* pending[dp::kBurst];
  std::uint16_t npending = 0;
  std::size_t next_dst = 0;
  rte_mbuf* rx[dp::kBurst];

  for (;;) {
    const std::uint64_t now = rte_rdtsc();
    if (!measuring && now >= start_at) {
      measuring = true;
      at_start = c;
      t0 = now;
      dut_cpu0 = thread_cpu_ns(o.dut_pid, "rte-worker-");
      self_cpu0 = self_cpu_ns();
    } else if (measuring && now >= end_at) {
      break;
    }
    if (npending < dp::kBurst) {
      const std::uint16_t want = dp::kBurst - npending;
      if (rte_pktmbuf_alloc_bulk(pool, pending + npending, want) == 0) {
        for (std::uint16_t i = npending; i < dp::kBurst; ++i) {
          rte_mbuf* m = pending[i];
          auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, len));
          std::memcpy(p, dst[next_dst].data(), 6);
          std::memcpy(p + 6, src.data(), 6);
          wire::store_be16(p + 12, kEtherType);
          if (++next_dst == dst.size()) next_dst = 0;
        }
        npending = dp::kBurst;
      }
    }
    const std::uint16_t sent = rte_eth_tx_burst(kToDut, 0, pending, npending);
    ++c.bursts;
    c.full += sent < npending;
    c.sent += sent;
    npending -= sent;
    if (sent && npending) std::memmove(pending, pending + sent, npending * sizeof(rte_mbuf*));
    const std::uint16_t n = rte_eth_rx_burst(kFromDut, 0, rx, dp::kBurst);
    if (n) rte_pktmbuf_free_bulk(rx, n);
    c.received += n;
    const std::uint16_t back = rte_eth_rx_burst(kToDut, 0, rx, dp::kBurst);
    if (back) rte_pktmbuf_free_bulk(rx, back);
    c.stray += back;
  }
  const std::uint64_t t1 = rte_rdtsc();
  const auto dut_cpu1 = thread_cpu_ns(o.dut_pid, "rte-worker-");
  const std::uint64_t self_cpu1 = self_cpu_ns();
  if (npending) rte_pktmbuf_free_bulk(pending, npending);

  const double wall_s = static_cast<double>(t1 - t0) / static_cast<double>(hz);
  const double fwd = static_cast<double>(c.received - at_start.received);
  const double dut_cpu_s = dut_cpu0 && dut_cpu1 ? static_cast<double>(*dut_cpu1 - *dut_cpu0) / 1e9 : 0;
  const double bursts = static_cast<double>(c.bursts - at_start.bursts);
  const double sent = static_cast<double>(c.sent - at_start.sent);
  std::printf("gen frame_bytes=%u macs=%u mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f sent_mpps=%.3f "
              "ingress_full=%.2f gen_cpu_share=%.2f stray=%llu\n",
              o.frame_bytes, o.macs, fwd / wall_s / 1e6, dut_cpu_s / wall_s,
              dut_cpu_s > 0 ? fwd / dut_cpu_s / 1e6 : 0.0, sent / wall_s / 1e6,
              bursts > 0 ? static_cast<double>(c.full - at_start.full) / bursts : 0.0,
              static_cast<double>(self_cpu1 - self_cpu0) / 1e9 / wall_s,
              static_cast<unsigned long long>(c.stray - at_start.stray));
  std::fflush(stdout);
  // Stay connected, not polling, until the DUT is gone: a memif peer that
  // disconnects under a polling DUT can crash it (DPDK 22.11 unmaps the
  // shared regions while the DUT's rx/tx may still be reading them).
  for (int i = 0; i < 600 && kill(o.dut_pid, 0) == 0; ++i) sleep_s(0.05);
  for (std::uint16_t p : {kToDut, kFromDut}) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  return dut_cpu0 ? 0 : 1;
}

}  // namespace
}  // namespace spray::bench

int main(int argc, char** argv) {
  using namespace spray::bench;
  std::vector<char*> eal_argv;
  const Options o = parse(argc, argv, eal_argv);
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "switch_bench: EAL initialisation failed (EAL arguments after --)\n");
    return 1;
  }
  int rc = 1;
  try {
    rc = o.mode == "ring" ? run_ring(o) : run_gen(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switch_bench %s: %s\n", o.mode.c_str(), e.what());
  }
  rte_eal_cleanup();
  return rc;
}
