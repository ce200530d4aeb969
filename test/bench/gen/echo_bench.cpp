// SPDX-License-Identifier: BSD-3-Clause
// Raw DPDK echo: the reference for `spray gen` <-> `spray respond`
// (doc/protocol.md section 7, T1 and T2; doc/benchmarks.md "Generator and
// responder"). tools/bench/gen.sh drives it.
//
//   echo_bench ring [OPTIONS] -- EAL-ARGS
//     One process, two lcores: the client on the main lcore, a MAC-swap
//     reflector (what testpmd --forward-mode=macswap does: swap the Ethernet
//     addresses, send back on the port it came in on) on the first worker
//     lcore, joined by a net_ring link (dp::make_ring_link). testpmd cannot
//     share a process with us, so on rings this reflector stands in for it.
//
//   echo_bench port [OPTIONS] -- EAL-ARGS
//     The client alone, on EAL port 0 (e.g. a memif client), against a
//     reflector in another process (testpmd --forward-mode=macswap). After
//     its result it waits, connected and idle, until --peer-pid has exited.
//
// The client keeps --window frames of --frame-bytes in flight (closed loop):
// each carries the TSC at which it was handed to tx_burst; when it comes
// back, its round trip is recorded and the same mbuf goes out again with a
// new timestamp. No allocation in the loop. It prints one line of key=value:
// round trips per second (the reflector's pps) and the round-trip time's
// median and 99th percentile, exact to the nanosecond up to 1 ms.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/ring_link.h"
#include "wire/ether.h"

namespace spray::bench {
namespace {

using wire::Mac;

constexpr Mac kClient{0x020000000001ULL};
constexpr Mac kReflector{0x020000000002ULL};
constexpr std::uint16_t kEtherType = 0x88b5;  // IEEE local experimental
constexpr std::uint16_t kDescriptors = 1024;
constexpr std::uint16_t kBurst = 32;
constexpr std::size_t kStampOffset = 14;  // the TSC at transmit, after the Ethernet header
constexpr std::uint32_t kHistogramNs = 1'000'000;  // 1 ns buckets up to 1 ms, then one overflow

struct Options {
  std::string mode;
  unsigned window = 1;
  unsigned frame_bytes = 64;  // on the wire, FCS included
  double seconds = 5;
  double warmup_s = 1;
  int peer_pid = 0;  // port: the reflector's process, waited for before disconnecting
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "echo_bench: %s\n"
               "usage: echo_bench ring|port [--window N] [--frame-bytes 64..1518] [--seconds S] [--warmup S]"
               " [--peer-pid PID] -- EAL-ARGS\n",
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

Options parse(int argc, char** argv, std::vector<char*>& eal_argv) {
  Options o;
  int i = 1;
  if (i < argc) o.mode = argv[i++];
  if (o.mode != "ring" && o.mode != "port") usage("the first argument is ring or port");
  for (; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    const std::string_view v = argv[++i];
    if (flag == "--window") o.window = number<unsigned>(flag, v);
    else if (flag == "--frame-bytes") o.frame_bytes = number<unsigned>(flag, v);
    else if (flag == "--seconds") o.seconds = number<double>(flag, v);
    else if (flag == "--warmup") o.warmup_s = number<double>(flag, v);
    else if (flag == "--peer-pid") o.peer_pid = number<int>(flag, v);
    else usage("unknown option " + std::string(flag));
  }
  if (o.window < 1 || o.window > 512) usage("--window: accepted 1..512");
  if (o.frame_bytes < 64 || o.frame_bytes > 1518) usage("--frame-bytes: accepted 64..1518");
  if (o.seconds <= 0 || o.warmup_s < 0) usage("--seconds must be > 0 and --warmup >= 0");
  eal_argv.push_back(argv[0]);
  for (++i; i < argc; ++i) eal_argv.push_back(argv[i]);
  return o;
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

bool wait_link(std::uint16_t port, double timeout_s) {
  for (double waited = 0; waited < timeout_s; waited += 0.05) {
    rte_eth_link l{};
    rte_eth_link_get_nowait(port, &l);
    if (l.link_status) return true;
    sleep_s(0.05);
  }
  return false;
}

// ---------------------------------------------------------------------------
// reflector (ring mode): testpmd's macswap on one port

struct Reflector {
  std::uint16_t port = 0;
  std::atomic<bool> stop{false};

  static int run(void* self) {
    auto* r = static_cast<Reflector*>(self);
    rte_mbuf* pkts[kBurst];
    while (!r->stop.load(std::memory_order_relaxed)) {
      const std::uint16_t n = rte_eth_rx_burst(r->port, 0, pkts, kBurst);
      if (n == 0) continue;
      for (std::uint16_t i = 0; i < n; ++i) {
        auto* p = rte_pktmbuf_mtod(pkts[i], std::uint8_t*);
        std::uint8_t tmp[6];
        std::memcpy(tmp, p, 6);
        std::memcpy(p, p + 6, 6);
        std::memcpy(p + 6, tmp, 6);
      }
      std::uint16_t sent = 0;
      while (sent < n) sent += rte_eth_tx_burst(r->port, 0, pkts + sent, n - sent);
    }
    return 0;
  }
};

// ---------------------------------------------------------------------------
// client

struct Result {
  double round_trips_per_s = 0;
  double p50_ns = 0, p99_ns = 0, max_ns = 0;
  std::uint64_t samples = 0;
  std::uint64_t refills = 0;  // windows re-sent after 50 ms of silence (frames lost)
};

double percentile(const std::vector<std::uint64_t>& hist, std::uint64_t total, double q) {
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < hist.size(); ++i) {
    seen += hist[i];
    if (seen > rank) return static_cast<double>(i);
  }
  return static_cast<double>(hist.size());
}

Result run_client(const Options& o, std::uint16_t port, rte_mempool* pool) {
  const auto len = static_cast<std::uint16_t>(o.frame_bytes - 4);
  const std::uint64_t hz = rte_get_tsc_hz();
  const double ns_per_tick = 1e9 / static_cast<double>(hz);
  std::vector<std::uint64_t> hist(kHistogramNs + 1);
  std::vector<rte_mbuf*> window(o.window);

  auto stamp = [](rte_mbuf* m, std::uint64_t tsc) {
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::write_eth({p, 14}, kReflector, kClient, kEtherType);
    std::memcpy(p + kStampOffset, &tsc, sizeof tsc);
  };
  auto fill = [&]() {
    if (rte_pktmbuf_alloc_bulk(pool, window.data(), o.window) != 0) throw std::runtime_error("mbuf pool exhausted");
    for (rte_mbuf* m : window) {
      rte_pktmbuf_append(m, len);
      stamp(m, rte_rdtsc());
    }
    std::uint16_t sent = 0;
    while (sent < o.window) sent += rte_eth_tx_burst(port, 0, window.data() + sent, o.window - sent);
  };

  Result r;
  fill();
  const std::uint64_t start_at = rte_rdtsc() + static_cast<std::uint64_t>(o.warmup_s * hz);
  const std::uint64_t end_at = start_at + static_cast<std::uint64_t>(o.seconds * hz);
  const std::uint64_t silence = hz / 20;
  std::uint64_t last_rx = rte_rdtsc(), round_trips = 0, max_ticks = 0;
  bool measuring = false;
  rte_mbuf* pkts[kBurst];
  for (;;) {
    const std::uint16_t n = rte_eth_rx_burst(port, 0, pkts, kBurst);
    const std::uint64_t now = rte_rdtsc();
    if (n == 0) {
      if (now >= end_at) break;
      if (now - last_rx > silence) {  // the window was lost (e.g. before the reflector ran)
        ++r.refills;
        fill();
        last_rx = rte_rdtsc();
      }
      continue;
    }
    last_rx = now;
    if (!measuring && now >= start_at) measuring = true;
    for (std::uint16_t i = 0; i < n; ++i) {
      std::uint64_t sent_at;
      std::memcpy(&sent_at, rte_pktmbuf_mtod(pkts[i], std::uint8_t*) + kStampOffset, sizeof sent_at);
      if (measuring) {
        const std::uint64_t ticks = now - sent_at;
        max_ticks = std::max(max_ticks, ticks);
        ++hist[std::min<std::uint64_t>(static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick),
                                       kHistogramNs)];
      }
    }
    round_trips += measuring ? n : 0;
    if (measuring && now >= end_at) {
      rte_pktmbuf_free_bulk(pkts, n);
      break;
    }
    const std::uint64_t tx_at = rte_rdtsc();
    for (std::uint16_t i = 0; i < n; ++i) stamp(pkts[i], tx_at);
    std::uint16_t sent = 0;
    while (sent < n) sent += rte_eth_tx_burst(port, 0, pkts + sent, n - sent);
  }
  const double window_s = static_cast<double>(rte_rdtsc() - start_at) / static_cast<double>(hz);
  r.samples = round_trips;
  r.round_trips_per_s = static_cast<double>(round_trips) / window_s;
  if (round_trips) {
    r.p50_ns = percentile(hist, round_trips, 0.50);
    r.p99_ns = percentile(hist, round_trips, 0.99);
  }
  r.max_ns = static_cast<double>(max_ticks) * ns_per_tick;
  return r;
}

void print(const Options& o, const Result& r) {
  std::printf("echo link=%s window=%u frame_bytes=%u rate_mpps=%.3f rtt_p50_us=%.3f rtt_p99_us=%.3f "
              "rtt_max_us=%.1f samples=%llu refills=%llu\n",
              o.mode.c_str(), o.window, o.frame_bytes, r.round_trips_per_s / 1e6, r.p50_ns / 1e3, r.p99_ns / 1e3,
              r.max_ns / 1e3, static_cast<unsigned long long>(r.samples),
              static_cast<unsigned long long>(r.refills));
  std::fflush(stdout);
}

rte_mempool* make_pool() {
  rte_mempool* pool = rte_pktmbuf_pool_create("echo", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) throw std::runtime_error("cannot create the mbuf pool");
  return pool;
}

int run_ring(const Options& o) {
  const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  if (lcore >= RTE_MAX_LCORE) usage("ring needs a worker lcore besides the main one (EAL --lcores)");
  rte_mempool* pool = make_pool();
  const dp::RingLink link = dp::make_ring_link("echo-a", "echo-b", 1, kDescriptors);
  start_port(link.a, pool);
  start_port(link.b, pool);
  Reflector reflector;
  reflector.port = link.b;
  rte_eal_remote_launch(&Reflector::run, &reflector, lcore);
  const Result r = run_client(o, link.a, pool);
  reflector.stop.store(true, std::memory_order_relaxed);
  rte_eal_wait_lcore(lcore);
  print(o, r);
  for (std::uint16_t p : {link.a, link.b}) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  return r.samples ? 0 : 1;
}

int run_port(const Options& o) {
  if (rte_eth_dev_count_avail() != 1) usage("port needs exactly one EAL port (--vdev ...)");
  rte_mempool* pool = make_pool();
  start_port(0, pool);
  if (!wait_link(0, 30)) throw std::runtime_error("port 0: no link within 30 s (is the reflector running?)");
  sleep_s(0.2);  // the peer sees the link on its own schedule
  const Result r = run_client(o, 0, pool);
  print(o, r);
  // Stay connected, not polling, until the reflector is gone: a memif peer
  // that disconnects under a polling process can crash it (DPDK 22.11, see
  // doc/benchmarks.md, "Known problem: memif peers going away").
  for (int i = 0; o.peer_pid > 0 && i < 600 && kill(o.peer_pid, 0) == 0; ++i) sleep_s(0.05);
  rte_eth_dev_stop(0);
  rte_eth_dev_close(0);
  return r.samples ? 0 : 1;
}

}  // namespace
}  // namespace spray::bench

int main(int argc, char** argv) {
  using namespace spray::bench;
  std::vector<char*> eal_argv;
  const Options o = parse(argc, argv, eal_argv);
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "echo_bench: EAL initialisation failed (EAL arguments after --)\n");
    return 1;
  }
  int rc = 1;
  try {
    rc = o.mode == "ring" ? run_ring(o) : run_port(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_bench %s: %s\n", o.mode.c_str(), e.what());
  }
  rte_eal_cleanup();
  return rc;
}
