// SPDX-License-Identifier: BSD-3-Clause
// What the role runs share: the runtime from the common options, a link
// mask for the switches, a generator's figures once its worker stopped, and
// a host's endpoint configuration. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "dataplane/errors.h"
#include "dataplane/host_apps.h"
#include "dataplane/runtime.h"
#include "roles/options.h"
#include "roles/report.h"

namespace spray::roles {

dp::RuntimeOptions runtime_options(const CommonOptions& c);

// Bit i set when port ports[i] (an index into rt.ports()) may forward.
// `on_unknown(i)` is called for a port whose link state cannot be read (a
// tap moved to another namespace): it counts as up.
std::uint64_t link_mask(const dp::Runtime& rt, std::span<const std::uint16_t> ports,
                        const std::function<void(std::size_t)>& on_unknown = {});

// The runtime's clock now, in the ns the generator measures in.
std::uint64_t now_ns(const dp::Runtime& rt);

// A generator's counters, round trips and the transport figures its host
// last published. Only once the worker running `app` stopped; `now_ns`
// closes a measurement the generator did not end itself.
GenFigures read_generator(const dp::GenHostApp& app, std::uint64_t now_ns);

// `base` for the host `h`: its address, and a seed of its own.
srd::EndpointConfig endpoint_for(const srd::EndpointConfig& base, const dp::SrdHostConfig& h, std::uint64_t seed);

}  // namespace spray::roles
