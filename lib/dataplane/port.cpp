// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/port.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dataplane/errors.h"

namespace spray::dp {

namespace {

std::string errstr(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

[[noreturn]] void fail(const Port& p, const std::string& what) {
  throw RuntimeError("port '" + p.spec.name + "' (" + p.spec.devargs + "): " + what);
}

// The largest IP MTU the device says it takes: ethdev checks an MTU against
// max_mtu and its frame (MTU plus the overhead ethdev derives) against
// max_rx_pktlen.
std::uint32_t device_max_mtu(const rte_eth_dev_info& info) {
  const std::uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
                                     ? info.max_rx_pktlen - info.max_mtu
                                     : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  const std::uint32_t by_frame = info.max_rx_pktlen > overhead ? info.max_rx_pktlen - overhead : 0;
  return std::min<std::uint32_t>(info.max_mtu, by_frame);
}

// net_memif advertises a fixed 1518-byte max_rx_pktlen and has no MTU
// operation; what it carries is set by its devargs. A frame longer than its
// buffers (bsize, 2048 by default) is chained over several of them, and
// with this DPDK (22.11) such chains come out duplicated and merged under
// load (seen as storms of bogus frames at MTU 9000); a frame that fits one
// buffer is carried whole. Its largest MTU is therefore bsize minus the
// Ethernet header. 0 when `devargs` is not a memif port.
std::uint32_t memif_max_mtu(const Port& p) {
  if (p.driver != "net_memif") return 0;
  std::uint32_t bsize = 2048;
  const std::string& d = p.spec.devargs;
  for (std::size_t at = d.find(','); at != std::string::npos; at = d.find(',', at + 1))
    if (d.compare(at + 1, 6, "bsize=") == 0)
      bsize = static_cast<std::uint32_t>(std::strtoul(d.c_str() + at + 7, nullptr, 10));
  return bsize > RTE_ETHER_HDR_LEN ? bsize - RTE_ETHER_HDR_LEN : 0;
}

}  // namespace

std::uint16_t mbuf_data_room(std::uint16_t mtu) noexcept {
  // One segment per frame, however large: every parser on the path (the
  // host's, the switch's, the egress queue's ECN marking) reads a frame as
  // one contiguous buffer, and multi-segment receive needs the scatter
  // offload, which most vdevs lack. The cost is memory: the pool's buffers
  // grow with the MTU (Runtime sizes -m for it).
  const unsigned frame = std::max<unsigned>(RTE_MBUF_DEFAULT_DATAROOM, mtu + kFrameOverhead);
  const unsigned room = (frame + 127) / 128 * 128;  // whole cache lines, 2048 stays 2048
  return static_cast<std::uint16_t>(room + RTE_PKTMBUF_HEADROOM);
}

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
  if (opt.mtu > RTE_ETHER_MTU) {
    const std::uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
    if (room < opt.mtu + kFrameOverhead)
      fail(p, "--mtu " + std::to_string(opt.mtu) + " needs mbufs of " +
                  std::to_string(opt.mtu + kFrameOverhead) + " bytes; the pool's hold " +
                  std::to_string(room));
    if (const std::uint32_t memif = memif_max_mtu(p)) {
      // Nothing to configure: the buffers are the limit (see memif_max_mtu).
      if (memif < opt.mtu)
        fail(p,
             "--mtu " + std::to_string(opt.mtu) + ": net_memif takes an MTU of at most " +
                 std::to_string(memif) +
                 " with buffers of bsize=" + std::to_string(memif + RTE_ETHER_HDR_LEN) +
                 " bytes; give bsize=" + std::to_string((opt.mtu + RTE_ETHER_HDR_LEN + 1023) / 1024 * 1024) +
                 " or more in the devargs of both ends");
    } else {
      const std::uint32_t max_mtu = device_max_mtu(info);
      if (max_mtu < opt.mtu)
        fail(p, "--mtu " + std::to_string(opt.mtu) + ": the device (" + p.driver +
                    ") accepts an MTU of at most " + std::to_string(max_mtu) + " (largest frame " +
                    std::to_string(info.max_rx_pktlen) + " bytes)");
      conf.rxmode.mtu = opt.mtu;
    }
  }
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
                std::to_string(opt.tx_queues) + " tx" +
                (conf.rxmode.mtu ? ", MTU " + std::to_string(conf.rxmode.mtu) : std::string()) +
                "): " + errstr(rc));
  if (conf.rxmode.mtu) {
    // configure records the MTU; drivers with a device behind them (tap's
    // kernel interface, a NIC) apply it only through set_mtu. Drivers
    // without that operation take any frame up to what they advertised.
    const int rc = rte_eth_dev_set_mtu(p.id, conf.rxmode.mtu);
    if (rc != 0 && rc != -ENOTSUP)
      fail(p, "--mtu " + std::to_string(opt.mtu) + ": the device refused it (" + errstr(rc) + ")");
  }
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
