// SPDX-License-Identifier: BSD-3-Clause
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
//   switch_bench l3 [OPTIONS] -- EAL-ARGS
//     The same loop with both ports routed (tor::L3Router through
//     dp::SwitchPipeline): a 10.0.0.1/24 on the ingress, b 10.1.0.1/24 with
//     --ways next hops 10.1.0.2.. on its subnet, and --routes /24 routes in
//     20/8, each over all the next hops (one ECMP group). Every frame is a
//     UDP datagram to one of the routes, routed out of b and back in on a.
//     Measures the per-frame CPU cost of routing.
//
//   switch_bench routes [--routes N] [--ways N]
//     Prints the l3 mode's interfaces and routes as `spray switch` options,
//     one a line, for a spray switch DUT that gen --l3 router drives.
//
//   switch_bench gen [OPTIONS] -- EAL-ARGS
//     Traffic source and sink for a device under test in another process:
//     EAL port 0 feeds the DUT's ingress, EAL port 1 drains its egress.
//     Frames go one way, from one source MAC to 1..N destination MACs that
//     were first announced (learned) from the egress side, which testpmd's
//     flowgen cannot do: it sends on every port with one fixed MAC pair.
//     After the window it prints its result and waits, connected but idle,
//     until the DUT process has exited (the caller stops it).
//     With --l3 the frames are the l3 mode's UDP datagrams to the router's
//     MAC on the ingress: `router` asks the DUT for that MAC (ARP for
//     10.0.0.1) and answers its ARP requests for the next hops on the egress
//     side first (a spray switch with the l3 mode's interfaces and routes);
//     `blind` skips both (testpmd io, which forwards without looking).
//
// ring, l3 and gen print one line of key=value results on stdout. mpps is wall clock;
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
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/switch_pipeline.h"
#include "dataplane/ring_link.h"
#include "dataplane/worker.h"
#include "tor/l2_config.h"
#include "tor/switch_config.h"
#include "wire/arp.h"
#include "wire/ether.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

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
  unsigned routes = 1000;      // l3: /24 routes, all over the same next hops
  unsigned ways = 8;           // l3: next hops of every route (the ECMP group's size)
  std::string gen_l3;          // gen: "" (L2 frames), "router" or "blind" (routed UDP)
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "switch_bench: %s\n"
               "usage: switch_bench ring|gen|l3|routes [--frame-bytes 64..1518] [--macs N] [--seconds S]\n"
               "                                       [--warmup S] [--inflight N] [--dut-pid PID]\n"
               "                                       [--routes 1..65536] [--ways 1..64] [--l3 router|blind]\n"
               "                                       -- EAL-ARGS\n",
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
  if (o.mode != "ring" && o.mode != "gen" && o.mode != "l3" && o.mode != "routes")
    usage("the first argument is ring, gen, l3 or routes");
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
    else if (flag == "--routes") o.routes = number<unsigned>(flag, v);
    else if (flag == "--ways") o.ways = number<unsigned>(flag, v);
    else if (flag == "--l3") o.gen_l3 = v;
    else usage("unknown option " + std::string(flag));
  }
  if (o.frame_bytes < 64 || o.frame_bytes > 1518) usage("--frame-bytes: accepted 64..1518");
  if (o.macs < 1 || o.macs > 1'000'000) usage("--macs: accepted 1..1000000");
  if (o.seconds <= 0 || o.warmup_s < 0) usage("--seconds must be > 0 and --warmup >= 0");
  if (o.inflight == 0 || o.inflight % dp::kBurst != 0 || o.inflight > 960)
    usage("--inflight: a multiple of 32 up to 960 (partial bursts would wait for the tx drain timer)");
  if (o.mode == "gen" && o.dut_pid <= 0) usage("gen needs --dut-pid");
  // 20.x.y.0/24 for distinct x.y: 65536 of them.
  if (o.routes < 1 || o.routes > 65536) usage("--routes: accepted 1..65536");
  if (o.ways < 1 || o.ways > tor::kMaxEcmpWays) usage("--ways: accepted 1..64");
  if (!o.gen_l3.empty() && o.mode != "gen") usage("--l3 is a gen option (" + o.mode + " given)");
  if (!o.gen_l3.empty() && o.gen_l3 != "router" && o.gen_l3 != "blind")
    usage("--l3 '" + o.gen_l3 + "': accepted router or blind");
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

// What the worker forwarded in the measured window.
struct Window {
  double wall_s = 0;
  double frames = 0;
  double cpu_s = 0;  // run time of the worker thread
  std::uint64_t tx_dropped = 0;

  std::string rates() const {
    char buf[128];
    std::snprintf(buf, sizeof buf, "mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f", frames / wall_s / 1e6,
                  cpu_s / wall_s, cpu_s > 0 ? frames / cpu_s / 1e6 : 0.0);
    return buf;
  }
};

// Runs `pipe` as `spray switch` does (dp::Worker in poll mode on `lcore`,
// receiving on both ports of `link`) through the warm-up and the window.
Window run_loop(const Options& o, unsigned lcore, dp::SwitchPipeline& pipe, const dp::RingLink& link,
                const dp::TscClock& clock) {
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
  return {wall_s, frames, cpu_s, worker.final_counters().tx_dropped};
}

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

  const Window w = run_loop(o, lcore, pipe, link, clock);
  const tor::L2Stats s = pipe.snapshot();
  const auto counter = [&](tor::L2Counter c) { return s.counters[static_cast<std::size_t>(c)]; };
  std::uint64_t drops = 0;
  for (auto d : s.drops) drops += d;
  const std::uint64_t hairpins = o.macs + 1u;  // the pre-learning frames
  std::printf("ring frame_bytes=%u macs=%u inflight=%u %s "
              "forwarded=%llu flooded=%llu drops=%llu tx_dropped=%llu\n",
              o.frame_bytes, o.macs, o.inflight, w.rates().c_str(),
              static_cast<unsigned long long>(counter(tor::L2Counter::kForwarded)),
              static_cast<unsigned long long>(counter(tor::L2Counter::kFlooded)),
              static_cast<unsigned long long>(drops - hairpins),
              static_cast<unsigned long long>(w.tx_dropped));
  for (std::uint16_t p : ids) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  return counter(tor::L2Counter::kFlooded) == 0 && drops == hairpins ? 0 : 1;
}

// ---------------------------------------------------------------------------
// l3

constexpr Mac kRouterA{0x02000000aa01ULL};  // the router's MAC on port a (routed ingress)
constexpr Mac kRouterB{0x02000000bb01ULL};  // ... on port b (the next hops' side)
constexpr Mac kHost{0x020000000002ULL};     // the sender behind a
constexpr std::uint32_t kAddrA = 0x0a000001;     // 10.0.0.1/24
constexpr std::uint32_t kHostAddr = 0x0a000002;  // 10.0.0.2
constexpr std::uint32_t kAddrB = 0x0a010001;     // 10.1.0.1/24; next hops 10.1.0.2 and on
constexpr std::uint16_t kDstPort = 4791;

// The IPv4 and UDP headers of one datagram as the sender wrote it (TTL 64,
// IPv4 checksum valid, UDP checksum 0: none): what follows the Ethernet
// header in every frame of the l3 mode and of gen --l3.
struct alignas(8) L3Header {
  std::uint8_t bytes[wire::kIpv4MinHdrLen + wire::kUdpHdrLen];
};

// Turns each frame the router sent out of b back into one the sender behind
// a would send: the next of a table of datagrams to random hosts in random
// routes from random UDP source ports, TTL 64 again (the router decremented
// it). The Ethernet destination needs no rewrite: the next hops answered ARP
// with the router's own MAC on a, so routed frames come back addressed to it.
// Runs inside rx_burst on the router's lcore: its cost is charged to the
// router.
struct HeaderRotor {
  std::vector<L3Header> headers;  // a power of two
  std::size_t next = 0;

  static std::uint16_t on_rx(std::uint16_t, std::uint16_t, rte_mbuf** pkts, std::uint16_t n,
                             std::uint16_t, void* self) {
    auto* r = static_cast<HeaderRotor*>(self);
    const std::size_t mask = r->headers.size() - 1;
    for (std::uint16_t i = 0; i < n; ++i) {
      std::memcpy(rte_pktmbuf_mtod(pkts[i], std::uint8_t*) + wire::kEthHdrLen, r->headers[r->next].bytes,
                  sizeof r->headers[0].bytes);
      r->next = (r->next + 1) & mask;
    }
    return n;
  }
};

tor::SwitchConfig l3_config(const Options& o) {
  tor::SwitchConfig c;
  c.l2.hash_seed = rte_rand();
  c.l2.ports.resize(2);
  c.l2.ports[0].name = "a";
  c.l2.ports[1].name = "b";
  c.l3.interfaces = {{0, {kAddrA, 24}, kRouterA}, {1, {kAddrB, 24}, kRouterB}};
  c.l3.ecmp_seed = rte_rand();
  // No refresh within any window we measure (the next hops do not answer
  // requests: what the router sends on b comes back on a).
  c.l3.arp_reachable_ns = 3600'000'000'000ULL;
  std::vector<std::uint32_t> hops;
  for (unsigned k = 0; k < o.ways; ++k) hops.push_back(kAddrB + 1 + k);
  // Distinct 20.x.y.0/24, the same list in every run.
  std::vector<std::uint32_t> xy(65536);
  for (std::uint32_t i = 0; i < xy.size(); ++i) xy[i] = i;
  std::mt19937_64 rng(1);
  std::shuffle(xy.begin(), xy.end(), rng);
  for (unsigned r = 0; r < o.routes; ++r) c.l3.routes.push_back({{(20u << 24) | (xy[r] << 8), 24}, hops});
  return c;
}

std::vector<L3Header> l3_headers(const Options& o, const tor::SwitchConfig& c, std::size_t count) {
  std::vector<L3Header> out(count);
  std::mt19937_64 rng(2);
  const std::size_t payload = o.frame_bytes - 4 - wire::kEthHdrLen - wire::kIpv4MinHdrLen;
  for (L3Header& h : out) {
    wire::Ipv4Fields f;
    f.src = kHostAddr;
    f.dst = c.l3.routes[rng() % c.l3.routes.size()].prefix.addr | static_cast<std::uint32_t>(1 + rng() % 254);
    f.ttl = wire::kIpv4DefaultTtl;
    wire::write_ipv4(h.bytes, f, payload);
    wire::write_udp({h.bytes + wire::kIpv4MinHdrLen, wire::kUdpHdrLen},
                    static_cast<std::uint16_t>(49152 + rng() % 16384), kDstPort, payload - wire::kUdpHdrLen);
  }
  return out;
}

// A frame from the sender to the router; the payload is whatever the buffer
// held (nothing reads it).
rte_mbuf* make_l3_frame(rte_mempool* pool, const L3Header& h, unsigned frame_bytes) {
  rte_mbuf* m = make_frame(pool, kRouterA, kHost, frame_bytes);
  auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
  wire::store_be16(p + 12, wire::kEtherTypeIpv4);
  std::memcpy(p + wire::kEthHdrLen, h.bytes, sizeof h.bytes);
  return m;
}

int run_l3(const Options& o) {
  const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  if (lcore >= RTE_MAX_LCORE) usage("l3 needs a worker lcore besides the main one (EAL --lcores)");
  rte_mempool* pool = rte_pktmbuf_pool_create("bench", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(rte_socket_id()));
  if (!pool) throw std::runtime_error("cannot create the mbuf pool");
  const dp::RingLink link = dp::make_ring_link("bench-a", "bench-b", 1, kDescriptors);
  start_port(link.a, pool);
  start_port(link.b, pool);
  const std::uint16_t ids[2] = {link.a, link.b};  // switch port 0 = a, 1 = b

  const tor::SwitchConfig cfg = l3_config(o);
  const dp::TscClock clock(rte_get_tsc_hz());
  dp::SwitchPipeline pipe(cfg, pool, clock);

  // Resolve the next hops through the pipeline: its first poll asks for
  // them (the requests go out on b and come back on a, where they are
  // thrown away here), then each answers with the router's MAC on a.
  dp::TxBuffers tx;
  tx.init(2, ids, 0);
  pipe.poll(tx, rte_rdtsc());
  tx.flush();
  rte_mbuf* burst[dp::kBurst];
  for (std::uint16_t n; (n = rte_eth_rx_burst(link.a, 0, burst, dp::kBurst)) > 0;) rte_pktmbuf_free_bulk(burst, n);
  std::uint16_t replies = 0;
  for (unsigned k = 0; k < o.ways; ++k) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) throw std::runtime_error("mbuf pool exhausted");
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
    std::memset(p, 0, 60);
    wire::build_arp_reply({p, 60}, kRouterA, kAddrB + 1 + k, kRouterB, kAddrB);
    burst[replies++] = m;
    if (replies == dp::kBurst || k + 1 == o.ways) {
      pipe.rx(tx, 1, burst, replies, rte_rdtsc());
      replies = 0;
    }
  }
  tx.flush();
  const tor::L3Stats before = pipe.l3_snapshot();
  const auto l3_counter = [](const tor::L3Stats& s, tor::L3Counter c) {
    return s.counters[static_cast<std::size_t>(c)];
  };
  if (l3_counter(before, tor::L3Counter::kArpRepliesLearned) != o.ways)
    throw std::runtime_error("ARP resolved " + std::to_string(l3_counter(before, tor::L3Counter::kArpRepliesLearned)) +
                             " next hops, expected " + std::to_string(o.ways));

  HeaderRotor rotor;
  rotor.headers = l3_headers(o, cfg, 4096);
  for (unsigned i = 0; i < o.inflight; ++i) {
    rte_mbuf* m = make_l3_frame(pool, rotor.headers[i], o.frame_bytes);
    if (rte_eth_tx_burst(link.b, 0, &m, 1) != 1) throw std::runtime_error("cannot inject frames");
  }
  rotor.next = o.inflight;
  if (!rte_eth_add_rx_callback(link.a, 0, &HeaderRotor::on_rx, &rotor))
    throw std::runtime_error("rte_eth_add_rx_callback failed");

  const Window w = run_loop(o, lcore, pipe, link, clock);

  const tor::L3Stats s = pipe.l3_snapshot();
  const std::uint64_t forwarded = l3_counter(s, tor::L3Counter::kForwarded);
  const std::uint64_t ecmp = l3_counter(s, tor::L3Counter::kEcmpForwarded);
  std::uint64_t drops = 0;
  for (std::size_t i = 0; i < tor::kL3DropCount; ++i) drops += s.drops[i] - before.drops[i];
  std::printf("l3 frame_bytes=%u routes=%u ways=%u inflight=%u %s forwarded=%llu ecmp_forwarded=%llu "
              "drops=%llu tx_dropped=%llu\n",
              o.frame_bytes, o.routes, o.ways, o.inflight, w.rates().c_str(),
              static_cast<unsigned long long>(forwarded), static_cast<unsigned long long>(ecmp),
              static_cast<unsigned long long>(drops), static_cast<unsigned long long>(w.tx_dropped));
  for (std::uint16_t p : ids) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  // Every frame routed, and through the ECMP group when it has more than one member.
  return drops == 0 && forwarded > 0 && (o.ways == 1 || ecmp == forwarded) ? 0 : 1;
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


// gen --l3 router: the host side of the DUT's ARP. Asks for the router's
// address on the ingress and answers, on the egress, the router's requests
// for its next hops (all of them at kNextHopMac). Returns the router's MAC.
constexpr Mac kNextHopMac{0x020000000003ULL};

Mac resolve_router(const Options& o, rte_mempool* pool) {
  std::vector<bool> answered(o.ways, false);
  unsigned left = o.ways;
  std::optional<Mac> router;
  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t give_up = rte_rdtsc() + 10 * hz;
  std::uint64_t next_ask = 0, done_at = 0;
  auto send = [&](std::uint16_t port, auto&& build) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) throw std::runtime_error("mbuf pool exhausted");
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
    std::memset(p, 0, 60);
    build(std::span<std::uint8_t>{p, 60});
    if (rte_eth_tx_burst(port, 0, &m, 1) != 1) rte_pktmbuf_free(m);
  };
  rte_mbuf* rx[dp::kBurst];
  for (;;) {
    const std::uint64_t now = rte_rdtsc();
    if (router && left == 0 && !done_at) done_at = now + hz / 5;  // then answer repeats a little longer
    if (done_at && now >= done_at) return *router;
    if (now >= give_up)
      throw std::runtime_error(router ? "the DUT asked for " + std::to_string(o.ways - left) + " of its " +
                                            std::to_string(o.ways) + " next hops within 10 s (routes over 10.1.0.2.."
                                            " on an interface 10.1.0.1/24 on the egress port?)"
                                      : std::string("no ARP answer for 10.0.0.1 on the ingress port within 10 s"));
    if (!router && now >= next_ask) {
      send(kToDut, [](std::span<std::uint8_t> f) { wire::build_arp_request(f, kHost, kHostAddr, kAddrA); });
      next_ask = now + hz / 10;
    }
    for (const std::uint16_t port : {kToDut, kFromDut}) {
      const std::uint16_t n = rte_eth_rx_burst(port, 0, rx, dp::kBurst);
      for (std::uint16_t i = 0; i < n; ++i) {
        const auto* f = rte_pktmbuf_mtod(rx[i], const std::uint8_t*);
        wire::ArpView a;
        if (rx[i]->data_len >= wire::kEthHdrLen && wire::load_be16(f + 12) == wire::kEtherTypeArp &&
            wire::parse_arp({f + wire::kEthHdrLen, rx[i]->data_len - wire::kEthHdrLen}, a) == wire::WireError::kOk) {
          if (port == kToDut && a.op == wire::ArpOp::kReply && a.spa == kAddrA) {
            router = a.sha;
          } else if (port == kFromDut && a.op == wire::ArpOp::kRequest && a.tpa > kAddrB && a.tpa <= kAddrB + o.ways) {
            const std::uint32_t k = a.tpa - kAddrB - 1;
            if (!answered[k]) answered[k] = true, --left;
            const Mac asker = a.sha;
            const std::uint32_t asker_ip = a.spa, target = a.tpa;
            send(kFromDut, [&](std::span<std::uint8_t> out) {
              wire::build_arp_reply(out, kNextHopMac, target, asker, asker_ip);
            });
          }
        }
      }
      if (n) rte_pktmbuf_free_bulk(rx, n);
    }
  }
}

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

  Mac router = kRouterA;
  if (o.gen_l3.empty()) {
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
  } else if (o.gen_l3 == "router") {
    router = resolve_router(o, pool);
  }
  std::vector<L3Header> headers;
  if (!o.gen_l3.empty()) headers = l3_headers(o, l3_config(o), 4096);
  std::array<std::uint8_t, 6> router_mac;
  router.store(router_mac.data());

  std::vector<std::array<std::uint8_t, 6>> dst(o.macs);
  for (unsigned i = 0; i < o.macs; ++i) destination(i).store(dst[i].data());
  std::array<std::uint8_t, 6> src;
  (o.gen_l3.empty() ? kSourceHost : kHost).store(src.data());
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
          if (headers.empty()) {
            std::memcpy(p, dst[next_dst].data(), 6);
            std::memcpy(p + 6, src.data(), 6);
            wire::store_be16(p + 12, kEtherType);
            if (++next_dst == dst.size()) next_dst = 0;
          } else {
            std::memcpy(p, router_mac.data(), 6);
            std::memcpy(p + 6, src.data(), 6);
            wire::store_be16(p + 12, wire::kEtherTypeIpv4);
            std::memcpy(p + wire::kEthHdrLen, headers[next_dst].bytes, sizeof headers[0].bytes);
            next_dst = (next_dst + 1) & (headers.size() - 1);
          }
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
  std::printf("gen frame_bytes=%u macs=%u l3=%s mpps=%.3f cpu_share=%.2f mpps_per_cpu=%.3f sent_mpps=%.3f "
              "ingress_full=%.2f gen_cpu_share=%.2f stray=%llu\n",
              o.frame_bytes, o.macs, o.gen_l3.empty() ? "no" : o.gen_l3.c_str(), fwd / wall_s / 1e6, dut_cpu_s / wall_s,
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
  if (o.mode == "routes") {
    const spray::tor::SwitchConfig c = l3_config(o);
    for (const auto& i : c.l3.interfaces)
      std::printf("--interface\n%s=%s\n", c.l2.ports[i.port].name.c_str(), spray::wire::format_ipv4_prefix(i.addr).c_str());
    for (const auto& r : c.l3.routes) {
      std::printf("--route\n%s=", spray::wire::format_ipv4_prefix(r.prefix).c_str());
      for (std::size_t k = 0; k < r.next_hops.size(); ++k)
        std::printf("%s%s", k ? "," : "", spray::wire::format_ipv4(r.next_hops[k]).c_str());
      std::printf("\n");
    }
    return 0;
  }
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "switch_bench: EAL initialisation failed (EAL arguments after --)\n");
    return 1;
  }
  int rc = 1;
  try {
    rc = o.mode == "ring" ? run_ring(o) : o.mode == "l3" ? run_l3(o) : run_gen(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switch_bench %s: %s\n", o.mode.c_str(), e.what());
  }
  rte_eal_cleanup();
  return rc;
}
