// SPDX-License-Identifier: BSD-3-Clause
#include "telemetry/service.h"

namespace spray::telemetry {

Service::Service(const std::optional<ListenAddress>& listen, bool is_default) {
  if (!listen) return;
  try {
    server_ = std::make_unique<MetricsServer>(*listen, ex_);
  } catch (const std::runtime_error&) {
    if (!is_default || listen->port == 0) throw;
    ListenAddress any = *listen;
    any.port = 0;
    server_ = std::make_unique<MetricsServer>(any, ex_);
    fallback_ = true;
  }
}

std::optional<ListenAddress> Service::address() const {
  if (!server_) return std::nullopt;
  return server_->address();
}

}  // namespace spray::telemetry
