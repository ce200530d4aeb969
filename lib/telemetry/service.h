// SPDX-License-Identifier: BSD-3-Clause
// A role's telemetry in one object: the registry it fills, the exchange
// between its control thread and readers, and the /metrics endpoint.
//
//   telemetry::Service tel(opt.common.metrics);   // binds, or throws
//   tel.registry().add_gauge(...);                 // one line per metric group
//   hooks.tick = [&] { tel.tick(); };              // control thread, every tick
//
// Control thread only, except what MetricsServer and SnapshotExchange run
// on their own threads.
#pragma once

#include <memory>
#include <optional>

#include "telemetry/listen.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"

namespace spray::telemetry {

class Service {
 public:
  // Listens on `listen` when set; nullopt (--metrics off) serves nothing but
  // still collects for dumps and the DPDK telemetry commands. Throws
  // std::runtime_error naming the address when it cannot bind, except when
  // `is_default` (the user gave no --metrics) and the port is taken: then it
  // listens on a free port of the same address and fallback() says so, so a
  // second instance on one host still starts.
  explicit Service(const std::optional<ListenAddress>& listen, bool is_default = false);

  Registry& registry() noexcept { return reg_; }
  const std::shared_ptr<SnapshotExchange>& exchange() const noexcept { return ex_; }
  // The bound address (port resolved), or nullopt when off.
  std::optional<ListenAddress> address() const;
  // The default address was taken and another port was used.
  bool fallback() const noexcept { return fallback_; }

  // Answers pending readers with a fresh snapshot. Every control tick.
  void tick() { ex_->serve(reg_); }
  // Publishes a snapshot now: once after the metric groups are added, so a
  // scrape before the first tick already sees them.
  void refresh() { ex_->publish(reg_.collect()); }
  // Collects now and renders it as text (state dump).
  std::string dump_text(const std::vector<std::string>& prefixes = {}) const {
    return snapshot_text(reg_.collect(), prefixes);
  }

 private:
  Registry reg_;
  std::shared_ptr<SnapshotExchange> ex_ = std::make_shared<SnapshotExchange>();
  std::unique_ptr<MetricsServer> server_;
  bool fallback_ = false;
};

}  // namespace spray::telemetry
