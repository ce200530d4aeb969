// SPDX-License-Identifier: BSD-3-Clause
#include "topology.h"

#include <string>

namespace spray::sim {
namespace {

std::uint32_t add_numbered_host(Sim& sim, HostConfig hc, std::uint16_t port) {
  // Host addresses follow node creation order among hosts, so count them.
  std::uint32_t hosts = 0;
  for (std::uint32_t n = 0; n < sim.node_count(); ++n) hosts += sim.is_host(n);
  hc.addr = PeerAddr{host_ip(hosts), port};
  return sim.add_host("h" + std::to_string(hosts), hc);
}

}  // namespace

Parallel build_parallel(Sim& sim, const ParallelConfig& cfg) {
  Parallel t;
  t.a = add_numbered_host(sim, cfg.host, cfg.udp_port);
  t.b = add_numbered_host(sim, cfg.host, cfg.udp_port);
  for (std::uint16_t i = 0; i < cfg.paths; ++i) {
    LinkConfig lc = cfg.path;
    if (cfg.skew_ns && cfg.paths > 1) lc.delay_ns += cfg.skew_ns * i / (cfg.paths - 1u);
    t.ab.push_back(sim.add_link(t.a, t.b, lc, "ab" + std::to_string(i)));
    t.ba.push_back(sim.add_link(t.b, t.a, lc, "ba" + std::to_string(i)));
  }
  return t;
}

LeafSpine build_leaf_spine(Sim& sim, const LeafSpineConfig& cfg) {
  LeafSpine t;
  for (std::uint32_t l = 0; l < cfg.leaves; ++l) t.leaves.push_back(sim.add_switch("leaf" + std::to_string(l)));
  for (std::uint32_t s = 0; s < cfg.spines; ++s) t.spines.push_back(sim.add_switch("spine" + std::to_string(s)));
  t.leaf_up.assign(cfg.leaves, {});
  t.spine_down.assign(cfg.spines, std::vector<std::uint32_t>(cfg.leaves));
  for (std::uint32_t l = 0; l < cfg.leaves; ++l)
    for (std::uint32_t s = 0; s < cfg.spines; ++s) {
      const std::string tag = std::to_string(l) + "s" + std::to_string(s);
      t.leaf_up[l].push_back(sim.add_link(t.leaves[l], t.spines[s], cfg.fabric_link, "up_l" + tag));
      t.spine_down[s][l] = sim.add_link(t.spines[s], t.leaves[l], cfg.fabric_link, "down_l" + tag);
    }
  for (std::uint32_t l = 0; l < cfg.leaves; ++l)
    for (std::uint32_t i = 0; i < cfg.hosts_per_leaf; ++i) {
      const std::uint32_t h = add_numbered_host(sim, cfg.host, cfg.udp_port);
      t.hosts.push_back(h);
      t.host_up.push_back(sim.add_link(h, t.leaves[l], cfg.host_link));
      t.host_down.push_back(sim.add_link(t.leaves[l], h, cfg.host_link));
    }
  for (std::uint32_t hi = 0; hi < t.hosts.size(); ++hi) {
    const std::uint32_t ip = sim.host(t.hosts[hi]).cfg.addr.ip;
    const std::uint32_t home = hi / cfg.hosts_per_leaf;
    for (std::uint32_t l = 0; l < cfg.leaves; ++l)
      sim.add_route(t.leaves[l], ip, l == home ? std::vector{t.host_down[hi]} : t.leaf_up[l]);
    for (std::uint32_t s = 0; s < cfg.spines; ++s)
      sim.add_route(t.spines[s], ip, {t.spine_down[s][home]});
  }
  return t;
}

Incast build_incast(Sim& sim, const IncastConfig& cfg) {
  Incast t;
  t.sw = sim.add_switch("sw");
  std::vector<std::uint32_t> down;
  for (std::uint32_t i = 0; i < cfg.senders; ++i) {
    const std::uint32_t h = add_numbered_host(sim, cfg.host, cfg.udp_port);
    t.senders.push_back(h);
    sim.add_link(h, t.sw, cfg.edge);
    down.push_back(sim.add_link(t.sw, h, cfg.edge));
  }
  t.receiver = add_numbered_host(sim, cfg.host, cfg.udp_port);
  sim.add_link(t.receiver, t.sw, cfg.edge);
  t.bottleneck = sim.add_link(t.sw, t.receiver, cfg.bottleneck, "bottleneck");
  for (std::uint32_t i = 0; i < cfg.senders; ++i)
    sim.add_route(t.sw, sim.host(t.senders[i]).cfg.addr.ip, {down[i]});
  sim.add_route(t.sw, sim.host(t.receiver).cfg.addr.ip, {t.bottleneck});
  return t;
}

}  // namespace spray::sim
