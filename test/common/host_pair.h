// SPDX-License-Identifier: BSD-3-Clause
// A generator and a responder (dp::SrdHostPipeline with their HostApps) on
// the two ends of a ring link, pumped by hand on the test's thread: the
// dpdk-suite fixture for the transport over real ports and mbufs. Needs
// EalEnvironment.
#pragma once

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/eal_env.h"
#include "dataplane/host_apps.h"
#include "dataplane/port.h"
#include "dataplane/ring_link.h"
#include "dataplane/srd_host.h"

namespace spray::test {

inline constexpr std::uint32_t kGenIp = 0x0a000001, kRespIp = 0x0a000002;
inline constexpr std::uint64_t kGenMac = 0x020000000001ULL, kRespMac = 0x020000000002ULL;

struct HostPairOptions {
  std::uint16_t paths = 8;
  // Slots of the ring the responder receives from (its rx ring; net_ring
  // ignores the descriptor count given at queue setup).
  unsigned resp_rx_ring = 1024;
  std::uint32_t resp_max_conns = 256;
  // Non-zero: both ports and endpoints at this IP MTU, the ports configured
  // by the runtime's dp::start_port, receiving into `pool` (whose buffers
  // must hold a frame of it).
  std::uint16_t mtu = 0;
  rte_mempool* pool = nullptr;  // null: EalEnvironment's
};

struct HostPair {
  dp::RingLink link;
  dp::TscClock clock{rte_get_tsc_hz()};
  std::unique_ptr<dp::SrdHostPipeline> gen_host, resp_host;
  std::unique_ptr<dp::GenHostApp> gen;
  std::unique_ptr<dp::RespondHostApp> resp;
  dp::TxBuffers gen_tx, resp_tx;
  // Called with each burst a host receives, before the host sees it.
  std::function<void(rte_mbuf*const*, std::uint16_t)> watch_gen_rx, watch_resp_rx;

  // `name` keeps the ring and port names unique within the process.
  HostPair(const traffic::GenConfig& gcfg, const traffic::RespondConfig& rcfg, const std::string& name,
           const HostPairOptions& o = {}) {
    link = dp::make_ring_link(name + "-g", name + "-r", 1, o.resp_rx_ring, 1024);
    rte_mempool* pool = o.pool ? o.pool : EalEnvironment::pool();
    if (o.mtu) {
      for (auto id : {link.a, link.b}) {
        dp::Port port;
        port.spec = {name + std::to_string(id), "ring-link"};
        port.id = id;
        port.driver = "net_ring";
        dp::start_port(port, dp::PortOptions{.mtu = o.mtu}, pool);
      }
    } else {
      start_port(link.a);
      start_port(link.b);
    }
    dp::SrdHostConfig gh;
    gh.ip = kGenIp;
    gh.peer_ip = kRespIp;
    dp::SrdHostConfig rh;
    rh.ip = kRespIp;
    srd::EndpointConfig ep;
    ep.paths = o.paths;
    ep.link_rate_bps = 10'000'000'000ULL;
    ep.max_connections = 256;
    if (o.mtu) ep.mtu = o.mtu;
    ep.local = {kGenIp, gh.udp_port};
    gen_host = std::make_unique<dp::SrdHostPipeline>(gh, ep, 0, kGenMac, pool, clock);
    ep.local = {kRespIp, rh.udp_port};
    ep.seed = 2;
    ep.max_connections = o.resp_max_conns;
    resp_host = std::make_unique<dp::SrdHostPipeline>(rh, ep, 0, kRespMac, pool, clock);
    gen = std::make_unique<dp::GenHostApp>(gcfg, gen_host->endpoint());
    resp = std::make_unique<dp::RespondHostApp>(rcfg, resp_host->endpoint());
    gen_host->set_app(gen.get());
    resp_host->set_app(resp.get());
    gen_tx.init(1, &link.a, 0);
    resp_tx.init(1, &link.b, 0);
  }
  HostPair(const HostPair&) = delete;
  HostPair& operator=(const HostPair&) = delete;
  ~HostPair() {
    for (auto p : {link.a, link.b}) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  }

  // One pass of both hosts' loops at one instant.
  void step() {
    rte_mbuf* pkts[dp::kBurst];
    const std::uint64_t now = rte_get_tsc_cycles();
    std::uint16_t n = rte_eth_rx_burst(link.a, 0, pkts, dp::kBurst);
    if (n && watch_gen_rx) watch_gen_rx(pkts, n);
    if (n) gen_host->rx(gen_tx, 0, pkts, n, now);
    n = rte_eth_rx_burst(link.b, 0, pkts, dp::kBurst);
    if (n && watch_resp_rx) watch_resp_rx(pkts, n);
    if (n) resp_host->rx(resp_tx, 0, pkts, n, now);
    gen_host->poll(gen_tx, now);
    resp_host->poll(resp_tx, now);
    gen_tx.flush();
    resp_tx.flush();
  }

  // Steps until `done`; false when `max_seconds` passed first or the
  // generator's peer never answered ARP.
  bool run_until(const std::function<bool()>& done, double max_seconds) {
    const std::uint64_t deadline =
        rte_get_tsc_cycles() + static_cast<std::uint64_t>(max_seconds * rte_get_tsc_hz());
    while (!done()) {
      if (rte_get_tsc_cycles() > deadline || gen_host->peer_state() == dp::NeighborState::kFailed)
        return false;
      step();
    }
    return true;
  }

  // Until the generator is done.
  bool run(double max_seconds) {
    return run_until([this] { return gen->finished(); }, max_seconds);
  }
};

}  // namespace spray::test
