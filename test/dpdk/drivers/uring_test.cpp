// SPDX-License-Identifier: BSD-3-Clause
// net_uring on loopback: two ports in one process, a generator on one and a
// responder on the other, sequence-numbered frames, each delivered exactly
// once. The generator keeps a bounded window in flight, as a transport would,
// so the sockets' buffers never overflow and any loss is the driver's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "common/eal_env.h"
#include "common/mbuf_frames.h"

namespace spray::test {
namespace {

rte_mempool *pool()
{
	static rte_mempool *p = rte_pktmbuf_pool_create("uring_test", 8191, 256, 0,
							RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return p;
}

// A loopback UDP port the kernel just had free.
uint16_t free_udp_port()
{
	const int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
	getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
	close(fd);
	return ntohs(a.sin_port);
}

class Pair {
public:
	explicit Pair(uint16_t queues, const std::string &extra = "")
	{
		static int n = 0;
		const int id = n++;
		const std::string pa = std::to_string(free_udp_port());
		std::string pb = std::to_string(free_udp_port());
		while (pb == pa)
			pb = std::to_string(free_udp_port());
		names_[0] = "net_uring_a" + std::to_string(id);
		names_[1] = "net_uring_b" + std::to_string(id);
		const std::string args[2] = {
			"local=127.0.0.1:" + pa + ",remote=127.0.0.1:" + pb + extra,
			"local=127.0.0.1:" + pb + ",remote=127.0.0.1:" + pa + extra,
		};
		ok_ = true;
		for (int i = 0; i < 2; i++) {
			ok_ = ok_ && rte_vdev_init(names_[i].c_str(), args[i].c_str()) == 0 &&
			      rte_eth_dev_get_port_by_name(names_[i].c_str(), &ports_[i]) == 0;
			if (!ok_)
				return;
			rte_eth_conf conf{};
			ok_ = rte_eth_dev_configure(ports_[i], queues, queues, &conf) == 0;
			for (uint16_t q = 0; ok_ && q < queues; q++)
				ok_ = rte_eth_rx_queue_setup(ports_[i], q, 512, 0, nullptr, pool()) == 0 &&
				      rte_eth_tx_queue_setup(ports_[i], q, 512, 0, nullptr) == 0;
			ok_ = ok_ && rte_eth_dev_start(ports_[i]) == 0;
		}
		queues_ = queues;
	}
	~Pair()
	{
		for (int i = 0; i < 2; i++) {
			rte_eth_dev_stop(ports_[i]);
			rte_vdev_uninit(names_[i].c_str());
		}
	}
	bool ok() const { return ok_; }
	uint16_t gen() const { return ports_[0]; }
	uint16_t resp() const { return ports_[1]; }
	uint16_t queues() const { return queues_; }

private:
	std::string names_[2];
	uint16_t ports_[2] = {RTE_MAX_ETHPORTS, RTE_MAX_ETHPORTS};
	uint16_t queues_ = 1;
	bool ok_ = false;
};

struct Outcome {
	std::vector<uint32_t> times_seen; // per sequence number, at the generator
	uint64_t responded = 0;
	uint64_t foreign = 0;
};

// gen sends seqs 0..n-1 spread over its queues, keeping at most `window`
// without a reply; resp echoes every frame back on the queue it came in on.
Outcome gen_and_respond(const Pair &p, uint32_t n, uint32_t window)
{
	Outcome out;
	out.times_seen.assign(n, 0);
	const uint64_t deadline = rte_get_tsc_cycles() + 30 * rte_get_tsc_hz();
	uint32_t next = 0;
	uint64_t replies = 0;
	while (replies < n && rte_get_tsc_cycles() < deadline) {
		for (uint16_t q = 0; q < p.queues(); q++) {
			rte_mbuf *b[32];
			unsigned k = 0;
			while (k < 32 && next + k < n && next + k - replies < window) {
				b[k] = make_frame(pool(), next + k);
				if (b[k] == nullptr)
					break;
				k++;
			}
			const uint16_t sent = rte_eth_tx_burst(p.gen(), q, b, static_cast<uint16_t>(k));
			for (unsigned i = sent; i < k; i++)
				rte_pktmbuf_free(b[i]);
			next += sent;

			const uint16_t r = rte_eth_rx_burst(p.resp(), q, b, 32);
			const uint16_t echoed = rte_eth_tx_burst(p.resp(), q, b, r);
			for (uint16_t i = echoed; i < r; i++)
				rte_pktmbuf_free(b[i]);
			out.responded += echoed;

			const uint16_t g = rte_eth_rx_burst(p.gen(), q, b, 32);
			for (uint16_t i = 0; i < g; i++) {
				const uint32_t seq = frame_seq(b[i]);
				if (seq < n && frame_intact(b[i]))
					out.times_seen[seq]++;
				else
					out.foreign++;
				rte_pktmbuf_free(b[i]);
			}
			replies += g;
		}
	}
	return out;
}

void expect_exactly_once(const Outcome &o)
{
	uint64_t missing = 0, duplicated = 0;
	for (uint32_t c : o.times_seen) {
		missing += c == 0;
		duplicated += c > 1;
	}
	EXPECT_EQ(missing, 0u);
	EXPECT_EQ(duplicated, 0u);
	EXPECT_EQ(o.foreign, 0u);
}

TEST(Uring, GenAndRespondOnLoopbackDeliverEachFrameExactlyOnce)
{
	Pair p(1);
	ASSERT_TRUE(p.ok());
	const uint32_t n = 200000;
	const Outcome o = gen_and_respond(p, n, 256);
	expect_exactly_once(o);
	EXPECT_EQ(o.responded, n);

	rte_eth_stats g{}, r{};
	rte_eth_stats_get(p.gen(), &g);
	rte_eth_stats_get(p.resp(), &r);
	EXPECT_EQ(g.opackets, n);
	EXPECT_EQ(g.ipackets, n);
	EXPECT_EQ(r.ipackets, n);
	EXPECT_EQ(g.obytes, uint64_t{n} * kFrameLen);
	EXPECT_EQ(g.ierrors + g.oerrors + r.ierrors + r.oerrors, 0u);
}

TEST(Uring, WithoutGsoEachFrameGoesAsItsOwnSendExactlyOnce)
{
	Pair p(1, ",gso=0");
	ASSERT_TRUE(p.ok());
	const Outcome o = gen_and_respond(p, 20000, 256);
	expect_exactly_once(o);
}

TEST(Uring, EveryQueueCarriesTrafficExactlyOnce)
{
	Pair p(2);
	ASSERT_TRUE(p.ok());
	const uint32_t n = 50000;
	const Outcome o = gen_and_respond(p, n, 256);
	expect_exactly_once(o);
	rte_eth_stats g{};
	rte_eth_stats_get(p.gen(), &g);
	EXPECT_GT(g.q_opackets[0], 0u);
	EXPECT_GT(g.q_opackets[1], 0u);
}

// Sizes chosen so bursts hold runs of equal frames (sent as one GSO send),
// shorter frames that end a run, and longer ones that start a new one.
uint16_t mixed_size(uint32_t seq)
{
	static constexpr uint16_t sizes[] = {64, 64, 64, 200, 60, 1500, 1500, 1499, 1500, 64, 1000, 1000};
	return sizes[seq % std::size(sizes)];
}

TEST(Uring, FramesOfMixedSizesKeepTheirBoundariesAndContent)
{
	Pair p(1);
	ASSERT_TRUE(p.ok());
	const uint32_t n = 30000;
	std::vector<uint32_t> seen(n, 0);
	uint64_t bad = 0;
	uint32_t next = 0, got = 0;
	const uint64_t deadline = rte_get_tsc_cycles() + 30 * rte_get_tsc_hz();
	while (got < n && rte_get_tsc_cycles() < deadline) {
		rte_mbuf *b[32];
		unsigned k = 0;
		while (k < 32 && next + k < n && next + k - got < 256) {
			b[k] = make_frame(pool(), next + k, mixed_size(next + k));
			if (b[k] == nullptr)
				break;
			k++;
		}
		const uint16_t sent = rte_eth_tx_burst(p.gen(), 0, b, static_cast<uint16_t>(k));
		for (unsigned i = sent; i < k; i++)
			rte_pktmbuf_free(b[i]);
		next += sent;
		const uint16_t r = rte_eth_rx_burst(p.resp(), 0, b, 32);
		for (uint16_t i = 0; i < r; i++) {
			const uint32_t seq = frame_seq(b[i]);
			if (seq < n && frame_intact(b[i], mixed_size(seq)))
				seen[seq]++;
			else
				bad++;
		}
		rte_pktmbuf_free_bulk(b, r);
		got += r;
	}
	EXPECT_EQ(bad, 0u);
	EXPECT_EQ(std::count(seen.begin(), seen.end(), 1u), static_cast<long>(n));
}

TEST(Uring, RunningOutOfReceiveBuffersLosesNothing)
{
	// 16 buffers against 256 frames in flight: the kernel runs dry, ends the
	// multishot receive, and the driver arms it again; frames wait in the
	// socket meanwhile.
	Pair p(1, ",rx_bufs=16");
	ASSERT_TRUE(p.ok());
	const Outcome o = gen_and_respond(p, 50000, 256);
	expect_exactly_once(o);
}

TEST(Uring, APortStoppedAndStartedAgainCarriesTrafficAndLeaksNoMbuf)
{
	{
		Pair p(1);
		ASSERT_TRUE(p.ok());
		expect_exactly_once(gen_and_respond(p, 1000, 64));
		for (uint16_t port : {p.gen(), p.resp()}) {
			ASSERT_EQ(rte_eth_dev_stop(port), 0);
			ASSERT_EQ(rte_eth_dev_start(port), 0);
		}
		expect_exactly_once(gen_and_respond(p, 1000, 64));
	}
	// Every port made so far is gone: all mbufs are back.
	EXPECT_EQ(rte_mempool_avail_count(pool()), pool()->size);
}

TEST(Uring, LinkIsUpWhileStarted)
{
	Pair p(1);
	ASSERT_TRUE(p.ok());
	rte_eth_link link{};
	ASSERT_EQ(rte_eth_link_get_nowait(p.gen(), &link), 0);
	EXPECT_EQ(link.link_status, RTE_ETH_LINK_UP);
	ASSERT_EQ(rte_eth_dev_stop(p.gen()), 0);
	ASSERT_EQ(rte_eth_link_get_nowait(p.gen(), &link), 0);
	EXPECT_EQ(link.link_status, RTE_ETH_LINK_DOWN);
}

TEST(Uring, BadDevargsNameTheParameterAndItsRange)
{
	EXPECT_NE(rte_vdev_init("net_uring_bad", "local=127.0.0.1,remote=127.0.0.1:9"), 0);
	EXPECT_NE(captured_log().find("net_uring_bad: parameter 'local' = '127.0.0.1' is not IPv4:PORT; accepted: A.B.C.D:0..65535"),
		  std::string::npos);
	EXPECT_NE(rte_vdev_init("net_uring_bad", "local=127.0.0.1:9"), 0);
	EXPECT_NE(captured_log().find("parameter 'remote' is required; accepted: A.B.C.D:PORT"),
		  std::string::npos);
	EXPECT_NE(rte_vdev_init("net_uring_bad", "local=127.0.0.1:9,remote=127.0.0.1:10,rx_bufs=1000"), 0);
	EXPECT_NE(captured_log().find("parameter 'rx_bufs' = '1000' is not a power of two; accepted: 16..32768"),
		  std::string::npos);
	EXPECT_NE(rte_vdev_init("net_uring_bad", "local=127.0.0.1:9,remote=127.0.0.1:10,ring_entries=8"), 0);
	EXPECT_NE(captured_log().find("parameter 'ring_entries' = '8' is out of range; accepted: 16..4096"),
		  std::string::npos);
}

} // namespace
} // namespace spray::test

int main(int argc, char **argv)
{
	testing::InitGoogleTest(&argc, argv);
	if (!spray::test::init_eal(argv[0], spray::test::driver_eal()))
		return 1;
	const int rc = RUN_ALL_TESTS();
	rte_eal_cleanup();
	return rc;
}
