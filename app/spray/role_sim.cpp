// SPDX-License-Identifier: BSD-3-Clause
// spray sim: a fabric experiment in virtual time (lib/sim); this file only
// parses, prints and hands the JSON to tools/sim-plot.py for --plot.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "dataplane/errors.h"
#include "roles.h"
#include "sim_options.h"

extern char** environ;

namespace spray::app {
namespace {

// The plotting script: $SPRAY_SIM_PLOT, else beside the binary in a build
// tree (build/app/spray/spray -> tools/sim-plot.py) or an install
// (bin/spray -> share/spray/sim-plot.py), else sim-plot.py on the PATH.
std::string plot_script() {
  if (const char* env = std::getenv("SPRAY_SIM_PLOT"); env && *env) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto dir = exe.parent_path();
    for (const auto& rel : {"../../../tools/sim-plot.py", "../../tools/sim-plot.py", "../share/spray/sim-plot.py"}) {
      const auto p = (dir / rel).lexically_normal();
      if (std::filesystem::is_regular_file(p, ec)) return p.string();
    }
  }
  return "sim-plot.py";
}

void plot(const std::string& dir, const std::string& json) {
  const std::string script = plot_script();
  // The system's interpreter first: python3-matplotlib installs for it,
  // whatever other python3 comes first on the PATH.
  std::error_code ec;
  const std::string python = std::filesystem::exists("/usr/bin/python3", ec) ? "/usr/bin/python3" : "python3";
  std::vector<std::string> argv_s = {python, script, dir, json};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  if (const int e = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ); e != 0)
    throw RuntimeError("--plot: cannot run " + python + " (" + std::string(std::strerror(e)) + ")");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw RuntimeError("--plot '" + dir + "': " + script + " failed (see above; it needs python3-matplotlib)");
}

}  // namespace

int sim_main(const std::vector<std::string>& args) {
  const auto opt = parse_sim_options(args);
  if (!opt) return 0;
  sim::RunOptions ro;
  ro.progress = opt->progress ? stderr : nullptr;
  sim::ExperimentResult r;
  try {
    r = sim::run_experiment(opt->cfg, ro);
  } catch (const sim::ScenarioError& e) {
    throw UsageError(e.what());
  }
  sim::write_text(std::cout, r);
  std::cout.flush();
  std::string json = opt->json_path;
  if (json.empty() && !opt->plot_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt->plot_dir, ec);
    json = (std::filesystem::path(opt->plot_dir) / "result.json").string();
  }
  if (!json.empty()) {
    std::ofstream out(json);
    if (out) sim::write_json(out, r);
    if (!out) throw RuntimeError("--json '" + json + "': cannot write (" + std::strerror(errno) + ")");
  }
  if (!opt->plot_dir.empty()) plot(opt->plot_dir, json);
  if (r.flows_failed) {
    std::printf("spray sim: %llu %s failed\n", static_cast<unsigned long long>(r.flows_failed),
                r.training.enabled ? "message(s)" : "flow(s)");
    return 3;
  }
  return 0;
}

}  // namespace spray::app
