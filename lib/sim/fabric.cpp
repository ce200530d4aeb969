// SPDX-License-Identifier: BSD-3-Clause
#include "fabric.h"

#include <stdexcept>

#include "topology.h"

namespace spray::sim {

const char* to_string(Tier t) noexcept {
  switch (t) {
    case Tier::kHost: return "host";
    case Tier::kTor: return "tor";
    case Tier::kAgg: return "agg";
    case Tier::kCore: return "core";
  }
  return "?";
}

std::uint32_t fat_tree_k_for(std::uint32_t nodes, std::uint32_t oversubscription) noexcept {
  const std::uint64_t o = oversubscription ? oversubscription : 1;
  std::uint64_t k = 2;
  while (o * k * k * k / 4 < nodes) k += 2;
  return static_cast<std::uint32_t>(k);
}

std::uint64_t Fabric::paths_between(std::uint32_t a, std::uint32_t b) const noexcept {
  if (tor_of(a) == tor_of(b)) return 1;
  if (kind == FabricKind::kLeafSpine) return aggs.size();
  if (pod_of(a) == pod_of(b)) return k / 2;
  return std::uint64_t{k / 2} * (k / 2);
}

std::uint32_t Fabric::link(std::uint32_t from, std::uint32_t to) const {
  const auto it = link_between.find({from, to});
  if (it == link_between.end())
    throw std::invalid_argument("nodes " + std::to_string(from) + " and " + std::to_string(to) +
                                " are not neighbours");
  return it->second;
}

std::uint32_t Fabric::node(const std::string& name) const {
  const auto it = by_name.find(name);
  if (it != by_name.end()) return it->second;
  const std::string forms = kind == FabricKind::kFatTree
                                ? "h0..h" + std::to_string(hosts.size() - 1) + ", tor0..tor" +
                                      std::to_string(tors.size() - 1) + ", agg0..agg" +
                                      std::to_string(aggs.size() - 1) + ", core0..core" +
                                      std::to_string(cores.size() - 1)
                                : "h0..h" + std::to_string(hosts.size() - 1) + ", leaf0..leaf" +
                                      std::to_string(tors.size() - 1) + ", spine0..spine" +
                                      std::to_string(aggs.size() - 1);
  throw std::invalid_argument("'" + name + "' is no node of this fabric; expected " + forms);
}

namespace {

void bad(const std::string& field, std::uint64_t v, const std::string& accepted) {
  throw std::invalid_argument(field + " = " + std::to_string(v) + ": expected " + accepted);
}

class Builder {
 public:
  Builder(Sim& sim, const FabricConfig& cfg, Fabric& f) : sim_(sim), cfg_(cfg), f_(f) {}

  std::uint32_t add_switch(const std::string& name) {
    const std::uint32_t n = sim_.add_switch(name);
    f_.by_name.emplace(name, n);
    return n;
  }
  std::uint32_t add_host(std::uint32_t index) {
    HostConfig hc = cfg_.host;
    hc.addr = PeerAddr{host_ip(index), cfg_.udp_port};
    const std::string name = "h" + std::to_string(index);
    const std::uint32_t n = sim_.add_host(name, hc);
    f_.by_name.emplace(name, n);
    f_.hosts.push_back(n);
    return n;
  }
  // One link each way; each direction queues as its sending tier does.
  void join(std::uint32_t a, Tier ta, std::uint32_t b, Tier tb) {
    one_way(a, ta, b);
    one_way(b, tb, a);
  }

 private:
  void one_way(std::uint32_t from, Tier t, std::uint32_t to) {
    LinkConfig lc;
    lc.rate_bps = cfg_.link_rate_bps;
    lc.delay_ns = cfg_.link_delay_ns;
    lc.queue_limit_pkts = cfg_.tiers[static_cast<std::size_t>(t)].queue_pkts;
    lc.ecn_mark_pkts = cfg_.tiers[static_cast<std::size_t>(t)].ecn_pkts;
    lc.histograms = false;  // 16 KB a link, and the report does not use them
    const std::uint32_t id = sim_.add_link(from, to, lc);
    if (f_.link_tier.size() <= id) f_.link_tier.resize(id + 1, Tier::kHost);
    f_.link_tier[id] = t;
    f_.link_between[{from, to}] = id;
  }

  Sim& sim_;
  const FabricConfig& cfg_;
  Fabric& f_;
};

void check_common(const FabricConfig& cfg) {
  if (cfg.link_rate_bps < 1'000'000) bad("link_rate_bps", cfg.link_rate_bps, ">= 1 Mbit/s");
  if (cfg.oversubscription < 1 || cfg.oversubscription > 64)
    bad("oversubscription", cfg.oversubscription, "1..64");
  for (std::size_t t = 0; t < kTierCount; ++t)
    if (cfg.tiers[t].queue_pkts == 0 || cfg.tiers[t].queue_pkts > 1'000'000)
      bad(std::string(to_string(static_cast<Tier>(t))) + ".queue_pkts", cfg.tiers[t].queue_pkts,
          "1..1000000");
}

// Every ToR routes to each of its hosts and sends the rest up by ECMP.
void route_tors(Sim& sim, Fabric& f, const std::vector<std::vector<std::uint32_t>>& tor_up) {
  for (std::uint32_t i = 0; i < f.hosts.size(); ++i) {
    const std::uint32_t tor = f.tors[f.tor_of(i)];
    sim.add_route(tor, host_ip(i), {f.link(tor, f.hosts[i])});
  }
  for (std::uint32_t t = 0; t < f.tors.size(); ++t) sim.set_default_route(f.tors[t], tor_up[t]);
}

// The address block of ToR t's hosts, or none when it has no host.
bool tor_block(const Fabric& f, std::uint32_t t, std::uint32_t& lo, std::uint32_t& hi) {
  const std::uint64_t first = std::uint64_t{t} * f.hosts_per_tor;
  if (first >= f.hosts.size()) return false;
  const std::uint64_t end = std::min<std::uint64_t>(first + f.hosts_per_tor, f.hosts.size());
  lo = host_ip(static_cast<std::uint32_t>(first));
  hi = host_ip(static_cast<std::uint32_t>(end));
  return true;
}

Fabric build_leaf_spine(Sim& sim, const FabricConfig& cfg) {
  if (cfg.leaves < 1 || cfg.leaves > 4096) bad("leaves", cfg.leaves, "1..4096");
  if (cfg.spines < 1 || cfg.spines > 256) bad("spines", cfg.spines, "1..256");
  const std::uint32_t per_leaf = cfg.hosts_per_leaf ? cfg.hosts_per_leaf : cfg.oversubscription * cfg.spines;
  if (per_leaf > 4096) bad("hosts_per_leaf", per_leaf, "1..4096");
  if (std::uint64_t{per_leaf} * cfg.leaves > 1'000'000)
    bad("hosts", std::uint64_t{per_leaf} * cfg.leaves, "at most 1000000");
  Fabric f;
  f.kind = FabricKind::kLeafSpine;
  f.hosts_per_tor = per_leaf;
  f.tors_per_pod = cfg.leaves;
  Builder b(sim, cfg, f);
  for (std::uint32_t l = 0; l < cfg.leaves; ++l) f.tors.push_back(b.add_switch("leaf" + std::to_string(l)));
  for (std::uint32_t s = 0; s < cfg.spines; ++s) f.aggs.push_back(b.add_switch("spine" + std::to_string(s)));
  std::vector<std::vector<std::uint32_t>> up(cfg.leaves);
  for (std::uint32_t l = 0; l < cfg.leaves; ++l)
    for (std::uint32_t s = 0; s < cfg.spines; ++s) {
      b.join(f.tors[l], Tier::kTor, f.aggs[s], Tier::kAgg);
      up[l].push_back(f.link(f.tors[l], f.aggs[s]));
    }
  for (std::uint32_t i = 0; i < per_leaf * cfg.leaves; ++i) {
    const std::uint32_t h = b.add_host(i);
    b.join(h, Tier::kHost, f.tors[i / per_leaf], Tier::kTor);
  }
  route_tors(sim, f, up);
  for (std::uint32_t s = 0; s < cfg.spines; ++s)
    for (std::uint32_t l = 0; l < cfg.leaves; ++l) {
      std::uint32_t lo, hi;
      if (tor_block(f, l, lo, hi)) sim.add_range_route(f.aggs[s], lo, hi, {f.link(f.aggs[s], f.tors[l])});
    }
  return f;
}

Fabric build_fat_tree(Sim& sim, const FabricConfig& cfg) {
  const std::uint32_t k = cfg.k ? cfg.k : fat_tree_k_for(cfg.nodes, cfg.oversubscription);
  if (k < 2 || k > 128 || k % 2) bad("k", k, "an even number 2..128");
  const std::uint32_t half = k / 2;
  const std::uint32_t per_tor = cfg.oversubscription * half;
  const std::uint64_t capacity = std::uint64_t{per_tor} * half * k;
  const std::uint64_t nodes = cfg.nodes ? cfg.nodes : capacity;
  if (nodes > capacity)
    bad("nodes", nodes, "at most " + std::to_string(capacity) + " for k = " + std::to_string(k));
  if (nodes > 1'000'000) bad("nodes", nodes, "at most 1000000");
  Fabric f;
  f.kind = FabricKind::kFatTree;
  f.k = k;
  f.hosts_per_tor = per_tor;
  f.tors_per_pod = half;
  Builder b(sim, cfg, f);
  for (std::uint32_t t = 0; t < k * half; ++t) f.tors.push_back(b.add_switch("tor" + std::to_string(t)));
  for (std::uint32_t a = 0; a < k * half; ++a) f.aggs.push_back(b.add_switch("agg" + std::to_string(a)));
  for (std::uint32_t c = 0; c < half * half; ++c) f.cores.push_back(b.add_switch("core" + std::to_string(c)));
  // ToR t of pod p joins every aggregation switch of p; aggregation switch j
  // of a pod joins cores j*k/2 .. j*k/2 + k/2 - 1.
  std::vector<std::vector<std::uint32_t>> tor_up(f.tors.size());
  for (std::uint32_t t = 0; t < f.tors.size(); ++t) {
    const std::uint32_t pod = t / half;
    for (std::uint32_t j = 0; j < half; ++j) {
      const std::uint32_t agg = f.aggs[pod * half + j];
      b.join(f.tors[t], Tier::kTor, agg, Tier::kAgg);
      tor_up[t].push_back(f.link(f.tors[t], agg));
    }
  }
  for (std::uint32_t a = 0; a < f.aggs.size(); ++a) {
    const std::uint32_t j = a % half;
    std::vector<std::uint32_t> up;
    for (std::uint32_t c = 0; c < half; ++c) {
      const std::uint32_t core = f.cores[j * half + c];
      b.join(f.aggs[a], Tier::kAgg, core, Tier::kCore);
      up.push_back(f.link(f.aggs[a], core));
    }
    sim.set_default_route(f.aggs[a], std::move(up));
  }
  for (std::uint32_t i = 0; i < nodes; ++i) {
    const std::uint32_t h = b.add_host(i);
    b.join(h, Tier::kHost, f.tors[i / per_tor], Tier::kTor);
  }
  route_tors(sim, f, tor_up);
  for (std::uint32_t a = 0; a < f.aggs.size(); ++a) {
    const std::uint32_t pod = a / half;
    for (std::uint32_t t = pod * half; t < (pod + 1) * half; ++t) {
      std::uint32_t lo, hi;
      if (tor_block(f, t, lo, hi)) sim.add_range_route(f.aggs[a], lo, hi, {f.link(f.aggs[a], f.tors[t])});
    }
  }
  for (std::uint32_t c = 0; c < f.cores.size(); ++c) {
    const std::uint32_t j = c / half;
    for (std::uint32_t pod = 0; pod < k; ++pod) {
      // The pod's hosts: from its first ToR's block to its last non-empty one's.
      std::uint32_t lo, hi, tlo, thi;
      if (!tor_block(f, pod * half, lo, hi)) continue;
      for (std::uint32_t t = pod * half + 1; t < (pod + 1) * half; ++t)
        if (tor_block(f, t, tlo, thi)) hi = thi;
      const std::uint32_t agg = f.aggs[pod * half + j];
      sim.add_range_route(f.cores[c], lo, hi, {f.link(f.cores[c], agg)});
    }
  }
  return f;
}

}  // namespace

Fabric build_fabric(Sim& sim, const FabricConfig& cfg) {
  check_common(cfg);
  return cfg.kind == FabricKind::kLeafSpine ? build_leaf_spine(sim, cfg) : build_fat_tree(sim, cfg);
}

}  // namespace spray::sim
