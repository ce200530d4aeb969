// SPDX-License-Identifier: BSD-3-Clause
// Frames in mbufs for the dpdk-suite tests. make_frame: Ethernet header, a
// 32-bit sequence number and the TSC at send time, padded with a pattern
// derived from the sequence so any flipped byte is visible. to_mbuf: a frame
// built by frames.h, copied into an mbuf.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "frames.h"
#include "wire/ether.h"

namespace spray::test {

inline constexpr uint16_t kFrameLen = 64;
inline constexpr size_t kSeqOff = wire::kEthHdrLen;
inline constexpr size_t kTscOff = kSeqOff + 4;
inline constexpr size_t kPadOff = kTscOff + 8;

inline uint8_t pad_byte(uint32_t seq, size_t i) { return static_cast<uint8_t>(seq * 31 + i); }

inline rte_mbuf *make_frame(rte_mempool *pool, uint32_t seq, uint16_t len = kFrameLen)
{
	rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == nullptr)
		return nullptr;
	auto *p = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, len));
	std::span<uint8_t> f(p, len);
	wire::write_eth(f, wire::Mac{0x020000000002ULL}, wire::Mac{0x020000000001ULL}, kTestEtherType);
	wire::store_be32(p + kSeqOff, seq);
	for (size_t i = kPadOff; i < len; i++)
		p[i] = pad_byte(seq, i);
	const uint64_t tsc = rte_get_tsc_cycles();
	std::memcpy(p + kTscOff, &tsc, sizeof tsc);
	return m;
}

inline uint32_t frame_seq(const rte_mbuf *m)
{
	return wire::load_be32(rte_pktmbuf_mtod(m, const uint8_t *) + kSeqOff);
}

inline uint64_t frame_tsc(const rte_mbuf *m)
{
	uint64_t tsc;
	std::memcpy(&tsc, rte_pktmbuf_mtod(m, const uint8_t *) + kTscOff, sizeof tsc);
	return tsc;
}

// True when the pad still matches the sequence number (header, seq and tsc
// are not covered: a flip there shows as a foreign sequence number).
inline bool frame_intact(const rte_mbuf *m, uint16_t len = kFrameLen)
{
	const auto *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t seq = frame_seq(m);
	if (m->pkt_len != len || m->data_len != len)
		return false;
	for (size_t i = kPadOff; i < len; i++)
		if (p[i] != pad_byte(seq, i))
			return false;
	return true;
}

inline rte_mbuf *to_mbuf(rte_mempool *pool, const std::vector<uint8_t> &f)
{
	rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == nullptr)
		return nullptr;
	std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
	return m;
}

} // namespace spray::test
