// SPDX-License-Identifier: BSD-3-Clause
// sim_speed: how fast the simulator runs a scenario, and a fingerprint of
// what the scenario did.
//
//   sim_speed [--seed N] [--seconds S] [--counters] [msgs] [bulk]
//
// msgs: one connection over 8 paths (8 x 12.5 Gb/s, 2 us one way),
//       100,000 messages/s of 1,400 B (Poisson arrivals) for S virtual
//       seconds (default 10): the scenario doc/simulator.md "Speed" quotes.
// bulk: one connection over 16 paths of 6.25 Gb/s (100 Gb/s), 64 KB
//       messages, 16 outstanding, for S/100 virtual seconds (100 ms by
//       default): the transport at line rate.
//
// Prints, per scenario: virtual seconds, packets emitted by the hosts,
// simulator events, wall seconds and ns per event. --counters adds every
// counter the run produced (ledger, connection, endpoints, hosts, links,
// latency quantiles, a hash of the completion samples): two builds that
// agree on them ran the same simulation, which is how a change to the
// simulator shows it kept results. Wall time is the only machine-dependent
// line. Not a test: `meson test --benchmark --suite sim` or run it directly.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "scenario.h"

namespace {

using namespace spray::sim;
using ull = unsigned long long;

constexpr Nanos kS = 1'000'000'000;

struct Spec {
  const char* name;
  PairOptions opts;
  Nanos virtual_ns;
};

Spec msgs_spec(std::uint64_t seed, double seconds) {
  Spec s{"msgs", {}, static_cast<Nanos>(seconds * 1e9)};
  s.opts.seed = seed;
  s.opts.paths = 8;
  s.opts.flow.msg_bytes = 1400;
  s.opts.flow.window = 16;
  s.opts.flow.mean_gap_ns = 10'000;  // 100,000 messages/s
  s.opts.flow.stop_ns = s.virtual_ns;
  return s;
}

Spec bulk_spec(std::uint64_t seed, double seconds) {
  Spec s{"bulk", {}, static_cast<Nanos>(seconds * 1e9 / 100)};
  s.opts.seed = seed;
  s.opts.paths = 16;
  s.opts.flow.msg_bytes = 64 * 1024;
  s.opts.flow.window = 16;
  s.opts.flow.stop_ns = s.virtual_ns;
  return s;
}

// FNV-1a over the values, in order.
std::uint64_t fnv(const std::vector<std::uint64_t>& v) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::uint64_t x : v)
    for (int i = 0; i < 8; ++i) {
      h ^= (x >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  return h;
}

void print_counters(PairScenario& s) {
  const Ledger& l = s.ledger;
  std::printf("  ledger: sent %llu received %llu dup %llu corrupt %llu unknown %llu delivered %llu failed %llu "
              "delivered_not_received %llu missing %llu\n",
              ull(l.sent_count()), ull(l.received_unique()), ull(l.duplicates()), ull(l.corrupt()),
              ull(l.unknown()), ull(l.delivered_reports()), ull(l.failed_reports()),
              ull(l.delivered_not_received()), ull(l.missing()));
  const LogHistogram& ow = l.one_way_ns();
  std::printf("  one-way ns: n %llu min %llu p50 %llu p99 %llu max %llu mean %.3f\n", ull(ow.count()),
              ull(ow.min()), ull(ow.quantile(0.5)), ull(ow.quantile(0.99)), ull(ow.max()), ow.mean());
  const MessageApp& tx = s.sender();
  const LogHistogram& c = tx.completion_ns();
  std::printf("  completion ns: n %llu p50 %llu p99 %llu max %llu mean %.3f samples-hash %016llx\n",
              ull(c.count()), ull(c.quantile(0.5)), ull(c.quantile(0.99)), ull(c.max()), c.mean(),
              ull(fnv(tx.completion_samples())));
  std::printf("  goodput bytes: tx %llu rx %llu; send rejects %llu\n", ull(tx.tx_goodput().total_bytes()),
              ull(s.receiver().rx_goodput().total_bytes()), ull(tx.send_rejects()));
  const spray::srd::ConnStats cs = s.conn_stats();
  std::printf("  conn:");
  for (std::size_t i = 0; i < std::size(spray::srd::kConnCounterInfo); ++i)
    std::printf(" %s=%llu", spray::srd::kConnCounterInfo[i].name, ull(spray::srd::counter_at(cs.counters, i)));
  std::printf(" srtt=%llu cwnd=%.6f\n", ull(cs.srtt_ns), cs.cwnd_pkts);
  for (std::uint32_t node : {s.topo.a, s.topo.b}) {
    const Host& h = s.sim.host(node);
    std::printf("  host %s: rx %llu/%llu B tx %llu/%llu B wakes %llu stuck %llu csum %llu\n", h.name.c_str(),
                ull(h.stats.rx_pkts), ull(h.stats.rx_bytes), ull(h.stats.tx_pkts), ull(h.stats.tx_bytes),
                ull(h.stats.wakes), ull(h.stats.stuck_wakes), ull(h.stats.rx_csum_drops));
    const auto& ec = static_cast<SrdHost&>(s.sim.stack(node)).ep().counters();
    std::printf("  endpoint %s:", h.name.c_str());
    for (std::size_t i = 0; i < std::size(spray::srd::kEndpointCounterInfo); ++i)
      std::printf(" %s=%llu", spray::srd::kEndpointCounterInfo[i].name, ull(spray::srd::counter_at(ec.c, i)));
    std::printf("\n");
  }
  for (std::uint32_t id = 0; id < s.sim.link_count(); ++id) {
    const Link& k = s.sim.link(id);
    std::printf("  link %s: offered %llu tx %llu/%llu B delivered %llu drops %llu ce %llu "
                "queue p99 %llu max %llu sojourn p99 %llu max %llu mean %.3f\n",
                k.name.c_str(), ull(k.stats.offered_pkts), ull(k.stats.tx_pkts), ull(k.stats.tx_bytes),
                ull(k.stats.delivered_pkts), ull(k.stats.total_drops()), ull(k.stats.ce_marks),
                ull(k.hist->queue_pkts.quantile(0.99)), ull(k.hist->queue_pkts.max()),
                ull(k.hist->sojourn_ns.quantile(0.99)), ull(k.hist->sojourn_ns.max()), k.hist->sojourn_ns.mean());
  }
}

void run(const Spec& spec, bool counters) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  PairScenario s(spec.opts);
  s.sim.run_until(spec.virtual_ns);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  const std::uint64_t pkts = s.sim.host(s.topo.a).stats.tx_pkts + s.sim.host(s.topo.b).stats.tx_pkts;
  const std::uint64_t events = s.sim.events_processed();
  std::printf("%s: %.3f virtual s, %llu packets, %llu events, %llu messages received\n", spec.name,
              static_cast<double>(s.sim.now()) / 1e9, ull(pkts), ull(events), ull(s.ledger.received_unique()));
  std::printf("%s: wall %.3f s (cpu %.3f s), %.1f ns/event, %.1f ns/packet\n", spec.name, wall_s, cpu_s,
              events ? wall_s * 1e9 / static_cast<double>(events) : 0.0,
              pkts ? wall_s * 1e9 / static_cast<double>(pkts) : 0.0);
  if (counters) print_counters(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  double seconds = 10;
  bool counters = false;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!std::strcmp(a, "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(a, "--seconds") && i + 1 < argc) {
      char* end = nullptr;
      seconds = std::strtod(argv[++i], &end);
      if (*end || !(seconds > 0) || seconds > 1000) {
        std::fprintf(stderr, "sim_speed: --seconds %s: want a number of virtual seconds in (0, 1000]\n", argv[i]);
        return 2;
      }
    } else if (!std::strcmp(a, "--counters")) {
      counters = true;
    } else if (!std::strcmp(a, "msgs") || !std::strcmp(a, "bulk")) {
      only.insert(a);
    } else {
      std::fprintf(stderr, "sim_speed: unknown argument '%s'\nusage: %s [--seed N] [--seconds S] [--counters] [msgs] [bulk]\n",
                   a, argv[0]);
      return 2;
    }
  }
  if (only.empty() || only.count("msgs")) run(msgs_spec(seed, seconds), counters);
  if (only.empty() || only.count("bulk")) run(bulk_spec(seed, seconds), counters);
  return 0;
}
