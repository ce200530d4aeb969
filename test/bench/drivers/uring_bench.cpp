// SPDX-License-Identifier: BSD-3-Clause
// Packets per second from one UDP socket to another on loopback, one thread:
//   net_uring   rte_eth_tx_burst on one net_uring port, rte_eth_rx_burst on
//               its peer (io_uring sendmsg / multishot recvmsg, copy to mbuf)
//   mmsg        sendmmsg on one plain socket, recvmmsg(MSG_DONTWAIT) on its
//               peer, into static buffers
// Same frame size, same burst (32), each frame written by the sender before
// it goes, same bound on frames in flight (so the receive buffer never
// overflows and pps counts delivered frames). Rounds
// alternate between the two to share the machine's noise; the median round
// of each is reported with the ratio.
//
// usage: uring_bench [seconds_per_round=1] [rounds=3] [frame_bytes=64]
// URING_BENCH_DEVARGS (e.g. "gso=0") is appended to both ports' devargs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace {

constexpr unsigned kBurst = 32;
constexpr uint64_t kWindow = 1024;

// CPU time of this thread, user + system (loopback delivery runs in our
// context, so the receive path's kernel work is counted too).
double cpu_seconds()
{
	rusage ru{};
	getrusage(RUSAGE_THREAD, &ru);
	return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// Frames delivered per second of wall time, and per second of CPU time: the
// machine is shared, and the second figure does not count time others took.
struct Rate {
	double wall_pps;
	double cpu_pps;
};

Rate rate(uint64_t frames, uint64_t t0_tsc, double cpu0)
{
	const double wall = static_cast<double>(rte_get_tsc_cycles() - t0_tsc) /
			    static_cast<double>(rte_get_tsc_hz());
	const double cpu = cpu_seconds() - cpu0;
	return {frames / wall, cpu > 0 ? frames / cpu : 0};
}

int bound_socket(uint16_t &port)
{
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	const int buf = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
	getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
	port = ntohs(a.sin_port);
	return fd;
}

void connect_to(int fd, uint16_t port)
{
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
}

uint16_t free_port()
{
	uint16_t p;
	close(bound_socket(p));
	return p;
}

Rate mmsg_round(double seconds, unsigned frame)
{
	uint16_t pa, pb;
	const int a = bound_socket(pa), b = bound_socket(pb);
	connect_to(a, pb);
	connect_to(b, pa);
	std::vector<uint8_t> txbuf(kBurst * 2048), rxbuf(kBurst * 2048);
	mmsghdr tx[kBurst]{}, rx[kBurst]{};
	iovec txv[kBurst], rxv[kBurst];
	for (unsigned i = 0; i < kBurst; i++) {
		txv[i] = {txbuf.data() + i * 2048, frame};
		tx[i].msg_hdr.msg_iov = &txv[i];
		tx[i].msg_hdr.msg_iovlen = 1;
		rxv[i] = {rxbuf.data() + i * 2048, 2048};
		rx[i].msg_hdr.msg_iov = &rxv[i];
		rx[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t sent = 0, got = 0;
	const uint64_t hz = rte_get_tsc_hz();
	const double cpu0 = cpu_seconds();
	const uint64_t t0 = rte_get_tsc_cycles(), end = t0 + static_cast<uint64_t>(seconds * hz);
	while (rte_get_tsc_cycles() < end) {
		if (sent - got + kBurst <= kWindow) {
			for (unsigned i = 0; i < kBurst; i++)
				std::fill(txbuf.data() + i * 2048, txbuf.data() + i * 2048 + frame, 0xab);
			const int s = sendmmsg(a, tx, kBurst, 0);
			if (s > 0)
				sent += s;
		}
		const int r = recvmmsg(b, rx, kBurst, MSG_DONTWAIT, nullptr);
		if (r > 0)
			got += r;
	}
	const Rate pps = rate(got, t0, cpu0);
	close(a);
	close(b);
	return pps;
}

Rate uring_round(double seconds, unsigned frame, rte_mempool *pool, int round)
{
	const std::string pa = std::to_string(free_port()), pb = std::to_string(free_port());
	const char *env = std::getenv("URING_BENCH_DEVARGS");
	const std::string extra = env != nullptr ? std::string(",") + env : "";
	const std::string na = "net_uring_ba" + std::to_string(round), nb = "net_uring_bb" + std::to_string(round);
	uint16_t a, b;
	if (rte_vdev_init(na.c_str(), ("local=127.0.0.1:" + pa + ",remote=127.0.0.1:" + pb + extra).c_str()) != 0 ||
	    rte_vdev_init(nb.c_str(), ("local=127.0.0.1:" + pb + ",remote=127.0.0.1:" + pa + extra).c_str()) != 0 ||
	    rte_eth_dev_get_port_by_name(na.c_str(), &a) != 0 ||
	    rte_eth_dev_get_port_by_name(nb.c_str(), &b) != 0)
		return {};
	for (uint16_t p : {a, b}) {
		rte_eth_conf conf{};
		if (rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(p, 0, 1024, 0, nullptr, pool) != 0 ||
		    rte_eth_tx_queue_setup(p, 0, 1024, 0, nullptr) != 0 || rte_eth_dev_start(p) != 0)
			return {};
	}
	uint64_t sent = 0, got = 0;
	const uint64_t hz = rte_get_tsc_hz();
	const double cpu0 = cpu_seconds();
	const uint64_t t0 = rte_get_tsc_cycles(), end = t0 + static_cast<uint64_t>(seconds * hz);
	rte_mbuf *tx[kBurst], *rx[kBurst];
	while (rte_get_tsc_cycles() < end) {
		if (sent - got + kBurst <= kWindow && rte_pktmbuf_alloc_bulk(pool, tx, kBurst) == 0) {
			for (rte_mbuf *m : tx) {
				auto *d = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, static_cast<uint16_t>(frame)));
				std::fill(d, d + frame, 0xab);
			}
			const uint16_t s = rte_eth_tx_burst(a, 0, tx, kBurst);
			rte_pktmbuf_free_bulk(tx + s, kBurst - s);
			sent += s;
		} else {
			rte_eth_tx_burst(a, 0, tx, 0); // reap send completions
		}
		const uint16_t r = rte_eth_rx_burst(b, 0, rx, kBurst);
		rte_pktmbuf_free_bulk(rx, r);
		got += r;
	}
	const Rate pps = rate(got, t0, cpu0);
	for (uint16_t p : {a, b})
		rte_eth_dev_stop(p);
	rte_vdev_uninit(na.c_str());
	rte_vdev_uninit(nb.c_str());
	return pps;
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
	const std::string prefix = "spray_uring_bench_" + std::to_string(getpid());
	const char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "-l", "0",
			     "--file-prefix", prefix.c_str(), "--log-level=warning"};
	if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char **>(eal)) < 0) {
		std::fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
	const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
	const unsigned frame = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 64;
	rte_mempool *pool = rte_pktmbuf_pool_create("bench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == nullptr || seconds <= 0 || rounds <= 0 || frame < 14 || frame > 1500) {
		std::fprintf(stderr, "usage: %s [seconds_per_round>0] [rounds>0] [frame_bytes 14..1500]\n", argv[0]);
		return 1;
	}
	std::vector<double> uw, uc, mw, mc;
	for (int i = 0; i < rounds; i++) {
		const Rate u = uring_round(seconds, frame, pool, i);
		const Rate m = mmsg_round(seconds, frame);
		uw.push_back(u.wall_pps), uc.push_back(u.cpu_pps);
		mw.push_back(m.wall_pps), mc.push_back(m.cpu_pps);
		std::printf("round %d: net_uring %.0f pps (%.0f per cpu-s), sendmmsg/recvmmsg %.0f pps (%.0f per cpu-s)\n",
			    i, u.wall_pps, u.cpu_pps, m.wall_pps, m.cpu_pps);
	}
	const double muw = median(uw), muc = median(uc), mmw = median(mw), mmc = median(mc);
	std::printf("\n| loop (frame %u B, burst %u, 1 thread, median of %d) | pps | frames per cpu-second |\n|---|---:|---:|\n",
		    frame, kBurst, rounds);
	std::printf("| net_uring tx_burst -> rx_burst | %.0f | %.0f |\n", muw, muc);
	std::printf("| sendmmsg -> recvmmsg | %.0f | %.0f |\n", mmw, mmc);
	std::printf("| ratio net_uring / mmsg | %.2f | %.2f |\n", mmw > 0 ? muw / mmw : 0.0, mmc > 0 ? muc / mmc : 0.0);
	const double mu = muw, mm = mmw;
	rte_eal_cleanup();
	return mu > 0 && mm > 0 ? 0 : 1;
}
