#include "telemetry/service.h"

namespace spray::telemetry {

Service::Service(const std::optional<ListenAddress>& listen) {
  if (listen) server_ = std::make_unique<MetricsServer>(*listen, ex_);
}

std::optional<ListenAddress> Service::address() const {
  if (!server_) return std::nullopt;
  return server_->address();
}

}  // namespace spray::telemetry
