// SPDX-License-Identifier: BSD-3-Clause
// `--port NAME=DEVARGS` and `--port NAME=env:VAR` parsing. Pure (no EAL, the
// environment injected), so the CLI tests it directly.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spray::dp {

struct PortSpec {
  std::string name;     // label in output and metrics
  std::string devargs;  // PCI address or vdev string, passed to DPDK unchanged
  bool is_pci() const;
  // The ethdev name DPDK gives the device: the vdev name (devargs up to the
  // first comma), or the PCI address.
  std::string device_name() const;
};

// Returns the spec, or an error message naming the bad value and the accepted
// form.
struct PortSpecResult {
  std::optional<PortSpec> spec;
  std::string error;
};
PortSpecResult parse_port_spec(std::string_view arg);

// The value of an environment variable, nullopt when it is unset. Injected so
// the expansion below stays pure and its tests set no process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// `--port NAME=DEVARGS` as parse_port_spec, or `--port NAME=env:VAR`: VAR
// holds a comma-separated list of PCI addresses, the form a device plugin
// gives a container (the SR-IOV device plugin's PCIDEVICE_<RESOURCE>). One
// address makes one port NAME; several make NAME0, NAME1, ... in the
// variable's order. An unset or empty variable, or an item that is not a PCI
// address, is an error naming the variable and its value.
struct PortSpecsResult {
  std::vector<PortSpec> specs;
  std::string error;
};
PortSpecsResult expand_port_spec(std::string_view arg, const EnvLookup& env);

}  // namespace spray::dp
