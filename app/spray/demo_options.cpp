// SPDX-License-Identifier: BSD-3-Clause
#include "demo_options.h"

#include <sstream>

#include "switch_options.h"

namespace spray::app {

namespace {

template <class T>
T ranged(const po::variables_map& vm, const char* name, T lo, T hi, const char* what) {
  const T v = vm[name].as<T>();
  if (!(v >= lo && v <= hi)) {
    std::ostringstream s;
    s << "--" << name << " " << v << ": " << what << " in " << lo << ".." << hi;
    throw UsageError(s.str());
  }
  return v;
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

RoleParser make_demo_parser() {
  RoleParser parser("demo",
                    "A leaf-spine fabric in one process: 2 leaves, S spines (the switch of `spray switch`, "
                    "routed, ECMP), a generator under leaf 1 spraying over P paths to a responder under "
                    "leaf 2. One leaf-spine link loses packets; one spine fails mid-run and comes back. "
                    "Then the same over a single path (like TCP over ECMP), side by side. No NIC, no "
                    "hugepages needed.\n"
                    "Example: spray demo --duration 20 --spines 4 --paths 16");
  describe_demo_options(parser);
  return parser;
}

void describe_demo_options(RoleParser& p) {
  auto add = p.role_options().add_options();
  add("duration", po::value<double>()->default_value(20)->value_name("SECONDS"),
      "total run time, both runs together (spray, then single path), 2..3600");
  add("spines", po::value<unsigned>()->default_value(4)->value_name("N"), "spine switches (2..16)");
  add("paths", po::value<unsigned>()->default_value(16)->value_name("P"),
      "paths the generator sprays over in the first run (2..256)");
  add("loss", po::value<double>()->default_value(0.01)->value_name("FRACTION"),
      "packet loss on one leaf-spine link, each direction (0..0.5)");
  add("fail-at", po::value<double>()->value_name("SECONDS"),
      "when the spine fails, seconds into each run (default: 35% of the run)");
  add("fail-for", po::value<double>()->value_name("SECONDS"),
      "how long it stays down (default: 30% of the run; 0 = no failure)");
  add("connections", po::value<std::uint32_t>()->default_value(2)->value_name("C"), "connections (1..64)");
  add("outstanding", po::value<std::uint32_t>()->default_value(8)->value_name("N"),
      "requests in flight per connection (1..256)");
  add("size", po::value<std::uint32_t>()->default_value(8192)->value_name("BYTES"),
      "request size (64..1048576)");
  add("reply-size", po::value<std::uint32_t>()->default_value(256)->value_name("BYTES"),
      "reply size (0..1048576)");
  add("seed", po::value<std::uint64_t>()->default_value(1)->value_name("N"),
      "seed of the fabric's ECMP hashes, the impaired link and the transport");
  add("mtu", po::value<unsigned>()->default_value(1500)->value_name("BYTES"),
      "IP MTU of both hosts and every fabric port, 576..9000; SRD payload per packet = MTU - 60");
  add("compare", po::value<std::string>()->default_value("yes")->value_name("yes|no"),
      "repeat the run over a single path (like TCP over ECMP) and show both side by side");
  add("json", po::value<std::string>()->value_name("FILE"), "write the summary as JSON");
  add("fabric-rate", po::value<std::string>()->default_value("2Gbps")->value_name("RATE"),
      "shape every leaf-spine link to this rate, with a 1024-packet queue marking ECN above 32 "
      "packets or 20 us, so a single path has one link's capacity and spraying has all of them; "
      "'line': unshaped (in-memory links are then as fast as the core)");
}

DemoOptions demo_options_from(const RoleParser& p) {
  DemoOptions o;
  o.common = p.common();
  if (!o.common.ports.empty())
    throw UsageError("the demo builds its own fabric of in-memory ports; give no --port");
  const auto& vm = p.vm();
  o.duration_s = ranged(vm, "duration", 2.0, 3600.0, "expected seconds");
  o.spines = ranged(vm, "spines", 2u, 16u, "expected a spine count");
  o.paths = static_cast<std::uint16_t>(ranged(vm, "paths", 2u, 256u, "expected a path count"));
  o.loss = ranged(vm, "loss", 0.0, 0.5, "expected a loss fraction");
  o.connections = ranged(vm, "connections", 1u, 64u, "expected a connection count");
  o.outstanding = ranged(vm, "outstanding", 1u, 256u, "expected requests per connection");
  o.request_bytes = ranged(vm, "size", 64u, 1u << 20, "expected bytes");
  o.reply_bytes = ranged(vm, "reply-size", 0u, 1u << 20, "expected bytes");
  o.seed = vm["seed"].as<std::uint64_t>();
  o.mtu = static_cast<std::uint16_t>(ranged(vm, "mtu", roles::kMinMtu, roles::kMaxMtu, "expected an IP MTU"));
  const std::string cmp = vm["compare"].as<std::string>();
  if (cmp != "yes" && cmp != "no") throw UsageError("--compare '" + cmp + "': expected yes or no");
  o.compare = cmp == "yes";
  const double run_s = o.run_seconds();
  o.fail_at_s = vm.count("fail-at") ? vm["fail-at"].as<double>() : 0.35 * run_s;
  o.fail_for_s = vm.count("fail-for") ? vm["fail-for"].as<double>() : 0.30 * run_s;
  if (!(o.fail_at_s >= 0 && o.fail_at_s < run_s))
    throw UsageError("--fail-at " + num(o.fail_at_s) + ": expected seconds in 0.." + num(run_s) +
                     " (each run lasts " + num(run_s) + " s: --duration " + num(o.duration_s) +
                     (o.compare ? " split over two runs)" : ")"));
  if (!(o.fail_for_s >= 0 && o.fail_for_s <= 3600))
    throw UsageError("--fail-for " + num(o.fail_for_s) + ": expected seconds in 0..3600");
  if (vm.count("json")) o.json_path = vm["json"].as<std::string>();
  o.fabric_rate_bps = parse_bit_rate(vm["fabric-rate"].as<std::string>(), "--fabric-rate");
  return o;
}

}  // namespace spray::app
