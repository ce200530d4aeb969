// SPDX-License-Identifier: BSD-3-Clause
// Command-line and config-file parsing shared by every role.
//
// Boost.Program_options with one rule: `--config FILE` reads an INI file with
// the same option names, and the command line overrides it. Everything after
// `--eal` goes to DPDK's EAL verbatim. Errors are UsageError with one line
// naming the bad value and what is accepted; the caller exits 2.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/errors.h"
#include "dataplane/port_spec.h"
#include "roles/options.h"
#include "telemetry/listen.h"

namespace spray::app {

namespace po = boost::program_options;

// Defined with the roles that run them (lib/roles/options.h).
using roles::CommonOptions;

// The role's default --metrics port (doc/telemetry.md): one per role, so
// several roles run side by side on one host.
std::uint16_t default_metrics_port(const std::string& role);

// A role's option set: the common options plus its own.
class RoleParser {
 public:
  RoleParser(std::string role, std::string summary, bool uses_ports = true);

  po::options_description& role_options() { return role_; }

  // Parses `args` (after the role name). Returns false when --help was
  // given (help already printed to stdout). Throws UsageError.
  bool parse(const std::vector<std::string>& args);

  const po::variables_map& vm() const { return vm_; }
  const CommonOptions& common() const { return common_; }
  const std::string& role() const { return role_name_; }
  std::string help() const;

 private:
  void fill_common();

  std::string role_name_;
  std::string summary_;
  bool uses_ports_;
  po::options_description common_desc_{"Common options"};
  po::options_description role_;
  po::variables_map vm_;
  CommonOptions common_;
};

// "1", "2,3", "1-3" -> CPU numbers. Throws UsageError naming the value.
std::vector<unsigned> parse_cpu_list(const std::string& s, const std::string& option);

// Splits argv at the first "--eal": {before, after}.
std::pair<std::vector<std::string>, std::vector<std::string>> split_eal(
    const std::vector<std::string>& args);

}  // namespace spray::app
