/* SPDX-License-Identifier: BSD-3-Clause */
// Parameters of a net_impair port: what the user wrote (per direction) and
// what the data path reads (thresholds and TSC cycles), built together on the
// control path and published as one immutable object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "../common/devargs.h"

namespace spray::impair {

enum Dir : unsigned { kRx = 0, kTx = 1, kDirs = 2 };

struct DirSpec {
	double loss = 0;
	double ge_p = 0;      // P(good -> bad) per packet; 0 disables the model
	double ge_r = 0;      // P(bad -> good) per packet
	double ge_loss = 1;   // P(loss) in the bad state
	double delay_us = 0;
	double jitter_us = 0; // delay is uniform in [delay - jitter, delay + jitter]
	double reorder = 0;
	uint64_t reorder_depth = 3;
	double dup = 0;
	double corrupt = 0;
	uint64_t rate_bps = 0; // 0: unlimited; counts Ethernet frame bytes
};

// Derived from DirSpec for the data path.
struct DirRun {
	uint64_t loss_thr = 0;
	uint64_t ge_p_thr = 0;
	uint64_t ge_r_thr = 0;
	uint64_t ge_loss_thr = 0;
	uint64_t delay_tsc = 0;
	uint64_t jitter_tsc = 0;
	uint64_t reorder_thr = 0;
	uint32_t reorder_depth = 0;
	uint64_t dup_thr = 0;
	uint64_t corrupt_thr = 0;
	uint64_t tsc_per_byte_q32 = 0; // rate limit, 32.32 fixed point; 0: off

	bool timed() const noexcept
	{
		return delay_tsc != 0 || jitter_tsc != 0 || tsc_per_byte_q32 != 0;
	}
};

struct Params {
	DirSpec spec[kDirs];
	DirRun run[kDirs];
	uint64_t seed = 1;
	uint64_t queue_pkts = 4096;
	// rx_burst on queue q also releases what is due on tx queue q, so a
	// program that only transmits in reply to what it receives (testpmd's
	// forwarding, a responder) does not strand delayed tx packets. Needs rx
	// and tx queue q polled by one thread; 0 when they are not.
	uint64_t tx_flush_on_rx = 1;
	bool link_up = true;

	void compile(uint64_t tsc_hz) noexcept;
};

inline constexpr std::string_view kAcceptedKeys =
	"port, seed, queue_pkts, tx_flush_on_rx, link, and per direction (bare, rx_ or tx_ "
	"prefix): loss, ge_p, ge_r, ge_loss, delay_us, jitter_us, reorder, "
	"reorder_depth, dup, corrupt, rate_bps";

// Applies one key=value to p. at_start: devargs (port/seed/queue_pkts
// allowed); otherwise a run-time change. "port" is not handled here.
bool apply(Params &p, const pmd::KeyValue &kv, bool at_start,
	   std::string_view dev, std::string &err);

} // namespace spray::impair
