// SPDX-License-Identifier: BSD-3-Clause
#include "traffic_matrix.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace spray::sim {
namespace {

bool to_u64(const std::string& s, std::uint64_t& v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

srd::Nanos start_in(Rng& rng, srd::Nanos spread_ns) {
  return spread_ns ? rng.below(spread_ns + 1) : 0;
}

}  // namespace

std::uint64_t parse_bytes(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  std::uint64_t n = 0;
  const std::string digits = text.substr(0, i), unit = text.substr(i);
  static const std::pair<const char*, std::uint64_t> kUnits[] = {
      {"", 1},          {"B", 1},           {"K", 1000},      {"KB", 1000},         {"KiB", 1024},
      {"M", 1'000'000}, {"MB", 1'000'000},  {"MiB", 1 << 20}, {"G", 1'000'000'000}, {"GB", 1'000'000'000},
      {"GiB", 1 << 30}};
  for (const auto& [name, mult] : kUnits)
    if (unit == name && to_u64(digits, n) && n <= (std::uint64_t{1} << 40) / mult) return n * mult;
  throw std::invalid_argument("'" + text + "': expected bytes like 4096, 64KiB, 2MB or 1GiB");
}

SizeDist SizeDist::parse(const std::string& text) {
  SizeDist d;
  std::stringstream ss(text);
  std::string item;
  const std::string accepted = "': expected a size (2MB) or sizes with weights (64K:7,1M:2,16M:1)";
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    double w = 1.0;
    std::uint64_t bytes = 0;
    try {
      bytes = parse_bytes(item.substr(0, colon));
      if (colon != std::string::npos) {
        std::size_t used = 0;
        w = std::stod(item.substr(colon + 1), &used);
        if (used != item.size() - colon - 1 || !(w > 0)) throw std::invalid_argument("weight");
      }
    } catch (const std::exception&) {
      throw std::invalid_argument("'" + text + accepted);
    }
    if (bytes == 0) throw std::invalid_argument("'" + text + accepted + " (sizes >= 1 byte)");
    d.sizes_.push_back({bytes, w});
    d.total_ += w;
  }
  if (d.sizes_.empty()) throw std::invalid_argument("'" + text + accepted);
  return d;
}

std::uint64_t SizeDist::draw(Rng& rng) const noexcept {
  if (sizes_.size() == 1) return sizes_[0].first;
  double x = rng.uniform() * total_;
  for (const auto& [bytes, w] : sizes_) {
    if (x < w) return bytes;
    x -= w;
  }
  return sizes_.back().first;
}

std::uint64_t SizeDist::max_bytes() const noexcept {
  std::uint64_t m = 0;
  for (const auto& s : sizes_) m = std::max(m, s.first);
  return m;
}

std::vector<FlowDef> permutation(std::uint32_t nodes, std::uint32_t flows, const SizeDist& size,
                                 srd::Nanos start_spread_ns, std::uint64_t seed) {
  Rng rng(mix64(seed ^ 0x7065726dULL));
  std::vector<std::uint32_t> dst(nodes);
  std::iota(dst.begin(), dst.end(), 0u);
  // Sattolo's shuffle: a single cycle, so no host sends to itself.
  for (std::uint32_t i = nodes; i > 1; --i) std::swap(dst[i - 1], dst[rng.below(i - 1)]);
  std::vector<std::uint32_t> src(nodes);
  std::iota(src.begin(), src.end(), 0u);
  for (std::uint32_t i = nodes; i > 1; --i) std::swap(src[i - 1], src[rng.below(i)]);
  std::vector<FlowDef> out;
  for (std::uint32_t i = 0; i < std::min(flows, nodes) && nodes > 1; ++i)
    out.push_back({src[i], dst[src[i]], size.draw(rng), start_in(rng, start_spread_ns)});
  return out;
}

std::vector<FlowDef> all_to_all(std::uint32_t nodes, const SizeDist& size, srd::Nanos start_spread_ns,
                                std::uint64_t seed) {
  Rng rng(mix64(seed ^ 0x613261ULL));
  std::vector<FlowDef> out;
  for (std::uint32_t s = 0; s < nodes; ++s)
    for (std::uint32_t d = 0; d < nodes; ++d)
      if (s != d) out.push_back({s, d, size.draw(rng), start_in(rng, start_spread_ns)});
  return out;
}

std::vector<FlowDef> incast(std::uint32_t nodes, std::uint32_t senders, std::uint32_t dst, const SizeDist& size,
                            srd::Nanos start_spread_ns, std::uint64_t seed) {
  Rng rng(mix64(seed ^ 0x696e63ULL));
  std::vector<std::uint32_t> pool;
  for (std::uint32_t i = 0; i < nodes; ++i)
    if (i != dst) pool.push_back(i);
  for (std::uint32_t i = static_cast<std::uint32_t>(pool.size()); i > 1; --i)
    std::swap(pool[i - 1], pool[rng.below(i)]);
  std::vector<FlowDef> out;
  for (std::uint32_t i = 0; i < std::min<std::size_t>(senders, pool.size()); ++i)
    out.push_back({pool[i], dst, size.draw(rng), start_in(rng, start_spread_ns)});
  return out;
}

ConnectionMatrix read_connection_matrix(std::istream& in, const std::string& source) {
  ConnectionMatrix m;
  std::uint64_t declared = 0;
  bool have_nodes = false, have_conns = false;
  std::string line;
  std::size_t lineno = 0;
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument(source + ":" + std::to_string(lineno) + ": " + what);
  };
  auto number = [&](const std::string& tok, const std::string& key, std::uint64_t max) {
    std::uint64_t v = 0;
    if (!to_u64(tok, v) || v > max)
      fail(key + " '" + tok + "': expected a whole number 0.." + std::to_string(max));
    return v;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty() || tok[0][0] == '#') continue;
    if (tok[0] == "Nodes" || tok[0] == "Connections") {
      if (tok.size() != 2) fail("'" + line + "': expected '" + tok[0] + " NUMBER'");
      const std::uint64_t v = number(tok[1], tok[0], 1'000'000);
      if (tok[0] == "Nodes") m.nodes = static_cast<std::uint32_t>(v), have_nodes = true;
      else declared = v, have_conns = true;
      continue;
    }
    if (tok[0] == "Triggers" || tok[0] == "Failures" || tok[0] == "trigger" || tok[0] == "failure")
      fail("'" + tok[0] + "': htsim's triggers and failures are not supported; expected Nodes, "
           "Connections or SRC->DST lines (faults go in the scenario file)");
    const auto arrow = tok[0].find("->");
    if (arrow == std::string::npos)
      fail("'" + tok[0] + "': expected Nodes, Connections or a flow 'SRC->DST start PS size BYTES'");
    if (!have_nodes) fail("flow before the 'Nodes N' line");
    FlowDef f;
    f.src = static_cast<std::uint32_t>(number(tok[0].substr(0, arrow), "source", m.nodes ? m.nodes - 1 : 0));
    f.dst = static_cast<std::uint32_t>(number(tok[0].substr(arrow + 2), "destination", m.nodes ? m.nodes - 1 : 0));
    if (f.src == f.dst) fail("'" + tok[0] + "': a host does not send to itself");
    bool have_size = false, have_start = false;
    for (std::size_t i = 1; i < tok.size(); ++i) {
      const std::string& key = tok[i];
      if (key == "addon") continue;
      if (i + 1 >= tok.size()) fail("'" + key + "' without a value");
      const std::string& val = tok[++i];
      if (key == "start") {
        // Picoseconds in htsim's files; a fraction of one is dropped.
        const double ps = std::strtod(val.c_str(), nullptr);
        if (!(ps >= 0) || ps > 1e18) fail("start '" + val + "': expected picoseconds >= 0");
        f.start_ns = static_cast<srd::Nanos>(ps / 1000.0);
        have_start = true;
      } else if (key == "size") {
        f.bytes = number(val, "size", std::uint64_t{1} << 40);
        if (f.bytes == 0) fail("size '0': expected bytes >= 1");
        have_size = true;
      } else if (key == "id" || key == "prio") {
        number(val, key, ~std::uint32_t{0});
      } else if (key == "trigger" || key == "send_done_trigger" || key == "recv_done_trigger") {
        fail("'" + key + "': htsim's triggers are not supported");
      } else {
        fail("'" + key + "': expected start, size, id or prio");
      }
    }
    if (!have_size) fail("flow '" + tok[0] + "' without 'size BYTES'");
    if (!have_start) fail("flow '" + tok[0] + "' without 'start PICOSECONDS'");
    m.flows.push_back(f);
  }
  if (!have_nodes) fail("no 'Nodes N' line");
  if (have_conns && declared != m.flows.size())
    throw std::invalid_argument(source + ": 'Connections " + std::to_string(declared) + "' but " +
                                std::to_string(m.flows.size()) + " flows listed");
  return m;
}

ConnectionMatrix read_connection_matrix_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot be read; expected an htsim connection matrix (.cm)");
  return read_connection_matrix(in, path);
}

}  // namespace spray::sim
