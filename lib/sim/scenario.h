// SPDX-License-Identifier: BSD-3-Clause
// Ready-made scenarios: a topology, SRD endpoints on every host, message
// workloads and a shared ledger. Tests and sim_report build on these; a new
// scenario usually only changes the options.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <memory>
#include <vector>

#include "sim.h"
#include "srd_host.h"
#include "topology.h"
#include "workload.h"
#include "wire/srd.h"

namespace spray::sim {

using TuneEndpoint = std::function<void(srd::EndpointConfig&)>;

// Two hosts over P parallel paths; host a sends to host b.
struct PairOptions {
  std::uint64_t seed = 1;
  std::uint16_t paths = 8;                           // physical paths
  std::uint64_t total_rate_bps = 100'000'000'000ULL; // shared equally by the paths
  Nanos delay_ns = 2'000;                            // one-way, per path
  Nanos skew_ns = 0;                                 // extra delay, 0 .. skew over the paths
  std::uint32_t queue_limit_pkts = 1024;
  std::uint32_t ecn_mark_pkts = 0;
  LinkConfig impair;            // loss/reorder/dup/corrupt fields applied to each path
  bool impair_acks = true;      // impair b -> a as well
  HostConfig host;
  FlowSpec flow;                // peer is filled in
  TuneEndpoint tune;            // applied to both endpoints' configs
};

class PairScenario {
 public:
  explicit PairScenario(const PairOptions& o);

  Sim sim;
  Parallel topo;
  Ledger ledger;

  SrdHost& a() { return static_cast<SrdHost&>(sim.stack(topo.a)); }
  SrdHost& b() { return static_cast<SrdHost&>(sim.stack(topo.b)); }
  MessageApp& sender() { return static_cast<MessageApp&>(*a().app()); }
  MessageApp& receiver() { return static_cast<MessageApp&>(*b().app()); }
  srd::ConnId conn() { return sender().conns().front().id; }
  srd::ConnStats conn_stats();
  // Runs until the sender's messages are all accounted for, or limit_ns.
  bool run(Nanos limit_ns);
  // Replaces host b's endpoint with a fresh one (a process restart).
  void restart_b(std::uint64_t new_seed);
  double path_rate_bps() const { return static_cast<double>(opts_.total_rate_bps) / opts_.paths; }
  const PairOptions& options() const { return opts_; }

 private:
  std::unique_ptr<SrdHost> make_host(std::uint32_t node, std::uint64_t seed, bool sender);
  PairOptions opts_;
};

// Leaf-spine fabric with `flows` sender->receiver pairs, each sender on
// leaf 0 and each receiver on leaf 1, open-loop Poisson messages.
struct FabricOptions {
  std::uint64_t seed = 1;
  LeafSpineConfig topo;
  std::uint32_t flows = 8;
  std::uint16_t paths = 16;      // endpoint paths; 1 = single-path (TCP-like)
  FlowSpec flow;                 // per flow; peer filled in
  TuneEndpoint tune;
};

class FabricScenario {
 public:
  explicit FabricScenario(const FabricOptions& o);
  Sim sim;
  LeafSpine topo;
  Ledger ledger;
  std::vector<std::uint32_t> senders;    // host nodes
  std::vector<std::uint32_t> receivers;
  MessageApp& app(std::uint32_t node) {
    return static_cast<MessageApp&>(*static_cast<SrdHost&>(sim.stack(node)).app());
  }
  SrdHost& host(std::uint32_t node) { return static_cast<SrdHost&>(sim.stack(node)); }
};

// N senders into one receiver through a switch with an ECN-marking bottleneck.
struct IncastOptions {
  std::uint64_t seed = 1;
  IncastConfig topo;
  FlowSpec flow;                 // per sender; peer filled in
  TuneEndpoint tune;
};

class IncastScenario {
 public:
  explicit IncastScenario(const IncastOptions& o);
  Sim sim;
  Incast topo;
  Ledger ledger;
  MessageApp& app(std::uint32_t node) {
    return static_cast<MessageApp&>(*static_cast<SrdHost&>(sim.stack(node)).app());
  }
  SrdHost& host(std::uint32_t node) { return static_cast<SrdHost&>(sim.stack(node)); }
  bool senders_done();
};

// Polls the path states of one connection and records every change.
class PathTimeline {
 public:
  struct Change {
    Nanos at_ns;
    std::uint16_t path;
    srd::PathState from;
    srd::PathState to;
  };
  // Samples every period_ns from now until until_ns.
  void attach(Sim& sim, std::uint32_t host_node, srd::ConnId conn, std::uint16_t paths,
              Nanos period_ns, Nanos until_ns);
  const std::vector<Change>& changes() const noexcept { return changes_; }
  // First change of `path` into `to` at or after after_ns; kNever if none.
  Nanos first(std::uint16_t path, srd::PathState to, Nanos after_ns) const noexcept;
  // State of `path` as last sampled before at_ns (ACTIVE before any change).
  srd::PathState state_at(std::uint16_t path, Nanos at_ns) const noexcept;
  // Changes of any path other than `except` into `to` within [from_ns, to_ns).
  std::size_t count(srd::PathState to, Nanos from_ns, Nanos to_ns, std::uint16_t except) const noexcept;

 private:
  std::vector<srd::PathState> last_;
  std::vector<Change> changes_;
};

// Loss-recovery latency (doc/protocol.md section 7, T5): drops DATA packets on the given
// links, by probability or by a rule, and times each from the drop to the
// first arrival of the same segment (connection, message, offset) at the
// receiving host.
class RecoveryProbe {
 public:
  using Rule = std::function<bool(const wire::SrdDataHdr&, Nanos now_ns)>;
  // Drops DATA with probability `loss` (and ACKs are never dropped), or,
  // when `rule` is set, exactly the DATA packets it selects.
  void attach(Sim& sim, const std::vector<std::uint32_t>& links, std::uint32_t rx_host,
              double loss, Rule rule = {});
  const std::vector<std::uint64_t>& samples_ns() const noexcept { return samples_; }
  std::uint64_t dropped() const noexcept { return dropped_; }
  std::uint64_t unrecovered() const noexcept { return pending_.size(); }

 private:
  static std::uint64_t key(const wire::SrdDataHdr& h) noexcept {
    return mix64((std::uint64_t{h.dst_conn_id} << 32 | h.msg_id) ^ mix64(h.msg_off));
  }
  Rng rng_{7};
  std::unordered_map<std::uint64_t, Nanos> pending_;  // segment -> first drop
  std::unordered_set<std::uint64_t> arrived_;         // a later drop of these is a spurious copy
  std::vector<std::uint64_t> samples_;
  std::uint64_t dropped_ = 0;
};

}  // namespace spray::sim
