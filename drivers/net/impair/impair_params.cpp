/* SPDX-License-Identifier: BSD-3-Clause */
#include "impair_params.h"

#include <cmath>

#include "../common/rng.h"

namespace spray::impair {

namespace {

constexpr double kMaxDelayUs = 10e6;        // 10 s
constexpr uint64_t kMaxRateBps = 4000000000000ULL; // 4 Tb/s
constexpr uint64_t kMaxReorderDepth = 64;

enum class Kind { Prob, Micros, Depth, Rate };

struct DirKey {
	std::string_view name;
	Kind kind;
	double DirSpec::*dval;
	uint64_t DirSpec::*uval;
};

constexpr DirKey kDirKeys[] = {
	{"loss", Kind::Prob, &DirSpec::loss, nullptr},
	{"ge_p", Kind::Prob, &DirSpec::ge_p, nullptr},
	{"ge_r", Kind::Prob, &DirSpec::ge_r, nullptr},
	{"ge_loss", Kind::Prob, &DirSpec::ge_loss, nullptr},
	{"delay_us", Kind::Micros, &DirSpec::delay_us, nullptr},
	{"jitter_us", Kind::Micros, &DirSpec::jitter_us, nullptr},
	{"reorder", Kind::Prob, &DirSpec::reorder, nullptr},
	{"reorder_depth", Kind::Depth, nullptr, &DirSpec::reorder_depth},
	{"dup", Kind::Prob, &DirSpec::dup, nullptr},
	{"corrupt", Kind::Prob, &DirSpec::corrupt, nullptr},
	{"rate_bps", Kind::Rate, nullptr, &DirSpec::rate_bps},
};

uint64_t us_to_tsc(double us, uint64_t hz) noexcept
{
	return static_cast<uint64_t>(std::llround(us * 1e-6 * static_cast<double>(hz)));
}

} // namespace

void Params::compile(uint64_t tsc_hz) noexcept
{
	for (unsigned d = 0; d < kDirs; d++) {
		const DirSpec &s = spec[d];
		DirRun &r = run[d];
		r.loss_thr = pmd::probability_threshold(s.loss);
		r.ge_p_thr = pmd::probability_threshold(s.ge_p);
		r.ge_r_thr = pmd::probability_threshold(s.ge_r);
		r.ge_loss_thr = pmd::probability_threshold(s.ge_loss);
		r.delay_tsc = us_to_tsc(s.delay_us, tsc_hz);
		r.jitter_tsc = us_to_tsc(s.jitter_us, tsc_hz);
		r.reorder_thr = pmd::probability_threshold(s.reorder);
		r.reorder_depth = static_cast<uint32_t>(s.reorder_depth);
		r.dup_thr = pmd::probability_threshold(s.dup);
		r.corrupt_thr = pmd::probability_threshold(s.corrupt);
		r.tsc_per_byte_q32 =
			s.rate_bps == 0
				? 0
				: static_cast<uint64_t>(8.0 * static_cast<double>(tsc_hz) /
							static_cast<double>(s.rate_bps) *
							4294967296.0);
	}
}

bool apply(Params &p, const pmd::KeyValue &kv, bool at_start,
	   std::string_view dev, std::string &err)
{
	if (kv.key == "seed" || kv.key == "queue_pkts" || kv.key == "tx_flush_on_rx") {
		if (!at_start) {
			err = std::string(dev) + ": parameter '" + kv.key +
			      "' can only be given at start (devargs)";
			return false;
		}
		if (kv.key == "seed")
			return pmd::parse_u64(dev, kv, 0, UINT64_MAX, p.seed, err);
		if (kv.key == "tx_flush_on_rx")
			return pmd::parse_u64(dev, kv, 0, 1, p.tx_flush_on_rx, err);
		return pmd::parse_u64(dev, kv, 16, 65536, p.queue_pkts, err);
	}
	if (kv.key == "link")
		return pmd::parse_updown(dev, kv, p.link_up, err);

	std::string_view key = kv.key;
	bool dirs[kDirs] = {true, true};
	if (key.starts_with("rx_")) {
		dirs[kTx] = false;
		key.remove_prefix(3);
	} else if (key.starts_with("tx_")) {
		dirs[kRx] = false;
		key.remove_prefix(3);
	}
	for (const DirKey &k : kDirKeys) {
		if (k.name != key)
			continue;
		double dv = 0;
		uint64_t uv = 0;
		bool ok = false;
		switch (k.kind) {
		case Kind::Prob:
			ok = pmd::parse_double(dev, kv, 0.0, 1.0, dv, err);
			break;
		case Kind::Micros:
			ok = pmd::parse_double(dev, kv, 0.0, kMaxDelayUs, dv, err);
			break;
		case Kind::Depth:
			ok = pmd::parse_u64(dev, kv, 1, kMaxReorderDepth, uv, err);
			break;
		case Kind::Rate:
			ok = pmd::parse_u64(dev, kv, 0, kMaxRateBps, uv, err);
			break;
		}
		if (!ok)
			return false;
		for (unsigned d = 0; d < kDirs; d++) {
			if (!dirs[d])
				continue;
			if (k.dval != nullptr)
				p.spec[d].*k.dval = dv;
			else
				p.spec[d].*k.uval = uv;
		}
		return true;
	}
	err = pmd::unknown_key(dev, kv, kAcceptedKeys);
	return false;
}

} // namespace spray::impair
