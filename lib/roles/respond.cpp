// SPDX-License-Identifier: BSD-3-Clause
// spray respond: one SrdHostPipeline per port, each with its own address and
// a RespondHostApp, all on one worker; runs until SIGINT/SIGTERM.
#include <cstdio>
#include <memory>

#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "dataplane/telemetry_dpdk.h"
#include "roles/report.h"
#include "roles/roles.h"
#include "roles/run_common.h"
#include "spray_version.h"
#include "telemetry/service.h"
#include "wire/ipv4.h"

namespace spray::roles {

int run_respond(const RespondOptions& opt) {
  dp::RuntimeOptions ro = runtime_options(opt.host.common);
  ro.port.mtu = opt.host.endpoint.mtu;
  dp::Runtime rt(ro);
  telemetry::Service tel(opt.host.common.metrics, opt.host.common.metrics_default);
  if (rt.nb_workers() != 1)
    throw UsageError("spray respond runs one worker; give --lcores a single CPU");
  std::vector<std::unique_ptr<dp::SrdHostPipeline>> hosts;
  std::vector<std::unique_ptr<dp::RespondHostApp>> apps;
  std::vector<dp::SrdHostPipeline*> raw;
  for (std::size_t i = 0; i < rt.ports().size(); ++i) {
    const auto& hc = opt.host.hosts[i];
    const srd::EndpointConfig epc = endpoint_for(opt.host.endpoint, hc, opt.host.endpoint.seed + i);
    hosts.push_back(std::make_unique<dp::SrdHostPipeline>(hc, epc, static_cast<std::uint16_t>(i), rt.ports()[i].mac,
                                                          rt.pool(), rt.clock()));
    apps.push_back(std::make_unique<dp::RespondHostApp>(opt.respond, hosts.back()->endpoint()));
    hosts.back()->set_app(apps.back().get());
    raw.push_back(hosts.back().get());
    std::printf("spray respond: %s on port '%s' (%s), SRD on UDP %u\n", wire::format_ipv4(hc.ip).c_str(),
                rt.ports()[i].spec.name.c_str(), wire::Mac{rt.ports()[i].mac}.str().c_str(), hc.udp_port);
  }
  if (const auto a = tel.address()) std::printf("  metrics http://%s/metrics\n", a->str().c_str());
  std::fflush(stdout);
  dp::HostGroupPipeline group(raw);
  std::vector<const dp::RespondHostApp*> app_ptrs;
  for (const auto& a : apps) app_ptrs.push_back(a.get());
  dp::add_runtime_metrics(tel.registry(), rt, SPRAY_VERSION, SPRAY_GIT_SHA);
  dp::add_respond_metrics(tel.registry(), app_ptrs);
  dp::add_host_metrics(tel.registry(), {raw.begin(), raw.end()});
  dp::EcosystemHooks ecosystem(tel.exchange());
  tel.refresh();

  std::uint64_t prev_requests = 0;
  dp::Runtime::Hooks hooks;
  hooks.tick = [&] {
    tel.tick();
    if (dp::signals().dump.exchange(false))
      for (auto& h : hosts) h->request_dump();
  };
  hooks.progress = [&](double) {
    std::uint64_t req = 0, viol = 0, conns = 0, retx = 0;
    for (auto& a : apps) {
      req += a->responder().counters().requests.read();
      viol += a->responder().violations().total();
      conns += a->summary().connections.read();
      retx += a->summary().retx_total();
    }
    char b[160];
    std::snprintf(b, sizeof b, "%s req/s conns %llu retx %llu violations %llu",
                  dp::human((req - prev_requests) / opt.host.common.stats_period_s).c_str(), (unsigned long long)conns,
                  (unsigned long long)retx, (unsigned long long)viol);
    prev_requests = req;
    return std::string(b);
  };
  rt.run([&](unsigned) { return static_cast<dp::Pipeline*>(&group); }, hooks);

  std::printf("\nspray respond: stopped\n");
  rt.print_final_counters();
  // Workers have stopped: the counters are ours to read.
  RespondReport rep;
  for (std::size_t i = 0; i < apps.size(); ++i) {
    const auto& r = apps[i]->responder();
    const auto& c = r.counters();
    const auto& v = r.violations();
    RespondHost h;
    h.ip = opt.host.hosts[i].ip;
    h.port = rt.ports()[i].spec.name;
#define X(name, help) h.counters.push_back({#name, c.name.read()});
    SPRAY_RESPOND_COUNTERS(X)
#undef X
    h.last_failure = r.last_failure();
#define X(name, help) h.violations.push_back({#name, v.name.read()});
    SPRAY_RESPOND_VIOLATIONS(X)
#undef X
#define X(name, help) h.host_counters.push_back({#name, hosts[i]->counters().name.read()});
    SPRAY_HOST_COUNTERS(X)
#undef X
    rep.hosts.push_back(std::move(h));
    rep.violations += v.total();
  }
  std::fputs(respond_text(rep).c_str(), stdout);
  if (rep.violations) {
    std::fprintf(stderr, "spray respond: %llu verification violation(s); see the table above\n",
                 (unsigned long long)rep.violations);
    return 3;
  }
  return 0;
}

}  // namespace spray::roles
