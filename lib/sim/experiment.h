// SPDX-License-Identifier: BSD-3-Clause
// A fabric experiment, what `spray sim` runs: a fabric (fabric.h), SRD
// endpoints on every host (lib/srd unchanged), flows from a traffic matrix
// (traffic_matrix.h), faults at given times, and a report of flow
// completion times, drops, marks, retransmissions by cause and quarantines.
//
// The scenario is set key by key (`section.key = value`, the same keys in a
// scenario file and on the command line, doc/simulator.md "spray sim"); a
// bad key or value throws ScenarioError with one line naming the key, the
// value and what is accepted. A run is deterministic for its scenario and
// seed: only the wall-time figures differ between two runs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fabric.h"
#include "plb.h"
#include "traffic_matrix.h"
#include "training.h"

namespace spray::sim {

class ScenarioError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class Pattern : std::uint8_t { kPermutation, kAllToAll, kIncast, kMatrix, kTraining };

// How a connection's packets are spread over the fabric: sprayed over
// `paths` entropies (the transport as it is), one path hashed by ECMP, or
// one path that PLB moves on congestion or timeout (plb.h).
enum class LoadBalance : std::uint8_t { kSpray, kEcmp, kPlb };
const char* to_string(LoadBalance lb) noexcept;

enum class FaultKind : std::uint8_t { kLinkDown, kLinkUp, kLinkDegrade, kSwitchDown, kSwitchUp };

// One event of `fault = TIME KIND TARGET [loss=P] [rate=R]`: a link is
// "A-B" (both directions between neighbours A and B), a switch its name.
struct Fault {
  Nanos at_ns = 0;
  FaultKind kind = FaultKind::kLinkDown;
  std::string target;
  double loss = -1;           // degrade: new random loss rate; < 0 keeps it
  std::uint64_t rate_bps = 0; // degrade: new rate; 0 keeps it
  std::string text;           // as written, for messages
};

struct ExperimentConfig {
  FabricConfig fabric;               // a fat tree with neither k nor nodes: k = 8 (128 hosts)
  std::uint32_t mtu = 4000;          // IP MTU of every host, 89..9000
  // Traffic.
  Pattern pattern = Pattern::kPermutation;
  std::uint32_t flows = 0;           // permutation: senders (0 = every host)
  std::uint32_t incast_senders = 16;
  std::uint32_t incast_dst = 0;
  SizeDist size{2'000'000};
  Nanos start_spread_ns = 0;
  std::string matrix_path;           // pattern = matrix: htsim .cm file
  TrainingConfig training;           // pattern = training
  // Transport: P paths per connection (1 = single-path ECMP) and how a flow
  // is cut into messages (window of messages outstanding per flow).
  std::uint16_t paths = 16;
  LoadBalance lb = LoadBalance::kSpray;  // ecmp and plb use one path whatever `paths` says
  PlbConfig plb;
  std::uint32_t message_bytes = 64 * 1024;
  std::uint32_t window = 4;
  // Run.
  std::uint64_t seed = 1;
  Nanos end_ns = 100'000'000;        // stop here even if flows remain
  std::vector<Fault> faults;
};

// Sets one key ("section.key" or a key of the [traffic], [fabric],
// [transport] or [run] sections without its section). Throws ScenarioError.
void apply_setting(ExperimentConfig& cfg, const std::string& key, const std::string& value);
// Reads an INI scenario (sections, `key = value`, '#' or ';' comments);
// errors name `source` and the line. Throws ScenarioError.
void read_scenario(ExperimentConfig& cfg, std::istream& in, const std::string& source);
void read_scenario_file(ExperimentConfig& cfg, const std::string& path);
// Cross-field checks (a fault's target exists, incast_dst < nodes, ...) are
// made when the experiment is built; the keys list for --help.
std::string scenario_keys_help();

struct TierReport {
  Tier tier = Tier::kHost;
  std::uint64_t links = 0;
  std::uint64_t tx_pkts = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t drops_queue = 0;
  std::uint64_t drops_loss = 0;       // random loss (a degraded link)
  std::uint64_t drops_down = 0;       // link or switch down
  std::uint64_t ce_marks = 0;
  double mean_util = 0;               // tx bytes over link capacity x duration, mean of links
  double max_util = 0;
};

struct ExperimentResult {
  // Scenario as built.
  std::string topology;               // "fat-tree k=8 ..." one line
  std::uint64_t hosts = 0;
  std::uint64_t switches = 0;
  std::uint64_t links = 0;
  std::uint16_t paths = 0;            // as used: 1 for ecmp and plb
  LoadBalance lb = LoadBalance::kSpray;
  std::uint64_t seed = 0;
  // Flows.
  std::uint64_t flows = 0;
  std::uint64_t flows_completed = 0;
  std::uint64_t flows_failed = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t bytes_delivered = 0;
  std::vector<std::uint64_t> fct_ns;  // completed flows, in flow order
  double fct_mean_ns = 0;
  std::uint64_t fct_p50_ns = 0, fct_p90_ns = 0, fct_p99_ns = 0, fct_p999_ns = 0, fct_max_ns = 0;
  // Fabric and transport.
  std::vector<TierReport> tiers;
  std::uint64_t data_pkts = 0;        // DATA sent, retransmissions included
  std::vector<std::pair<std::string, std::uint64_t>> retransmits;  // by cause
  std::uint64_t retx_total = 0;
  std::uint64_t spurious_retx = 0;
  std::uint64_t rto_events = 0;
  std::uint64_t path_quarantines = 0;
  std::uint64_t conns_failed = 0;
  PlbStats plb;                       // lb = plb: repaths and rounds, every host
  // pattern = training: step and collective times. The flows above are
  // then the collectives' messages (fct_ns: submit to acknowledged).
  TrainingReport training;
  // Run.
  Nanos sim_ns = 0;                   // virtual time at the end
  bool all_done = false;              // every flow completed or failed before end_ns
  std::uint64_t events = 0;
  std::uint64_t packets = 0;          // packets put on a link (every hop)
  double wall_s = 0;                  // from build to end
  double build_s = 0;
  std::uint64_t peak_rss_bytes = 0;   // 0 when unknown
  std::uint64_t endpoint_bytes = 0;   // memory of one endpoint as configured (measured at build)
};

struct RunOptions {
  std::FILE* progress = nullptr;      // a line about every progress_wall_s; null: none
  double progress_wall_s = 1.0;
};

// Builds and runs; throws ScenarioError for a scenario that cannot be built.
ExperimentResult run_experiment(const ExperimentConfig& cfg, const RunOptions& opts = {});

void write_json(std::ostream& out, const ExperimentResult& r);
void write_text(std::ostream& out, const ExperimentResult& r);

}  // namespace spray::sim
