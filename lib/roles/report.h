// SPDX-License-Identifier: BSD-3-Clause
// What each role reports when it ends: one struct per role, filled from the
// run once the workers stopped, and one writer per form (the text table on
// stdout, the JSON of --json). The writers are DPDK-free
// (spray_roles_report), so the unit tests render them without EAL; the JSON
// keys are read by test/smoke and tools/, and stay as they are.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "roles/options.h"
#include "srd/counters.h"
#include "telemetry/histogram.h"
#include "traffic/generator.h"
#include "tor/l2_counters.h"
#include "tor/l3_counters.h"

namespace spray::roles {

// A counter of a list as a table shows it.
struct NamedCount {
  std::string name;
  std::uint64_t value = 0;
};

// One generator's messages, round trips and transport figures, as both the
// gen report and each demo run read them.
// The generator's own counters are its base, by their names
// (SPRAY_GEN_COUNTERS).
struct GenFigures : traffic::GenCounts {
  double seconds = 0;  // measured interval (after the warm-up)
  std::uint32_t conns_lost = 0;
  telemetry::HistogramSnapshot rtt;
  std::array<std::uint64_t, srd::kRetxCauseCount> retx{};  // by srd::RetxCause
  std::uint64_t spurious = 0, rto_events = 0, quarantines = 0;
  std::uint64_t shared_losses = 0, silent_rtos = 0, host_drop_acks = 0, acks_lost = 0;
  std::uint64_t data_pkts = 0;  // DATA packets sent, retransmissions included

  std::uint64_t retx_of(srd::RetxCause c) const { return retx[static_cast<std::size_t>(c)]; }
  double goodput_bps() const { return seconds > 0 ? (tx_bytes + rx_bytes) * 8.0 / seconds : 0; }
  double msgs_per_s() const { return seconds > 0 ? measured / seconds : 0; }
};

// One path of the gen report, summed over connections.
struct PathFigures {
  std::uint64_t tx_pkts = 0, acked_pkts = 0, lost_pkts = 0, ce_pkts = 0, rto_events = 0, quarantines = 0;
  std::uint32_t active = 0, quarantined = 0;  // connections in that state
  double srtt_us = 0;                         // mean over connections, 0 = none
  double min_rtt_us = 0;                      // lowest over connections, 0 = none
};

struct GenReport {
  GenFigures figures;
  std::vector<PathFigures> paths;
  double offered_msgs = 0;  // open loop: messages/s asked for
  int exit_code = 0;
  std::string failure;  // empty: a clean run
};

// The failure of a finished gen run ("" when clean): what --reconnect
// replaced is not one, a request that never completed is.
std::string gen_failure(const GenFigures& f, const std::string& last_failure);

std::string gen_text(const GenOptions& o, const GenReport& r);
std::string gen_json(const GenOptions& o, const GenReport& r);

// One run of the demo (spray, then single path).
struct DemoRun {
  std::string mode;
  std::uint16_t paths = 0;
  GenFigures figures;
  std::uint64_t lost = 0;        // failed, or sent and never completed
  std::uint64_t violations = 0;  // the responder's, bad and unexpected replies
  std::uint64_t ce_marks = 0, queue_drops = 0;  // in the fabric's egress queues (--fabric-rate)
  std::vector<double> spine_share;  // fraction of fabric packets per spine
  std::string failure;
  int failed_spine = -1;        // -1: no failure in this run
  double quarantine_ms = -1;    // first cut path quarantined after the failure; -1: none
  std::vector<int> path_spine;  // forward spine of each path
  std::vector<int> back_spine;  // spine its acknowledgements come back through
  int lossy_spine = -1;         // the spine of leaf 1's lossy link
  std::vector<bool> quarantined_in_outage;
  std::vector<bool> quarantined_ever;  // at any time in the run

  // A path is cut when either direction crosses the failed spine, lossy
  // when it is not cut but crosses the lossy link (which leaf 1's data and
  // leaf 1's incoming acknowledgements both cross; it still delivers 99%),
  // and healthy when it is neither.
  bool cut(std::size_t p) const;
  bool lossy(std::size_t p) const;
  bool healthy(std::size_t p) const;
  std::size_t cut_paths() const;
  std::size_t cut_quarantined() const;
  std::size_t other_quarantined() const;
  std::size_t lossy_paths() const;
  std::size_t lossy_quarantined() const;  // at any time in the run
  std::size_t healthy_paths() const;
  std::size_t healthy_quarantined() const;
  std::size_t spines_used() const;  // spines that carried over 1% of the packets
};

struct DemoReport {
  unsigned spines = 0;
  int failed_spine = 0;  // the spine chosen to fail (whether or not it did)
  int lossy_spine = 0;
  double loss = 0;
  double run_seconds = 0;
  bool shaped = false;  // --fabric-rate: the table shows ECN marks and queue drops
  std::vector<DemoRun> runs;

  // The claim: the spray run lost nothing, broke no reply and spread its
  // traffic over every spine.
  bool clean() const;
  bool spread() const;
  bool claim_holds() const { return clean() && spread(); }
};

std::string demo_text(const DemoReport& r);
std::string demo_json(const DemoReport& r);

struct RespondHost {
  std::uint32_t ip = 0;
  std::string port;
  std::vector<NamedCount> counters, violations, host_counters;
  std::string last_failure;
};

struct RespondReport {
  std::vector<RespondHost> hosts;
  std::uint64_t violations = 0;
};

std::string respond_text(const RespondReport& r);

struct SwitchReport {
  tor::L2Stats l2{};
  std::vector<NamedCount> glue_drops;  // the pipelines' own, summed over workers
  bool routed = false;
  tor::L3Stats l3{};
};

std::string switch_text(const SwitchReport& r);

// Nanoseconds as microseconds: "12.34".
std::string usec(std::uint64_t ns, int decimals = 2);

// Writes `text` to `path`; RuntimeError naming `option` when it cannot.
void write_file(const std::string& path, const std::string& text, const char* option);

}  // namespace spray::roles
