/* SPDX-License-Identifier: BSD-3-Clause */
// The slice of DPDK's driver SDK (ethdev_driver.h, bus_vdev_driver.h) that
// our vdev PMDs use.
//
// Debian builds DPDK 22.11 without enable_driver_sdk, so those headers are not
// installed although the symbols they declare are exported (version node
// INTERNAL). When meson finds the real headers (SPRAY_HAVE_DPDK_DRIVER_SDK)
// we include them; otherwise we declare the 22.11 ABI ourselves, only as far
// as we use it. The layouts below are pinned to DPDK 22.11 (ABI 23) and
// checked at build time against facts read from the shipped library
// (sizeof(rte_eth_dev) and the offset of its state field, as used by
// rte_eth_dev_is_valid_port), and at probe time by pmd_sdk_check().
#pragma once

#include <stdint.h>

#include <rte_common.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_bus_vdev.h>

#if defined(SPRAY_HAVE_DPDK_DRIVER_SDK)

#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <bus_vdev_driver.h>

#else

#include <pthread.h>
#include <sys/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_eth_rxtx_callback;
struct eth_dev_ops;

struct rte_eth_dev {
	eth_rx_burst_t rx_pkt_burst;
	eth_tx_burst_t tx_pkt_burst;
	eth_tx_prep_t tx_pkt_prepare;
	eth_rx_queue_count_t rx_queue_count;
	eth_rx_descriptor_status_t rx_descriptor_status;
	eth_tx_descriptor_status_t tx_descriptor_status;
	struct rte_eth_dev_data *data;
	void *process_private;
	const struct eth_dev_ops *dev_ops;
	struct rte_device *device;
	struct rte_intr_handle *intr_handle;
	struct rte_eth_dev_cb_list link_intr_cbs;
	struct rte_eth_rxtx_callback *post_rx_burst_cbs[RTE_MAX_QUEUES_PER_PORT];
	struct rte_eth_rxtx_callback *pre_tx_burst_cbs[RTE_MAX_QUEUES_PER_PORT];
	enum rte_eth_dev_state state;
	void *security_ctx;
} __rte_cache_aligned;

struct rte_eth_dev_data {
	char name[RTE_ETH_NAME_MAX_LEN];
	void **rx_queues;
	void **tx_queues;
	uint16_t nb_rx_queues;
	uint16_t nb_tx_queues;
	struct rte_eth_dev_sriov sriov;
	void *dev_private;
	struct rte_eth_link dev_link;
	struct rte_eth_conf dev_conf;
	uint16_t mtu;
	uint32_t min_rx_buf_size;
	uint64_t rx_mbuf_alloc_failed;
	struct rte_ether_addr *mac_addrs;
	uint64_t mac_pool_sel[RTE_ETH_NUM_RECEIVE_MAC_ADDR];
	struct rte_ether_addr *hash_mac_addrs;
	uint16_t port_id;
	uint8_t promiscuous : 1, scattered_rx : 1, all_multicast : 1,
		dev_started : 1, lro : 1, dev_configured : 1,
		flow_configured : 1;
	uint8_t rx_queue_state[RTE_MAX_QUEUES_PER_PORT];
	uint8_t tx_queue_state[RTE_MAX_QUEUES_PER_PORT];
	uint32_t dev_flags;
	int numa_node;
	struct rte_vlan_filter_conf vlan_filter_conf;
	struct rte_eth_dev_owner owner;
	uint16_t representor_id;
	uint16_t backer_port_id;
	pthread_mutex_t flow_ops_mutex;
} __rte_cache_aligned;

extern struct rte_eth_dev rte_eth_devices[];

typedef int (*eth_dev_op_t)(struct rte_eth_dev *dev);

/* The operations table, named up to the last entry our drivers fill; the
 * tail stays zero so ethdev sees every later operation as unsupported. */
struct eth_dev_ops {
	eth_dev_op_t dev_configure;
	eth_dev_op_t dev_start;
	eth_dev_op_t dev_stop;
	eth_dev_op_t dev_set_link_up;
	eth_dev_op_t dev_set_link_down;
	eth_dev_op_t dev_close;
	eth_dev_op_t dev_reset;
	int (*link_update)(struct rte_eth_dev *dev, int wait_to_complete);
	eth_dev_op_t is_removed;
	eth_dev_op_t promiscuous_enable;
	eth_dev_op_t promiscuous_disable;
	eth_dev_op_t allmulticast_enable;
	eth_dev_op_t allmulticast_disable;
	void *mac_addr_remove;
	void *mac_addr_add;
	int (*mac_addr_set)(struct rte_eth_dev *dev, struct rte_ether_addr *addr);
	void *set_mc_addr_list;
	int (*mtu_set)(struct rte_eth_dev *dev, uint16_t mtu);
	int (*stats_get)(struct rte_eth_dev *dev, struct rte_eth_stats *stats);
	eth_dev_op_t stats_reset;
	int (*xstats_get)(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
			  unsigned int n);
	eth_dev_op_t xstats_reset;
	int (*xstats_get_names)(struct rte_eth_dev *dev,
				struct rte_eth_xstat_name *names,
				unsigned int size);
	void *queue_stats_mapping_set;
	int (*dev_infos_get)(struct rte_eth_dev *dev,
			     struct rte_eth_dev_info *info);
	void *rxq_info_get;
	void *txq_info_get;
	void *rx_burst_mode_get;
	void *tx_burst_mode_get;
	void *fw_version_get;
	void *dev_supported_ptypes_get;
	void *dev_ptypes_set;
	void *vlan_filter_set;
	void *vlan_tpid_set;
	void *vlan_strip_queue_set;
	void *vlan_offload_set;
	void *vlan_pvid_set;
	void *rx_queue_start;
	void *rx_queue_stop;
	void *tx_queue_start;
	void *tx_queue_stop;
	int (*rx_queue_setup)(struct rte_eth_dev *dev, uint16_t queue_id,
			      uint16_t nb_desc, unsigned int socket_id,
			      const struct rte_eth_rxconf *conf,
			      struct rte_mempool *pool);
	void (*rx_queue_release)(struct rte_eth_dev *dev, uint16_t queue_id);
	void *rx_queue_intr_enable;
	void *rx_queue_intr_disable;
	int (*tx_queue_setup)(struct rte_eth_dev *dev, uint16_t queue_id,
			      uint16_t nb_desc, unsigned int socket_id,
			      const struct rte_eth_txconf *conf);
	void (*tx_queue_release)(struct rte_eth_dev *dev, uint16_t queue_id);
	/* 22.11 has 113 entries; 48 are named above. */
	void *unused_tail[80];
};

struct rte_eth_dev *rte_eth_dev_allocate(const char *name);
struct rte_eth_dev *rte_eth_dev_allocated(const char *name);
int rte_eth_dev_release_port(struct rte_eth_dev *eth_dev);
void rte_eth_dev_probing_finish(struct rte_eth_dev *dev);

struct rte_driver {
	TAILQ_ENTRY(rte_driver) next;
	const char *name;
	const char *alias;
};

typedef int(rte_vdev_probe_t)(struct rte_vdev_device *dev);
typedef int(rte_vdev_remove_t)(struct rte_vdev_device *dev);

struct rte_vdev_driver {
	TAILQ_ENTRY(rte_vdev_driver) next;
	struct rte_driver driver;
	rte_vdev_probe_t *probe;
	rte_vdev_remove_t *remove;
	void *dma_map;
	void *dma_unmap;
	uint32_t drv_flags;
};

void rte_vdev_register(struct rte_vdev_driver *driver);
void rte_vdev_unregister(struct rte_vdev_driver *driver);

#ifdef __cplusplus
}
#endif

/* Facts of the shipped librte_ethdev.so.23 (22.11): rte_eth_dev_is_valid_port
 * indexes rte_eth_devices[] with stride 0x4080 and reads state at +0x4068. */
static_assert(sizeof(struct rte_eth_dev) == 0x4080, "rte_eth_dev layout differs from DPDK 22.11");
static_assert(offsetof(struct rte_eth_dev, state) == 0x4068, "rte_eth_dev layout differs from DPDK 22.11");

#endif /* SPRAY_HAVE_DPDK_DRIVER_SDK */

#ifdef __cplusplus
namespace spray::pmd {

inline rte_device *vdev_device(rte_vdev_device *vdev) noexcept
{
#if defined(SPRAY_HAVE_DPDK_DRIVER_SDK)
	return &vdev->device;
#else
	// 22.11: struct rte_vdev_device { RTE_TAILQ_ENTRY next; struct
	// rte_device device; }, and rte_device is opaque to us.
	return reinterpret_cast<rte_device *>(reinterpret_cast<char *>(vdev) +
					      2 * sizeof(void *));
#endif
}

inline const char *vdev_args(rte_vdev_device *vdev) noexcept
{
	const rte_devargs *da = rte_dev_devargs(vdev_device(vdev));
	return da != nullptr && da->args != nullptr ? da->args : "";
}

// Publish a new link state the way rte_eth_linkstatus_set does: one 64-bit
// atomic store, so readers of rte_eth_link_get_nowait never see a torn value.
inline void link_store(rte_eth_dev *dev, const rte_eth_link &link) noexcept
{
	static_assert(sizeof(rte_eth_link) == sizeof(uint64_t));
	uint64_t v;
	__builtin_memcpy(&v, &link, sizeof v);
	__atomic_store_n(reinterpret_cast<uint64_t *>(&dev->data->dev_link), v,
			 __ATOMIC_SEQ_CST);
}

// Probe-time check that our view of the ethdev ABI agrees with the library:
// the slot returned by rte_eth_dev_allocate must be rte_eth_devices[port_id]
// and carry the name we asked for. Returns false (and the driver refuses to
// probe) rather than corrupting memory on a DPDK whose layout moved.
bool sdk_check(const rte_eth_dev *dev, const char *name) noexcept;

// Registers a vdev driver; used from a constructor (RTE_INIT).
void register_vdev(rte_vdev_driver *drv, const char *name) noexcept;

} // namespace spray::pmd
#endif
