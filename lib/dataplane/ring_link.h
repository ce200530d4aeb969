// SPDX-License-Identifier: BSD-3-Clause
// In-process Ethernet links: two DPDK ports joined back to back by rte_rings
// (what a frame sent on one is received on the other), built on the net_ring
// driver. For tests, benchmarks and the in-process fabric.
//
// Control thread only, after EAL initialisation.
#pragma once

#include <cstdint>
#include <string>

namespace spray::dp {

struct RingLink {
  std::uint16_t a = 0;  // port ids
  std::uint16_t b = 0;
};

// Creates ports named `name_a` and `name_b` with `queues` queue pairs each;
// queue q of one feeds queue q of the other through a ring of `ring_size`
// slots (a power of two). A ring is its receiver's rx ring, so
// `ring_size_to_a` (0: `ring_size`) sizes what a receives apart from what b
// receives, e.g. to overflow one host's rx ring only. Throws RuntimeError
// naming what failed.
RingLink make_ring_link(const std::string& name_a, const std::string& name_b, unsigned queues = 1,
                        unsigned ring_size = 1024, unsigned ring_size_to_a = 0);

}  // namespace spray::dp
