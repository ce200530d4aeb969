// SPDX-License-Identifier: BSD-3-Clause
// spray switch: a SwitchPipeline per worker; the control thread passes link
// states on, and a SIGHUP re-reads the options (and --config file) and swaps
// the new configuration in without restarting ports.
#include <cstdio>
#include <memory>
#include <numeric>

#include "dataplane/runtime.h"
#include "dataplane/switch_pipeline.h"
#include "dataplane/telemetry_dpdk.h"
#include "roles/report.h"
#include "roles/roles.h"
#include "roles/run_common.h"
#include "spray_version.h"
#include "telemetry/service.h"

namespace spray::roles {

namespace {

tor::L2Stats sum_stats(const std::vector<std::unique_ptr<dp::SwitchPipeline>>& pipes) {
  tor::L2Stats total{};
  for (const auto& p : pipes) {
    const auto s = p->snapshot();
    for (std::size_t i = 0; i < tor::kL2CounterCount; ++i) total.counters[i] += s.counters[i];
    for (std::size_t i = 0; i < tor::kL2DropCount; ++i) total.drops[i] += s.drops[i];
    total.fdb_entries += s.fdb_entries;
  }
  return total;
}

tor::L3Stats sum_l3(const std::vector<std::unique_ptr<dp::SwitchPipeline>>& pipes) {
  tor::L3Stats total{};
  for (const auto& p : pipes) {
    const auto s = p->l3_snapshot();
    for (std::size_t i = 0; i < tor::kL3CounterCount; ++i) total.counters[i] += s.counters[i];
    for (std::size_t i = 0; i < tor::kL3DropCount; ++i) total.drops[i] += s.drops[i];
    total.neighbors += s.neighbors;
    total.routes = s.routes;
  }
  return total;
}

// The ports' MACs into the routed interfaces (known only once ports exist).
void fill_macs(tor::SwitchConfig& c, const dp::Runtime& rt) {
  for (auto& i : c.l3.interfaces) i.mac = wire::Mac{rt.ports()[i.port].mac};
}

// The configuration a reload asks for, checked against the running one.
// Empty string and a config on success.
std::string reload_config(const std::function<SwitchOptions()>& reparse, const SwitchOptions& running,
                          const dp::Runtime& rt, tor::SwitchConfig& out) {
  try {
    SwitchOptions next = reparse();
    if (next.common.ports.size() != running.common.ports.size())
      return "the reload changes the number of ports (" + std::to_string(running.common.ports.size()) + " -> " +
             std::to_string(next.common.ports.size()) + "); ports change only with a restart";
    for (std::size_t i = 0; i < next.common.ports.size(); ++i)
      if (next.common.ports[i].name != running.common.ports[i].name ||
          next.common.ports[i].devargs != running.common.ports[i].devargs)
        return "the reload changes port '" + running.common.ports[i].name + "'; ports change only with a restart";
    for (std::size_t i = 0; i < next.common.ports.size(); ++i) {
      const bool was = i < running.config.egress.size() && running.config.egress[i].has_value();
      const bool is = i < next.config.egress.size() && next.config.egress[i].has_value();
      if (was != is)
        return "the reload " + std::string(is ? "adds" : "removes") + " the egress queue of port '" +
               running.common.ports[i].name + "'; queues are added or removed with a restart (rates and thresholds reload)";
    }
    // Keep the running seeds unless the file sets them: a reload must not
    // move every flow to another uplink.
    if (!next.ecmp_seed_given) next.config.l3.ecmp_seed = running.config.l3.ecmp_seed;
    next.config.l2.hash_seed = running.config.l2.hash_seed;
    fill_macs(next.config, rt);
    if (auto e = next.config.validate(); !e.empty()) return e;
    out = std::move(next.config);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

int run_switch(SwitchOptions opt, const std::function<SwitchOptions()>& reparse) {
  dp::RuntimeOptions ro = runtime_options(opt.common);
  ro.port.promiscuous = true;
  // Flood copies in flight (one burst per port per worker), generated ARP
  // and ICMP frames, and whatever the egress queues may hold.
  ro.extra_mbufs = dp::kBurst * opt.common.ports.size() * 4 + 64;
  for (const auto& e : opt.config.egress)
    if (e) ro.extra_mbufs += e->depth_pkts;
  const unsigned nb_workers = opt.common.worker_cpus.empty() ? 1 : static_cast<unsigned>(opt.common.worker_cpus.size());
  ro.extra_mbufs *= nb_workers;
  dp::Runtime rt(ro);
  fill_macs(opt.config, rt);
  // After EAL: the scrape threads inherit the control thread's CPUs, never a
  // worker's.
  telemetry::Service tel(opt.common.metrics, opt.common.metrics_default);

  std::printf("spray switch: %zu ports, %u worker(s), FDB %u entries, ageing %.0f s\n", rt.ports().size(),
              rt.nb_workers(), opt.config.l2.fdb_capacity, opt.config.l2.age_ns / 1e9);
  for (const auto& p : rt.ports()) {
    const auto idx = static_cast<tor::PortId>(&p - rt.ports().data());
    const auto* itf = opt.config.l3.interface_of(idx);
    std::printf("  port %-10s %-16s %s link %-5s %s\n", p.spec.name.c_str(), p.driver.c_str(),
                wire::Mac{p.mac}.str().c_str(), dp::link_text(p.id).c_str(),
                itf ? ("routed " + wire::format_ipv4_prefix(itf->addr)).c_str() : "bridged");
  }
  if (!opt.config.l3.interfaces.empty())
    std::printf("  %zu route(s), ECMP seed %llu%s\n", opt.config.l3.routes.size(),
                (unsigned long long)opt.config.l3.ecmp_seed, opt.ecmp_seed_given ? "" : " (random; --ecmp-seed fixes it)");
  if (const auto a = tel.address())
    std::printf("  metrics http://%s/metrics%s%s\n", a->str().c_str(),
                a->loopback() ? "" : " (not loopback: reachable from the network)",
                tel.fallback() ? " (the default port was in use; choose one with --metrics)" : "");
  else
    std::printf("  metrics off\n");
  std::fflush(stdout);

  std::vector<std::unique_ptr<dp::SwitchPipeline>> pipes;
  for (unsigned w = 0; w < rt.nb_workers(); ++w)
    pipes.push_back(std::make_unique<dp::SwitchPipeline>(opt.config, rt.pool(), rt.clock()));
  dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
  dp::add_switch_metrics(tel.registry(), pipes, rt);
  dp::EcosystemHooks ecosystem(tel.exchange());
  tel.refresh();

  dp::Runtime::Hooks hooks;
  std::vector<bool> said_unknown(rt.ports().size());
  std::vector<std::uint16_t> all_ports(rt.ports().size());
  std::iota(all_ports.begin(), all_ports.end(), std::uint16_t{0});
  std::unique_ptr<tor::SwitchConfig> reload_wanted;
  hooks.tick = [&] {
    const std::uint64_t mask = link_mask(rt, all_ports, [&](std::size_t i) {
      if (said_unknown[i]) return;
      said_unknown[i] = true;
      std::printf("spray switch: port '%s': its tap interface left this network namespace; "
                  "link state unknown, treated as up\n", rt.ports()[i].spec.name.c_str());
    });
    for (auto& p : pipes) {
      p->set_link_mask(mask);
      p->collect_retired();
    }
    if (dp::signals().reload.exchange(false)) {
      tor::SwitchConfig next;
      if (auto err = reload_config(reparse, opt, rt, next); !err.empty()) {
        std::fprintf(stderr, "spray switch: reload rejected, the running configuration stays: %s\n", err.c_str());
      } else {
        reload_wanted = std::make_unique<tor::SwitchConfig>(std::move(next));
      }
    }
    if (reload_wanted) {
      bool all = true;
      for (auto& p : pipes) all = all && p->config_applied();
      if (all) {
        for (auto& p : pipes) p->post_config(std::make_unique<tor::SwitchConfig>(*reload_wanted));
        opt.config = std::move(*reload_wanted);
        reload_wanted.reset();
        std::printf("spray switch: reloaded: %zu routed port(s), %zu route(s)\n", opt.config.l3.interfaces.size(),
                    opt.config.l3.routes.size());
        std::fflush(stdout);
      }
    }
    tel.tick();
    if (dp::signals().dump.exchange(false)) {
      std::string fdb;
      for (std::size_t w = 0; w < pipes.size(); ++w)
        fdb += " w" + std::to_string(w) + " " + std::to_string(pipes[w]->snapshot().fdb_entries);
      std::fprintf(stderr, "spray switch: state dump (SIGUSR1)\nfdb entries per worker:%s\n%s", fdb.c_str(),
                   tel.dump_text({"spray_port_", "spray_worker_", "spray_switch_", "spray_router_", "spray_egress_"}).c_str());
    }
  };
  const bool routed = !opt.config.l3.interfaces.empty();
  hooks.progress = [&](double) {
    const auto s = sum_stats(pipes);
    std::uint64_t drops = 0;
    for (auto d : s.drops) drops += d;
    char b[240];
    int n = std::snprintf(b, sizeof b, "fdb %llu fwd %llu flood %llu drop %llu", (unsigned long long)s.fdb_entries,
                          (unsigned long long)s[tor::L2Counter::kForwarded],
                          (unsigned long long)(s[tor::L2Counter::kFlooded] + s[tor::L2Counter::kBroadcast] +
                                               s[tor::L2Counter::kMulticast]),
                          (unsigned long long)drops);
    if (routed && n > 0 && static_cast<std::size_t>(n) < sizeof b) {
      const auto r = sum_l3(pipes);
      std::uint64_t rdrops = 0;
      for (auto d : r.drops) rdrops += d;
      std::snprintf(b + n, sizeof b - n, " | routed %llu arp %llu drop %llu",
                    (unsigned long long)r[tor::L3Counter::kForwarded], (unsigned long long)r.neighbors,
                    (unsigned long long)rdrops);
    }
    return std::string(b);
  };
  rt.run([&](unsigned w) { return static_cast<dp::Pipeline*>(pipes[w].get()); }, hooks);

  std::printf("\nspray switch: stopped\n");
  rt.print_final_counters();
  SwitchReport rep;
  rep.l2 = sum_stats(pipes);
#define X(name, help)                                                \
  {                                                                  \
    std::uint64_t v = 0;                                             \
    for (const auto& p : pipes) v += p->glue().name.load();          \
    rep.glue_drops.push_back({#name, v});                            \
  }
  SPRAY_L2_GLUE_DROPS(X)
#undef X
  rep.routed = routed;
  if (routed) rep.l3 = sum_l3(pipes);
  std::fputs(switch_text(rep).c_str(), stdout);
  return 0;
}

}  // namespace spray::roles
