/* SPDX-License-Identifier: BSD-3-Clause */
// Devargs parsing shared by our vdev PMDs. Control path only: these functions
// allocate and build error strings that name the parameter, the value given
// and the accepted range, e.g.
//   net_impair0: parameter 'loss' = '1.5' is out of range; accepted: 0..1
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spray::pmd {

struct KeyValue {
	std::string key;
	std::string value;
};

// Splits "k1=v1,k2=v2" into pairs. A bare word with no '=' is an error.
bool split_kvargs(std::string_view dev, std::string_view args,
		  std::vector<KeyValue> &out, std::string &err);

bool parse_double(std::string_view dev, const KeyValue &kv, double lo,
		  double hi, double &out, std::string &err);
bool parse_u64(std::string_view dev, const KeyValue &kv, uint64_t lo,
	       uint64_t hi, uint64_t &out, std::string &err);
// "up" / "down" (also 1 / 0).
bool parse_updown(std::string_view dev, const KeyValue &kv, bool &up,
		  std::string &err);
// "A.B.C.D:PORT", port 1..65535 (0 allowed when allow_port0: kernel picks).
bool parse_ipv4_port(std::string_view dev, const KeyValue &kv,
		     bool allow_port0, sockaddr_in &out, std::string &err);

std::string unknown_key(std::string_view dev, const KeyValue &kv,
			std::string_view accepted);

} // namespace spray::pmd
