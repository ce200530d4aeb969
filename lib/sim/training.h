// SPDX-License-Identifier: BSD-3-Clause
// A training-step model for `spray sim`: iterations of a compute gap and
// then the step's collectives, each a barrier for the whole job, over SRD
// connections opened once (as a communicator is) and kept.
//
// - Ring all-reduce: the hosts form rings of `allreduce_group` ranks; each
//   rank sends 2(G-1) chunks of ceil(allreduce_bytes / G) to its right
//   neighbour (reduce-scatter, then all-gather), and chunk s leaves only
//   once the rank has received chunk s-1 from its left neighbour.
// - All-to-all (MoE dispatch): groups of `alltoall_group` ranks; each rank
//   sends alltoall_bytes / G to every other rank of its group, all at once.
//
// A collective ends when every byte of every rank is acknowledged; the next
// starts then, and after the last one the next iteration's compute gap. A
// step is compute + collectives. Group g's member i is host g + i * (N / G)
// (strided: a ring crosses the fabric) or g * G + i (contiguous); hosts
// beyond the last whole group take no part.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim.h"
#include "srd_host.h"

namespace spray::sim {

enum class Placement : std::uint8_t { kStrided, kContiguous };

struct TrainingConfig {
  std::uint32_t iterations = 2;
  Nanos compute_ns = 50'000;            // before each iteration's collectives
  std::uint64_t allreduce_bytes = 0;    // per rank; 0: no all-reduce
  std::uint32_t allreduce_group = 0;    // ranks per ring; 0: every host
  std::uint64_t alltoall_bytes = 0;     // per rank, a G-th to each peer; 0: no all-to-all
  std::uint32_t alltoall_group = 16;    // 0: every host
  Placement placement = Placement::kStrided;
};

struct DurationStats {
  std::vector<std::uint64_t> ns;  // one per iteration, in order
  double mean_ns = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
  void finish();                  // computes the summary from `ns`
};

struct TrainingReport {
  bool enabled = false;
  std::uint32_t iterations = 0;       // asked for
  std::uint32_t iterations_done = 0;
  bool failed = false;                // a connection or message failed: the job stopped
  DurationStats step;                 // compute gap + collectives
  struct Collective {
    std::string name;                 // "allreduce", "alltoall"
    std::uint32_t group = 0;          // ranks per ring / group
    std::uint32_t groups = 0;
    std::uint64_t bytes_per_iteration = 0;  // every rank's sends
    DurationStats time;
  };
  std::vector<Collective> collectives;
  std::uint64_t bytes_expected = 0;   // every collective of every iteration, as planned
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages = 0;         // submitted
};

// The job: its plan, the shared progress and one App per host. Throws
// std::invalid_argument("training.KEY = 'VALUE': expected ...") for a plan
// that does not fit the hosts.
class Training {
 public:
  Training(Sim& sim, std::vector<std::uint32_t> host_nodes, const TrainingConfig& cfg,
           std::uint32_t message_bytes, std::uint32_t window);
  ~Training();

  // Before the run: the peers each host sends to and receives from.
  std::uint32_t out_peers(std::uint32_t host) const noexcept;
  std::uint32_t in_peers(std::uint32_t host) const noexcept;
  std::unique_ptr<App> make_app(std::uint32_t host);
  // Starts iteration 0's compute gap at now.
  void start();

  bool done() const noexcept;
  std::uint32_t iterations_done() const noexcept;
  std::uint64_t bytes_acked() const noexcept;
  std::uint64_t bytes_total() const noexcept;  // every iteration, as planned
  // Submit-to-delivered time of every message, in completion order.
  const std::vector<std::uint64_t>& message_ns() const noexcept;
  // Our connections of host `host` (for the transport's counters), and the
  // connection failures its app saw.
  std::vector<srd::ConnId> out_conns(std::uint32_t host) const;
  std::uint64_t conn_failures(std::uint32_t host) const noexcept;
  TrainingReport report() const;

  struct State;

 private:
  std::unique_ptr<State> st_;
};

}  // namespace spray::sim
