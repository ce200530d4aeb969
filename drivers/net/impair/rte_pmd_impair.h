/* SPDX-License-Identifier: BSD-3-Clause */
// Control API of the net_impair PMD, for programs that run it in-process.
//
// Thread affinity: control path. Every function may be called from any
// non-worker thread while workers run rx/tx bursts on the port; a change is
// published as one pointer swap and picked up by each queue at its next burst.
// None of them blocks on the data path. Failures return a negative errno.
#ifndef SPRAY_RTE_PMD_IMPAIR_H
#define SPRAY_RTE_PMD_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the port did to packets, one list for the struct below, the xstats
 * names (rx_impair_<name>, tx_impair_<name>) and the telemetry keys. */
#define RTE_PMD_IMPAIR_FOREACH_COUNTER(X)                                        \
	X(packets_in, "packets that entered the impairment stage")              \
	X(packets_out, "packets that left it (delivered or handed to the port)")\
	X(bytes_out, "bytes of the packets that left it")                      \
	X(dropped_loss, "dropped by random loss")                               \
	X(dropped_burst, "dropped in the Gilbert-Elliott bad state")            \
	X(dropped_link, "dropped while the link was forced down")               \
	X(dropped_queue, "dropped because the delay or release queue was full") \
	X(delayed, "held for a non-zero delay")                                 \
	X(rate_limited, "released later than their delay because of rate_bps") \
	X(reordered, "held back behind later packets")                          \
	X(duplicated, "extra copies sent")                                      \
	X(corrupted, "packets with one byte flipped")

struct rte_pmd_impair_dir_stats {
#define RTE_PMD_IMPAIR_FIELD_(name, help) uint64_t name;
	RTE_PMD_IMPAIR_FOREACH_COUNTER(RTE_PMD_IMPAIR_FIELD_)
#undef RTE_PMD_IMPAIR_FIELD_
};

/* rx: packets read from the wrapped port towards the application.
 * tx: packets the application sent towards the wrapped port. */
struct rte_pmd_impair_stats {
	struct rte_pmd_impair_dir_stats rx;
	struct rte_pmd_impair_dir_stats tx;
};

/* 1 if port_id is a net_impair port, 0 if not. */
int rte_pmd_impair_is_impair(uint16_t port_id);

/* Change parameters at run time with the devargs syntax, e.g.
 * "loss=0.01,tx_delay_us=50,link=down". Keys not named keep their value;
 * "port", "seed" and "queue_pkts" are start-time only. On failure returns
 * -EINVAL and, if err is not NULL, writes a message naming the parameter and
 * its accepted range; the port keeps its previous parameters. */
int rte_pmd_impair_set(uint16_t port_id, const char *params, char *err,
		       size_t err_len);

/* Force the link down (up = 0): every packet entering either direction is
 * dropped and the port reports link down. up = 1 restores the wrapped port's
 * own link state. */
int rte_pmd_impair_link_set(uint16_t port_id, int up);

/* Counters since start or the last rte_eth_stats_reset/xstats_reset, summed
 * over queues. */
int rte_pmd_impair_stats_get(uint16_t port_id, struct rte_pmd_impair_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
