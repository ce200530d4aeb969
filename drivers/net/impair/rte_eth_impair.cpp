/* SPDX-License-Identifier: BSD-3-Clause */
// net_impair: a vdev that wraps another ethdev port and impairs the packets
// crossing it, per direction, repeatably for a given seed.
//
//   --vdev net_ring0 --vdev net_impair0,port=net_ring0,seed=7,loss=0.01
//
// The wrapped port must be probed first (earlier on the command line). It is
// taken over: configured, started and stopped with the impaired port, and
// marked owned so RTE_ETH_FOREACH_DEV in applications skips it.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "../common/devargs.h"
#include "../common/pmd_sdk.h"
#include "impair_params.h"
#include "impair_queue.h"
#include "rte_pmd_impair.h"

namespace spray::impair {
namespace {

int logtype = -1;

#define IMPAIR_LOG(level, ...)                                                \
	rte_log(RTE_LOG_##level, logtype >= 0 ? logtype : RTE_LOGTYPE_PMD,     \
		"net_impair: " __VA_ARGS__)

constexpr uint16_t kMaxPull = 64;
// A packet held back for reordering is released after reorder_depth later
// packets, or after this long if traffic stops.
constexpr double kMaxHoldUs = 1000;

struct Device;

struct alignas(RTE_CACHE_LINE_SIZE) Queue {
	Device *dev;
	Queue *tx_twin; // rx queues with tx_flush_on_rx: tx queue of the same id
	uint16_t wrapped_port;
	uint16_t queue_id;
	Dir dir;
	DirQueue q;
};

struct Device {
	uint16_t port_id = 0;
	uint16_t wrapped_port = 0;
	uint64_t owner_id = 0;
	std::string name;
	std::atomic<const Params *> params{nullptr};
	std::atomic<bool> forced_down{false};
	// Serialises control-path writers (application thread, telemetry
	// thread). Never taken on the data path.
	std::mutex ctl;
	// Earlier parameter sets: a worker may still read one during its
	// current burst, so they are kept until the port closes.
	std::vector<const Params *> retired;
	rte_pmd_impair_stats baseline{};

	~Device()
	{
		delete params.load();
		for (const Params *p : retired)
			delete p;
	}
};

const eth_dev_ops *impair_ops();

Device *dev_of(rte_eth_dev *dev) { return static_cast<Device *>(dev->data->dev_private); }

// ---- data path ----------------------------------------------------------

uint16_t impair_rx(void *queue, rte_mbuf **pkts, uint16_t n)
{
	auto *q = static_cast<Queue *>(queue);
	const Params *p = q->dev->params.load(std::memory_order_acquire);
	const DirRun &run = p->run[kRx];
	const bool up = !q->dev->forced_down.load(std::memory_order_relaxed);
	const uint64_t now = rte_get_tsc_cycles();

	uint32_t pull = q->q.room();
	if (pull > kMaxPull)
		pull = kMaxPull;
	if (pull > n)
		pull = n;
	if (pull != 0) {
		rte_mbuf *tmp[kMaxPull];
		const uint16_t got = rte_eth_rx_burst(q->wrapped_port, q->queue_id, tmp,
						      static_cast<uint16_t>(pull));
		if (got != 0)
			q->q.ingest(run, up, tmp, got, now);
	}
	q->q.drain(run, now);
	const uint16_t k = q->q.take(pkts, n);
	if (Queue *t = q->tx_twin; t != nullptr) {
		t->q.drain(p->run[kTx], now);
		t->q.flush(t->wrapped_port, t->queue_id);
	}
	return k;
}

// Packets held for delay on the tx side go out on a later tx_burst call of
// the same queue, or an rx_burst of the same queue id (tx_flush_on_rx=1, the
// default); with tx_flush_on_rx=0 an application that stops sending releases
// them by calling rte_eth_tx_burst with nb_pkts = 0.
uint16_t impair_tx(void *queue, rte_mbuf **pkts, uint16_t n)
{
	auto *q = static_cast<Queue *>(queue);
	const Params *p = q->dev->params.load(std::memory_order_acquire);
	const DirRun &run = p->run[kTx];
	const bool up = !q->dev->forced_down.load(std::memory_order_relaxed);
	const uint64_t now = rte_get_tsc_cycles();

	uint32_t accept = q->q.room();
	if (accept > n)
		accept = n;
	if (accept != 0)
		q->q.ingest(run, up, pkts, static_cast<uint16_t>(accept), now);
	q->q.drain(run, now);
	q->q.flush(q->wrapped_port, q->queue_id);
	return static_cast<uint16_t>(accept);
}

// ---- control path -------------------------------------------------------

template <typename F> void for_each_queue(rte_eth_dev *dev, F &&f)
{
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		if (dev->data->rx_queues[i] != nullptr)
			f(*static_cast<Queue *>(dev->data->rx_queues[i]));
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		if (dev->data->tx_queues[i] != nullptr)
			f(*static_cast<Queue *>(dev->data->tx_queues[i]));
}

rte_pmd_impair_stats raw_stats(rte_eth_dev *dev)
{
	rte_pmd_impair_stats s{};
	for_each_queue(dev, [&](Queue &q) {
		rte_pmd_impair_dir_stats d{};
		q.q.c.snapshot(d);
		rte_pmd_impair_dir_stats &sum = q.dir == kRx ? s.rx : s.tx;
#define IMPAIR_SUM_(name, help) sum.name += d.name;
		RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_SUM_)
#undef IMPAIR_SUM_
	});
	return s;
}

rte_pmd_impair_stats stats_since_reset(rte_eth_dev *dev)
{
	rte_pmd_impair_stats s = raw_stats(dev);
	rte_pmd_impair_stats b;
	{
		std::lock_guard<std::mutex> lock(dev_of(dev)->ctl);
		b = dev_of(dev)->baseline;
	}
#define IMPAIR_SUB_(name, help)              \
	s.rx.name -= b.rx.name;              \
	s.tx.name -= b.tx.name;
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_SUB_)
#undef IMPAIR_SUB_
	return s;
}

int impair_link_update(rte_eth_dev *dev, int)
{
	Device *d = dev_of(dev);
	rte_eth_link link{};
	if (rte_eth_link_get_nowait(d->wrapped_port, &link) != 0)
		link = {};
	if (d->forced_down.load() || !dev->data->dev_started)
		link.link_status = RTE_ETH_LINK_DOWN;
	pmd::link_store(dev, link);
	return 0;
}

int impair_configure(rte_eth_dev *dev)
{
	Device *d = dev_of(dev);
	rte_eth_dev_info winfo{};
	int rc = rte_eth_dev_info_get(d->wrapped_port, &winfo);
	if (rc != 0)
		return rc;
	rte_eth_conf conf = dev->data->dev_conf;
	conf.rxmode.offloads = 0;
	conf.txmode.offloads = 0;
	conf.intr_conf = {};
	if (winfo.flow_type_rss_offloads == 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		conf.rx_adv_conf.rss_conf.rss_hf = 0;
	}
	rc = rte_eth_dev_configure(d->wrapped_port, dev->data->nb_rx_queues,
				   dev->data->nb_tx_queues, &conf);
	if (rc != 0)
		IMPAIR_LOG(ERR, "%s: configuring wrapped port %u failed: %s\n",
			   d->name.c_str(), d->wrapped_port, rte_strerror(-rc));
	return rc;
}

int impair_infos_get(rte_eth_dev *dev, rte_eth_dev_info *info)
{
	Device *d = dev_of(dev);
	rte_eth_dev_info w{};
	const int rc = rte_eth_dev_info_get(d->wrapped_port, &w);
	if (rc != 0)
		return rc;
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = w.max_rx_pktlen;
	info->min_rx_bufsize = w.min_rx_bufsize;
	info->max_rx_queues = w.max_rx_queues;
	info->max_tx_queues = w.max_tx_queues;
	info->min_mtu = w.min_mtu;
	info->max_mtu = w.max_mtu;
	info->rx_desc_lim = w.rx_desc_lim;
	info->tx_desc_lim = w.tx_desc_lim;
	info->speed_capa = w.speed_capa;
	info->rx_offload_capa = 0;
	info->tx_offload_capa = 0;
	info->flow_type_rss_offloads = w.flow_type_rss_offloads;
	info->hash_key_size = w.hash_key_size;
	info->reta_size = w.reta_size;
	return 0;
}

void set_queue_states(rte_eth_dev *dev, uint8_t state)
{
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = state;
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = state;
}

int impair_start(rte_eth_dev *dev)
{
	Device *d = dev_of(dev);
	const int rc = rte_eth_dev_start(d->wrapped_port);
	if (rc != 0)
		return rc;
	const bool twin = d->params.load()->tx_flush_on_rx != 0;
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		auto *q = static_cast<Queue *>(dev->data->rx_queues[i]);
		q->tx_twin = twin && i < dev->data->nb_tx_queues
				     ? static_cast<Queue *>(dev->data->tx_queues[i])
				     : nullptr;
	}
	set_queue_states(dev, RTE_ETH_QUEUE_STATE_STARTED);
	dev->data->dev_started = 1;
	impair_link_update(dev, 0);
	return 0;
}

int impair_stop(rte_eth_dev *dev)
{
	Device *d = dev_of(dev);
	dev->data->dev_started = 0;
	const int rc = rte_eth_dev_stop(d->wrapped_port);
	for_each_queue(dev, [](Queue &q) { q.q.purge(); });
	set_queue_states(dev, RTE_ETH_QUEUE_STATE_STOPPED);
	impair_link_update(dev, 0);
	return rc;
}

void free_queue(void *p)
{
	if (p == nullptr)
		return;
	auto *q = static_cast<Queue *>(p);
	q->q.purge();
	q->~Queue();
	rte_free(p);
}

Queue *alloc_queue(rte_eth_dev *dev, Dir dir, uint16_t qid, unsigned socket)
{
	Device *d = dev_of(dev);
	const Params *p = d->params.load();
	const uint32_t cap = rte_align32pow2(static_cast<uint32_t>(p->queue_pkts));
	const size_t heap_bytes = sizeof(DirQueue::Timed) * cap;
	const size_t fifo_bytes = sizeof(rte_mbuf *) * cap;
	const size_t total = RTE_ALIGN_CEIL(sizeof(Queue), RTE_CACHE_LINE_SIZE) +
			     heap_bytes + fifo_bytes;
	void *mem = rte_zmalloc_socket("impair_queue", total, RTE_CACHE_LINE_SIZE,
				       static_cast<int>(socket));
	if (mem == nullptr)
		return nullptr;
	auto *q = new (mem) Queue{};
	auto *base = static_cast<uint8_t *>(mem) +
		     RTE_ALIGN_CEIL(sizeof(Queue), RTE_CACHE_LINE_SIZE);
	q->dev = d;
	q->wrapped_port = d->wrapped_port;
	q->queue_id = qid;
	q->dir = dir;
	// One stream per (seed, port-local queue, direction): repeatable and
	// independent of how many queues exist.
	uint64_t s = p->seed;
	const uint64_t a = pmd::splitmix64(s);
	const uint64_t stream = a ^ (static_cast<uint64_t>(qid) << 1 | dir) * 0x9e3779b97f4a7c15ULL;
	const uint64_t hold = static_cast<uint64_t>(kMaxHoldUs * 1e-6 * static_cast<double>(rte_get_tsc_hz()));
	q->q.init(reinterpret_cast<DirQueue::Timed *>(base),
		  reinterpret_cast<rte_mbuf **>(base + heap_bytes), cap, stream, hold);
	return q;
}

int impair_rx_queue_setup(rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  unsigned int socket, const rte_eth_rxconf *conf,
			  rte_mempool *pool)
{
	Device *d = dev_of(dev);
	rte_eth_rxconf c = conf != nullptr ? *conf : rte_eth_rxconf{};
	c.offloads = 0;
	const int rc = rte_eth_rx_queue_setup(d->wrapped_port, qid, nb_desc, socket, &c, pool);
	if (rc != 0)
		return rc;
	free_queue(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = alloc_queue(dev, kRx, qid, socket);
	return dev->data->rx_queues[qid] != nullptr ? 0 : -ENOMEM;
}

int impair_tx_queue_setup(rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  unsigned int socket, const rte_eth_txconf *conf)
{
	Device *d = dev_of(dev);
	rte_eth_txconf c = conf != nullptr ? *conf : rte_eth_txconf{};
	c.offloads = 0;
	const int rc = rte_eth_tx_queue_setup(d->wrapped_port, qid, nb_desc, socket, &c);
	if (rc != 0)
		return rc;
	free_queue(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = alloc_queue(dev, kTx, qid, socket);
	return dev->data->tx_queues[qid] != nullptr ? 0 : -ENOMEM;
}

void impair_rx_queue_release(rte_eth_dev *dev, uint16_t qid)
{
	free_queue(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = nullptr;
}

void impair_tx_queue_release(rte_eth_dev *dev, uint16_t qid)
{
	free_queue(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = nullptr;
}

int impair_close(rte_eth_dev *dev)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	Device *d = dev_of(dev);
	if (d == nullptr)
		return 0;
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		impair_rx_queue_release(dev, i);
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		impair_tx_queue_release(dev, i);
	rte_eth_dev_owner_unset(d->wrapped_port, d->owner_id);
	delete d;
	dev->data->dev_private = nullptr;
	return 0;
}

int impair_set_link_down(rte_eth_dev *dev)
{
	dev_of(dev)->forced_down.store(true);
	return impair_link_update(dev, 0);
}

int impair_set_link_up(rte_eth_dev *dev)
{
	dev_of(dev)->forced_down.store(false);
	return impair_link_update(dev, 0);
}

int impair_promisc_on(rte_eth_dev *dev) { return rte_eth_promiscuous_enable(dev_of(dev)->wrapped_port); }
int impair_promisc_off(rte_eth_dev *dev) { return rte_eth_promiscuous_disable(dev_of(dev)->wrapped_port); }
int impair_allmulti_on(rte_eth_dev *dev) { return rte_eth_allmulticast_enable(dev_of(dev)->wrapped_port); }
int impair_allmulti_off(rte_eth_dev *dev) { return rte_eth_allmulticast_disable(dev_of(dev)->wrapped_port); }
int impair_mtu_set(rte_eth_dev *dev, uint16_t mtu) { return rte_eth_dev_set_mtu(dev_of(dev)->wrapped_port, mtu); }

int impair_stats_get(rte_eth_dev *dev, rte_eth_stats *st)
{
	const rte_pmd_impair_stats s = stats_since_reset(dev);
	st->ipackets = s.rx.packets_out;
	st->ibytes = s.rx.bytes_out;
	st->opackets = s.tx.packets_out;
	st->obytes = s.tx.bytes_out;
	return 0;
}

int impair_stats_reset(rte_eth_dev *dev)
{
	std::lock_guard<std::mutex> lock(dev_of(dev)->ctl);
	dev_of(dev)->baseline = raw_stats(dev);
	return 0;
}

constexpr const char *kXstatNames[] = {
#define IMPAIR_XNAME_(name, help) "rx_impair_" #name,
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_XNAME_)
#undef IMPAIR_XNAME_
#define IMPAIR_XNAME_(name, help) "tx_impair_" #name,
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_XNAME_)
#undef IMPAIR_XNAME_
};
constexpr unsigned kNumXstats = RTE_DIM(kXstatNames);

int impair_xstats_get_names(rte_eth_dev *, rte_eth_xstat_name *names, unsigned size)
{
	if (names == nullptr || size < kNumXstats)
		return kNumXstats;
	for (unsigned i = 0; i < kNumXstats; i++)
		rte_strscpy(names[i].name, kXstatNames[i], sizeof(names[i].name));
	return kNumXstats;
}

int impair_xstats_get(rte_eth_dev *dev, rte_eth_xstat *xs, unsigned n)
{
	if (xs == nullptr || n < kNumXstats)
		return kNumXstats;
	const rte_pmd_impair_stats s = stats_since_reset(dev);
	unsigned i = 0;
#define IMPAIR_XVAL_(name, help) xs[i].id = i, xs[i].value = s.rx.name, i++;
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_XVAL_)
#undef IMPAIR_XVAL_
#define IMPAIR_XVAL_(name, help) xs[i].id = i, xs[i].value = s.tx.name, i++;
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_XVAL_)
#undef IMPAIR_XVAL_
	return static_cast<int>(i);
}

const eth_dev_ops *impair_ops()
{
	static const eth_dev_ops ops = [] {
		eth_dev_ops o{};
		o.dev_configure = impair_configure;
		o.dev_start = impair_start;
		o.dev_stop = impair_stop;
		o.dev_set_link_up = impair_set_link_up;
		o.dev_set_link_down = impair_set_link_down;
		o.dev_close = impair_close;
		o.link_update = impair_link_update;
		o.promiscuous_enable = impair_promisc_on;
		o.promiscuous_disable = impair_promisc_off;
		o.allmulticast_enable = impair_allmulti_on;
		o.allmulticast_disable = impair_allmulti_off;
		o.mtu_set = impair_mtu_set;
		o.stats_get = impair_stats_get;
		o.stats_reset = impair_stats_reset;
		o.xstats_get = impair_xstats_get;
		o.xstats_reset = impair_stats_reset;
		o.xstats_get_names = impair_xstats_get_names;
		o.dev_infos_get = impair_infos_get;
		o.rx_queue_setup = impair_rx_queue_setup;
		o.rx_queue_release = impair_rx_queue_release;
		o.tx_queue_setup = impair_tx_queue_setup;
		o.tx_queue_release = impair_tx_queue_release;
		return o;
	}();
	return &ops;
}

rte_eth_dev *impair_dev(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id))
		return nullptr;
	rte_eth_dev *dev = &rte_eth_devices[port_id];
	return dev->dev_ops == impair_ops() && dev->data->dev_private != nullptr ? dev : nullptr;
}

// Applies "k=v,..." on top of the port's current parameters and publishes
// the result. Control path.
int set_params(rte_eth_dev *dev, const char *args, std::string &err)
{
	Device *d = dev_of(dev);
	std::vector<pmd::KeyValue> kvs;
	if (!pmd::split_kvargs(d->name, args != nullptr ? args : "", kvs, err))
		return -EINVAL;
	std::lock_guard<std::mutex> lock(d->ctl);
	auto next = new (std::nothrow) Params(*d->params.load());
	if (next == nullptr)
		return -ENOMEM;
	for (const pmd::KeyValue &kv : kvs) {
		if (kv.key == "port" || !apply(*next, kv, false, d->name, err)) {
			if (kv.key == "port")
				err = d->name + ": parameter 'port' can only be given at start (devargs)";
			delete next;
			return -EINVAL;
		}
	}
	next->compile(rte_get_tsc_hz());
	d->retired.push_back(d->params.exchange(next, std::memory_order_acq_rel));
	// "link" acts when given, whatever rte_pmd_impair_link_set did since.
	for (const pmd::KeyValue &kv : kvs) {
		if (kv.key == "link") {
			d->forced_down.store(!next->link_up);
			impair_link_update(dev, 0);
		}
	}
	return 0;
}

bool resolve_port(const std::string &name_or_id, uint16_t &port)
{
	if (rte_eth_dev_get_port_by_name(name_or_id.c_str(), &port) == 0)
		return true;
	char *end = nullptr;
	const unsigned long id = std::strtoul(name_or_id.c_str(), &end, 10);
	if (name_or_id.empty() || *end != '\0' || id >= RTE_MAX_ETHPORTS ||
	    !rte_eth_dev_is_valid_port(static_cast<uint16_t>(id)))
		return false;
	port = static_cast<uint16_t>(id);
	return true;
}

int impair_probe(rte_vdev_device *vdev)
{
	const char *name = rte_dev_name(pmd::vdev_device(vdev));
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		IMPAIR_LOG(ERR, "%s: secondary processes are not supported\n", name);
		return -ENOTSUP;
	}
	std::string err;
	std::vector<pmd::KeyValue> kvs;
	if (!pmd::split_kvargs(name, pmd::vdev_args(vdev), kvs, err)) {
		IMPAIR_LOG(ERR, "%s\n", err.c_str());
		return -EINVAL;
	}
	auto params = std::make_unique<Params>();
	std::string wrapped;
	for (const pmd::KeyValue &kv : kvs) {
		if (kv.key == "port") {
			wrapped = kv.value;
		} else if (!apply(*params, kv, true, name, err)) {
			IMPAIR_LOG(ERR, "%s\n", err.c_str());
			return -EINVAL;
		}
	}
	uint16_t wport = 0;
	if (wrapped.empty()) {
		IMPAIR_LOG(ERR, "%s: parameter 'port' is required; accepted: the name or id of a port probed before it (e.g. port=net_ring0)\n", name);
		return -EINVAL;
	}
	if (!resolve_port(wrapped, wport)) {
		IMPAIR_LOG(ERR, "%s: parameter 'port' = '%s' names no probed port; accepted: the name or id of a port probed before it (list it earlier with --vdev)\n",
			   name, wrapped.c_str());
		return -EINVAL;
	}
	params->compile(rte_get_tsc_hz());

	rte_eth_dev *dev = rte_eth_dev_allocate(name);
	if (dev == nullptr)
		return -ENOMEM;
	if (!pmd::sdk_check(dev, name)) {
		IMPAIR_LOG(ERR, "%s: this DPDK's ethdev layout differs from 22.11; rebuild against its driver SDK headers\n", name);
		rte_eth_dev_release_port(dev);
		return -ENOTSUP;
	}
	auto *d = new (std::nothrow) Device();
	auto *mac = static_cast<rte_ether_addr *>(rte_zmalloc_socket(
		"impair_mac", sizeof(rte_ether_addr), 0, rte_socket_id()));
	if (d == nullptr || mac == nullptr) {
		delete d;
		rte_free(mac);
		rte_eth_dev_release_port(dev);
		return -ENOMEM;
	}
	rte_eth_dev_owner owner{};
	if (rte_eth_dev_owner_new(&d->owner_id) == 0) {
		owner.id = d->owner_id;
		rte_strscpy(owner.name, name, sizeof(owner.name));
		if (rte_eth_dev_owner_set(wport, &owner) != 0) {
			IMPAIR_LOG(ERR, "%s: parameter 'port' = '%s': the port is already owned by another driver or application; accepted: a free port\n",
				   name, wrapped.c_str());
			delete d;
			rte_free(mac);
			rte_eth_dev_release_port(dev);
			return -EBUSY;
		}
	}
	d->port_id = dev->data->port_id;
	d->wrapped_port = wport;
	d->name = name;
	d->forced_down.store(!params->link_up);
	d->params.store(params.release());
	rte_eth_macaddr_get(wport, mac);

	dev->data->dev_private = d;
	dev->data->mac_addrs = mac;
	dev->data->numa_node = rte_eth_dev_socket_id(wport);
	dev->data->dev_link = rte_eth_link{};
	dev->device = pmd::vdev_device(vdev);
	dev->dev_ops = impair_ops();
	dev->rx_pkt_burst = impair_rx;
	dev->tx_pkt_burst = impair_tx;
	rte_eth_dev_probing_finish(dev);
	IMPAIR_LOG(INFO, "%s: port %u wraps port %u (%s)\n", name, d->port_id, wport, wrapped.c_str());
	return 0;
}

int impair_remove(rte_vdev_device *vdev)
{
	rte_eth_dev *dev = rte_eth_dev_allocated(rte_dev_name(pmd::vdev_device(vdev)));
	if (dev == nullptr)
		return 0;
	return rte_eth_dev_close(dev->data->port_id);
}

// ---- telemetry ----------------------------------------------------------

bool telemetry_port(const char *params, uint16_t &port, const char *&rest)
{
	if (params == nullptr || *params == '\0')
		return false;
	char *end = nullptr;
	const unsigned long id = std::strtoul(params, &end, 10);
	if (end == params || (*end != '\0' && *end != ',') || id >= RTE_MAX_ETHPORTS)
		return false;
	port = static_cast<uint16_t>(id);
	rest = *end == ',' ? end + 1 : end;
	return true;
}

int tel_set(const char *, const char *params, rte_tel_data *out)
{
	uint16_t port = 0;
	const char *rest = nullptr;
	if (!telemetry_port(params, port, rest) || impair_dev(port) == nullptr)
		return -EINVAL;
	std::string err;
	rte_tel_data_start_dict(out);
	const int rc = set_params(impair_dev(port), rest, err);
	rte_tel_data_add_dict_string(out, "status", rc == 0 ? "ok" : "error");
	if (rc != 0)
		rte_tel_data_add_dict_string(out, "error", err.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
	return 0;
}

int tel_stats(const char *, const char *params, rte_tel_data *out)
{
	uint16_t port = 0;
	const char *rest = nullptr;
	if (!telemetry_port(params, port, rest) || impair_dev(port) == nullptr)
		return -EINVAL;
	rte_eth_dev *dev = impair_dev(port);
	const rte_pmd_impair_stats s = stats_since_reset(dev);
	rte_tel_data_start_dict(out);
#define IMPAIR_TEL_(name, help)                                            \
	rte_tel_data_add_dict_u64(out, "rx_" #name, s.rx.name);            \
	rte_tel_data_add_dict_u64(out, "tx_" #name, s.tx.name);
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_TEL_)
#undef IMPAIR_TEL_
	rte_tel_data_add_dict_int(out, "link_forced_down", dev_of(dev)->forced_down.load() ? 1 : 0);
	return 0;
}

rte_vdev_driver impair_driver = [] {
	rte_vdev_driver drv{};
	drv.probe = impair_probe;
	drv.remove = impair_remove;
	return drv;
}();

} // namespace
} // namespace spray::impair

using namespace spray::impair;

extern "C" {

int rte_pmd_impair_is_impair(uint16_t port_id) { return impair_dev(port_id) != nullptr; }

int rte_pmd_impair_set(uint16_t port_id, const char *params, char *err, size_t err_len)
{
	rte_eth_dev *dev = impair_dev(port_id);
	if (dev == nullptr)
		return -ENODEV;
	std::string msg;
	const int rc = set_params(dev, params, msg);
	if (rc != 0 && err != nullptr && err_len != 0)
		std::snprintf(err, err_len, "%s", msg.c_str());
	return rc;
}

int rte_pmd_impair_link_set(uint16_t port_id, int up)
{
	rte_eth_dev *dev = impair_dev(port_id);
	if (dev == nullptr)
		return -ENODEV;
	return up ? impair_set_link_up(dev) : impair_set_link_down(dev);
}

int rte_pmd_impair_stats_get(uint16_t port_id, rte_pmd_impair_stats *stats)
{
	rte_eth_dev *dev = impair_dev(port_id);
	if (dev == nullptr || stats == nullptr)
		return dev == nullptr ? -ENODEV : -EINVAL;
	*stats = stats_since_reset(dev);
	return 0;
}

} // extern "C"

RTE_INIT(spray_impair_init)
{
	logtype = rte_log_register_type_and_pick_level("pmd.net.impair", RTE_LOG_NOTICE);
	spray::pmd::register_vdev(&impair_driver, "net_impair");
	rte_telemetry_register_cmd("/impair/set", tel_set,
				   "Changes net_impair parameters. Parameters: port_id,key=value[,key=value...]");
	rte_telemetry_register_cmd("/impair/stats", tel_stats,
				   "Returns net_impair counters. Parameters: int port_id");
}
RTE_PMD_EXPORT_NAME(net_impair, __COUNTER__);
RTE_PMD_REGISTER_PARAM_STRING(net_impair,
	"port=<name|id> seed=<u64> queue_pkts=<16..65536> tx_flush_on_rx=<0|1> link=<up|down> "
	"[rx_|tx_]loss=<0..1> [rx_|tx_]ge_p=<0..1> [rx_|tx_]ge_r=<0..1> "
	"[rx_|tx_]ge_loss=<0..1> [rx_|tx_]delay_us=<0..1e7> [rx_|tx_]jitter_us=<0..1e7> "
	"[rx_|tx_]reorder=<0..1> [rx_|tx_]reorder_depth=<1..64> [rx_|tx_]dup=<0..1> "
	"[rx_|tx_]corrupt=<0..1> [rx_|tx_]rate_bps=<0..4e12>");
