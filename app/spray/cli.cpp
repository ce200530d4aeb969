// SPDX-License-Identifier: BSD-3-Clause
#include "cli.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace spray::app {

namespace {

unsigned parse_uint(const std::string& s, const std::string& option, unsigned lo, unsigned hi) {
  unsigned v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || v < lo || v > hi)
    throw UsageError(option + ": '" + s + "' is not a number in " + std::to_string(lo) + ".." +
                     std::to_string(hi));
  return v;
}

}  // namespace

std::uint16_t default_metrics_port(const std::string& role) {
  if (role == "gen") return telemetry::kMetricsPortGen;
  if (role == "respond") return telemetry::kMetricsPortRespond;
  if (role == "demo") return telemetry::kMetricsPortDemo;
  return telemetry::kMetricsPortSwitch;
}

std::vector<unsigned> parse_cpu_list(const std::string& s, const std::string& option) {
  std::vector<unsigned> cpus;
  std::stringstream ss(s);
  std::string item;
  const std::string accepted = "; expected CPU numbers like 1, 2,3 or 1-3";
  if (s.empty()) throw UsageError(option + ": empty list" + accepted);
  while (std::getline(ss, item, ',')) {
    const auto dash = item.find('-');
    try {
      if (dash == std::string::npos) {
        cpus.push_back(parse_uint(item, option, 0, 1023));
      } else {
        const unsigned a = parse_uint(item.substr(0, dash), option, 0, 1023);
        const unsigned b = parse_uint(item.substr(dash + 1), option, 0, 1023);
        if (b < a) throw UsageError(option + ": range '" + item + "' runs backwards" + accepted);
        for (unsigned c = a; c <= b; ++c) cpus.push_back(c);
      }
    } catch (const UsageError& e) {
      throw UsageError(option + ": '" + s + "' is not a CPU list" + accepted);
    }
  }
  return cpus;
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_eal(
    const std::vector<std::string>& args) {
  std::vector<std::string> before, after;
  bool eal = false;
  for (const auto& a : args) {
    if (!eal && a == "--eal") {
      eal = true;
      continue;
    }
    (eal ? after : before).push_back(a);
  }
  return {before, after};
}

RoleParser::RoleParser(std::string role, std::string summary, bool uses_ports)
    : role_name_(std::move(role)), summary_(std::move(summary)), uses_ports_(uses_ports),
      role_(role_name_ + " options") {
  auto add = common_desc_.add_options();
  add("help,h", "show this help and exit");
  add("config", po::value<std::string>()->value_name("FILE"),
      "INI file with the same option names (key = value); the command line overrides it");
  const std::string metrics_default = "127.0.0.1:" + std::to_string(default_metrics_port(role_name_));
  add("metrics", po::value<std::string>()->default_value(metrics_default)->value_name("ADDR:PORT|off"),
      "serve Prometheus metrics on http://ADDR:PORT/metrics; loopback only by default. Another "
      "address (e.g. 0.0.0.0:PORT) exposes them to the network, an explicit choice spray prints at "
      "start; off disables the endpoint");
  if (uses_ports_) {
    add("port", po::value<std::vector<std::string>>()->value_name("NAME=DEVARGS"),
        "a port, repeatable: NAME labels it in output and metrics; DEVARGS is a PCI address "
        "(0000:03:00.0) or a vdev (net_ring0, net_tap0,iface=sw0, net_memif0,role=server,"
        "socket=/run/spray.sock, net_vhost0,iface=/tmp/vm1.sock,client=1), or env:VAR for the "
        "PCI addresses a device plugin puts in VAR, comma-separated (one port NAME, or NAME0, "
        "NAME1, ... when there are several)");
    add("lcores", po::value<std::string>()->value_name("CPUS"),
        "CPUs for the workers, one worker each (e.g. 1 or 2,3); default: the last usable CPU. "
        "The control thread runs on the others");
    add("idle", po::value<std::string>()->default_value("backoff")->value_name("MODE"),
        "what an idle worker does: poll (spin, lowest latency, a full core) or backoff (sleep "
        "after 50 us without work, up to 200 us; for shared cores)");
    add("stats-period", po::value<double>()->default_value(1.0)->value_name("SECONDS"),
        "period of the one-line progress report; 0 = off");
    add("mem", po::value<unsigned>()->default_value(0)->value_name("MB"),
        "memory for DPDK in MB; 0 = derived from ports and queues");
    add("rx-desc", po::value<unsigned>()->default_value(1024)->value_name("N"),
        "rx descriptors per queue (64..16384)");
    add("tx-desc", po::value<unsigned>()->default_value(1024)->value_name("N"),
        "tx descriptors per queue (64..16384)");
    add("file-prefix", po::value<std::string>()->value_name("NAME"),
        "DPDK runtime file prefix; default spray-<pid>, so instances run side by side");
    add("log-level", po::value<std::string>()->default_value("warning")->value_name("LEVEL"),
        "DPDK log level: emerg, alert, crit, error, warning, notice, info, debug");
  }
}

std::string RoleParser::help() const {
  std::ostringstream s;
  s << "usage: spray " << role_name_ << " [options]" << (uses_ports_ ? " [--eal EAL-ARGS...]" : "")
    << "\n\n"
    << summary_ << "\n\n"
    << role_ << "\n"
    << common_desc_;
  if (uses_ports_)
    s << "\n  --eal ARGS...                 everything after --eal goes to DPDK's EAL unchanged\n";
  return s.str();
}

bool RoleParser::parse(const std::vector<std::string>& all_args) {
  auto [args, eal] = split_eal(all_args);
  if (!uses_ports_ && !eal.empty())
    throw UsageError("spray " + role_name_ + " takes no --eal arguments");
  po::options_description all;
  all.add(role_).add(common_desc_);
  try {
    po::store(po::command_line_parser(args).options(all).run(), vm_);
    if (vm_.count("help")) {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (vm_.count("config")) {
      const auto file = vm_["config"].as<std::string>();
      std::ifstream in(file);
      if (!in)
        throw UsageError("--config '" + file + "': cannot open the file (" + std::strerror(errno) + ")");
      po::store(po::parse_config_file(in, all), vm_);
    }
    po::notify(vm_);
  } catch (const po::unknown_option& e) {
    throw UsageError("unknown option '" + e.get_option_name() + "'; see 'spray " + role_name_ + " --help'");
  } catch (const po::invalid_option_value& e) {
    throw UsageError(std::string(e.what()) + "; see 'spray " + role_name_ + " --help'");
  } catch (const po::invalid_config_file_syntax& e) {
    throw UsageError("--config: " + std::string(e.what()));
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "; see 'spray " + role_name_ + " --help'");
  }
  common_.eal_args = eal;
  std::string metrics_error;
  common_.metrics = telemetry::parse_listen(vm_["metrics"].as<std::string>(), &metrics_error);
  if (!metrics_error.empty()) throw UsageError(metrics_error);
  common_.metrics_default = vm_["metrics"].defaulted();
  if (uses_ports_) fill_common();
  return true;
}

void RoleParser::fill_common() {
  if (vm_.count("port")) {
    const auto env = [](const std::string& var) -> std::optional<std::string> {
      const char* v = std::getenv(var.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
    for (const auto& p : vm_["port"].as<std::vector<std::string>>()) {
      auto r = dp::expand_port_spec(p, env);
      if (!r.error.empty()) throw UsageError(r.error);
      for (auto& spec : r.specs) {
        for (const auto& q : common_.ports)
          if (q.name == spec.name)
            throw UsageError("--port '" + p + "': the name '" + q.name + "' is used twice; names must be unique");
        common_.ports.push_back(std::move(spec));
      }
    }
  }
  if (vm_.count("lcores")) common_.worker_cpus = parse_cpu_list(vm_["lcores"].as<std::string>(), "--lcores");
  const auto idle = vm_["idle"].as<std::string>();
  if (idle != "poll" && idle != "backoff")
    throw UsageError("--idle '" + idle + "': expected poll or backoff");
  common_.idle_poll = idle == "poll";
  common_.idle_given = !vm_["idle"].defaulted();
  common_.stats_period_s = vm_["stats-period"].as<double>();
  if (!(common_.stats_period_s >= 0 && common_.stats_period_s <= 3600))
    throw UsageError("--stats-period '" + std::to_string(common_.stats_period_s) +
                     "': expected seconds in 0..3600 (0 = off)");
  common_.mem_mb = vm_["mem"].as<unsigned>();
  if (common_.mem_mb != 0 && common_.mem_mb < 64)
    throw UsageError("--mem " + std::to_string(common_.mem_mb) + ": expected 0 (derived) or at least 64 MB");
  common_.rx_desc = vm_["rx-desc"].as<unsigned>();
  common_.tx_desc = vm_["tx-desc"].as<unsigned>();
  for (auto [v, name] : {std::pair{common_.rx_desc, "--rx-desc"}, std::pair{common_.tx_desc, "--tx-desc"}})
    if (v < 64 || v > 16384 || (v & (v - 1)))
      throw UsageError(std::string(name) + " " + std::to_string(v) + ": expected a power of two in 64..16384");
  if (vm_.count("file-prefix")) common_.file_prefix = vm_["file-prefix"].as<std::string>();
  common_.log_level = vm_["log-level"].as<std::string>();
  static const char* levels[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
  bool ok = false;
  for (const char* l : levels) ok |= common_.log_level == l;
  if (!ok)
    throw UsageError("--log-level '" + common_.log_level +
                     "': expected emerg, alert, crit, error, warning, notice, info or debug");
}

}  // namespace spray::app
