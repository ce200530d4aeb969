// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/ring_link.h"

#include <dlfcn.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <vector>

#include "dataplane/errors.h"

namespace spray::dp {

namespace {

using FromRings = int (*)(const char*, rte_ring* const[], unsigned, rte_ring* const[], unsigned,
                          unsigned);

// rte_eth_from_rings lives in the net_ring driver, which EAL loads as a
// plugin. Linking the driver into the binary as well would register it
// twice, so take the function from the loaded plugin (found by its soname).
FromRings from_rings() {
  static FromRings fn = [] {
    void* h = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_NOLOAD);
    if (!h) h = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_GLOBAL);
    return h ? reinterpret_cast<FromRings>(dlsym(h, "rte_eth_from_rings")) : nullptr;
  }();
  if (!fn)
    throw RuntimeError("in-process links need the net_ring driver (librte_net_ring.so.23 from "
                       "the Debian package librte-net-ring23), which could not be loaded");
  return fn;
}

}  // namespace

RingLink make_ring_link(const std::string& name_a, const std::string& name_b, unsigned queues,
                        unsigned ring_size, unsigned ring_size_to_a) {
  const FromRings fn = from_rings();
  const unsigned to_a = ring_size_to_a ? ring_size_to_a : ring_size;
  std::vector<rte_ring*> ab(queues), ba(queues);
  for (unsigned q = 0; q < queues; ++q) {
    const std::string n1 = "rl-" + name_a + "-" + std::to_string(q);
    const std::string n2 = "rl-" + name_b + "-" + std::to_string(q);
    ab[q] = rte_ring_create(n1.substr(0, RTE_RING_NAMESIZE - 1).c_str(), ring_size,
                            static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    ba[q] = rte_ring_create(n2.substr(0, RTE_RING_NAMESIZE - 1).c_str(), to_a,
                            static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!ab[q] || !ba[q])
      throw RuntimeError("link " + name_a + "<->" + name_b + ": cannot create rings of " +
                         std::to_string(ring_size) + (to_a != ring_size ? " and " + std::to_string(to_a) : "") +
                         " slots (" + rte_strerror(rte_errno) + ")");
  }
  const int a = fn(name_a.c_str(), ba.data(), queues, ab.data(), queues, rte_socket_id());
  const int b = fn(name_b.c_str(), ab.data(), queues, ba.data(), queues, rte_socket_id());
  if (a < 0 || b < 0)
    throw RuntimeError("link " + name_a + "<->" + name_b + ": rte_eth_from_rings failed (" +
                       rte_strerror(rte_errno) + ")");
  return {static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)};
}

}  // namespace spray::dp
