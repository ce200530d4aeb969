// SPDX-License-Identifier: BSD-3-Clause
#include "experiment.h"

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "metrics.h"
#include "srd_host.h"
#include "topology.h"

namespace spray::sim {

const char* to_string(LoadBalance lb) noexcept {
  switch (lb) {
    case LoadBalance::kSpray: return "spray";
    case LoadBalance::kEcmp: return "ecmp";
    case LoadBalance::kPlb: return "plb";
  }
  return "?";
}

namespace {

// ---- values ----

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& accepted) {
  throw ScenarioError(key + " = '" + value + "': expected " + accepted);
}

std::uint64_t uint_in(const std::string& key, const std::string& v, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n < lo || n > hi)
    bad(key, v, "a whole number " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

// A number followed by one of `units` (name -> multiplier); the bare number
// takes the multiplier of "".
double with_unit(const std::string& key, const std::string& v,
                 const std::vector<std::pair<std::string, double>>& units, const std::string& accepted) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    bad(key, v, accepted);
  }
  const std::string unit = v.substr(used);
  for (const auto& [name, mult] : units)
    if (unit == name && std::isfinite(x) && x >= 0) return x * mult;
  bad(key, v, accepted);
}

std::uint64_t rate_bps(const std::string& key, const std::string& v) {
  const double r = with_unit(key, v, {{"Gbps", 1e9}, {"Mbps", 1e6}, {"Kbps", 1e3}, {"bps", 1}},
                             "a rate like 100Gbps, 400Mbps (1 Mbit/s .. 10 Tbit/s)");
  if (r < 1e6 || r > 1e13) bad(key, v, "a rate like 100Gbps, 400Mbps (1 Mbit/s .. 10 Tbit/s)");
  return static_cast<std::uint64_t>(r);
}

// Bytes with a unit (parse_bytes), up to 1 TB.
std::uint64_t bytes_in(const std::string& key, const std::string& v) {
  const std::string accepted = "a size like 8MB, 64KiB or 0, up to 1TB";
  std::uint64_t b = 0;
  try {
    b = parse_bytes(v);
  } catch (const std::invalid_argument&) {
    bad(key, v, accepted);
  }
  if (b > 1'000'000'000'000ULL) bad(key, v, accepted);
  return b;
}

Nanos duration_ns(const std::string& key, const std::string& v) {
  const double t = with_unit(key, v, {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}},
                             "a time like 500ns, 20us, 1.5ms or 2s (up to 1000 s)");
  if (t > 1e12) bad(key, v, "a time like 500ns, 20us, 1.5ms or 2s (up to 1000 s)");
  return static_cast<Nanos>(std::llround(t));
}

// ---- keys ----

struct Key {
  const char* name;  // section.key
  const char* help;
  void (*set)(ExperimentConfig&, const std::string& key, const std::string& v);
};

TierQueue& tier(ExperimentConfig& c, Tier t) { return c.fabric.tiers[static_cast<std::size_t>(t)]; }

#define SPRAY_TIER_KEYS(sec, T)                                                                   \
  Key{sec ".queue_pkts", "egress queue limit of this tier's links, packets (tail drop)",          \
      [](ExperimentConfig& c, const std::string& k, const std::string& v) {                       \
        tier(c, T).queue_pkts = static_cast<std::uint32_t>(uint_in(k, v, 1, 1'000'000));           \
      }},                                                                                         \
      Key{sec ".ecn_pkts", "CE-mark ECT packets with this many queued ahead (0 = off)",           \
          [](ExperimentConfig& c, const std::string& k, const std::string& v) {                   \
            tier(c, T).ecn_pkts = static_cast<std::uint32_t>(uint_in(k, v, 0, 1'000'000));         \
          }}

Fault parse_fault(const std::string& key, const std::string& v);

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      {"fabric.topology", "fat-tree (3 tiers) or leaf-spine (2 tiers)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v == "fat-tree") c.fabric.kind = FabricKind::kFatTree;
         else if (v == "leaf-spine") c.fabric.kind = FabricKind::kLeafSpine;
         else bad(key, v, "fat-tree or leaf-spine");
       }},
      {"fabric.k", "fat tree: ports per switch, even (0: the smallest that holds `nodes`)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.k = static_cast<std::uint32_t>(uint_in(key, v, 0, 128));
         if (c.fabric.k % 2) bad(key, v, "an even number 2..128, or 0");
       }},
      {"fabric.nodes", "fat tree: hosts (0: every port of a k-ary tree); a matrix's Nodes by default",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.nodes = static_cast<std::uint32_t>(uint_in(key, v, 0, 1'000'000));
       }},
      {"fabric.leaves", "leaf-spine: leaf switches",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.leaves = static_cast<std::uint32_t>(uint_in(key, v, 1, 4096));
       }},
      {"fabric.spines", "leaf-spine: spine switches (each joined to every leaf)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.spines = static_cast<std::uint32_t>(uint_in(key, v, 1, 256));
       }},
      {"fabric.hosts_per_leaf", "leaf-spine: hosts under each leaf (0: oversubscription x spines)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.hosts_per_leaf = static_cast<std::uint32_t>(uint_in(key, v, 0, 4096));
       }},
      {"fabric.oversubscription", "host-facing to uplink capacity of a ToR, 1 = non-blocking",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.oversubscription = static_cast<std::uint32_t>(uint_in(key, v, 1, 64));
       }},
      {"fabric.link_rate", "rate of every link (100Gbps)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.link_rate_bps = rate_bps(key, v);
       }},
      {"fabric.link_delay", "propagation delay of every link (1us)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.fabric.link_delay_ns = duration_ns(key, v);
       }},
      {"fabric.mtu", "IP MTU of the hosts, 576..9000 (4000)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.mtu = static_cast<std::uint32_t>(uint_in(key, v, 576, 9000));
       }},
      SPRAY_TIER_KEYS("host", Tier::kHost),
      SPRAY_TIER_KEYS("tor", Tier::kTor),
      SPRAY_TIER_KEYS("agg", Tier::kAgg),
      SPRAY_TIER_KEYS("core", Tier::kCore),
      {"traffic.pattern", "permutation, all-to-all, incast, matrix or training (the [training] section)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v == "permutation") c.pattern = Pattern::kPermutation;
         else if (v == "all-to-all") c.pattern = Pattern::kAllToAll;
         else if (v == "incast") c.pattern = Pattern::kIncast;
         else if (v == "matrix") c.pattern = Pattern::kMatrix;
         else if (v == "training") c.pattern = Pattern::kTraining;
         else bad(key, v, "permutation, all-to-all, incast, matrix or training");
       }},
      {"traffic.flows", "permutation: senders (0 = every host)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.flows = static_cast<std::uint32_t>(uint_in(key, v, 0, 1'000'000));
       }},
      {"traffic.size", "flow size (2MB) or sizes with weights (64K:7,1M:2,16M:1)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         try {
           c.size = SizeDist::parse(v);
         } catch (const std::invalid_argument&) {
           bad(key, v, "a size like 2MB or 64KiB, or sizes with weights like 64K:7,1M:2,16M:1");
         }
       }},
      {"traffic.start_spread", "flows start uniformly within this time (0)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.start_spread_ns = duration_ns(key, v);
       }},
      {"traffic.incast_senders", "incast: senders",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.incast_senders = static_cast<std::uint32_t>(uint_in(key, v, 1, 1'000'000));
       }},
      {"traffic.incast_dst", "incast: the receiving host's index",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.incast_dst = static_cast<std::uint32_t>(uint_in(key, v, 0, 1'000'000));
       }},
      {"traffic.matrix", "matrix: an htsim connection matrix (.cm); sets the pattern",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v.empty()) bad(key, v, "a file name");
         c.matrix_path = v;
         c.pattern = Pattern::kMatrix;
       }},
      {"training.iterations", "training steps to run, 1..100000 (2)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.iterations = static_cast<std::uint32_t>(uint_in(key, v, 1, 100'000));
       }},
      {"training.compute", "compute gap before each step's collectives (50us)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.compute_ns = duration_ns(key, v);
       }},
      {"training.allreduce_bytes", "ring all-reduce size per rank (0 = none), chunks of size/G; > 0 sets the pattern",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.allreduce_bytes = bytes_in(key, v);
         if (c.training.allreduce_bytes) c.pattern = Pattern::kTraining;
       }},
      {"training.allreduce_group", "ranks per ring, 2..hosts (0 = every host)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.allreduce_group = static_cast<std::uint32_t>(uint_in(key, v, 0, 1'000'000));
         if (c.training.allreduce_group == 1) bad(key, v, "a whole number 2..1000000, or 0 for every host");
       }},
      {"training.alltoall_bytes", "all-to-all (MoE) size per rank, a G-th to each peer (0 = none); > 0 sets the pattern",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.alltoall_bytes = bytes_in(key, v);
         if (c.training.alltoall_bytes) c.pattern = Pattern::kTraining;
       }},
      {"training.alltoall_group", "ranks per all-to-all group, 2..hosts (16; 0 = every host)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.training.alltoall_group = static_cast<std::uint32_t>(uint_in(key, v, 0, 1'000'000));
         if (c.training.alltoall_group == 1) bad(key, v, "a whole number 2..1000000, or 0 for every host");
       }},
      {"training.placement", "group member i of group g: strided (host g + i x hosts/G) or contiguous",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v == "strided") c.training.placement = Placement::kStrided;
         else if (v == "contiguous") c.training.placement = Placement::kContiguous;
         else bad(key, v, "strided or contiguous");
       }},
      {"transport.paths", "paths per connection, 1..256 (1 = single-path ECMP)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.paths = static_cast<std::uint16_t>(uint_in(key, v, 1, 256));
       }},
      {"transport.lb", "load balancing: spray (over `paths`), ecmp (one path) or plb (one path, repathed on "
                       "congestion or timeout)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v == "spray") c.lb = LoadBalance::kSpray;
         else if (v == "ecmp") c.lb = LoadBalance::kEcmp;
         else if (v == "plb") c.lb = LoadBalance::kPlb;
         else bad(key, v, "spray, ecmp or plb");
       }},
      {"transport.plb_ce_share", "plb: a round is congested when more than this share of its ACKs echo CE (0.5)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         char* end = nullptr;
         const double x = std::strtod(v.c_str(), &end);
         if (v.empty() || *end || !(x >= 0 && x < 1)) bad(key, v, "a share 0..1 (below 1), like 0.5");
         c.plb.ce_share = x;
       }},
      {"transport.plb_rounds", "plb: congested rounds in a row before a repath, 1..1000 (3)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.plb.rounds = static_cast<std::uint32_t>(uint_in(key, v, 1, 1000));
       }},
      {"transport.plb_on_timeout", "plb: repath on a retransmission timeout (ACKs: on duplicate DATA), yes or no (yes)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         if (v == "yes" || v == "true" || v == "1") c.plb.on_timeout = true;
         else if (v == "no" || v == "false" || v == "0") c.plb.on_timeout = false;
         else bad(key, v, "yes or no");
       }},
      {"transport.message_bytes", "a flow is sent as messages of this size (64KiB)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         std::uint64_t b = 0;
         try {
           b = parse_bytes(v);
         } catch (const std::invalid_argument&) {
           bad(key, v, "a size like 65536 or 64KiB, 1KiB..16MiB");
         }
         if (b < 1024 || b > (16u << 20)) bad(key, v, "a size like 65536 or 64KiB, 1KiB..16MiB");
         c.message_bytes = static_cast<std::uint32_t>(b);
       }},
      {"transport.window", "messages outstanding per flow, 1..1024 (4)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.window = static_cast<std::uint32_t>(uint_in(key, v, 1, 1024));
       }},
      {"run.seed", "seed of the matrix, the ECMP hashes, the links and the endpoints (1)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.seed = uint_in(key, v, 0, ~std::uint64_t{0});
       }},
      {"run.end", "virtual time limit; flows not done by then are reported unfinished (100ms)",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.end_ns = duration_ns(key, v);
         if (c.end_ns == 0) bad(key, v, "a time > 0 like 10ms");
       }},
      {"faults.fault",
       "TIME KIND TARGET [loss=P] [rate=R]; KIND link-down, link-up, link-degrade, switch-down, "
       "switch-up; TARGET A-B (a link, both ways) or a switch",
       [](ExperimentConfig& c, const std::string& key, const std::string& v) {
         c.faults.push_back(parse_fault(key, v));
       }},
  };
  return k;
}

Fault parse_fault(const std::string& key, const std::string& v) {
  std::istringstream ss(v);
  std::vector<std::string> tok;
  for (std::string t; ss >> t;) tok.push_back(t);
  const std::string form = "TIME KIND TARGET [loss=P] [rate=R], e.g. 200us link-down tor0-agg1";
  if (tok.size() < 3) bad(key, v, form);
  Fault f;
  f.text = v;
  f.at_ns = duration_ns(key + " time", tok[0]);
  const std::string& kind = tok[1];
  if (kind == "link-down") f.kind = FaultKind::kLinkDown;
  else if (kind == "link-up") f.kind = FaultKind::kLinkUp;
  else if (kind == "link-degrade") f.kind = FaultKind::kLinkDegrade;
  else if (kind == "switch-down") f.kind = FaultKind::kSwitchDown;
  else if (kind == "switch-up") f.kind = FaultKind::kSwitchUp;
  else bad(key + " kind", kind, "link-down, link-up, link-degrade, switch-down or switch-up");
  f.target = tok[2];
  const bool link = f.kind != FaultKind::kSwitchDown && f.kind != FaultKind::kSwitchUp;
  if (link && f.target.find('-') == std::string::npos)
    bad(key + " target", f.target, "a link as A-B, two neighbours like tor0-agg1");
  for (std::size_t i = 3; i < tok.size(); ++i) {
    if (f.kind != FaultKind::kLinkDegrade) bad(key, v, "loss= and rate= only with link-degrade");
    if (tok[i].rfind("loss=", 0) == 0) {
      const std::string x = tok[i].substr(5);
      char* end = nullptr;
      f.loss = std::strtod(x.c_str(), &end);
      if (x.empty() || *end || !(f.loss >= 0 && f.loss <= 1)) bad(key + " loss", x, "a probability 0..1");
    } else if (tok[i].rfind("rate=", 0) == 0) {
      f.rate_bps = rate_bps(key + " rate", tok[i].substr(5));
    } else {
      bad(key, tok[i], "loss=P or rate=R after the target");
    }
  }
  if (f.kind == FaultKind::kLinkDegrade && f.loss < 0 && f.rate_bps == 0)
    bad(key, v, "link-degrade with loss=P, rate=R or both");
  return f;
}

const Key* find_key(const std::string& key) {
  static const std::unordered_map<std::string, std::string> kSectionAlias = {{"leaf", "tor"}, {"spine", "agg"}};
  std::string k = key;
  if (const auto dot = k.find('.'); dot != std::string::npos) {
    const auto it = kSectionAlias.find(k.substr(0, dot));
    if (it != kSectionAlias.end()) k = it->second + k.substr(dot);
  }
  for (const Key& e : keys())
    if (k == e.name) return &e;
  if (k.find('.') != std::string::npos) return nullptr;
  // A bare key names the one key of that name, when only one section has it.
  const Key* found = nullptr;
  for (const Key& e : keys()) {
    const std::string n = e.name;
    if (n.substr(n.find('.') + 1) != k) continue;
    if (found) return nullptr;
    found = &e;
  }
  return found;
}

}  // namespace

void apply_setting(ExperimentConfig& cfg, const std::string& key, const std::string& value) {
  const Key* k = find_key(key);
  if (!k) {
    std::string names;
    for (const Key& e : keys()) names += std::string(names.empty() ? "" : ", ") + e.name;
    throw ScenarioError("unknown key '" + key + "'; expected one of " + names);
  }
  k->set(cfg, k->name, value);
}

void read_scenario(ExperimentConfig& cfg, std::istream& in, const std::string& source) {
  std::string line, section;
  std::size_t lineno = 0;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    ++lineno;
    std::string s = trim(line);
    if (s.empty() || s[0] == '#' || s[0] == ';') continue;
    try {
      if (s[0] == '[') {
        if (s.back() != ']') throw ScenarioError("'" + s + "': expected a section like [fabric]");
        section = trim(s.substr(1, s.size() - 2));
        static const char* kSections[] = {"fabric", "host", "tor", "leaf", "agg", "spine", "core",
                                          "traffic", "training", "transport", "run", "faults"};
        if (std::find_if(std::begin(kSections), std::end(kSections),
                         [&](const char* n) { return section == n; }) == std::end(kSections))
          throw ScenarioError("section [" + section +
                              "]: expected fabric, host, tor (leaf), agg (spine), core, traffic, "
                              "transport, run or faults");
        continue;
      }
      const auto eq = s.find('=');
      if (eq == std::string::npos) throw ScenarioError("'" + s + "': expected key = value");
      std::string key = trim(s.substr(0, eq));
      const std::string value = trim(s.substr(eq + 1));
      if (key.find('.') == std::string::npos && !section.empty()) key = section + "." + key;
      apply_setting(cfg, key, value);
    } catch (const ScenarioError& e) {
      throw ScenarioError(source + ":" + std::to_string(lineno) + ": " + e.what());
    }
  }
}

void read_scenario_file(ExperimentConfig& cfg, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError(path + ": cannot be read");
  read_scenario(cfg, in, path);
}

std::string scenario_keys_help() {
  std::string out;
  for (const Key& k : keys()) {
    std::string n = k.name;
    n.resize(std::max<std::size_t>(n.size() + 1, 26), ' ');
    out += "  " + n + k.help + "\n";
  }
  return out;
}

// ---- the run ----

namespace {

struct FlowState {
  srd::ConnId conn = srd::kNoConn;
  std::uint64_t submitted = 0;
  std::uint64_t acked = 0;
  std::uint32_t outstanding = 0;
  Nanos done_ns = kNever;
  bool started = false;
  bool failed = false;
  bool ready = false;
};

struct Shared {
  const std::vector<FlowDef>* flows = nullptr;
  std::vector<FlowState> state;
  std::vector<std::uint8_t> payload;  // every message's bytes: read-only, shared by all senders
  std::uint32_t message_bytes = 0;
  std::uint32_t window = 0;
  std::uint64_t finished = 0;
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
};

// One host's flows: opens each flow's connection at its start time, keeps
// `window` messages of it outstanding, and records its completion when the
// last byte is acknowledged. Received messages are counted and released
// (the scenario tests check contents; this one measures).
class FlowApp final : public App {
 public:
  FlowApp(Shared& sh, std::vector<std::uint32_t> mine) : sh_(sh), mine_(std::move(mine)) {
    std::stable_sort(mine_.begin(), mine_.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return (*sh_.flows)[a].start_ns < (*sh_.flows)[b].start_ns; });
  }

  void on_service(srd::Endpoint& ep, Nanos now) override {
    if (!listening_) {
      ep.listen(true);
      listening_ = true;
    }
    for (; next_ < mine_.size() && (*sh_.flows)[mine_[next_]].start_ns <= now; ++next_) open(ep, mine_[next_], now);
    srd::Event ev;
    while (ep.poll_event(ev)) handle(ep, ev, now);
    if (ready_.empty()) return;
    std::swap(ready_, pumping_);
    for (const std::uint32_t f : pumping_) {
      sh_.state[f].ready = false;
      pump(ep, f, now);
    }
    pumping_.clear();
  }
  Nanos next_wake() const noexcept override {
    if (!listening_) return 0;
    return next_ < mine_.size() ? (*sh_.flows)[mine_[next_]].start_ns : kNever;
  }
  const std::vector<std::uint32_t>& flows() const noexcept { return mine_; }

 private:
  void open(srd::Endpoint& ep, std::uint32_t f, Nanos now) {
    FlowState& s = sh_.state[f];
    const FlowDef& d = (*sh_.flows)[f];
    s.started = true;
    s.conn = ep.connect(PeerAddr{host_ip(d.dst), ep.config().local.port});
    if (s.conn == srd::kNoConn) return finish(f, now, true);
    by_conn_[s.conn] = f;
    mark(f);
  }
  void mark(std::uint32_t f) {
    if (sh_.state[f].ready) return;
    sh_.state[f].ready = true;
    ready_.push_back(f);
  }
  void finish(std::uint32_t f, Nanos now, bool failed) {
    FlowState& s = sh_.state[f];
    if (s.done_ns != kNever) return;
    s.done_ns = now;
    s.failed = failed;
    ++sh_.finished;
  }
  void pump(srd::Endpoint& ep, std::uint32_t f, Nanos now) {
    FlowState& s = sh_.state[f];
    const std::uint64_t bytes = (*sh_.flows)[f].bytes;
    while (s.done_ns == kNever && s.outstanding < sh_.window && s.submitted < bytes) {
      const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(sh_.message_bytes, bytes - s.submitted));
      const srd::SendStatus st =
          ep.send(s.conn, std::span<const std::uint8_t>(sh_.payload.data(), len), std::uint64_t{f} << 32 | len);
      if (st == srd::SendStatus::kQueueFull) return mark_later(f);
      if (st != srd::SendStatus::kOk) return finish(f, now, true);
      s.submitted += len;
      ++s.outstanding;
    }
  }
  // The endpoint's message pool is full: retried at the next delivery.
  void mark_later(std::uint32_t f) { starved_.push_back(f); }
  void handle(srd::Endpoint& ep, const srd::Event& ev, Nanos now) {
    switch (ev.kind) {
      case srd::EventKind::kMessage:
        sh_.bytes_received += ev.msg.data.size();
        ep.release(ev.msg);
        break;
      case srd::EventKind::kDelivered: {
        const auto f = static_cast<std::uint32_t>(ev.tag >> 32);
        const auto len = static_cast<std::uint32_t>(ev.tag);
        FlowState& s = sh_.state[f];
        --s.outstanding;
        s.acked += len;
        sh_.bytes_acked += len;
        if (s.acked >= (*sh_.flows)[f].bytes) finish(f, now, false);
        else mark(f);
        for (const std::uint32_t g : starved_) mark(g);
        starved_.clear();
        break;
      }
      case srd::EventKind::kSendFailed:
        finish(static_cast<std::uint32_t>(ev.tag >> 32), now, true);
        break;
      case srd::EventKind::kConnectionFailed: {
        const auto it = by_conn_.find(ev.conn);
        if (it != by_conn_.end()) finish(it->second, now, true);
        ++conn_failures_;
        break;
      }
      default:
        break;
    }
  }

  Shared& sh_;
  std::vector<std::uint32_t> mine_;  // by start time
  std::size_t next_ = 0;
  bool listening_ = false;
  std::unordered_map<srd::ConnId, std::uint32_t> by_conn_;
  std::vector<std::uint32_t> ready_, pumping_, starved_;

 public:
  std::uint64_t conn_failures_ = 0;
};

std::uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

std::uint64_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::string describe(const ExperimentConfig& c, const Fabric& f) {
  std::ostringstream o;
  if (f.kind == FabricKind::kFatTree) o << "fat-tree k=" << f.k;
  else o << "leaf-spine leaves=" << f.tors.size() << " spines=" << f.aggs.size();
  o << " hosts=" << f.hosts.size() << " oversubscription=" << c.fabric.oversubscription
    << " link=" << c.fabric.link_rate_bps / 1e9 << "Gbps delay=" << c.fabric.link_delay_ns << "ns mtu=" << c.mtu;
  return o.str();
}

}  // namespace

ExperimentResult run_experiment(const ExperimentConfig& cfg_in, const RunOptions& opts) {
  using Clock = std::chrono::steady_clock;
  const auto wall0 = Clock::now();
  ExperimentConfig cfg = cfg_in;
  ExperimentResult r;
  r.seed = cfg.seed;
  r.lb = cfg.lb;
  if (cfg.lb != LoadBalance::kSpray) cfg.paths = 1;
  r.paths = cfg.paths;

  std::vector<FlowDef> flows;
  std::uint32_t matrix_nodes = 0;
  if (cfg.pattern == Pattern::kMatrix) {
    if (cfg.matrix_path.empty()) throw ScenarioError("traffic.pattern = 'matrix': expected traffic.matrix = FILE");
    try {
      ConnectionMatrix m = read_connection_matrix_file(cfg.matrix_path);
      flows = std::move(m.flows);
      matrix_nodes = m.nodes;
    } catch (const std::invalid_argument& e) {
      throw ScenarioError("traffic.matrix = '" + cfg.matrix_path + "': " + e.what());
    }
    if (cfg.fabric.kind == FabricKind::kFatTree && cfg.fabric.nodes == 0 && cfg.fabric.k == 0)
      cfg.fabric.nodes = matrix_nodes;
  }
  if (cfg.fabric.kind == FabricKind::kFatTree && cfg.fabric.nodes == 0 && cfg.fabric.k == 0) cfg.fabric.k = 8;

  SimConfig sc;
  sc.seed = cfg.seed;
  sc.max_srd_bytes = cfg.mtu - 28;
  Sim sim(sc);
  Fabric fab;
  try {
    fab = build_fabric(sim, cfg.fabric);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(std::string("fabric.") + e.what());
  }
  const auto n = static_cast<std::uint32_t>(fab.hosts.size());
  if (n < 2) throw ScenarioError("fabric: " + std::to_string(n) + " host(s); expected at least 2");
  switch (cfg.pattern) {
    case Pattern::kPermutation:
      flows = permutation(n, cfg.flows ? cfg.flows : n, cfg.size, cfg.start_spread_ns, cfg.seed);
      break;
    case Pattern::kAllToAll:
      if (n > 2048) throw ScenarioError("traffic.pattern = 'all-to-all' on " + std::to_string(n) +
                                        " hosts: expected at most 2048 hosts (n^2 flows)");
      flows = all_to_all(n, cfg.size, cfg.start_spread_ns, cfg.seed);
      break;
    case Pattern::kIncast:
      if (cfg.incast_dst >= n)
        throw ScenarioError("traffic.incast_dst = '" + std::to_string(cfg.incast_dst) + "': expected 0.." +
                            std::to_string(n - 1));
      flows = incast(n, cfg.incast_senders, cfg.incast_dst, cfg.size, cfg.start_spread_ns, cfg.seed);
      break;
    case Pattern::kMatrix:
      if (matrix_nodes > n)
        throw ScenarioError("traffic.matrix = '" + cfg.matrix_path + "': " + std::to_string(matrix_nodes) +
                            " nodes; expected at most the fabric's " + std::to_string(n));
      break;
    case Pattern::kTraining:
      break;
  }
  std::unique_ptr<Training> training;
  if (cfg.pattern == Pattern::kTraining) {
    try {
      training = std::make_unique<Training>(sim, fab.hosts, cfg.training, cfg.message_bytes, cfg.window);
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(e.what());
    }
  }

  // Faults resolve their targets now, so a typo fails before the run.
  struct ResolvedFault {
    Fault f;
    std::vector<std::uint32_t> links;
  };
  std::vector<ResolvedFault> faults;
  for (const Fault& f : cfg.faults) {
    ResolvedFault rf{f, {}};
    try {
      if (f.kind == FaultKind::kSwitchDown || f.kind == FaultKind::kSwitchUp) {
        const std::uint32_t node = fab.node(f.target);
        if (sim.is_host(node)) throw std::invalid_argument("'" + f.target + "' is a host, not a switch");
        for (const auto& [ends, id] : fab.link_between)
          if (ends.first == node || ends.second == node) rf.links.push_back(id);
      } else {
        const auto dash = f.target.find('-');
        const std::string an = f.target.substr(0, dash), bn = f.target.substr(dash + 1);
        const std::uint32_t a = fab.node(an), b = fab.node(bn);
        if (!fab.link_between.count({a, b}))
          throw std::invalid_argument("'" + an + "' and '" + bn + "' are not neighbours");
        rf.links = {fab.link(a, b), fab.link(b, a)};
      }
    } catch (const std::invalid_argument& e) {
      throw ScenarioError("faults.fault = '" + f.text + "': " + e.what());
    }
    faults.push_back(std::move(rf));
  }

  // Endpoints: pools sized from what each host sends and receives, so that
  // 16,000 of them fit in memory (the defaults suit one busy server).
  Shared sh;
  sh.flows = &flows;
  sh.state.resize(flows.size());
  sh.message_bytes = cfg.message_bytes;
  sh.window = cfg.window;
  sh.payload.assign(cfg.message_bytes, 0x5a);
  std::vector<std::vector<std::uint32_t>> out(n);
  std::vector<std::uint32_t> in(n, 0), out_conns(n, 0);
  for (std::uint32_t i = 0; i < flows.size(); ++i) {
    out[flows[i].src].push_back(i);
    ++in[flows[i].dst];
    r.bytes_total += flows[i].bytes;
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    out_conns[i] = training ? training->out_peers(i) : static_cast<std::uint32_t>(out[i].size());
    if (training) in[i] = training->in_peers(i);
  }
  if (training) r.bytes_total = training->bytes_total();
  const std::uint32_t payload = cfg.mtu - 60;
  const std::uint32_t msg_pkts = (cfg.message_bytes + payload - 1) / payload;
  const std::uint64_t heap0 = heap_in_use();
  std::vector<FlowApp*> apps(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    srd::EndpointConfig ec = endpoint_config(sim, fab.hosts[i], cfg.seed, cfg.fabric.link_rate_bps);
    ec.mtu = static_cast<std::uint16_t>(cfg.mtu);
    ec.paths = cfg.paths;
    const std::uint64_t outs = out_conns[i];
    const auto conns = outs + in[i];
    auto clamp = [](std::uint64_t v, std::uint64_t lo, std::uint64_t hi) { return std::clamp(v, lo, hi); };
    ec.max_connections = static_cast<std::uint32_t>(clamp(conns + 4, 8, 1u << 20));
    ec.max_inflight_pkts = static_cast<std::uint32_t>(clamp(outs * cfg.window * msg_pkts + 64, 256, 1u << 22));
    ec.max_send_msgs = static_cast<std::uint32_t>(clamp(outs * cfg.window + 8, 16, 1u << 22));
    ec.max_rx_msgs = static_cast<std::uint32_t>(clamp(std::uint64_t{in[i]} * cfg.window + 8, 16, 1u << 22));
    ec.max_msg_bytes = std::max<std::uint32_t>(cfg.message_bytes, 1024);
    std::unique_ptr<App> app;
    if (training) {
      app = training->make_app(i);
    } else {
      auto fa = std::make_unique<FlowApp>(sh, std::move(out[i]));
      apps[i] = fa.get();
      app = std::move(fa);
    }
    try {
      auto host = std::make_unique<SrdHost>(ec, std::move(app));
      if (cfg.lb == LoadBalance::kPlb) host->enable_plb(cfg.plb, mix64(ec.seed ^ 0x504c42));
      sim.set_stack(fab.hosts[i], std::move(host));
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(std::string("transport: ") + e.what());
    }
  }
  r.endpoint_bytes = (heap_in_use() - heap0) / n;

  for (const ResolvedFault& rf : faults) {
    sim.at(rf.f.at_ns, [rf](Sim& s) {
      for (const std::uint32_t id : rf.links) {
        Link& l = s.link(id);
        switch (rf.f.kind) {
          case FaultKind::kLinkDown:
          case FaultKind::kSwitchDown: l.up = false; break;
          case FaultKind::kLinkUp:
          case FaultKind::kSwitchUp: l.up = true; break;
          case FaultKind::kLinkDegrade:
            if (rf.f.loss >= 0) l.cfg.loss_rate = rf.f.loss;
            if (rf.f.rate_bps) l.cfg.rate_bps = rf.f.rate_bps;
            break;
        }
      }
    });
  }

  r.topology = describe(cfg, fab);
  r.hosts = n;
  r.switches = fab.tors.size() + fab.aggs.size() + fab.cores.size();
  r.links = sim.link_count();
  r.flows = flows.size();
  r.build_s = std::chrono::duration<double>(Clock::now() - wall0).count();

  // Progress: checked every 10 us of virtual time, printed about every
  // progress_wall_s of wall time.
  auto last_print = Clock::now();
  const auto run0 = last_print;
  std::uint64_t last_events = 0;
  if (opts.progress) {
    sim.every(10'000, 10'000, [&](Sim& s) {
      const auto now = Clock::now();
      const double since = std::chrono::duration<double>(now - last_print).count();
      if (since < opts.progress_wall_s) return true;
      const double rate = (s.events_processed() - last_events) / since;  // since the last line
      last_print = now;
      last_events = s.events_processed();
      const double wall = std::chrono::duration<double>(now - run0).count();
      const std::uint64_t acked = training ? training->bytes_acked() : sh.bytes_acked;
      const double done = r.bytes_total ? static_cast<double>(acked) / r.bytes_total : 0;
      const double by_time = static_cast<double>(s.now()) / cfg.end_ns;
      const double frac = std::max(done, by_time);
      std::fprintf(opts.progress,
                   "spray sim: %.1f us simulated, %llu/%llu %s done, %.0f%% of bytes, %.2f M events/s, "
                   "ETA %.0f s\n",
                   s.now() / 1e3,
                   static_cast<unsigned long long>(training ? training->iterations_done() : sh.finished),
                   static_cast<unsigned long long>(training ? cfg.training.iterations : flows.size()),
                   training ? "steps" : "flows", 100 * done, rate / 1e6, frac > 0 ? wall * (1 - frac) / frac : 0.0);
      std::fflush(opts.progress);
      return true;
    });
  }
  if (training) training->start();
  r.all_done = sim.run_until(cfg.end_ns, [&] { return training ? training->done() : sh.finished == flows.size(); });
  r.sim_ns = sim.now();
  r.wall_s = std::chrono::duration<double>(Clock::now() - wall0).count();
  r.events = sim.events_processed();

  // Flows.
  for (std::uint32_t i = 0; i < flows.size(); ++i) {
    const FlowState& s = sh.state[i];
    r.bytes_delivered += s.acked;
    if (s.done_ns == kNever) continue;
    if (s.failed) {
      ++r.flows_failed;
      continue;
    }
    ++r.flows_completed;
    r.fct_ns.push_back(s.done_ns - flows[i].start_ns);
  }
  if (training) {
    r.training = training->report();
    r.fct_ns = training->message_ns();
    r.flows = r.training.messages;
    r.flows_completed = r.fct_ns.size();
    // The job stops at a failure: what it had in flight counts as failed.
    if (r.training.failed) r.flows_failed = std::max<std::uint64_t>(1, r.flows - r.flows_completed);
    r.bytes_delivered = r.training.bytes_acked;
  }
  if (!r.fct_ns.empty()) {
    double sum = 0;
    for (auto v : r.fct_ns) sum += static_cast<double>(v);
    r.fct_mean_ns = sum / r.fct_ns.size();
    r.fct_p50_ns = quantile(r.fct_ns, 0.5);
    r.fct_p90_ns = quantile(r.fct_ns, 0.9);
    r.fct_p99_ns = quantile(r.fct_ns, 0.99);
    r.fct_p999_ns = quantile(r.fct_ns, 0.999);
    r.fct_max_ns = *std::max_element(r.fct_ns.begin(), r.fct_ns.end());
  }

  // Links by tier.
  const bool three = fab.kind == FabricKind::kFatTree;
  for (std::size_t t = 0; t < (three ? 4u : 3u); ++t) r.tiers.push_back(TierReport{static_cast<Tier>(t)});
  for (std::uint32_t id = 0; id < sim.link_count(); ++id) {
    const Link& l = sim.link(id);
    TierReport& tr = r.tiers[static_cast<std::size_t>(fab.link_tier[id])];
    ++tr.links;
    tr.tx_pkts += l.stats.tx_pkts;
    tr.tx_bytes += l.stats.tx_bytes;
    tr.drops_queue += l.stats.drop(DropCause::kQueueFull);
    tr.drops_loss += l.stats.drop(DropCause::kRandom);
    tr.drops_down += l.stats.drop(DropCause::kDown);
    tr.ce_marks += l.stats.ce_marks;
    r.packets += l.stats.tx_pkts;
    const double cap = static_cast<double>(l.cfg.rate_bps) * r.sim_ns / 1e9;
    const double util = cap > 0 ? (l.stats.tx_bytes + 62.0 * l.stats.tx_pkts) * 8 / cap : 0;
    tr.mean_util += util;
    tr.max_util = std::max(tr.max_util, util);
  }
  for (TierReport& tr : r.tiers)
    if (tr.links) tr.mean_util /= tr.links;

  // Transport: every sender's connections.
  std::array<std::uint64_t, srd::kRetxCauseCount> retx{};
  for (std::uint32_t i = 0; i < n; ++i) {
    auto& host = static_cast<SrdHost&>(sim.stack(fab.hosts[i]));
    r.conns_failed += training ? training->conn_failures(i) : apps[i]->conn_failures_;
    if (const Plb* p = host.plb()) {
      r.plb.congestion_repaths += p->stats().congestion_repaths;
      r.plb.timeout_repaths += p->stats().timeout_repaths;
      r.plb.ack_repaths += p->stats().ack_repaths;
      r.plb.rounds += p->stats().rounds;
      r.plb.congested_rounds += p->stats().congested_rounds;
    }
    std::vector<srd::ConnId> conns;
    if (training) conns = training->out_conns(i);
    else
      for (const std::uint32_t f : apps[i]->flows()) conns.push_back(sh.state[f].conn);
    for (const srd::ConnId conn : conns) {
      srd::ConnStats cs;
      if (conn == srd::kNoConn || !host.ep().conn_stats(conn, cs)) continue;
      for (std::size_t c = 0; c < srd::kRetxCauseCount; ++c)
        retx[c] += srd::retx_counter(cs.counters, static_cast<srd::RetxCause>(c));
      r.data_pkts += cs.counters.tx_data_pkts;
      r.retx_total += cs.counters.retx_pkts;
      r.spurious_retx += cs.counters.spurious_retx;
      r.rto_events += cs.counters.rto_events;
      r.path_quarantines += cs.counters.path_quarantines;
    }
  }
  for (std::size_t c = 0; c < srd::kRetxCauseCount; ++c)
    r.retransmits.push_back({srd::kRetxCauseInfo[c].name, retx[c]});
  r.peak_rss_bytes = peak_rss_bytes();
  return r;
}

void write_json(std::ostream& o, const ExperimentResult& r) {
  using J = nlohmann::ordered_json;
  auto us = [](double ns) { return ns / 1e3; };
  J j;
  j["topology"] = r.topology;
  j["hosts"] = r.hosts;
  j["switches"] = r.switches;
  j["links"] = r.links;
  j["paths"] = r.paths;
  j["lb"] = to_string(r.lb);
  j["seed"] = r.seed;
  j["flows"] = {{"total", r.flows},
                {"completed", r.flows_completed},
                {"failed", r.flows_failed},
                {"unfinished", r.flows - r.flows_completed - r.flows_failed},
                {"bytes", r.bytes_total},
                {"bytes_delivered", r.bytes_delivered}};
  j["fct_us"] = {{"mean", us(r.fct_mean_ns)}, {"p50", us(r.fct_p50_ns)},   {"p90", us(r.fct_p90_ns)},
                 {"p99", us(r.fct_p99_ns)},   {"p999", us(r.fct_p999_ns)}, {"max", us(r.fct_max_ns)}};
  // The distribution, for plots: 1,001 quantiles (0, 0.001, ..., 1) of the
  // completion times, whatever their number.
  J cdf = J::array();
  if (!r.fct_ns.empty()) {
    std::vector<std::uint64_t> sorted = r.fct_ns;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i <= 1000; ++i) cdf.push_back(us(static_cast<double>(sorted[(sorted.size() - 1) * i / 1000])));
  }
  j["fct_cdf_us"] = std::move(cdf);
  if (r.training.enabled) {
    const TrainingReport& t = r.training;
    auto stats = [&](const DurationStats& d) {
      J each = J::array();
      for (const double v : d.ns) each.push_back(us(v));
      return J{{"mean", us(d.mean_ns)}, {"p50", us(d.p50_ns)}, {"p99", us(d.p99_ns)}, {"max", us(d.max_ns)},
               {"each", std::move(each)}};
    };
    J tr;
    tr["iterations"] = t.iterations;
    tr["iterations_done"] = t.iterations_done;
    tr["failed"] = t.failed;
    tr["bytes_expected"] = t.bytes_expected;
    tr["bytes_acked"] = t.bytes_acked;
    tr["bytes_received"] = t.bytes_received;
    tr["messages"] = t.messages;
    tr["step_us"] = stats(t.step);
    J cols = J::array();
    for (const auto& c : t.collectives)
      cols.push_back({{"name", c.name},
                      {"group", c.group},
                      {"groups", c.groups},
                      {"bytes_per_iteration", c.bytes_per_iteration},
                      {"time_us", stats(c.time)}});
    tr["collectives"] = std::move(cols);
    j["training"] = std::move(tr);
  }
  J tiers = J::array();
  for (const TierReport& t : r.tiers)
    tiers.push_back({{"tier", to_string(t.tier)},
                     {"links", t.links},
                     {"tx_pkts", t.tx_pkts},
                     {"drops_queue_full", t.drops_queue},
                     {"drops_random", t.drops_loss},
                     {"drops_down", t.drops_down},
                     {"ce_marks", t.ce_marks},
                     {"mean_util", t.mean_util},
                     {"max_util", t.max_util}});
  j["tiers"] = std::move(tiers);
  J retx = J::object();
  for (const auto& [name, v] : r.retransmits) retx[name] = v;
  j["transport"] = {{"data_pkts", r.data_pkts},
                    {"retransmits", std::move(retx)},
                    {"retransmits_total", r.retx_total},
                    {"spurious_retx", r.spurious_retx},
                    {"rto_events", r.rto_events},
                    {"path_quarantines", r.path_quarantines},
                    {"conns_failed", r.conns_failed},
                    {"plb_congestion_repaths", r.plb.congestion_repaths},
                    {"plb_timeout_repaths", r.plb.timeout_repaths},
                    {"plb_ack_repaths", r.plb.ack_repaths},
                    {"plb_rounds", r.plb.rounds},
                    {"plb_congested_rounds", r.plb.congested_rounds}};
  j["run"] = {{"sim_us", us(r.sim_ns)},
              {"all_done", r.all_done},
              {"events", r.events},
              {"packets", r.packets},
              {"wall_s", r.wall_s},
              {"build_s", r.build_s},
              {"events_per_s", r.wall_s > 0 ? r.events / r.wall_s : 0},
              {"peak_rss_bytes", r.peak_rss_bytes},
              {"endpoint_bytes", r.endpoint_bytes}};
  o << j.dump(2) << "\n";
}

void write_text(std::ostream& o, const ExperimentResult& r) {
  o << std::fixed << std::setprecision(1);
  o << r.topology << ", " << to_string(r.lb) << ", " << r.paths << " path(s), seed " << r.seed << "\n";
  if (r.training.enabled) {
    const TrainingReport& t = r.training;
    auto line = [&](const char* what, const DurationStats& d) {
      o << what << " us: mean " << d.mean_ns / 1e3 << "  p50 " << d.p50_ns / 1e3 << "  p99 " << d.p99_ns / 1e3
        << "  max " << d.max_ns / 1e3 << "\n";
    };
    o << "training: " << t.iterations_done << "/" << t.iterations << " steps" << (t.failed ? ", stopped by a failure" : "")
      << ", " << t.bytes_acked << " of the " << t.bytes_expected << " bytes planned acknowledged\n";
    line("step time", t.step);
    for (const auto& c : t.collectives) {
      const std::string what = c.name + " (" + std::to_string(c.groups) + " x " + std::to_string(c.group) + " ranks)";
      line(what.c_str(), c.time);
    }
    o << "messages: " << r.flows_completed << "/" << r.flows << " acknowledged";
  } else {
    o << "flows: " << r.flows_completed << "/" << r.flows << " completed";
  }
  o << ", " << r.flows_failed << " failed" << (r.all_done ? "" : " (end of run reached first)") << "\n";
  o << (r.training.enabled ? "message latency" : "FCT") << " us: mean " << r.fct_mean_ns / 1e3 << "  p50 " << r.fct_p50_ns / 1e3 << "  p90 " << r.fct_p90_ns / 1e3
    << "  p99 " << r.fct_p99_ns / 1e3 << "  p99.9 " << r.fct_p999_ns / 1e3 << "  max " << r.fct_max_ns / 1e3 << "\n";
  o << "tier   links  tx_pkts      queue_drops  loss_drops  down_drops  ce_marks    util mean/max\n";
  for (const TierReport& t : r.tiers)
    o << std::left << std::setw(7) << to_string(t.tier) << std::right << std::setw(5) << t.links << "  "
      << std::setw(11) << t.tx_pkts << "  " << std::setw(11) << t.drops_queue << "  " << std::setw(10) << t.drops_loss
      << "  " << std::setw(10) << t.drops_down << "  " << std::setw(9) << t.ce_marks << "  " << std::setprecision(2)
      << std::setw(6) << t.mean_util << "/" << t.max_util << std::setprecision(1) << "\n";
  o << "retransmits:";
  for (const auto& [name, v] : r.retransmits) o << " " << name << " " << v;
  o << " (total " << r.retx_total << " of " << r.data_pkts << " DATA, spurious " << r.spurious_retx << ")\n";
  o << "rto " << r.rto_events << ", path quarantines " << r.path_quarantines << ", connections failed "
    << r.conns_failed << "\n";
  if (r.lb == LoadBalance::kPlb)
    o << "plb: " << r.plb.congestion_repaths << " repaths on congestion, " << r.plb.timeout_repaths
      << " on timeout, " << r.plb.ack_repaths << " of ACKs (the peer timed out); " << r.plb.congested_rounds << " of " << r.plb.rounds << " rounds congested\n";
  o << "run: " << r.sim_ns / 1e3 << " us simulated, " << r.events << " events, " << r.packets
    << " packet hops in " << std::setprecision(2) << r.wall_s << " s (build " << r.build_s << " s), "
    << std::setprecision(2) << (r.wall_s > 0 ? r.events / r.wall_s / 1e6 : 0) << " M events/s, peak RSS "
    << r.peak_rss_bytes / (1 << 20) << " MiB, " << r.endpoint_bytes / 1024 << " KiB per endpoint\n";
}

}  // namespace spray::sim
