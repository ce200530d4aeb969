// spray switch: parse, build the runtime, run an L2Pipeline per worker.
#include <cstdio>
#include <memory>

#include "dataplane/l2_pipeline.h"
#include "dataplane/runtime.h"
#include "dataplane/telemetry_dpdk.h"
#include "role_common.h"
#include "roles.h"
#include "spray_version.h"
#include "switch_options.h"
#include "telemetry/service.h"

namespace spray::app {

namespace {

tor::L2Stats sum_stats(const std::vector<std::unique_ptr<dp::L2Pipeline>>& pipes) {
  tor::L2Stats total{};
  for (const auto& p : pipes) {
    const auto s = p->snapshot();
    for (std::size_t i = 0; i < tor::kL2CounterCount; ++i) total.counters[i] += s.counters[i];
    for (std::size_t i = 0; i < tor::kL2DropCount; ++i) total.drops[i] += s.drops[i];
    total.fdb_entries += s.fdb_entries;
  }
  return total;
}

}  // namespace

int switch_main(const std::vector<std::string>& args) {
  RoleParser parser("switch",
                    "Software top-of-rack switch: an L2 learning bridge with 802.1Q VLANs over DPDK "
                    "ports (tap for namespaces, vhost-user for VMs, rings and memif in one host).\n"
                    "Example: spray switch --port a=net_tap0,iface=sw-a --port b=net_tap1,iface=sw-b");
  describe_switch_options(parser);
  if (!parser.parse(args)) return 0;
  const SwitchOptions opt = switch_options_from(parser);

  dp::RuntimeOptions ro = runtime_options(opt.common);
  ro.port.promiscuous = true;
  // Flood copies in flight: one burst per port per worker.
  ro.extra_mbufs = dp::kBurst * opt.common.ports.size() * 4;
  dp::Runtime rt(ro);
  // After EAL: the scrape threads inherit the control thread's CPUs, never a
  // worker's.
  telemetry::Service tel(opt.common.metrics, opt.common.metrics_default);

  std::printf("spray switch: %zu ports, %u worker(s), FDB %u entries, ageing %.0f s\n", rt.ports().size(),
              rt.nb_workers(), opt.l2.fdb_capacity, opt.l2.age_ns / 1e9);
  for (const auto& p : rt.ports())
    std::printf("  port %-10s %-16s %s link %s\n", p.spec.name.c_str(), p.driver.c_str(),
                wire::Mac{p.mac}.str().c_str(), dp::link_text(p.id).c_str());
  if (const auto a = tel.address())
    std::printf("  metrics http://%s/metrics%s%s\n", a->str().c_str(),
                a->loopback() ? "" : " (not loopback: reachable from the network)",
                tel.fallback() ? " (the default port was in use; choose one with --metrics)" : "");
  else
    std::printf("  metrics off\n");
  std::fflush(stdout);

  std::vector<std::unique_ptr<dp::L2Pipeline>> pipes;
  for (unsigned w = 0; w < rt.nb_workers(); ++w)
    pipes.push_back(std::make_unique<dp::L2Pipeline>(opt.l2, rt.pool(), rt.clock()));
  dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
  dp::add_switch_metrics(tel.registry(), pipes);
  dp::EcosystemHooks ecosystem(tel.exchange());
  tel.refresh();

  dp::Runtime::Hooks hooks;
  std::vector<bool> said_unknown(rt.ports().size());
  hooks.tick = [&] {
    std::uint64_t mask = 0;
    for (std::size_t i = 0; i < rt.ports().size(); ++i) {
      bool unknown = false;
      if (dp::link_up_for_forwarding(rt.ports()[i], &unknown)) mask |= std::uint64_t{1} << i;
      if (unknown && !said_unknown[i]) {
        said_unknown[i] = true;
        std::printf("spray switch: port '%s': its tap interface left this network namespace; "
                    "link state unknown, treated as up\n", rt.ports()[i].spec.name.c_str());
      }
    }
    for (auto& p : pipes) p->set_link_mask(mask);
    tel.tick();
    if (dp::signals().dump.exchange(false)) {
      std::string fdb;
      for (std::size_t w = 0; w < pipes.size(); ++w)
        fdb += " w" + std::to_string(w) + " " + std::to_string(pipes[w]->snapshot().fdb_entries);
      std::fprintf(stderr, "spray switch: state dump (SIGUSR1)\nfdb entries per worker:%s\n%s", fdb.c_str(),
                   tel.dump_text({"spray_port_", "spray_worker_", "spray_switch_"}).c_str());
    }
  };
  hooks.progress = [&](double) {
    const auto s = sum_stats(pipes);
    std::uint64_t drops = 0;
    for (auto d : s.drops) drops += d;
    char b[160];
    std::snprintf(b, sizeof b, "fdb %llu fwd %llu flood %llu drop %llu",
                  (unsigned long long)s.fdb_entries,
                  (unsigned long long)s.counters[static_cast<std::size_t>(tor::L2Counter::kForwarded)],
                  (unsigned long long)(s.counters[static_cast<std::size_t>(tor::L2Counter::kFlooded)] +
                                       s.counters[static_cast<std::size_t>(tor::L2Counter::kBroadcast)] +
                                       s.counters[static_cast<std::size_t>(tor::L2Counter::kMulticast)]),
                  (unsigned long long)drops);
    return std::string(b);
  };
  rt.run([&](unsigned w) { return static_cast<dp::Pipeline*>(pipes[w].get()); }, hooks);

  std::printf("\nspray switch: stopped\n");
  rt.print_final_counters();
  const auto s = sum_stats(pipes);
  std::printf("%-28s %14s\n", "switch counter", "value");
  for (std::size_t i = 0; i < tor::kL2CounterCount; ++i)
    std::printf("%-28s %14llu\n", tor::kL2CounterInfo[i].name, (unsigned long long)s.counters[i]);
  std::printf("%-28s %14llu\n", "fdb_entries", (unsigned long long)s.fdb_entries);
  for (std::size_t i = 0; i < tor::kL2DropCount; ++i)
    if (s.drops[i]) std::printf("drop %-23s %14llu\n", tor::kL2DropInfo[i].name, (unsigned long long)s.drops[i]);
  std::uint64_t copy_failed = 0, no_headroom = 0;
  for (const auto& p : pipes) {
    copy_failed += p->glue().flood_copy_failed.load();
    no_headroom += p->glue().no_headroom.load();
  }
  if (copy_failed) std::printf("drop %-23s %14llu\n", "flood_copy_failed", (unsigned long long)copy_failed);
  if (no_headroom) std::printf("drop %-23s %14llu\n", "no_headroom", (unsigned long long)no_headroom);
  return 0;
}

}  // namespace spray::app
