// `--port NAME=DEVARGS` parsing. Pure (no EAL), so the CLI tests it directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

}  // namespace spray::dp
