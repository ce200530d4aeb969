/* SPDX-License-Identifier: BSD-3-Clause */
#include "devargs.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>


namespace spray::pmd {

namespace {

std::string prefix(std::string_view dev, const KeyValue &kv)
{
	std::string s(dev);
	s += ": parameter '";
	s += kv.key;
	s += "' = '";
	s += kv.value;
	s += "'";
	return s;
}

// Shortest form: "0", "1", "1e+07", "0.5".
std::string num(double v)
{
	char b[32];
	std::snprintf(b, sizeof b, "%g", v);
	return b;
}

} // namespace

bool split_kvargs(std::string_view dev, std::string_view args,
		  std::vector<KeyValue> &out, std::string &err)
{
	out.clear();
	while (!args.empty()) {
		const size_t comma = args.find(',');
		std::string_view item = args.substr(0, comma);
		args = comma == std::string_view::npos ? std::string_view{}
						       : args.substr(comma + 1);
		if (item.empty())
			continue;
		const size_t eq = item.find('=');
		if (eq == std::string_view::npos || eq == 0) {
			err = std::string(dev) + ": devargs item '" +
			      std::string(item) + "' is not of the form key=value";
			return false;
		}
		out.push_back({std::string(item.substr(0, eq)),
			       std::string(item.substr(eq + 1))});
	}
	return true;
}

bool parse_double(std::string_view dev, const KeyValue &kv, double lo,
		  double hi, double &out, std::string &err)
{
	char *end = nullptr;
	errno = 0;
	const double v = std::strtod(kv.value.c_str(), &end);
	if (kv.value.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
		err = prefix(dev, kv) + " is not a number; accepted: " + num(lo) + ".." + num(hi);
		return false;
	}
	if (v < lo || v > hi) {
		err = prefix(dev, kv) + " is out of range; accepted: " + num(lo) + ".." + num(hi);
		return false;
	}
	out = v;
	return true;
}

bool parse_u64(std::string_view dev, const KeyValue &kv, uint64_t lo,
	       uint64_t hi, uint64_t &out, std::string &err)
{
	char *end = nullptr;
	errno = 0;
	const unsigned long long v = std::strtoull(kv.value.c_str(), &end, 0);
	const bool ok = !kv.value.empty() && kv.value[0] != '-' &&
			*end == '\0' && errno == 0;
	if (!ok || v < lo || v > hi) {
		err = prefix(dev, kv) +
		      (ok ? " is out of range" : " is not an unsigned integer") +
		      "; accepted: " + std::to_string(lo) + ".." +
		      std::to_string(hi);
		return false;
	}
	out = v;
	return true;
}

bool parse_updown(std::string_view dev, const KeyValue &kv, bool &up,
		  std::string &err)
{
	if (kv.value == "up" || kv.value == "1") {
		up = true;
		return true;
	}
	if (kv.value == "down" || kv.value == "0") {
		up = false;
		return true;
	}
	err = prefix(dev, kv) + " is not a link state; accepted: up, down";
	return false;
}

bool parse_ipv4_port(std::string_view dev, const KeyValue &kv,
		     bool allow_port0, sockaddr_in &out, std::string &err)
{
	const size_t colon = kv.value.rfind(':');
	const char *range = allow_port0 ? "0..65535" : "1..65535";
	if (colon == std::string::npos) {
		err = prefix(dev, kv) + " is not IPv4:PORT; accepted: A.B.C.D:" + range;
		return false;
	}
	const std::string ip = kv.value.substr(0, colon);
	const std::string port = kv.value.substr(colon + 1);
	out = {};
	out.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip.c_str(), &out.sin_addr) != 1) {
		err = prefix(dev, kv) + " has no valid IPv4 address; accepted: A.B.C.D:" + range;
		return false;
	}
	char *end = nullptr;
	errno = 0;
	const unsigned long p = std::strtoul(port.c_str(), &end, 10);
	if (port.empty() || *end != '\0' || errno != 0 || p > 65535 ||
	    (p == 0 && !allow_port0)) {
		err = prefix(dev, kv) + " has no valid port; accepted: A.B.C.D:" + range;
		return false;
	}
	out.sin_port = htons(static_cast<uint16_t>(p));
	return true;
}

std::string unknown_key(std::string_view dev, const KeyValue &kv,
			std::string_view accepted)
{
	return std::string(dev) + ": unknown parameter '" + kv.key +
	       "'; accepted: " + std::string(accepted);
}

} // namespace spray::pmd
