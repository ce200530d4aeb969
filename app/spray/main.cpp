// SPDX-License-Identifier: BSD-3-Clause
// spray <role> [options]: parses the command line into a role's options and
// hands them to lib/roles, which runs the role.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "dataplane/errors.h"
#include "demo_options.h"
#include "host_options.h"
#include "roles.h"
#include "roles/roles.h"
#include "switch_options.h"

namespace spray::app {

int gen_main(const std::vector<std::string>& args) {
  RoleParser p = make_gen_parser();
  if (!p.parse(args)) return 0;
  return roles::run_gen(gen_options_from(p));
}

int respond_main(const std::vector<std::string>& args) {
  RoleParser p = make_respond_parser();
  if (!p.parse(args)) return 0;
  return roles::run_respond(respond_options_from(p));
}

int switch_main(const std::vector<std::string>& args) {
  RoleParser p = make_switch_parser();
  if (!p.parse(args)) return 0;
  // A SIGHUP reads the same command line again, and the --config file it names.
  return roles::run_switch(switch_options_from(p), [args] {
    RoleParser again = make_switch_parser();
    again.parse(args);
    return switch_options_from(again);
  });
}

int demo_main(const std::vector<std::string>& args) {
  RoleParser p = make_demo_parser();
  if (!p.parse(args)) return 0;
  return roles::run_demo(demo_options_from(p));
}

}  // namespace spray::app

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: spray <role> [options] [--eal EAL-ARGS...]\n"
               "       spray <role> --help\n"
               "       spray --version\n\nroles:\n");
  for (const auto& r : spray::app::kRoles) std::fprintf(out, "  %-10s %s\n", r.name, r.summary);
  std::fprintf(out,
               "\nExit status: 0 success, 1 runtime error, 2 usage error, 3 run completed with "
               "failures (gen).\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Everything spray creates is its owner's alone: memif and vhost-user
  // sockets (a peer on them can inject frames), the DPDK telemetry socket
  // (it can change impairments and read state), --json and --hdr files.
  // Group and other bits are removed on top of the caller's umask.
  umask(umask(0) | 077);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  const std::string first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(stdout);
    return 0;
  }
  if (first == "--version" || first == "-V") {
    std::printf("%s\n", spray::roles::version_text().c_str());
    return 0;
  }
  for (const auto& r : spray::app::kRoles) {
    if (first != r.name) continue;
    args.erase(args.begin());
    try {
      return r.main(args);
    } catch (const spray::UsageError& e) {
      std::fprintf(stderr, "spray %s: %s\n", r.name, e.what());
      return 2;
    } catch (const spray::RuntimeError& e) {
      std::fprintf(stderr, "spray %s: %s\n", r.name, e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "spray %s: %s\n", r.name, e.what());
      return 1;
    }
  }
  std::string names;
  for (const auto& r : spray::app::kRoles) names += std::string(names.empty() ? "" : ", ") + r.name;
  std::fprintf(stderr, "spray: unknown role '%s'; roles: %s (see spray --help)\n", first.c_str(),
               names.c_str());
  return 2;
}
