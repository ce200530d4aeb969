// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "dataplane/errors.h"

namespace spray::dp {

namespace {

std::string errstr(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

[[noreturn]] void fail(const Port& p, const std::string& what) {
  throw RuntimeError("port '" + p.spec.name + "' (" + p.spec.devargs + "): " + what);
}

}  // namespace

Port probe_port(const PortSpec& spec) {
  Port p;
  p.spec = spec;
  const std::string dev = spec.device_name();
  std::uint16_t id = 0;
  if (!spec.is_pci()) {
    if (rte_eth_dev_get_port_by_name(dev.c_str(), &id) == 0)
      fail(p, "device name '" + dev + "' is used twice; give each port its own vdev instance number");
    const int rc = rte_dev_probe(spec.devargs.c_str());
    if (rc < 0) {
      const auto driver = dev.substr(0, dev.find_last_not_of("0123456789") + 1);
      fail(p, "cannot create the device: either no driver '" + driver +
                  "' is installed or it rejected the arguments (the EAL log above says which); "
                  "network vdev drivers: net_ring, net_tap, net_memif, net_vhost, "
                  "net_virtio_user, net_pcap, net_null, net_impair, net_uring");
    }
  }
  if (rte_eth_dev_get_port_by_name(dev.c_str(), &id) != 0)
    fail(p, spec.is_pci() ? "no DPDK port at this PCI address; is the device bound to vfio-pci "
                            "and passed with -a?"
                          : "device created but it is not an Ethernet port");
  p.id = id;
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) fail(p, "rte_eth_dev_info_get: " + errstr(rc));
  p.driver = info.driver_name ? info.driver_name : "?";
  p.numa = rte_eth_dev_socket_id(id);
  return p;
}

std::uint64_t port_mbuf_need(const PortOptions& opt) {
  return std::uint64_t{opt.rx_queues} * opt.rx_desc + std::uint64_t{opt.tx_queues} * opt.tx_desc;
}

void start_port(Port& p, const PortOptions& opt, rte_mempool* pool) {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(p.id, &info); rc != 0) fail(p, "rte_eth_dev_info_get: " + errstr(rc));
  if (opt.rx_queues > info.max_rx_queues || opt.tx_queues > info.max_tx_queues)
    fail(p, "needs " + std::to_string(opt.rx_queues) + " rx / " + std::to_string(opt.tx_queues) +
                " tx queues; the device supports at most " + std::to_string(info.max_rx_queues) +
                " rx / " + std::to_string(info.max_tx_queues) + " tx (use fewer workers)");
  rte_eth_conf conf{};
  // Offloads only where offered: vdevs offer almost none, and asking for one
  // they lack makes rte_eth_dev_configure fail.
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  // virtio_user notices that its vhost-user peer went away, and in server
  // mode accepts the next one (a restarted switch), only from its link-state
  // interrupt; without it the port stays bound to the dead peer.
  if (p.driver == "net_virtio_user" && info.dev_flags && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
    conf.intr_conf.lsc = 1;
  if (opt.rx_queues > 1 && info.flow_type_rss_offloads) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  if (int rc = rte_eth_dev_configure(p.id, opt.rx_queues, opt.tx_queues, &conf); rc != 0)
    fail(p, "rte_eth_dev_configure(" + std::to_string(opt.rx_queues) + " rx, " +
                std::to_string(opt.tx_queues) + " tx): " + errstr(rc));
  std::uint16_t rxd = opt.rx_desc, txd = opt.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &rxd, &txd); rc != 0)
    fail(p, "rte_eth_dev_adjust_nb_rx_tx_desc: " + errstr(rc));
  const int socket = p.numa < 0 ? static_cast<int>(rte_socket_id()) : p.numa;
  for (std::uint16_t q = 0; q < opt.rx_queues; ++q) {
    rte_eth_rxconf rxc = info.default_rxconf;
    if (int rc = rte_eth_rx_queue_setup(p.id, q, rxd, static_cast<unsigned>(socket), &rxc, pool); rc != 0)
      fail(p, "rx queue " + std::to_string(q) + " setup with " + std::to_string(rxd) +
                  " descriptors: " + errstr(rc));
  }
  for (std::uint16_t q = 0; q < opt.tx_queues; ++q) {
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(p.id, q, txd, static_cast<unsigned>(socket), &txc); rc != 0)
      fail(p, "tx queue " + std::to_string(q) + " setup with " + std::to_string(txd) +
                  " descriptors: " + errstr(rc));
  }
  if (opt.promiscuous) {
    // Some vdevs (ring, memif) have no promiscuous control and take every
    // frame anyway; only a real refusal matters.
    const int rc = rte_eth_promiscuous_enable(p.id);
    if (rc != 0 && rc != -ENOTSUP)
      std::fprintf(stderr, "spray: warning: port '%s': cannot enable promiscuous mode: %s\n",
                   p.spec.name.c_str(), errstr(rc).c_str());
  }
  if (int rc = rte_eth_dev_start(p.id); rc != 0) fail(p, "rte_eth_dev_start: " + errstr(rc));
  rte_ether_addr mac{};
  rte_eth_macaddr_get(p.id, &mac);
  p.mac = 0;
  for (auto b : mac.addr_bytes) p.mac = (p.mac << 8) | b;
  if (p.driver == "net_tap") {
    // The tap driver reports the kernel interface's own address. Frames
    // spray originates must carry another one, or a bridge or stack on the
    // kernel side takes replies to spray as addressed to itself.
    p.mac ^= 1;
  }
  if (p.mac == 0) {
    // Ring ports have no address; frames we originate need a unicast one
    // that switches can learn. Locally administered, unique per process
    // and port.
    p.mac = 0x02'53'00'00'00'00ULL | (std::uint64_t(::getpid() & 0xffffff) << 8) | (p.id & 0xff);
  }
  p.rx_queues = opt.rx_queues;
  p.tx_queues = opt.tx_queues;
  p.rx_desc = rxd;
  p.tx_desc = txd;
  p.started = true;
}

void close_port(Port& p) noexcept {
  if (p.started) {
    rte_eth_dev_stop(p.id);
    p.started = false;
  }
  rte_eth_dev_info info{};
  rte_device* dev = nullptr;
  if (rte_eth_dev_info_get(p.id, &info) == 0) dev = info.device;
  rte_eth_dev_close(p.id);
  if (dev && !p.spec.is_pci()) rte_dev_remove(dev);
}

bool link_up(std::uint16_t port_id) noexcept {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

bool link_up_for_forwarding(const Port& p, bool* unknown) noexcept {
  if (unknown) *unknown = false;
  if (link_up(p.id)) return true;
  if (p.driver != "net_tap") return false;
  const auto& d = p.spec.devargs;
  const auto at = d.find("iface=");
  if (at == std::string::npos) return false;
  const auto name = d.substr(at + 6, d.find(',', at) == std::string::npos ? std::string::npos
                                                                           : d.find(',', at) - at - 6);
  if (if_nametoindex(name.c_str()) != 0) return false;  // here and really down
  if (unknown) *unknown = true;
  return true;
}

std::string link_text(std::uint16_t port_id) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) != 0) return "unknown";
  if (link.link_status != RTE_ETH_LINK_UP) return "down";
  std::string s = "up " + (link.link_speed == RTE_ETH_SPEED_NUM_NONE || link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN
                               ? std::string("(speed unknown)")
                               : std::to_string(link.link_speed) + " Mbps");
  return s + (link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? " full-duplex" : " half-duplex");
}

}  // namespace spray::dp
