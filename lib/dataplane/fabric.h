// SPDX-License-Identifier: BSD-3-Clause
// A leaf-spine fabric in one process: two leaf switches, S spine switches, a
// generator host under leaf 1 and a responder host under leaf 2, joined by
// in-memory links (net_ring), some of them through net_impair. Built from the
// same SwitchPipeline and SrdHostPipeline as `spray switch`, `spray gen` and
// `spray respond`; used by `spray demo` and the fabric tests.
//
// Addressing (all /24 or /31, routed everywhere; no L2 between switches):
//   generator 10.0.1.2/24, gateway leaf 1 at 10.0.1.1
//   responder 10.0.2.2/24, gateway leaf 2 at 10.0.2.1
//   leaf L - spine s: 10.<100+L>.<s>.0/31, the leaf .0 and the spine .1
// Leaf 1 routes 10.0.2.0/24 over every spine (one ECMP group), leaf 2
// routes 10.0.1.0/24 likewise; each spine routes each host subnet to its
// leaf. Every switch hashes with its own seed, derived from the fabric's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/host_config.h"
#include "dataplane/worker.h"
#include "tor/switch_config.h"

namespace spray::dp {

struct FabricSpec {
  unsigned spines = 4;                 // 1..16
  std::uint64_t ecmp_seed = 1;
  // Links (both ends) wrapped in net_impair so they can be impaired or
  // failed at run time: a leaf-spine link is named by (leaf 1 or 2, spine).
  struct Impaired {
    unsigned leaf;
    unsigned spine;
    std::string params;  // net_impair devargs after port=, e.g. "loss=0.01"
  };
  std::vector<Impaired> impaired;
  // Egress shaping on every leaf uplink and spine downlink (nullopt: none).
  std::optional<tor::EgressConfig> fabric_egress;
};

struct FabricPlan {
  struct Switch {
    std::string name;                // "leaf1", "spine0", ...
    std::vector<std::string> ports;  // port names, in the switch's port order
    tor::SwitchConfig config;        // interface MACs are placeholders until ports exist
  };
  std::vector<std::pair<std::string, std::string>> ring_links;  // Runtime order
  std::vector<std::pair<std::string, std::string>> impaired;    // port name -> impair params
  std::vector<Switch> switches;  // leaf1, leaf2, spine0..S-1
  SrdHostConfig gen_host, resp_host;
  std::string gen_port, resp_port;

  // The port name of a leaf's end (leaf_side) or the spine's end of a link.
  static std::string link_port(unsigned leaf, unsigned spine, bool leaf_side);

  // The spines path p crosses, from the leaves' own ECMP hashes: requests
  // leave leaf 1 with source port src_port_base + p, and the responder's
  // packets of that path (replies, and the ACKs, which return on the path id
  // of the data they acknowledge) leave leaf 2 with the same source port.
  // Which path a failure cuts depends on it, so the demo picks its failing
  // spine and tells cut paths from healthy ones by it.
  struct PathRoute {
    int forward;  // spine of leaf 1's packets
    int reverse;  // spine of leaf 2's packets
  };
  std::vector<PathRoute> path_routes(std::uint16_t paths) const;
};

// Throws std::invalid_argument for a spec out of range.
FabricPlan plan_fabric(const FabricSpec& spec);

// Several pipelines on one worker, each with its own ports: rx is dispatched
// by port to the element owning it, with the element's own port numbering,
// and each element transmits through its own TxBuffers, flushed after every
// poll.
class FabricPipeline final : public Pipeline {
 public:
  // `port_ids[i]`: DPDK port id of global port i (the Runtime's order).
  explicit FabricPipeline(std::vector<std::uint16_t> port_ids) : port_ids_(std::move(port_ids)) {
    owner_.assign(port_ids_.size(), {-1, 0});
  }
  // `ports`: the element's ports as global indexes, in its own order.
  void add(Pipeline* p, const std::vector<std::uint16_t>& ports);
  // Called on the worker after every poll (e.g. fast state sampling).
  void set_after_poll(std::function<void(std::uint64_t now_tsc)> f) { after_poll_ = std::move(f); }

  void rx(TxBuffers& tx, std::uint16_t port_index, rte_mbuf** pkts, std::uint16_t n,
          std::uint64_t now_tsc) noexcept override;
  unsigned poll(TxBuffers& tx, std::uint64_t now_tsc) noexcept override;
  std::uint64_t next_deadline_tsc() const noexcept override;
  void housekeeping(std::uint64_t now_tsc) noexcept override;
  void drain(TxBuffers& tx, std::uint64_t now_tsc) noexcept override;

 private:
  struct Element {
    Pipeline* p;
    std::unique_ptr<TxBuffers> tx;
  };
  std::vector<std::uint16_t> port_ids_;
  std::vector<std::pair<int, std::uint16_t>> owner_;  // global port -> (element, local port)
  std::vector<Element> elements_;
  std::function<void(std::uint64_t)> after_poll_;
};

}  // namespace spray::dp
