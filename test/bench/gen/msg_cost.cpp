// SPDX-License-Identifier: BSD-3-Clause
// What one message costs, end to end, in CPU instructions: the pipelines of
// `spray gen --local-responder` (generator, transport, responder, frame
// parsing and building, mbufs, the net_ring port) run in one thread on a
// virtual clock, so a run is deterministic and callgrind's instruction
// counts divide cleanly by the messages completed. tools/bench/msg-cost.sh
// runs it under callgrind and splits the count by layer
// (doc/benchmarks.md, "Where a message's instructions go").
//
//   msg_cost [--outstanding N] [--size BYTES] [--count N] [--paths N]
//            [--mtu BYTES] [--step-ns NS] -- EAL-ARGS
//
// Every loop iteration plays one iteration of each side's worker
// (dp::Worker::run: rx_burst, the pipeline's rx and poll, the tx flush),
// then advances the clock by --step-ns, a worker iteration's length under
// load. Only the loop is measured: callgrind's collection is switched on
// around it (CALLGRIND_TOGGLE_COLLECT, a no-op outside valgrind), after
// the connection is established, and the warm-up messages before it are
// not counted. The result line gives messages, loop iterations and virtual
// time; the instruction count comes from callgrind.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/srd_host.h"
#include "dataplane/worker.h"

namespace spray::bench {
namespace {

struct Options {
  unsigned outstanding = 32;
  unsigned size = 64;
  std::uint64_t count = 20'000;
  std::uint64_t warmup = 2'000;
  unsigned paths = 16;
  unsigned mtu = 1500;
  std::uint64_t step_ns = 500;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "msg_cost: %s\nusage: msg_cost [--outstanding 1..4096] [--size 16..1048576] [--count N] "
               "[--paths 1..256] [--mtu 576..1500] [--step-ns NS] -- EAL-ARGS\n",
               why.c_str());
  std::exit(2);
}

std::uint64_t number(std::string_view flag, std::string_view text, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v < lo || v > hi)
    usage(std::string(flag) + ": '" + std::string(text) + "' is not a number in " + std::to_string(lo) + ".." +
          std::to_string(hi));
  return v;
}

// One worker iteration for the side that owns `port` (dp::Worker::run's
// body without the idle accounting).
unsigned iterate(dp::Pipeline& p, dp::TxBuffers& tx, std::uint16_t port, std::uint64_t now) {
  rte_mbuf* pkts[dp::kBurst];
  const std::uint16_t n = rte_eth_rx_burst(port, 0, pkts, dp::kBurst);
  if (n) p.rx(tx, 0, pkts, n, now);
  const unsigned work = n + p.poll(tx, now);
  tx.flush();
  tx.take_sent();
  return work;
}

}  // namespace
}  // namespace spray::bench

int main(int argc, char** argv) {
  using namespace spray;
  bench::Options o;
  std::vector<std::string> eal{"msg_cost"};
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) bench::usage(std::string(a) + " needs a value");
    const std::string_view v = argv[++i];
    if (a == "--outstanding") o.outstanding = static_cast<unsigned>(bench::number(a, v, 1, 4096));
    else if (a == "--size") o.size = static_cast<unsigned>(bench::number(a, v, 16, 1u << 20));
    else if (a == "--count") o.count = bench::number(a, v, 1, 1u << 30);
    else if (a == "--paths") o.paths = static_cast<unsigned>(bench::number(a, v, 1, 256));
    else if (a == "--mtu") o.mtu = static_cast<unsigned>(bench::number(a, v, 576, 1500));
    else if (a == "--step-ns") o.step_ns = bench::number(a, v, 1, 1'000'000);
    else bench::usage("unknown option " + std::string(a));
  }
  for (; i < argc; ++i) eal.emplace_back(argv[i]);

  dp::RuntimeOptions ro;
  ro.eal_args.assign(eal.begin() + 1, eal.end());
  ro.ring_links = {{"gen", "respond"}};
  ro.log_level = "error";
  try {
    dp::Runtime rt(ro);
    // Nanoseconds as the TSC: the loop's clock is virtual.
    const dp::TscClock clock(1'000'000'000);

    dp::SrdHostConfig gh;
    gh.ip = 0x0a000001;
    gh.peer_ip = 0x0a000002;
    gh.peer_mac = wire::Mac{rt.ports()[1].mac};
    dp::SrdHostConfig rh;
    rh.ip = 0x0a000002;
    rh.peer_mac = wire::Mac{rt.ports()[0].mac};

    srd::EndpointConfig ge;
    ge.paths = static_cast<std::uint16_t>(o.paths);
    ge.mtu = o.mtu;
    ge.link_rate_bps = 10'000'000'000ULL;
    ge.local = {gh.ip, gh.udp_port};
    srd::EndpointConfig re = ge;
    re.local = {rh.ip, rh.udp_port};
    re.seed = ge.seed + 1;

    traffic::GenConfig gc;
    gc.peer = {rh.ip, rh.udp_port};
    gc.outstanding = o.outstanding;
    gc.request = traffic::SizeDist::fixed(o.size);
    gc.duration_ns = 0;
    gc.count = o.warmup + o.count;

    dp::SrdHostPipeline gen_host(gh, ge, 0, rt.ports()[0].mac, rt.pool(), clock);
    dp::GenHostApp gen(gc, gen_host.endpoint());
    gen_host.set_app(&gen);
    dp::SrdHostPipeline resp_host(rh, re, 0, rt.ports()[1].mac, rt.pool(), clock);
    dp::RespondHostApp resp(traffic::RespondConfig{}, resp_host.endpoint());
    resp_host.set_app(&resp);

    dp::TxBuffers gtx, rtx;
    const std::uint16_t gport = rt.ports()[0].id, rport = rt.ports()[1].id;
    gtx.init(1, &gport, 0);
    rtx.init(1, &rport, 0);

    const auto& c = gen.generator().counters();
    std::uint64_t now = 1'000'000;
    std::uint64_t iterations = 0;
    bool measuring = false;
    std::uint64_t start_done = 0, start_ns = 0, start_iter = 0;
    rte_eth_stats gs0{}, rs0{};
    while (!gen.finished()) {
      const std::uint64_t done = c.completed.read();
      if (!measuring && done >= o.warmup) {
        measuring = true;
        start_done = done;
        start_ns = now;
        start_iter = iterations;
        rte_eth_stats_get(gport, &gs0);
        rte_eth_stats_get(rport, &rs0);
        CALLGRIND_TOGGLE_COLLECT;
      }
      if (measuring && done >= o.warmup + o.count) break;
      if (measuring && std::getenv("MSG_COST_TRACE") && (iterations - start_iter) % 1000 == 0) {
        for (const auto id : gen.generator().connections()) {
          srd::ConnStats st;
          if (gen_host.endpoint().conn_stats(id, st))
            std::fprintf(stderr, "t=%llu cwnd=%.2f inflight=%u queued=%u srtt=%llu\n",
                         (unsigned long long)now, st.cwnd_pkts, st.inflight_pkts, st.queued_msgs,
                         (unsigned long long)st.srtt_ns);
        }
      }
      bench::iterate(gen_host, gtx, gport, now);
      bench::iterate(resp_host, rtx, rport, now);
      now += o.step_ns;
      if (++iterations > 1000 * (o.warmup + o.count) + 1'000'000) {
        std::fprintf(stderr, "msg_cost: no progress: %llu of %llu messages after %llu iterations\n",
                     (unsigned long long)done, (unsigned long long)(o.warmup + o.count),
                     (unsigned long long)iterations);
        return 1;
      }
    }
    if (measuring) CALLGRIND_TOGGLE_COLLECT;
    const std::uint64_t msgs = c.completed.read() - start_done;
    if (!measuring || msgs == 0 || c.failed.read() || c.bad_reply.read()) {
      std::fprintf(stderr, "msg_cost: run not clean: %llu measured, %llu failed, %llu bad replies\n",
                   (unsigned long long)msgs, (unsigned long long)c.failed.read(),
                   (unsigned long long)c.bad_reply.read());
      return 1;
    }
    rte_eth_stats gs{}, rs{};
    rte_eth_stats_get(gport, &gs);
    rte_eth_stats_get(rport, &rs);
    const double virt_s = static_cast<double>(now - start_ns) / 1e9;
    std::printf("msg_cost messages=%llu iterations=%llu virtual_s=%.6f msgs_per_virtual_s=%.0f "
                "outstanding=%u size=%u paths=%u step_ns=%llu retx=%llu gen_tx_pkts=%llu resp_tx_pkts=%llu\n",
                (unsigned long long)msgs, (unsigned long long)(iterations - start_iter), virt_s, msgs / virt_s,
                o.outstanding, o.size, o.paths, (unsigned long long)o.step_ns,
                (unsigned long long)gen.summary().retx_total(), (unsigned long long)(gs.opackets - gs0.opackets),
                (unsigned long long)(rs.opackets - rs0.opackets));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msg_cost: %s\n", e.what());
    return 1;
  }
  return 0;
}
