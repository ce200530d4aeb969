// SPDX-License-Identifier: BSD-3-Clause
#include "sim_options.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <sstream>

#include "dataplane/errors.h"

namespace spray::app {

namespace po = boost::program_options;

namespace {

// Named options and the experiment key each one sets.
struct Shortcut {
  const char* option;
  const char* key;
  const char* value_name;
};
constexpr Shortcut kShortcuts[] = {
    {"topology", "fabric.topology", "fat-tree|leaf-spine"},
    {"k", "fabric.k", "K"},
    {"nodes", "fabric.nodes", "N"},
    {"leaves", "fabric.leaves", "N"},
    {"spines", "fabric.spines", "N"},
    {"oversubscription", "fabric.oversubscription", "X"},
    {"link-rate", "fabric.link_rate", "RATE"},
    {"link-delay", "fabric.link_delay", "TIME"},
    {"mtu", "fabric.mtu", "BYTES"},
    {"pattern", "traffic.pattern", "NAME"},
    {"matrix", "traffic.matrix", "FILE.cm"},
    {"size", "traffic.size", "BYTES|DIST"},
    {"iterations", "training.iterations", "N"},
    {"compute", "training.compute", "TIME"},
    {"allreduce", "training.allreduce_bytes", "BYTES"},
    {"alltoall", "training.alltoall_bytes", "BYTES"},
    {"paths", "transport.paths", "P"},
    {"lb", "transport.lb", "spray|ecmp|plb"},
    {"seed", "run.seed", "N"},
    {"end", "run.end", "TIME"},
};

}  // namespace

std::optional<SimOptions> parse_sim_options(const std::vector<std::string>& args) {
  po::options_description desc("sim options");
  auto add = desc.add_options();
  add("help,h", "show this help and exit");
  add("keys", "list every scenario key with what it accepts, and exit");
  add("scenario", po::value<std::string>()->value_name("FILE"),
      "INI scenario file (doc/simulator.md); also the one positional argument");
  for (const Shortcut& s : kShortcuts)
    add(s.option, po::value<std::string>()->value_name(s.value_name), (std::string("sets ") + s.key).c_str());
  add("fault", po::value<std::vector<std::string>>()->value_name("'TIME KIND TARGET ...'"),
      "adds a faults.fault, repeatable: e.g. '200us link-down tor0-agg1', '0us link-degrade agg0-core0 "
      "loss=0.01', '1ms switch-down core3'");
  add("set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
      "sets any scenario key, repeatable, after the file and the options above (see --keys)");
  add("json", po::value<std::string>()->value_name("FILE"), "write the results as JSON to FILE");
  add("plot", po::value<std::string>()->value_name("DIR"),
      "write PNG figures to DIR (FCT CDF, utilisation per tier, step times) with tools/sim-plot.py "
      "(python3-matplotlib); the JSON goes to DIR/result.json unless --json says where");
  add("quiet", "no progress line");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError("one scenario file at most; see 'spray sim --help'");
  } catch (const po::unknown_option& e) {
    throw UsageError("unknown option '" + e.get_option_name() + "'; see 'spray sim --help'");
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "; see 'spray sim --help'");
  }
  if (vm.count("help")) {
    std::printf(
        "usage: spray sim [SCENARIO.ini] [options]\n\n"
        "Simulates a fabric (leaf-spine or k-ary fat tree) in virtual time with the SRD transport on "
        "every host,\nruns a traffic matrix over P paths per connection and reports flow completion "
        "times, drops, marks,\nretransmissions by cause and quarantines. Deterministic for a scenario "
        "and seed.\nExample: spray sim --nodes 432 --paths 16 --size 2MB --json out.json\n\n");
    std::ostringstream s;
    s << desc;
    std::fputs(s.str().c_str(), stdout);
    std::puts("\nExit status: 0 every flow completed or ran out of time, 3 a flow failed, 2 usage error.");
    return std::nullopt;
  }
  if (vm.count("keys")) {
    std::fputs(sim::scenario_keys_help().c_str(), stdout);
    return std::nullopt;
  }
  SimOptions o;
  try {
    if (vm.count("scenario")) sim::read_scenario_file(o.cfg, vm["scenario"].as<std::string>());
    for (const Shortcut& s : kShortcuts)
      if (vm.count(s.option)) {
        try {
          sim::apply_setting(o.cfg, s.key, vm[s.option].as<std::string>());
        } catch (const sim::ScenarioError& e) {
          throw sim::ScenarioError("--" + std::string(s.option) + ": " + e.what());
        }
      }
    if (vm.count("fault"))
      for (const auto& f : vm["fault"].as<std::vector<std::string>>()) sim::apply_setting(o.cfg, "faults.fault", f);
    if (vm.count("set"))
      for (const auto& kv : vm["set"].as<std::vector<std::string>>()) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw UsageError("--set '" + kv + "': expected KEY=VALUE (see --keys)");
        sim::apply_setting(o.cfg, kv.substr(0, eq), kv.substr(eq + 1));
      }
  } catch (const sim::ScenarioError& e) {
    throw UsageError(e.what());
  }
  if (vm.count("json")) o.json_path = vm["json"].as<std::string>();
  if (vm.count("plot")) {
    o.plot_dir = vm["plot"].as<std::string>();
    if (o.plot_dir.empty()) throw UsageError("--plot '': expected a directory");
  }
  o.progress = !vm.count("quiet");
  return o;
}

}  // namespace spray::app
