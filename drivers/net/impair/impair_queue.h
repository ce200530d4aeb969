/* SPDX-License-Identifier: BSD-3-Clause */
// One direction of one queue of a net_impair port: the per-packet decisions
// (loss, Gilbert-Elliott, corruption, duplication, delay, rate, reordering)
// and the queues that hold mbufs until they are due. Owned by the thread that
// polls the queue; nothing here locks, allocates (except the mbuf copy a
// duplicate needs) or makes a syscall.
#pragma once

#include <atomic>
#include <cstdint>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "../common/rng.h"
#include "impair_params.h"
#include "rte_pmd_impair.h"

namespace spray::impair {

// Written by the owning thread only; read by the control thread.
struct Counter {
	std::atomic<uint64_t> v{0};
	void add(uint64_t n) noexcept
	{
		v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
	uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

struct DirCounters {
#define IMPAIR_COUNTER_FIELD_(name, help) Counter name;
	RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_COUNTER_FIELD_)
#undef IMPAIR_COUNTER_FIELD_

	void snapshot(rte_pmd_impair_dir_stats &s) const noexcept
	{
#define IMPAIR_COUNTER_READ_(name, help) s.name = name.get();
		RTE_PMD_IMPAIR_FOREACH_COUNTER(IMPAIR_COUNTER_READ_)
#undef IMPAIR_COUNTER_READ_
	}
};

class alignas(RTE_CACHE_LINE_SIZE) DirQueue {
public:
	// Storage comes from the caller (rte_zmalloc'd at queue setup):
	// heap and fifo of `capacity` entries each; capacity a power of two.
	struct Timed {
		uint64_t release_tsc;
		uint64_t seq;
		rte_mbuf *m;
	};
	struct Held {
		rte_mbuf *m;
		uint32_t remaining;
		uint64_t deadline_tsc;
	};
	static constexpr unsigned kMaxHeld = 64;

	void init(Timed *heap, rte_mbuf **fifo, uint32_t capacity, uint64_t seed,
		  uint64_t max_hold_tsc) noexcept
	{
		heap_ = heap;
		fifo_ = fifo;
		cap_ = capacity;
		mask_ = capacity - 1;
		rng_.seed(seed);
		max_hold_tsc_ = max_hold_tsc;
	}

	// Free space a caller may fill with one ingest() of that many packets,
	// allowing each to be duplicated.
	uint32_t room() const noexcept
	{
		// Held packets go to the fifo later: count them as taken.
		const uint32_t fifo_used = (tail_ - head_) + held_n_;
		const uint32_t fifo_free = fifo_used < cap_ ? cap_ - fifo_used : 0;
		const uint32_t heap_free = cap_ - heap_n_;
		return (fifo_free < heap_free ? fifo_free : heap_free) / 2;
	}

	uint32_t ready() const noexcept { return tail_ - head_; }

	void ingest(const DirRun &p, bool link_up, rte_mbuf **pkts, uint16_t n,
		    uint64_t now) noexcept
	{
		c.packets_in.add(n);
		for (uint16_t i = 0; i < n; i++) {
			rte_mbuf *m = pkts[i];
			if (!link_up) {
				drop(m, c.dropped_link);
				continue;
			}
			if (rng_.chance(p.loss_thr)) {
				drop(m, c.dropped_loss);
				continue;
			}
			if (p.ge_p_thr != 0) {
				ge_bad_ = ge_bad_ ? !rng_.chance(p.ge_r_thr)
						  : rng_.chance(p.ge_p_thr);
				if (ge_bad_ && rng_.chance(p.ge_loss_thr)) {
					drop(m, c.dropped_burst);
					continue;
				}
			}
			if (rng_.chance(p.corrupt_thr))
				corrupt(m);
			rte_mbuf *copy = nullptr;
			if (rng_.chance(p.dup_thr)) {
				copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
				if (copy != nullptr)
					c.duplicated.add(1);
			}
			schedule(p, m, now);
			if (copy != nullptr)
				schedule(p, copy, now);
		}
	}

	// Moves what is due at `now` from the delay heap (and the reorder hold)
	// into the release fifo.
	void drain(const DirRun &p, uint64_t now) noexcept
	{
		while (heap_n_ != 0 && heap_[0].release_tsc <= now)
			to_fifo(p, heap_pop(), now);
		for (uint32_t i = 0; i < held_n_;) {
			if (held_[i].deadline_tsc <= now)
				release_held(i);
			else
				i++;
		}
	}

	// Hands up to n released packets to out[], oldest first.
	uint16_t take(rte_mbuf **out, uint16_t n) noexcept
	{
		uint16_t k = 0;
		uint64_t bytes = 0;
		while (k < n && head_ != tail_) {
			rte_mbuf *m = fifo_[head_++ & mask_];
			bytes += m->pkt_len;
			out[k++] = m;
		}
		c.packets_out.add(k);
		c.bytes_out.add(bytes);
		return k;
	}

	// Sends released packets on (port, queue); what the port refuses stays
	// queued, in order, for the next call.
	void flush(uint16_t port, uint16_t queue) noexcept
	{
		while (head_ != tail_) {
			const uint32_t at = head_ & mask_;
			uint32_t span = tail_ - head_;
			if (span > cap_ - at)
				span = cap_ - at;
			if (span > UINT16_MAX)
				span = UINT16_MAX;
			const uint16_t sent = rte_eth_tx_burst(
				port, queue, &fifo_[at], static_cast<uint16_t>(span));
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < sent; i++)
				bytes += fifo_[at + i]->pkt_len;
			head_ += sent;
			c.packets_out.add(sent);
			c.bytes_out.add(bytes);
			if (sent < span)
				break;
		}
	}

	// Frees everything held (port stop, queue release).
	void purge() noexcept
	{
		while (heap_n_ != 0)
			rte_pktmbuf_free(heap_[--heap_n_].m);
		while (held_n_ != 0)
			rte_pktmbuf_free(held_[--held_n_].m);
		while (head_ != tail_)
			rte_pktmbuf_free(fifo_[head_++ & mask_]);
	}

	DirCounters c;

private:
	void drop(rte_mbuf *m, Counter &reason) noexcept
	{
		reason.add(1);
		rte_pktmbuf_free(m);
	}

	// Flips one byte past the Ethernet header (when there is one), so the
	// frame still reaches its destination and a checksum there catches it.
	void corrupt(rte_mbuf *m) noexcept
	{
		const uint16_t len = rte_pktmbuf_data_len(m);
		if (len == 0)
			return;
		const uint16_t skip = len > RTE_ETHER_HDR_LEN ? RTE_ETHER_HDR_LEN : 0;
		const uint64_t off = skip + rng_.below(len - skip);
		uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
		*b ^= static_cast<uint8_t>(1 + rng_.below(255));
		c.corrupted.add(1);
	}

	void schedule(const DirRun &p, rte_mbuf *m, uint64_t now) noexcept
	{
		if (!p.timed() && heap_n_ == 0) {
			to_fifo(p, m, now);
			return;
		}
		if (heap_n_ == cap_) {
			drop(m, c.dropped_queue);
			return;
		}
		uint64_t delay = p.delay_tsc;
		if (p.jitter_tsc != 0) {
			// Uniform in [delay - jitter, delay + jitter], clamped at zero.
			const uint64_t x = rng_.below(2 * p.jitter_tsc + 1);
			delay = delay + x > p.jitter_tsc ? delay + x - p.jitter_tsc : 0;
		}
		if (delay != 0)
			c.delayed.add(1);
		uint64_t release = now + delay;
		if (p.tsc_per_byte_q32 != 0) {
			// The link serialises: a packet starts when the one before it
			// has gone out and is released when its last byte has.
			const uint64_t start = release > next_free_tsc_ ? release : next_free_tsc_;
			if (start > release)
				c.rate_limited.add(1);
			next_free_tsc_ = start + static_cast<uint64_t>(
				(static_cast<unsigned __int128>(m->pkt_len) * p.tsc_per_byte_q32) >> 32);
			release = next_free_tsc_;
		}
		heap_push({release, seq_++, m});
	}

	void to_fifo(const DirRun &p, rte_mbuf *m, uint64_t now) noexcept
	{
		if (held_n_ < kMaxHeld && rng_.chance(p.reorder_thr)) {
			held_[held_n_++] = {m, p.reorder_depth, now + max_hold_tsc_};
			c.reordered.add(1);
			return;
		}
		push_fifo(m);
		for (uint32_t i = 0; i < held_n_;) {
			if (--held_[i].remaining == 0)
				release_held(i);
			else
				i++;
		}
	}

	void release_held(uint32_t i) noexcept
	{
		push_fifo(held_[i].m);
		held_[i] = held_[--held_n_];
	}

	void push_fifo(rte_mbuf *m) noexcept
	{
		if (tail_ - head_ == cap_) {
			drop(m, c.dropped_queue);
			return;
		}
		fifo_[tail_++ & mask_] = m;
	}

	static bool before(const Timed &a, const Timed &b) noexcept
	{
		return a.release_tsc < b.release_tsc ||
		       (a.release_tsc == b.release_tsc && a.seq < b.seq);
	}

	void heap_push(const Timed &e) noexcept
	{
		uint32_t i = heap_n_++;
		while (i != 0) {
			const uint32_t parent = (i - 1) / 2;
			if (!before(e, heap_[parent]))
				break;
			heap_[i] = heap_[parent];
			i = parent;
		}
		heap_[i] = e;
	}

	rte_mbuf *heap_pop() noexcept
	{
		rte_mbuf *top = heap_[0].m;
		const Timed last = heap_[--heap_n_];
		uint32_t i = 0;
		for (;;) {
			uint32_t child = 2 * i + 1;
			if (child >= heap_n_)
				break;
			if (child + 1 < heap_n_ && before(heap_[child + 1], heap_[child]))
				child++;
			if (!before(heap_[child], last))
				break;
			heap_[i] = heap_[child];
			i = child;
		}
		if (heap_n_ != 0)
			heap_[i] = last;
		return top;
	}

	pmd::Xoshiro256 rng_;
	bool ge_bad_ = false;
	uint64_t next_free_tsc_ = 0;
	uint64_t seq_ = 0;
	uint64_t max_hold_tsc_ = 0;

	Timed *heap_ = nullptr;
	uint32_t heap_n_ = 0;

	rte_mbuf **fifo_ = nullptr;
	uint32_t cap_ = 0;
	uint32_t mask_ = 0;
	uint32_t head_ = 0;
	uint32_t tail_ = 0;

	Held held_[kMaxHeld];
	uint32_t held_n_ = 0;
};

} // namespace spray::impair
