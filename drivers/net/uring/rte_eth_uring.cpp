/* SPDX-License-Identifier: BSD-3-Clause */
// net_uring: an ethdev whose frames travel whole, one per UDP datagram,
// through kernel sockets driven by io_uring.
//
//   --vdev net_uring0,local=127.0.0.1:9000,remote=127.0.0.1:9001
//
// Queue q of the port uses socket q (all bound to `local` with SO_REUSEPORT
// and connected to `remote`) and two rings: one for rx, polled by rx_burst,
// one for tx, used by tx_burst, so rx and tx of a queue may run on different
// threads.
//
// rx: one multishot recv per queue fills buffers from a provided-buffer
// ring whose buffers are the data areas of mbufs, so a datagram is copied
// once, by the kernel, into the mbuf handed up; rx_burst reaps completions
// and offers a fresh mbuf in the place of each one it returns. The kernel
// defers its work (COOP_TASKRUN) until we enter it, so
// rx_burst calls io_uring_get_events() when, and only when, the kernel flags
// pending work: one syscall for a batch of datagrams. Kernels without
// multishot recv get a window of single-shot recv requests.
//
// tx: a run of single-segment frames of one size (a shorter frame ends it)
// goes as one sendmsg with an iovec per frame and UDP_SEGMENT, so the kernel
// crosses the IP stack once and cuts one datagram per frame; a lone frame as
// a send, a chained mbuf as a sendmsg with an iovec per segment. No copy in
// user space, one io_uring_submit per burst; mbufs are freed when their
// completions are reaped on a later burst.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "../common/devargs.h"
#include "../common/pmd_sdk.h"

namespace spray::uring {
namespace {

int logtype = -1;

#define URING_LOG(level, ...)                                                 \
	rte_log(RTE_LOG_##level, logtype >= 0 ? logtype : RTE_LOGTYPE_PMD,     \
		"net_uring: " __VA_ARGS__)

constexpr uint16_t kMaxQueues = 16;
constexpr unsigned kMaxSegs = 8;
// UDP GSO: frames per send and bytes per send (UDP_MAX_SEGMENTS, IPv4 UDP
// payload limit).
constexpr unsigned kGsoMaxFrames = 64;
constexpr uint32_t kGsoMaxBytes = 65507;
constexpr unsigned kMaxReap = 64;
constexpr uint64_t kRecvTag = UINT64_MAX;

constexpr std::string_view kAcceptedKeys =
	"local, remote, ring_entries, rx_bufs, max_frame, sockbuf, gso";

struct Config {
	sockaddr_in local{};
	sockaddr_in remote{};
	uint64_t ring_entries = 512;
	uint64_t rx_bufs = 1024;
	uint64_t max_frame = 1522; // 1500-byte MTU, one VLAN tag
	uint64_t sockbuf = 4u << 20;
	uint64_t gso = 1;
};

struct Stats {
	std::atomic<uint64_t> packets{0};
	std::atomic<uint64_t> bytes{0};
	std::atomic<uint64_t> errors{0};
	std::atomic<uint64_t> nombuf{0};
	void add(std::atomic<uint64_t> &c, uint64_t n) noexcept
	{
		c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
};

// Creates a ring with the cheapest task-run mode the kernel accepts and a
// completion queue of at least cq_entries. Not single-issuer: programs touch
// a queue from more than one thread over its life (testpmd drains rx queues
// from its main thread before forwarding starts), and a single-issuer ring
// refuses every thread but its first.
int ring_init(io_uring &ring, unsigned entries, unsigned cq_entries)
{
	static const unsigned tries[] = {
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	int rc = -EINVAL;
	for (unsigned flags : tries) {
		io_uring_params p{};
		p.flags = flags | IORING_SETUP_CQSIZE;
		p.cq_entries = RTE_MAX(cq_entries, 2 * entries);
		rc = io_uring_queue_init_params(entries, &ring, &p);
		if (rc == 0)
			return 0;
		if (rc != -EINVAL)
			break;
	}
	return rc;
}

struct alignas(RTE_CACHE_LINE_SIZE) RxQueue {
	io_uring ring{};
	bool ring_up = false;
	bool multishot = true;
	bool rearm = false;
	uint16_t queue_id = 0;
	uint16_t port_id = 0;
	uint32_t ring_entries = 0;
	int fd = -1;
	rte_mempool *pool = nullptr;
	// Provided buffers are the data areas of mbufs: slot[bid] is the mbuf
	// behind buffer id bid, so a datagram lands where it is handed up.
	io_uring_buf_ring *br = nullptr;
	size_t br_bytes = 0;
	rte_mbuf **slot = nullptr;
	uint32_t nbufs = 0;
	uint32_t buf_size = 0; // max_frame + 1
	uint32_t max_frame = 0;
	uint32_t inflight = 0; // single-shot mode: recv requests armed
	uint32_t window = 0;
	Stats st;
};

// One send request: a frame, or with GSO a run of frames of one size (the
// last may be shorter) that the kernel cuts into one datagram each.
struct TxSlot {
	uint32_t nm; // mbufs held until the completion
	rte_mbuf *m[kGsoMaxFrames];
	msghdr msg;
	iovec iov[kGsoMaxFrames];
	alignas(cmsghdr) char cmsg[CMSG_SPACE(sizeof(uint16_t))];
};
static_assert(kMaxSegs <= kGsoMaxFrames);

struct alignas(RTE_CACHE_LINE_SIZE) TxQueue {
	io_uring ring{};
	bool ring_up = false;
	bool gso = false;
	uint16_t queue_id = 0;
	int fd = -1;
	uint32_t nslots = 0;
	TxSlot *slots = nullptr;
	uint32_t *free_ids = nullptr;
	uint32_t nfree = 0;
	Stats st;
};

struct Device {
	std::string name;
	Config cfg;
	int fds[kMaxQueues];
	uint16_t nfds = 0;
};

Device *dev_of(rte_eth_dev *dev) { return static_cast<Device *>(dev->data->dev_private); }

// ---- rx ------------------------------------------------------------------

// Offers mbuf m to the kernel as buffer bid (published by the next
// io_uring_buf_ring_advance).
void provide(RxQueue &q, uint32_t bid, rte_mbuf *m, int nth) noexcept
{
	q.slot[bid] = m;
	io_uring_buf_ring_add(q.br, rte_pktmbuf_mtod(m, void *), q.buf_size,
			      static_cast<unsigned short>(bid),
			      io_uring_buf_ring_mask(q.nbufs), nth);
}

void arm(RxQueue &q) noexcept
{
	if (q.multishot) {
		io_uring_sqe *sqe = io_uring_get_sqe(&q.ring);
		if (sqe == nullptr)
			return;
		io_uring_prep_recv_multishot(sqe, q.fd, nullptr, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = 0;
		io_uring_sqe_set_data64(sqe, kRecvTag);
		q.rearm = false;
	} else {
		while (q.inflight < q.window) {
			io_uring_sqe *sqe = io_uring_get_sqe(&q.ring);
			if (sqe == nullptr)
				break;
			io_uring_prep_recv(sqe, q.fd, nullptr, 0, 0);
			sqe->flags |= IOSQE_BUFFER_SELECT;
			sqe->buf_group = 0;
			io_uring_sqe_set_data64(sqe, kRecvTag);
			q.inflight++;
		}
		q.rearm = false;
	}
	io_uring_submit(&q.ring);
}

uint16_t uring_rx(void *queue, rte_mbuf **pkts, uint16_t n)
{
	auto &q = *static_cast<RxQueue *>(queue);
	if (unlikely(!q.ring_up))
		return 0;
	if (io_uring_cq_ready(&q.ring) == 0 &&
	    (IO_URING_READ_ONCE(*q.ring.sq.kflags) & IORING_SQ_TASKRUN))
		io_uring_get_events(&q.ring);

	io_uring_cqe *cqes[kMaxReap];
	const unsigned want = n < kMaxReap ? n : kMaxReap;
	const unsigned got = io_uring_peek_batch_cqe(&q.ring, cqes, want);
	uint16_t k = 0;
	if (got != 0) {
		// One fresh mbuf per completion takes the place of the one that
		// is handed up (or is returned unused on an error).
		rte_mbuf *fresh[kMaxReap];
		if (rte_pktmbuf_alloc_bulk(q.pool, fresh, got) != 0) {
			q.st.add(q.st.nombuf, got);
			return 0; // completions stay queued for the next call
		}
		unsigned used = 0;
		uint64_t bytes = 0, errors = 0;
		int provided = 0;
		for (unsigned i = 0; i < got; i++) {
			const io_uring_cqe *cqe = cqes[i];
			if (!q.multishot)
				q.inflight--;
			else if (!(cqe->flags & IORING_CQE_F_MORE))
				q.rearm = true;
			if (cqe->res < 0) {
				if (cqe->res == -EINVAL && q.multishot) {
					// Kernel without multishot recv: once per queue.
					q.multishot = false;
					q.window = q.nbufs / 2;
					URING_LOG(NOTICE, "port %u rx queue %u: no multishot recv, using single-shot requests\n",
						  q.port_id, q.queue_id);
				} else if (cqe->res != -ENOBUFS) {
					errors++;
				}
				q.rearm = true;
				continue;
			}
			if (!(cqe->flags & IORING_CQE_F_BUFFER)) {
				errors++;
				continue;
			}
			const uint32_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			const uint32_t len = static_cast<uint32_t>(cqe->res);
			rte_mbuf *m = q.slot[bid];
			// Buffers are one byte longer than max_frame: a datagram that
			// fills one was truncated.
			if (unlikely(len > q.max_frame)) {
				errors++;
				provide(q, bid, m, provided++);
				continue;
			}
			m->data_len = static_cast<uint16_t>(len);
			m->pkt_len = len;
			m->port = q.port_id;
			pkts[k++] = m;
			bytes += len;
			provide(q, bid, fresh[used++], provided++);
		}
		io_uring_buf_ring_advance(q.br, provided);
		io_uring_cq_advance(&q.ring, got);
		if (used < got)
			rte_pktmbuf_free_bulk(&fresh[used], got - used);
		q.st.add(q.st.packets, k);
		q.st.add(q.st.bytes, bytes);
		if (errors != 0)
			q.st.add(q.st.errors, errors);
	}
	if (unlikely(q.rearm) || (!q.multishot && q.inflight < q.window / 2))
		arm(q);
	return k;
}

// ---- tx ------------------------------------------------------------------

void reap_tx(TxQueue &q) noexcept
{
	io_uring_cqe *cqes[kMaxReap];
	for (;;) {
		const unsigned got = io_uring_peek_batch_cqe(&q.ring, cqes, kMaxReap);
		if (got == 0)
			return;
		uint64_t errors = 0;
		for (unsigned i = 0; i < got; i++) {
			const uint32_t id = static_cast<uint32_t>(io_uring_cqe_get_data64(cqes[i]));
			TxSlot &s = q.slots[id];
			if (cqes[i]->res < 0)
				errors += s.nm;
			rte_pktmbuf_free_bulk(s.m, s.nm);
			s.nm = 0;
			q.free_ids[q.nfree++] = id;
		}
		io_uring_cq_advance(&q.ring, got);
		if (errors != 0)
			q.st.add(q.st.errors, errors);
		if (got < kMaxReap)
			return;
	}
}

uint16_t uring_tx(void *queue, rte_mbuf **pkts, uint16_t n)
{
	auto &q = *static_cast<TxQueue *>(queue);
	if (unlikely(!q.ring_up))
		return 0;
	if (IO_URING_READ_ONCE(*q.ring.sq.kflags) & IORING_SQ_TASKRUN)
		io_uring_get_events(&q.ring);
	reap_tx(q);
	uint16_t i = 0;
	uint64_t bytes = 0, dropped = 0;
	while (i < n && q.nfree != 0) {
		rte_mbuf *m = pkts[i];
		if (unlikely(m->nb_segs > kMaxSegs)) {
			rte_pktmbuf_free(m);
			dropped++;
			i++;
			continue;
		}
		io_uring_sqe *sqe = io_uring_get_sqe(&q.ring);
		if (sqe == nullptr)
			break;
		const uint32_t id = q.free_ids[--q.nfree];
		TxSlot &s = q.slots[id];
		if (m->nb_segs == 1) {
			// The run of single-segment frames of m's size that one GSO
			// send can carry; a shorter frame ends it.
			const uint32_t size = m->data_len;
			uint32_t k = 0, total = 0;
			while (q.gso && i + k < n && k < kGsoMaxFrames) {
				const rte_mbuf *f = pkts[i + k];
				if (f->nb_segs != 1 || f->data_len > size || total + f->data_len > kGsoMaxBytes)
					break;
				s.m[k] = pkts[i + k];
				s.iov[k] = {rte_pktmbuf_mtod(f, void *), f->data_len};
				total += f->data_len;
				k++;
				if (f->data_len < size)
					break;
			}
			if (k <= 1) {
				s.m[0] = m;
				k = 1;
				total = m->data_len;
				io_uring_prep_send(sqe, 0, rte_pktmbuf_mtod(m, void *), m->data_len, 0);
			} else {
				s.msg.msg_iovlen = k;
				s.msg.msg_control = s.cmsg;
				s.msg.msg_controllen = sizeof(s.cmsg);
				cmsghdr *c = CMSG_FIRSTHDR(&s.msg);
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
				const uint16_t gso_size = static_cast<uint16_t>(size);
				std::memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
				io_uring_prep_sendmsg(sqe, 0, &s.msg, 0);
			}
			s.nm = k;
			i = static_cast<uint16_t>(i + k);
			bytes += total;
		} else {
			unsigned segs = 0;
			for (rte_mbuf *seg = m; seg != nullptr; seg = seg->next, segs++) {
				s.iov[segs].iov_base = rte_pktmbuf_mtod(seg, void *);
				s.iov[segs].iov_len = seg->data_len;
			}
			s.msg.msg_iovlen = segs;
			s.msg.msg_control = nullptr;
			s.msg.msg_controllen = 0;
			s.m[0] = m;
			s.nm = 1;
			i++;
			bytes += m->pkt_len;
			io_uring_prep_sendmsg(sqe, 0, &s.msg, 0);
		}
		// The socket is the ring's registered file 0: no per-send fd lookup.
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, id);
	}
	if (io_uring_sq_ready(&q.ring) != 0)
		io_uring_submit(&q.ring);
	q.st.add(q.st.packets, i - dropped);
	q.st.add(q.st.bytes, bytes);
	if (dropped != 0)
		q.st.add(q.st.errors, dropped);
	return i;
}

// ---- control path ---------------------------------------------------------

int open_socket(const Device &d, std::string &err)
{
	const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = "socket(AF_INET, SOCK_DGRAM): " + std::string(strerror(errno));
		return -1;
	}
	const int one = 1;
	const int buf = static_cast<int>(d.cfg.sockbuf);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	// FORCE variants exceed net.core.[rw]mem_max with CAP_NET_ADMIN; the
	// plain ones are the unprivileged fallback.
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	char a[64];
	if (bind(fd, reinterpret_cast<const sockaddr *>(&d.cfg.local), sizeof d.cfg.local) != 0) {
		inet_ntop(AF_INET, &d.cfg.local.sin_addr, a, sizeof a);
		err = "bind(" + std::string(a) + ":" + std::to_string(ntohs(d.cfg.local.sin_port)) +
		      "): " + strerror(errno);
		close(fd);
		return -1;
	}
	if (connect(fd, reinterpret_cast<const sockaddr *>(&d.cfg.remote), sizeof d.cfg.remote) != 0) {
		inet_ntop(AF_INET, &d.cfg.remote.sin_addr, a, sizeof a);
		err = "connect(" + std::string(a) + ":" + std::to_string(ntohs(d.cfg.remote.sin_port)) +
		      "): " + strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

void rx_down(RxQueue &q)
{
	if (q.ring_up) {
		io_uring_queue_exit(&q.ring);
		q.ring_up = false;
	}
	for (uint32_t i = 0; q.slot != nullptr && i < q.nbufs; i++) {
		rte_pktmbuf_free(q.slot[i]);
		q.slot[i] = nullptr;
	}
}

int rx_up(RxQueue &q, int fd)
{
	q.fd = fd;
	q.multishot = true;
	q.inflight = 0;
	int rc = ring_init(q.ring, q.ring_entries, q.nbufs);
	if (rc != 0)
		return rc;
	q.ring_up = true;
	if (rte_pktmbuf_alloc_bulk(q.pool, q.slot, q.nbufs) != 0) {
		std::memset(q.slot, 0, sizeof(*q.slot) * q.nbufs);
		rx_down(q);
		return -ENOMEM;
	}
	io_uring_buf_ring_init(q.br);
	for (uint32_t i = 0; i < q.nbufs; i++)
		provide(q, i, q.slot[i], static_cast<int>(i));
	io_uring_buf_ring_advance(q.br, static_cast<int>(q.nbufs));
	io_uring_buf_reg reg{};
	reg.ring_addr = reinterpret_cast<uint64_t>(q.br);
	reg.ring_entries = q.nbufs;
	reg.bgid = 0;
	rc = io_uring_register_buf_ring(&q.ring, &reg, 0);
	if (rc != 0) {
		rx_down(q);
		return rc;
	}
	arm(q);
	return 0;
}

void tx_down(TxQueue &q)
{
	if (q.ring_up) {
		io_uring_queue_exit(&q.ring);
		q.ring_up = false;
	}
	for (uint32_t i = 0; i < q.nslots; i++) {
		rte_pktmbuf_free_bulk(q.slots[i].m, q.slots[i].nm);
		q.slots[i].nm = 0;
	}
	q.nfree = 0;
	for (uint32_t i = 0; i < q.nslots; i++)
		q.free_ids[q.nfree++] = i;
}

int tx_up(TxQueue &q, int fd, bool want_gso)
{
	q.fd = fd;
	// UDP GSO (Linux >= 4.18): the option reads back where it exists.
	int gso_size = 0;
	socklen_t len = sizeof gso_size;
	q.gso = want_gso && getsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso_size, &len) == 0;
	int rc = ring_init(q.ring, q.nslots, q.nslots);
	if (rc != 0)
		return rc;
	q.ring_up = true;
	rc = io_uring_register_files(&q.ring, &q.fd, 1);
	if (rc != 0)
		tx_down(q);
	return rc;
}

void close_sockets(Device &d)
{
	for (uint16_t i = 0; i < d.nfds; i++)
		close(d.fds[i]);
	d.nfds = 0;
}

int uring_stop(rte_eth_dev *dev)
{
	Device &d = *dev_of(dev);
	dev->data->dev_started = 0;
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		if (dev->data->rx_queues[i] != nullptr)
			rx_down(*static_cast<RxQueue *>(dev->data->rx_queues[i]));
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		if (dev->data->tx_queues[i] != nullptr)
			tx_down(*static_cast<TxQueue *>(dev->data->tx_queues[i]));
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	close_sockets(d);
	rte_eth_link link{};
	link.link_status = RTE_ETH_LINK_DOWN;
	pmd::link_store(dev, link);
	return 0;
}

int uring_start(rte_eth_dev *dev)
{
	Device &d = *dev_of(dev);
	const uint16_t nq = RTE_MAX(dev->data->nb_rx_queues, dev->data->nb_tx_queues);
	std::string err;
	for (uint16_t i = 0; i < nq; i++) {
		const int fd = open_socket(d, err);
		if (fd < 0) {
			URING_LOG(ERR, "%s: queue %u: %s\n", d.name.c_str(), i, err.c_str());
			close_sockets(d);
			return -errno;
		}
		d.fds[d.nfds++] = fd;
	}
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		const int rc = rx_up(*static_cast<RxQueue *>(dev->data->rx_queues[i]), d.fds[i]);
		if (rc != 0) {
			URING_LOG(ERR, "%s: rx queue %u: io_uring setup failed: %s (provided buffer rings need Linux >= 5.19)\n",
				  d.name.c_str(), i, strerror(-rc));
			uring_stop(dev);
			return rc;
		}
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		const int rc = tx_up(*static_cast<TxQueue *>(dev->data->tx_queues[i]), d.fds[i], d.cfg.gso != 0);
		if (rc != 0) {
			URING_LOG(ERR, "%s: tx queue %u: io_uring setup failed: %s\n", d.name.c_str(), i, strerror(-rc));
			uring_stop(dev);
			return rc;
		}
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	}
	dev->data->dev_started = 1;
	rte_eth_link link{};
	link.link_status = RTE_ETH_LINK_UP;
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_speed = RTE_ETH_SPEED_NUM_UNKNOWN;
	pmd::link_store(dev, link);
	return 0;
}

int uring_configure(rte_eth_dev *) { return 0; }

int uring_infos_get(rte_eth_dev *dev, rte_eth_dev_info *info)
{
	const Device &d = *dev_of(dev);
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = static_cast<uint32_t>(d.cfg.max_frame);
	info->max_rx_queues = kMaxQueues;
	info->max_tx_queues = kMaxQueues;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = static_cast<uint16_t>(d.cfg.max_frame - RTE_ETHER_HDR_LEN);
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	return 0;
}

int uring_link_update(rte_eth_dev *, int) { return 0; }

void free_rx(void *p)
{
	if (p == nullptr)
		return;
	auto *q = static_cast<RxQueue *>(p);
	rx_down(*q);
	if (q->br != nullptr)
		munmap(q->br, q->br_bytes);
	rte_free(q->slot);
	q->~RxQueue();
	rte_free(p);
}

void free_tx(void *p)
{
	if (p == nullptr)
		return;
	auto *q = static_cast<TxQueue *>(p);
	tx_down(*q);
	rte_free(q->slots);
	rte_free(q->free_ids);
	q->~TxQueue();
	rte_free(p);
}

int uring_rx_queue_setup(rte_eth_dev *dev, uint16_t qid, uint16_t, unsigned int socket,
			 const rte_eth_rxconf *, rte_mempool *pool)
{
	const Device &d = *dev_of(dev);
	free_rx(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = nullptr;
	const uint32_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
	if (room < d.cfg.max_frame + 1) {
		URING_LOG(ERR, "%s: rx queue %u: mempool %s holds %u bytes per mbuf after headroom; max_frame=%u needs %u: use a pool with larger mbufs or lower max_frame (accepted: 60..%u for this pool)\n",
			  d.name.c_str(), qid, pool->name, room, static_cast<unsigned>(d.cfg.max_frame),
			  static_cast<unsigned>(d.cfg.max_frame + 1), room - 1);
		return -EINVAL;
	}
	void *mem = rte_zmalloc_socket("uring_rxq", sizeof(RxQueue), RTE_CACHE_LINE_SIZE,
				       static_cast<int>(socket));
	if (mem == nullptr)
		return -ENOMEM;
	auto *q = new (mem) RxQueue();
	q->queue_id = qid;
	q->port_id = dev->data->port_id;
	q->ring_entries = static_cast<uint32_t>(d.cfg.ring_entries);
	q->pool = pool;
	q->nbufs = static_cast<uint32_t>(d.cfg.rx_bufs);
	q->max_frame = static_cast<uint32_t>(d.cfg.max_frame);
	q->buf_size = static_cast<uint32_t>(d.cfg.max_frame + 1);
	// The kernel wants the buffer ring page aligned.
	q->br_bytes = sizeof(io_uring_buf) * q->nbufs;
	void *br = mmap(nullptr, q->br_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q->br = br == MAP_FAILED ? nullptr : static_cast<io_uring_buf_ring *>(br);
	q->slot = static_cast<rte_mbuf **>(rte_zmalloc_socket("uring_rxslot", sizeof(rte_mbuf *) * q->nbufs,
							      RTE_CACHE_LINE_SIZE, static_cast<int>(socket)));
	dev->data->rx_queues[qid] = q;
	if (q->br == nullptr || q->slot == nullptr)
		return -ENOMEM;
	return 0;
}

int uring_tx_queue_setup(rte_eth_dev *dev, uint16_t qid, uint16_t, unsigned int socket,
			 const rte_eth_txconf *)
{
	const Device &d = *dev_of(dev);
	free_tx(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = nullptr;
	void *mem = rte_zmalloc_socket("uring_txq", sizeof(TxQueue), RTE_CACHE_LINE_SIZE,
				       static_cast<int>(socket));
	if (mem == nullptr)
		return -ENOMEM;
	auto *q = new (mem) TxQueue();
	q->queue_id = qid;
	q->nslots = static_cast<uint32_t>(d.cfg.ring_entries);
	q->slots = static_cast<TxSlot *>(rte_zmalloc_socket("uring_txslots", sizeof(TxSlot) * q->nslots,
							    RTE_CACHE_LINE_SIZE, static_cast<int>(socket)));
	q->free_ids = static_cast<uint32_t *>(rte_zmalloc_socket("uring_txfree", sizeof(uint32_t) * q->nslots,
								 0, static_cast<int>(socket)));
	dev->data->tx_queues[qid] = q;
	if (q->slots == nullptr || q->free_ids == nullptr)
		return -ENOMEM;
	for (uint32_t i = 0; i < q->nslots; i++) {
		q->slots[i].msg.msg_iov = q->slots[i].iov;
		q->free_ids[q->nfree++] = i;
	}
	return 0;
}

void uring_rx_queue_release(rte_eth_dev *dev, uint16_t qid)
{
	free_rx(dev->data->rx_queues[qid]);
	dev->data->rx_queues[qid] = nullptr;
}

void uring_tx_queue_release(rte_eth_dev *dev, uint16_t qid)
{
	free_tx(dev->data->tx_queues[qid]);
	dev->data->tx_queues[qid] = nullptr;
}

int uring_close(rte_eth_dev *dev)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY || dev_of(dev) == nullptr)
		return 0;
	if (dev->data->dev_started)
		uring_stop(dev);
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		uring_rx_queue_release(dev, i);
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		uring_tx_queue_release(dev, i);
	delete dev_of(dev);
	dev->data->dev_private = nullptr;
	return 0;
}

int uring_stats_get(rte_eth_dev *dev, rte_eth_stats *st)
{
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		const auto *q = static_cast<const RxQueue *>(dev->data->rx_queues[i]);
		if (q == nullptr)
			continue;
		const uint64_t p = q->st.packets.load(std::memory_order_relaxed);
		const uint64_t b = q->st.bytes.load(std::memory_order_relaxed);
		st->ipackets += p;
		st->ibytes += b;
		st->ierrors += q->st.errors.load(std::memory_order_relaxed);
		st->rx_nombuf += q->st.nombuf.load(std::memory_order_relaxed);
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_ipackets[i] = p;
			st->q_ibytes[i] = b;
		}
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		const auto *q = static_cast<const TxQueue *>(dev->data->tx_queues[i]);
		if (q == nullptr)
			continue;
		const uint64_t p = q->st.packets.load(std::memory_order_relaxed);
		const uint64_t b = q->st.bytes.load(std::memory_order_relaxed);
		st->opackets += p;
		st->obytes += b;
		st->oerrors += q->st.errors.load(std::memory_order_relaxed);
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			st->q_opackets[i] = p;
			st->q_obytes[i] = b;
		}
	}
	return 0;
}

const eth_dev_ops *uring_ops()
{
	static const eth_dev_ops ops = [] {
		eth_dev_ops o{};
		o.dev_configure = uring_configure;
		o.dev_start = uring_start;
		o.dev_stop = uring_stop;
		o.dev_close = uring_close;
		o.link_update = uring_link_update;
		o.stats_get = uring_stats_get;
		o.dev_infos_get = uring_infos_get;
		o.rx_queue_setup = uring_rx_queue_setup;
		o.rx_queue_release = uring_rx_queue_release;
		o.tx_queue_setup = uring_tx_queue_setup;
		o.tx_queue_release = uring_tx_queue_release;
		return o;
	}();
	return &ops;
}

bool parse_config(const char *name, const char *args, Config &cfg, std::string &err)
{
	std::vector<pmd::KeyValue> kvs;
	if (!pmd::split_kvargs(name, args, kvs, err))
		return false;
	bool have_local = false, have_remote = false;
	for (const pmd::KeyValue &kv : kvs) {
		bool ok;
		if (kv.key == "local")
			ok = have_local = pmd::parse_ipv4_port(name, kv, true, cfg.local, err);
		else if (kv.key == "remote")
			ok = have_remote = pmd::parse_ipv4_port(name, kv, false, cfg.remote, err);
		else if (kv.key == "ring_entries")
			ok = pmd::parse_u64(name, kv, 16, 4096, cfg.ring_entries, err);
		else if (kv.key == "rx_bufs")
			ok = pmd::parse_u64(name, kv, 16, 32768, cfg.rx_bufs, err);
		else if (kv.key == "max_frame")
			ok = pmd::parse_u64(name, kv, RTE_ETHER_MIN_LEN, 65507, cfg.max_frame, err);
		else if (kv.key == "sockbuf")
			ok = pmd::parse_u64(name, kv, 4096, 1u << 30, cfg.sockbuf, err);
		else if (kv.key == "gso")
			ok = pmd::parse_u64(name, kv, 0, 1, cfg.gso, err);
		else {
			err = pmd::unknown_key(name, kv, kAcceptedKeys);
			ok = false;
		}
		if (!ok)
			return false;
	}
	if (!have_local || !have_remote) {
		err = std::string(name) + ": parameter '" + (have_local ? "remote" : "local") +
		      "' is required; accepted: A.B.C.D:PORT";
		return false;
	}
	if (!rte_is_power_of_2(static_cast<uint32_t>(cfg.rx_bufs))) {
		err = std::string(name) + ": parameter 'rx_bufs' = '" + std::to_string(cfg.rx_bufs) +
		      "' is not a power of two; accepted: 16..32768, a power of two";
		return false;
	}
	return true;
}

int uring_probe(rte_vdev_device *vdev)
{
	const char *name = rte_dev_name(pmd::vdev_device(vdev));
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		URING_LOG(ERR, "%s: secondary processes are not supported\n", name);
		return -ENOTSUP;
	}
	Config cfg;
	std::string err;
	if (!parse_config(name, pmd::vdev_args(vdev), cfg, err)) {
		URING_LOG(ERR, "%s\n", err.c_str());
		return -EINVAL;
	}
	rte_eth_dev *dev = rte_eth_dev_allocate(name);
	if (dev == nullptr)
		return -ENOMEM;
	if (!pmd::sdk_check(dev, name)) {
		URING_LOG(ERR, "%s: this DPDK's ethdev layout differs from 22.11; rebuild against its driver SDK headers\n", name);
		rte_eth_dev_release_port(dev);
		return -ENOTSUP;
	}
	auto *d = new (std::nothrow) Device();
	auto *mac = static_cast<rte_ether_addr *>(rte_zmalloc("uring_mac", sizeof(rte_ether_addr), 0));
	if (d == nullptr || mac == nullptr) {
		delete d;
		rte_free(mac);
		rte_eth_dev_release_port(dev);
		return -ENOMEM;
	}
	d->name = name;
	d->cfg = cfg;
	// Locally administered, derived from the local endpoint so two ports
	// on one host differ and a restart keeps its address.
	const uint32_t ip = ntohl(cfg.local.sin_addr.s_addr);
	const uint16_t port = ntohs(cfg.local.sin_port);
	const uint8_t a[RTE_ETHER_ADDR_LEN] = {0x02, static_cast<uint8_t>(ip >> 16),
					       static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip),
					       static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
	std::memcpy(mac->addr_bytes, a, sizeof a);

	dev->data->dev_private = d;
	dev->data->mac_addrs = mac;
	dev->data->numa_node = rte_socket_id();
	dev->data->dev_link = rte_eth_link{};
	dev->device = pmd::vdev_device(vdev);
	dev->dev_ops = uring_ops();
	dev->rx_pkt_burst = uring_rx;
	dev->tx_pkt_burst = uring_tx;
	rte_eth_dev_probing_finish(dev);
	return 0;
}

int uring_remove(rte_vdev_device *vdev)
{
	rte_eth_dev *dev = rte_eth_dev_allocated(rte_dev_name(pmd::vdev_device(vdev)));
	if (dev == nullptr)
		return 0;
	return rte_eth_dev_close(dev->data->port_id);
}

rte_vdev_driver uring_driver = [] {
	rte_vdev_driver drv{};
	drv.probe = uring_probe;
	drv.remove = uring_remove;
	return drv;
}();

} // namespace
} // namespace spray::uring

RTE_INIT(spray_uring_init)
{
	spray::uring::logtype = rte_log_register_type_and_pick_level("pmd.net.uring", RTE_LOG_NOTICE);
	spray::pmd::register_vdev(&spray::uring::uring_driver, "net_uring");
}
RTE_PMD_EXPORT_NAME(net_uring, __COUNTER__);
RTE_PMD_REGISTER_PARAM_STRING(net_uring,
	"local=<A.B.C.D:PORT> remote=<A.B.C.D:PORT> ring_entries=<16..4096> "
	"rx_bufs=<16..32768, power of 2> max_frame=<60..65507> sockbuf=<bytes> gso=<0|1>");
