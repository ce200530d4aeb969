// SPDX-License-Identifier: BSD-3-Clause
// Runs a spray::srd::Endpoint on a simulated host, plus the application
// that drives it.
#pragma once

#include <functional>
#include <memory>

#include "plb.h"
#include "sim.h"
#include "srd/endpoint.h"

namespace spray::sim {

// What runs above the endpoint: drains its events and submits work. Called
// once per host poll, after received packets and due timers, before
// transmit (the order a dataplane worker uses).
class App {
 public:
  virtual ~App() = default;
  virtual void on_service(srd::Endpoint& ep, Nanos now_ns) = 0;
  // Earliest time the application needs a poll without packets or timers.
  virtual Nanos next_wake() const noexcept { return kNever; }
};

// Observes every SRD packet a host receives before the endpoint sees it.
using RxTap = std::function<void(std::span<const std::uint8_t> srd, const srd::RxMeta&, Nanos now_ns)>;

class SrdHost final : public HostStack {
 public:
  explicit SrdHost(const srd::EndpointConfig& cfg, std::unique_ptr<App> app = nullptr)
      : ep_(cfg), app_(std::move(app)) {}

  srd::Endpoint& ep() noexcept { return ep_; }
  const srd::Endpoint& ep() const noexcept { return ep_; }
  App* app() noexcept { return app_.get(); }
  RxTap rx_tap;  // optional, for measurements
  // Repaths this host's connections on congestion or timeout (plb.h); off
  // by default: the transport's path ids are the ECMP entropy.
  void enable_plb(const PlbConfig& cfg, std::uint64_t seed) { plb_ = std::make_unique<Plb>(cfg, seed); }
  const Plb* plb() const noexcept { return plb_.get(); }

  void on_packet(std::span<const std::uint8_t> srd, const srd::RxMeta& meta,
                 Nanos now_ns) noexcept override {
    if (rx_tap) rx_tap(srd, meta, now_ns);
    ep_.on_packet(srd, meta, now_ns);
    // After the endpoint: the packet's own ECE or duplicate counts, and the
    // ACK it calls for leaves on the new path.
    if (plb_) plb_->on_rx(ep_, srd, now_ns);
  }
  std::size_t poll_tx(std::span<std::uint8_t> buf, srd::TxMeta& meta, Nanos now_ns) noexcept override {
    return ep_.poll_tx(buf, meta, now_ns);
  }
  Nanos next_expiry() const noexcept override { return ep_.next_expiry(); }
  void on_expiry(Nanos now_ns) noexcept override {
    ep_.on_expiry(now_ns);
    if (plb_) plb_->after_expiry(ep_, now_ns);
  }
  void on_service(Nanos now_ns) override {
    if (app_) app_->on_service(ep_, now_ns);
  }
  Nanos next_app_wake() const noexcept override { return app_ ? app_->next_wake() : kNever; }
  void on_host_drops(Nanos now_ns) noexcept override { ep_.note_host_drops(now_ns); }
  std::uint16_t tx_entropy(const srd::TxMeta& meta) noexcept override {
    return plb_ ? static_cast<std::uint16_t>(meta.path_id + plb_->entropy(meta.to.ip)) : meta.path_id;
  }

 private:
  srd::Endpoint ep_;
  std::unique_ptr<App> app_;
  std::unique_ptr<Plb> plb_;
};

// Endpoint configuration for a simulated host: its address, a seed derived
// from the scenario's, and the given port rate.
srd::EndpointConfig endpoint_config(const Sim& sim, std::uint32_t host_node, std::uint64_t seed,
                                    std::uint64_t link_rate_bps);

}  // namespace spray::sim
