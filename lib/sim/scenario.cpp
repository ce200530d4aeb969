// SPDX-License-Identifier: BSD-3-Clause
#include "scenario.h"

namespace spray::sim {
namespace {

std::unique_ptr<SrdHost> host_with_app(const Sim& sim, std::uint32_t node, std::uint64_t seed,
                                       std::uint64_t rate_bps, std::uint16_t paths,
                                       const TuneEndpoint& tune, MessageAppConfig app) {
  srd::EndpointConfig ec = endpoint_config(sim, node, seed, rate_bps);
  ec.paths = paths;
  if (tune) tune(ec);
  app.seed = mix64(seed + node);
  return std::make_unique<SrdHost>(ec, std::make_unique<MessageApp>(std::move(app)));
}

}  // namespace

PairScenario::PairScenario(const PairOptions& o) : sim(SimConfig{.seed = o.seed}), opts_(o) {
  ParallelConfig pc;
  pc.paths = o.paths;
  pc.path = o.impair;
  pc.path.rate_bps = o.total_rate_bps / o.paths;
  pc.path.delay_ns = o.delay_ns;
  pc.path.queue_limit_pkts = o.queue_limit_pkts;
  pc.path.ecn_mark_pkts = o.ecn_mark_pkts;
  pc.skew_ns = o.skew_ns;
  pc.host = o.host;
  topo = build_parallel(sim, pc);
  if (!o.impair_acks) {
    for (auto id : topo.ba) {
      LinkConfig& lc = sim.link(id).cfg;
      lc.loss_rate = 0;
      lc.bursty = {};
      lc.reorder_rate = 0;
      lc.dup_rate = 0;
      lc.corrupt_rate = 0;
    }
  }
  sim.set_stack(topo.a, make_host(topo.a, o.seed, true));
  sim.set_stack(topo.b, make_host(topo.b, o.seed, false));
}

std::unique_ptr<SrdHost> PairScenario::make_host(std::uint32_t node, std::uint64_t seed, bool sender) {
  MessageAppConfig app;
  app.ledger = &ledger;
  if (sender) {
    FlowSpec f = opts_.flow;
    f.peer = sim.host(topo.b).cfg.addr;
    app.flows.push_back(f);
  } else {
    app.listen = true;
  }
  return host_with_app(sim, node, seed, opts_.total_rate_bps, opts_.paths, opts_.tune, std::move(app));
}

srd::ConnStats PairScenario::conn_stats() {
  srd::ConnStats s;
  a().ep().conn_stats(conn(), s);
  return s;
}

bool PairScenario::run(Nanos limit_ns) {
  MessageApp& s = sender();
  return sim.run_until(limit_ns, [&s] { return s.done(); });
}

void PairScenario::restart_b(std::uint64_t new_seed) {
  sim.set_stack(topo.b, make_host(topo.b, new_seed, false));
}

FabricScenario::FabricScenario(const FabricOptions& o) : sim(SimConfig{.seed = o.seed}) {
  topo = build_leaf_spine(sim, o.topo);
  const std::uint32_t per_leaf = o.topo.hosts_per_leaf;
  for (std::uint32_t i = 0; i < o.flows; ++i) {
    senders.push_back(topo.hosts[i % per_leaf]);
    receivers.push_back(topo.hosts[per_leaf + i % per_leaf]);
  }
  std::vector<MessageAppConfig> apps(topo.hosts.size());
  for (auto& a : apps) {
    a.listen = true;
    a.ledger = &ledger;
  }
  for (std::uint32_t i = 0; i < o.flows; ++i) {
    FlowSpec f = o.flow;
    f.peer = sim.host(receivers[i]).cfg.addr;
    apps[i % per_leaf].flows.push_back(f);
  }
  for (std::uint32_t h = 0; h < topo.hosts.size(); ++h)
    sim.set_stack(topo.hosts[h], host_with_app(sim, topo.hosts[h], o.seed, o.topo.host_link.rate_bps,
                                                o.paths, o.tune, std::move(apps[h])));
}

IncastScenario::IncastScenario(const IncastOptions& o) : sim(SimConfig{.seed = o.seed}) {
  topo = build_incast(sim, o.topo);
  const PeerAddr rx = sim.host(topo.receiver).cfg.addr;
  for (auto s : topo.senders) {
    MessageAppConfig a;
    a.ledger = &ledger;
    FlowSpec f = o.flow;
    f.peer = rx;
    a.flows.push_back(f);
    sim.set_stack(s, host_with_app(sim, s, o.seed, o.topo.edge.rate_bps, 16, o.tune, std::move(a)));
  }
  MessageAppConfig r;
  r.listen = true;
  r.ledger = &ledger;
  sim.set_stack(topo.receiver, host_with_app(sim, topo.receiver, o.seed, o.topo.bottleneck.rate_bps,
                                              16, o.tune, std::move(r)));
}

bool IncastScenario::senders_done() {
  for (auto s : topo.senders)
    if (!app(s).done()) return false;
  return true;
}

void PathTimeline::attach(Sim& sim, std::uint32_t host_node, srd::ConnId conn,
                          std::uint16_t paths, Nanos period_ns, Nanos until_ns) {
  last_.assign(paths, srd::PathState::kActive);
  sim.every(sim.now(), period_ns, [this, host_node, conn, paths, until_ns](Sim& s) {
    auto& ep = static_cast<SrdHost&>(s.stack(host_node)).ep();
    for (std::uint16_t p = 0; p < paths; ++p) {
      srd::PathStats ps;
      if (!ep.path_stats(conn, p, ps)) continue;
      if (ps.state != last_[p]) {
        changes_.push_back({s.now(), p, last_[p], ps.state});
        last_[p] = ps.state;
      }
    }
    return s.now() < until_ns;
  });
}

Nanos PathTimeline::first(std::uint16_t path, srd::PathState to, Nanos after_ns) const noexcept {
  for (const Change& c : changes_)
    if (c.path == path && c.to == to && c.at_ns >= after_ns) return c.at_ns;
  return kNever;
}

srd::PathState PathTimeline::state_at(std::uint16_t path, Nanos at_ns) const noexcept {
  srd::PathState s = srd::PathState::kActive;
  for (const Change& c : changes_)
    if (c.path == path && c.at_ns < at_ns) s = c.to;
  return s;
}

std::size_t PathTimeline::count(srd::PathState to, Nanos from_ns, Nanos to_ns,
                                std::uint16_t except) const noexcept {
  std::size_t n = 0;
  for (const Change& c : changes_) n += c.path != except && c.to == to && c.at_ns >= from_ns && c.at_ns < to_ns;
  return n;
}

void RecoveryProbe::attach(Sim& sim, const std::vector<std::uint32_t>& links, std::uint32_t rx_host,
                           double loss, Rule rule) {
  for (auto id : links) {
    sim.link(id).drop_if = [this, loss, rule](const Packet& p, Nanos now) {
      wire::SrdDataHdr h;
      std::span<const std::uint8_t> payload;
      if (wire::decode_srd_data(p.bytes(), h, payload) != wire::SrdError::k_ok) return false;
      const bool drop = rule ? rule(h, now) : rng_.chance(loss);
      if (!drop) return false;
      ++dropped_;
      // Time from the first drop of a segment that has not arrived yet; a
      // dropped spurious copy of a delivered segment is not a loss to recover.
      if (!arrived_.count(key(h))) pending_.try_emplace(key(h), now);
      return true;
    };
  }
  static_cast<SrdHost&>(sim.stack(rx_host)).rx_tap =
      [this](std::span<const std::uint8_t> b, const srd::RxMeta&, Nanos now) {
        wire::SrdDataHdr h;
        std::span<const std::uint8_t> payload;
        if (wire::decode_srd_data(b, h, payload) != wire::SrdError::k_ok) return;
        arrived_.insert(key(h));
        const auto it = pending_.find(key(h));
        if (it == pending_.end()) return;
        samples_.push_back(now - it->second);
        pending_.erase(it);
      };
}

}  // namespace spray::sim
