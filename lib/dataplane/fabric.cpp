// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/fabric.h"

#include <stdexcept>

#include "tor/l3_router.h"
#include "traffic/rng.h"
#include "wire/ipv4.h"

namespace spray::dp {

namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}
// Placeholder until the port exists; validate() wants a unicast MAC.
const wire::Mac kPlaceholderMac{0x020000000001ULL};

std::uint64_t mix(std::uint64_t x) { return traffic::splitmix64(x); }

}  // namespace

std::string FabricPlan::link_port(unsigned leaf, unsigned spine, bool leaf_side) {
  const std::string l = "l" + std::to_string(leaf), s = "s" + std::to_string(spine);
  return leaf_side ? l + "-" + s : s + "-" + l;
}

FabricPlan plan_fabric(const FabricSpec& spec) {
  if (spec.spines < 1 || spec.spines > 16)
    throw std::invalid_argument("spines " + std::to_string(spec.spines) + " is out of range; accepted: 1..16");
  FabricPlan plan;
  plan.gen_port = "gen";
  plan.resp_port = "resp";
  plan.ring_links.push_back({"gen", "l1-gen"});
  plan.ring_links.push_back({"resp", "l2-resp"});
  for (unsigned leaf = 1; leaf <= 2; ++leaf)
    for (unsigned s = 0; s < spec.spines; ++s)
      plan.ring_links.push_back({FabricPlan::link_port(leaf, s, true), FabricPlan::link_port(leaf, s, false)});
  for (const auto& im : spec.impaired) {
    if (im.leaf < 1 || im.leaf > 2 || im.spine >= spec.spines)
      throw std::invalid_argument("impaired link leaf " + std::to_string(im.leaf) + " spine " +
                                  std::to_string(im.spine) + " does not exist");
    plan.impaired.push_back({FabricPlan::link_port(im.leaf, im.spine, true), im.params});
    plan.impaired.push_back({FabricPlan::link_port(im.leaf, im.spine, false), im.params});
  }

  auto add_port = [](FabricPlan::Switch& sw, const std::string& name, std::optional<wire::Ipv4Prefix> addr,
                     const std::optional<tor::EgressConfig>& egress) {
    const auto id = static_cast<tor::PortId>(sw.ports.size());
    sw.ports.push_back(name);
    tor::L2PortConfig pc;
    pc.name = name;
    sw.config.l2.ports.push_back(pc);
    sw.config.egress.push_back(egress);
    if (addr) sw.config.l3.interfaces.push_back({id, *addr, kPlaceholderMac});
  };
  // Leaves.
  for (unsigned leaf = 1; leaf <= 2; ++leaf) {
    FabricPlan::Switch sw;
    sw.name = "leaf" + std::to_string(leaf);
    add_port(sw, leaf == 1 ? "l1-gen" : "l2-resp", wire::Ipv4Prefix{ip(10, 0, leaf, 1), 24}, std::nullopt);
    tor::L3Route up;
    up.prefix = {ip(10, 0, 3 - leaf, 0), 24};
    for (unsigned s = 0; s < spec.spines; ++s) {
      add_port(sw, FabricPlan::link_port(leaf, s, true), wire::Ipv4Prefix{ip(10, 100 + leaf, s, 0), 31},
               spec.fabric_egress);
      up.next_hops.push_back(ip(10, 100 + leaf, s, 1));
    }
    sw.config.l3.routes.push_back(up);
    sw.config.l3.ecmp_seed = mix(spec.ecmp_seed + leaf);
    sw.config.l2.hash_seed = mix(spec.ecmp_seed ^ 0x5eed);
    // Next hops answer at once on rings; retry fast so a fabric is ready in milliseconds.
    sw.config.l3.arp_retry_ns = 10'000'000;
    plan.switches.push_back(std::move(sw));
  }
  // Spines.
  for (unsigned s = 0; s < spec.spines; ++s) {
    FabricPlan::Switch sw;
    sw.name = "spine" + std::to_string(s);
    for (unsigned leaf = 1; leaf <= 2; ++leaf) {
      add_port(sw, FabricPlan::link_port(leaf, s, false), wire::Ipv4Prefix{ip(10, 100 + leaf, s, 1), 31},
               spec.fabric_egress);
      sw.config.l3.routes.push_back({wire::Ipv4Prefix{ip(10, 0, leaf, 0), 24}, {ip(10, 100 + leaf, s, 0)}});
    }
    sw.config.l3.ecmp_seed = mix(spec.ecmp_seed + 100 + s);
    sw.config.l2.hash_seed = mix(spec.ecmp_seed ^ 0x5eed);
    sw.config.l3.arp_retry_ns = 10'000'000;
    plan.switches.push_back(std::move(sw));
  }
  for (auto& sw : plan.switches)
    if (auto e = sw.config.validate(); !e.empty()) throw std::logic_error(sw.name + ": " + e);

  plan.gen_host.ip = ip(10, 0, 1, 2);
  plan.gen_host.prefix_len = 24;
  plan.gen_host.gateway = ip(10, 0, 1, 1);
  plan.gen_host.peer_ip = ip(10, 0, 2, 2);
  plan.resp_host.ip = ip(10, 0, 2, 2);
  plan.resp_host.prefix_len = 24;
  plan.resp_host.gateway = ip(10, 0, 2, 1);
  return plan;
}

std::vector<FabricPlan::PathRoute> FabricPlan::path_routes(std::uint16_t paths) const {
  tor::L3Router leaf1(switches[0].config.l3, switches[0].ports.size());
  tor::L3Router leaf2(switches[1].config.l3, switches[1].ports.size());
  std::vector<PathRoute> v;
  for (std::uint16_t p = 0; p < paths; ++p) {
    const auto g = static_cast<std::uint16_t>(gen_host.src_port_base + p);
    const auto r = static_cast<std::uint16_t>(resp_host.src_port_base + p);
    // Port 0 of each leaf faces its host; port 1 + s faces spine s.
    v.push_back({leaf1.egress_for(gen_host.ip, resp_host.ip, wire::kIpProtoUdp, g, resp_host.udp_port) - 1,
                 leaf2.egress_for(resp_host.ip, gen_host.ip, wire::kIpProtoUdp, r, gen_host.udp_port) - 1});
  }
  return v;
}

void FabricPipeline::add(Pipeline* p, const std::vector<std::uint16_t>& ports) {
  Element e{p, std::make_unique<TxBuffers>()};
  std::vector<std::uint16_t> ids;
  for (std::size_t local = 0; local < ports.size(); ++local) {
    const std::uint16_t g = ports[local];
    if (g >= port_ids_.size() || owner_[g].first != -1)
      throw std::invalid_argument("fabric: port " + std::to_string(g) + " is unknown or already owned");
    owner_[g] = {static_cast<int>(elements_.size()), static_cast<std::uint16_t>(local)};
    ids.push_back(port_ids_[g]);
  }
  e.tx->init(static_cast<std::uint16_t>(ids.size()), ids.data(), 0);
  elements_.push_back(std::move(e));
}

void FabricPipeline::rx(TxBuffers&, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
                        std::uint64_t now_tsc) noexcept {
  const auto [e, local] = owner_[port_index];
  if (e < 0) {
    rte_pktmbuf_free_bulk(pkts, n);
    return;
  }
  Element& el = elements_[static_cast<std::size_t>(e)];
  el.p->rx(*el.tx, local, pkts, n, now_tsc);
}

unsigned FabricPipeline::poll(TxBuffers&, std::uint64_t now_tsc) noexcept {
  unsigned work = 0;
  for (auto& el : elements_) work += el.p->poll(*el.tx, now_tsc);
  // Every element's frames leave now: the next hop polls them in the next
  // iteration, so a hop costs one loop iteration, not a drain timer.
  for (auto& el : elements_) el.tx->flush();
  if (after_poll_) after_poll_(now_tsc);
  return work;
}

std::uint64_t FabricPipeline::next_deadline_tsc() const noexcept {
  std::uint64_t d = ~std::uint64_t{0};
  for (const auto& el : elements_) d = std::min(d, el.p->next_deadline_tsc());
  return d;
}

void FabricPipeline::housekeeping(std::uint64_t now_tsc) noexcept {
  for (auto& el : elements_) el.p->housekeeping(now_tsc);
}

void FabricPipeline::drain(TxBuffers&, std::uint64_t now_tsc) noexcept {
  for (auto& el : elements_) {
    el.p->drain(*el.tx, now_tsc);
    el.tx->flush();
  }
}

}  // namespace spray::dp
