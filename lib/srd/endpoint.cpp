// Endpoint: first compiling skeleton; the transport fills it in.
#include "srd/endpoint.h"

#include <stdexcept>

namespace spray::srd {

class EndpointImpl {
 public:
  explicit EndpointImpl(const EndpointConfig& c) : cfg(c) {}
  EndpointConfig cfg;
  EndpointCounters counters;
};

void EndpointConfig::validate() const {
  if (mtu < 61 + 28) throw std::invalid_argument("mtu too small");
  if (paths == 0 || paths > 256) throw std::invalid_argument("paths must be 1..256");
}

Endpoint::Endpoint(const EndpointConfig& cfg) {
  cfg.validate();
  impl_ = std::make_unique<EndpointImpl>(cfg);
}
Endpoint::~Endpoint() = default;
void Endpoint::on_packet(std::span<const std::uint8_t>, const RxMeta&, Nanos) noexcept {}
std::size_t Endpoint::poll_tx(std::span<std::uint8_t>, TxMeta&, Nanos) noexcept { return 0; }
Nanos Endpoint::next_expiry() const noexcept { return kNever; }
void Endpoint::on_expiry(Nanos) noexcept {}
ConnId Endpoint::connect(const PeerAddr&) noexcept { return kNoConn; }
void Endpoint::listen(bool) noexcept {}
SendStatus Endpoint::send(ConnId, std::span<const std::uint8_t>, std::uint64_t) noexcept {
  return SendStatus::kNoConnection;
}
SendStatus Endpoint::send(ConnId, std::span<const IoVec>, std::uint64_t) noexcept {
  return SendStatus::kNoConnection;
}
bool Endpoint::close(ConnId) noexcept { return false; }
bool Endpoint::abort(ConnId) noexcept { return false; }
bool Endpoint::poll_event(Event&) noexcept { return false; }
void Endpoint::release(const Message&) noexcept {}
ConnState Endpoint::state(ConnId) const noexcept { return ConnState::kClosed; }
bool Endpoint::conn_stats(ConnId, ConnStats&) const noexcept { return false; }
bool Endpoint::path_stats(ConnId, std::uint16_t, PathStats&) const noexcept { return false; }
const EndpointCounters& Endpoint::counters() const noexcept { return impl_->counters; }
std::size_t Endpoint::connection_count() const noexcept { return 0; }
std::size_t Endpoint::state_bytes(ConnId) const noexcept { return 0; }
std::string Endpoint::dump(Nanos) const { return {}; }
const EndpointConfig& Endpoint::config() const noexcept { return impl_->cfg; }

}  // namespace spray::srd
