// SPDX-License-Identifier: BSD-3-Clause
// Who sends how much to whom, and when: the traffic of a fabric experiment.
//
// Flows name hosts by index (Fabric::hosts). The generators are
// deterministic for a seed; the reader takes htsim's connection-matrix
// format (.cm) so the same matrix runs in both simulators. Errors throw
// std::invalid_argument with one line naming the source, the line, the
// value and what is accepted.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "rng.h"
#include "srd/types.h"

namespace spray::sim {

struct FlowDef {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint64_t bytes = 0;
  srd::Nanos start_ns = 0;
};

// Flow sizes: one size ("2000000", "2MB", "64KiB") or a weighted list
// ("64K:7,1M:2,16M:1": the weights need not sum to anything).
class SizeDist {
 public:
  SizeDist() = default;
  explicit SizeDist(std::uint64_t bytes) : sizes_{{bytes, 1.0}}, total_(1.0) {}
  // Throws std::invalid_argument("'<text>': expected ...").
  static SizeDist parse(const std::string& text);
  std::uint64_t draw(Rng& rng) const noexcept;
  std::uint64_t max_bytes() const noexcept;
  const std::vector<std::pair<std::uint64_t, double>>& sizes() const noexcept { return sizes_; }

 private:
  std::vector<std::pair<std::uint64_t, double>> sizes_;
  double total_ = 0;
};

// Bytes with an optional unit: B, K/KB (1000), KiB (1024), M/MB, MiB, G/GB, GiB.
// Throws std::invalid_argument on anything else.
std::uint64_t parse_bytes(const std::string& text);

// Every host sends one flow to another, no host receiving two (a random
// derangement); `flows` < nodes keeps the first `flows` senders. Starts are
// uniform in [0, start_spread_ns].
std::vector<FlowDef> permutation(std::uint32_t nodes, std::uint32_t flows, const SizeDist& size,
                                 srd::Nanos start_spread_ns, std::uint64_t seed);
// Every host to every other host.
std::vector<FlowDef> all_to_all(std::uint32_t nodes, const SizeDist& size, srd::Nanos start_spread_ns,
                                std::uint64_t seed);
// `senders` random hosts to host `dst`.
std::vector<FlowDef> incast(std::uint32_t nodes, std::uint32_t senders, std::uint32_t dst, const SizeDist& size,
                            srd::Nanos start_spread_ns, std::uint64_t seed);

// htsim's connection matrix:
//   Nodes N
//   Connections C
//   SRC->DST [id I] start PICOSECONDS size BYTES [prio P]
// Lines starting with '#' are comments. Triggers and failures (htsim's
// dependent flows) are rejected by name.
struct ConnectionMatrix {
  std::uint32_t nodes = 0;
  std::vector<FlowDef> flows;
};
ConnectionMatrix read_connection_matrix(std::istream& in, const std::string& source);
ConnectionMatrix read_connection_matrix_file(const std::string& path);

}  // namespace spray::sim
