// SPDX-License-Identifier: BSD-3-Clause
// Arbitrary command lines and config files through the option parsers of
// every role. The contract (cli.h): a parser either succeeds or throws
// spray::UsageError with a message; anything else escaping (another
// exception type, a crash) is a bug. What succeeds must also hold what the
// role relies on afterwards: the switch's configuration builds a router and
// a bridge without throwing, and the hosts' UDP ports are real ports.
//
// Input: the arguments after the role name, separated by '\0'. The same
// bytes are also written to a file and read as `--config FILE`, so the INI
// reader sees them too. Each role (switch, gen, respond, demo) parses both;
// sim reads the file as its scenario. A `--config` among the arguments is
// pointed at that same file, and so is any argument of sim's that names an
// existing file (its scenario is a positional argument or --scenario): the
// input must not name files to read (a FIFO or /dev/zero would hang the run).
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "../wire/fuzz_check.h"
#include "cli.h"
#include "demo_options.h"
#include "host_options.h"
#include "sim_options.h"
#include "switch_options.h"
#include "tor/l2_switch.h"
#include "tor/l3_router.h"

using namespace spray;
using namespace spray::app;

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    const auto p = std::filesystem::temp_directory_path() /
                   ("spray-fuzz-app-options-" + std::to_string(::getpid()) + ".ini");
    std::atexit([] { std::remove(config_path().c_str()); });
    return p.string();
  }();
  return path;
}

// "--config", or an abbreviation of it (Boost accepts unambiguous prefixes).
bool names_config(const std::string& arg, std::size_t& eq) {
  if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) return false;
  eq = arg.find('=');
  const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  return !name.empty() && std::string("config").compare(0, name.size(), name) == 0;
}

std::vector<std::string> split_args(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  if (size == 0) return args;
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  // Before --eal only: what follows it goes to EAL, not to the parser.
  for (std::size_t i = 0; i < args.size() && args[i] != "--eal"; ++i) {
    std::size_t eq = 0;
    if (!names_config(args[i], eq)) continue;
    if (eq != std::string::npos) {
      args[i] = args[i].substr(0, eq + 1) + config_path();
    } else if (i + 1 < args.size()) {
      args[++i] = config_path();
    }
  }
  return args;
}

// The source port range of a host fits in 1..65535 and leaves out the SRD port.
void check_host(const RoleParser& p, const dp::SrdHostConfig& h) {
  const std::uint64_t base = p.vm()["src-port-base"].as<unsigned>();
  const std::uint64_t paths = p.vm()["paths"].as<unsigned>();
  WIRE_FUZZ_CHECK(paths >= 1 && paths <= 256);
  WIRE_FUZZ_CHECK(base >= 1 && base + paths - 1 <= 65535);
  WIRE_FUZZ_CHECK(h.src_port_base == base);
  WIRE_FUZZ_CHECK(h.udp_port != 0 && h.udp_port == p.vm()["udp-port"].as<unsigned>());
  WIRE_FUZZ_CHECK(h.udp_port < base || h.udp_port >= base + paths);
}

void run_switch(const std::vector<std::string>& args) {
  RoleParser p("switch", "fuzz");
  describe_switch_options(p);
  if (!p.parse(args)) return;
  const SwitchOptions o = switch_options_from(p);
  WIRE_FUZZ_CHECK(o.config.l2.ports.size() == o.common.ports.size());
  WIRE_FUZZ_CHECK(o.config.validate().empty());
  // What the role builds from it must not throw. The route table is sized to
  // the routes given (not the default 65536) to keep each run short; a
  // smaller table accepts the same routes. A large FDB is skipped for time.
  tor::L3Config l3 = o.config.l3;
  l3.max_routes = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(l3.routes.size()));
  const tor::L3Router router(l3, o.config.l2.ports.size());
  if (o.config.l2.fdb_capacity <= 65536) {
    const tor::L2Switch bridge(o.config.l2);
  }
}

void run_gen(const std::vector<std::string>& args) {
  RoleParser p("gen", "fuzz");
  describe_gen_options(p);
  if (!p.parse(args)) return;
  const GenOptions o = gen_options_from(p);
  WIRE_FUZZ_CHECK(o.host.hosts.size() == (o.local_responder ? 2u : 1u));
  for (const auto& h : o.host.hosts) check_host(p, h);
  WIRE_FUZZ_CHECK(o.host.hosts[0].peer_ip == o.gen.peer.ip);
  if (o.local_responder) WIRE_FUZZ_CHECK(o.host.hosts[1].ip == o.gen.peer.ip);
  WIRE_FUZZ_CHECK(o.gen.validate().empty());
  WIRE_FUZZ_CHECK(o.gen.request.min() >= traffic::kMinMessageLen);
}

void run_respond(const std::vector<std::string>& args) {
  RoleParser p("respond", "fuzz");
  describe_respond_options(p);
  if (!p.parse(args)) return;
  const RespondOptions o = respond_options_from(p);
  WIRE_FUZZ_CHECK(o.host.hosts.size() == o.host.common.ports.size());
  for (const auto& h : o.host.hosts) check_host(p, h);
}

void run_demo(const std::vector<std::string>& args) {
  RoleParser p("demo", "fuzz");
  describe_demo_options(p);
  if (!p.parse(args)) return;
  const DemoOptions o = demo_options_from(p);
  WIRE_FUZZ_CHECK(o.common.ports.empty());
  WIRE_FUZZ_CHECK(o.spines >= 2 && o.spines <= 16 && o.paths >= 2);
  WIRE_FUZZ_CHECK(o.fail_at_s >= 0 && o.fail_at_s < o.run_seconds());
}

// sim's arguments with every name of an existing file (alone, or after
// '=') pointed at the fuzz input's own file.
std::vector<std::string> sim_args(std::vector<std::string> args) {
  for (std::string& a : args) {
    const auto eq = a.rfind("--", 0) == 0 ? a.find('=') : std::string::npos;
    const std::string value = eq == std::string::npos ? a : a.substr(eq + 1);
    std::error_code ec;
    if (value.empty() || !std::filesystem::exists(value, ec)) continue;
    a = eq == std::string::npos ? config_path() : a.substr(0, eq + 1) + config_path();
  }
  return args;
}

// What run_experiment relies on from a parsed scenario.
void run_sim(const std::vector<std::string>& args) {
  const auto o = parse_sim_options(args);
  if (!o) return;
  const sim::ExperimentConfig& c = o->cfg;
  WIRE_FUZZ_CHECK(c.paths >= 1 && c.paths <= 256);
  WIRE_FUZZ_CHECK(c.window >= 1 && c.window <= 1024);
  WIRE_FUZZ_CHECK(c.mtu >= 576 && c.mtu <= 9000);
  WIRE_FUZZ_CHECK(c.message_bytes >= 1024 && c.message_bytes <= (16u << 20));
  WIRE_FUZZ_CHECK(c.end_ns > 0);
  WIRE_FUZZ_CHECK(c.plb.ce_share >= 0 && c.plb.ce_share < 1 && c.plb.rounds >= 1);
  WIRE_FUZZ_CHECK(c.training.iterations >= 1);
  WIRE_FUZZ_CHECK(c.training.allreduce_group != 1 && c.training.alltoall_group != 1);
  WIRE_FUZZ_CHECK(c.fabric.k % 2 == 0 && c.fabric.link_rate_bps > 0);
  for (const auto& t : c.fabric.tiers) WIRE_FUZZ_CHECK(t.queue_pkts >= 1);
  for (const auto& f : c.faults) WIRE_FUZZ_CHECK(!f.target.empty());
}

template <class F>
void only_usage_errors(const char* role, F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    WIRE_FUZZ_CHECK(e.what()[0] != '\0');
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spray %s: %s escaped the parser: %s\n", role, typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "spray %s: a non-std exception escaped the parser\n", role);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // --help prints the whole option list; nobody reads it here, so stdout
  // goes to /dev/null while the parsers run (the driver's own report stays).
  // A switch that parses builds a router and a bridge (a MiB of tables):
  // keep that memory in the process rather than faulting it in every run.
  static const bool keep_heap = mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 64 << 20);
  (void)keep_heap;
  static const int null_fd = ::open("/dev/null", O_WRONLY);
  static const int stdout_fd = ::dup(STDOUT_FILENO);
  std::fflush(stdout);
  ::dup2(null_fd, STDOUT_FILENO);
  {
    std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const std::vector<std::string> args = split_args(data, size);
  const std::vector<std::string> from_file = {"--config", config_path()};
  for (const auto* a : {&args, &from_file}) {
    only_usage_errors("switch", [&] { run_switch(*a); });
    only_usage_errors("gen", [&] { run_gen(*a); });
    only_usage_errors("respond", [&] { run_respond(*a); });
    only_usage_errors("demo", [&] { run_demo(*a); });
  }
  only_usage_errors("sim", [&] { run_sim(sim_args(args)); });
  only_usage_errors("sim", [&] { run_sim({"--scenario", config_path()}); });
  std::fflush(stdout);
  ::dup2(stdout_fd, STDOUT_FILENO);
  return 0;
}
