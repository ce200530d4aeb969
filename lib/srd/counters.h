// SPDX-License-Identifier: BSD-3-Clause
// Transport counters (doc/protocol.md section 6), each defined once: the lists
// below expand into the struct fields, the export names and the help text.
// Plain integers written only by the worker that owns the endpoint; other
// threads read copies (Endpoint::conn_stats / counters) taken by the worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "telemetry/counter.h"

namespace spray::srd {

// Why a packet was retransmitted (doc/protocol.md section 3, loss tiers),
// one line per cause: X(name, enumerator, help). The line is the enumerator
// RetxCause::enumerator, the connection counter retx_<name> (placed in
// SPRAY_SRD_CONN_COUNTERS in this order) and `name` wherever it is exported:
// the `cause` label of spray_transport_retransmits_total, the key under
// "retransmits" in the gen and demo JSON, the gen report's column. Names are
// stable: dashboards, alerts, the bench scripts and tests read them.
#define SPRAY_SRD_RETX_CAUSES(X) SPRAY_SRD_RETX_CAUSES_(SPRAY_SRD_RETX_CAUSE_, X)

// The list itself, as A(X, name, enumerator, help), so that one list expands
// into both shapes: causes (above) and counter lines X(retx_<name>, help).
#define SPRAY_SRD_RETX_CAUSES_(A, X)                                                    \
  A(X, nack, kNack, "retransmissions triggered by a NACK")                              \
  A(X, same_path, kSamePath, "retransmissions after a later packet on the same path was acked") \
  A(X, rack, kRack, "retransmissions after the RACK time guard expired")                \
  A(X, tlp, kTlp, "tail loss probes sent")                                              \
  A(X, rto, kRto, "retransmissions after a retransmission timeout")
#define SPRAY_SRD_RETX_CAUSE_(X, name, e, help) X(name, e, help)
#define SPRAY_SRD_RETX_COUNTER_(X, name, e, help) X(retx_##name, help)

#define SPRAY_SRD_X(name, e, help) e,
enum class RetxCause : std::uint8_t { SPRAY_SRD_RETX_CAUSES(SPRAY_SRD_X) };
#undef SPRAY_SRD_X

#define SPRAY_SRD_X(name, e, help) +1
inline constexpr std::size_t kRetxCauseCount = 0 SPRAY_SRD_RETX_CAUSES(SPRAY_SRD_X);
#undef SPRAY_SRD_X

// {name, help} per cause, in RetxCause order.
#define SPRAY_SRD_X(name, e, help) telemetry::CounterInfo{#name, help},
inline constexpr std::array<telemetry::CounterInfo, kRetxCauseCount> kRetxCauseInfo{
    SPRAY_SRD_RETX_CAUSES(SPRAY_SRD_X)};
#undef SPRAY_SRD_X

constexpr const char* to_string(RetxCause c) noexcept { return kRetxCauseInfo[static_cast<std::size_t>(c)].name; }

// Per connection.  X(name, help)
#define SPRAY_SRD_CONN_COUNTERS(X)                                              \
  X(tx_pkts, "SRD packets sent (all types)")                                    \
  X(tx_bytes, "SRD bytes sent (headers included)")                              \
  X(rx_pkts, "SRD packets received and accepted")                               \
  X(rx_bytes, "SRD bytes received and accepted")                                \
  X(tx_data_pkts, "DATA packets sent, first transmissions and retransmissions") \
  X(tx_msgs, "messages accepted by send()")                                     \
  X(delivered_msgs, "sent messages fully acknowledged")                         \
  X(failed_msgs, "sent messages reported failed")                               \
  X(rx_msgs, "received messages handed to the application")                     \
  X(retx_pkts, "DATA retransmissions, all causes")                              \
  SPRAY_SRD_RETX_CAUSES_(SPRAY_SRD_RETX_COUNTER_, X) /* retx_<cause> */          \
  X(spurious_retx, "retransmissions the receiver reported as duplicates")       \
  X(rto_events, "retransmission timeouts")                                      \
  X(spurious_rtos, "timeouts or tail probes that proved spurious and raised the RTO's floor (the packet was only late)") \
  X(silent_rtos, "timeouts with nothing sent later delivered on any path: no path blamed") \
  X(shared_losses, "packets declared lost with no evidence against their path (a burst over several paths, or every path silent): no path blamed") \
  X(shared_loss_events, "window cuts for losses shared by several paths")        \
  X(host_drop_acks, "ACKs received saying the peer's host dropped packets")       \
  X(host_rtt_samples, "RTT samples kept out of SRTT and path state: taken across a host's drops or stall") \
  X(path_changes, "retransmissions sent on a path other than the original")     \
  X(path_quarantines, "paths moved to QUARANTINED")                             \
  X(all_paths_impaired, "times every path was quarantined at once")             \
  X(dup_pkts, "duplicate DATA packets received (acked and dropped)")            \
  X(acks_lost, "ACKs of ours the peer never got: a duplicate came long after we acknowledged its packet (charged to the ACK's path)") \
  X(out_of_window_pkts, "DATA packets beyond the receive window (dropped)")     \
  X(reorder_overflow, "ordered-mode completions beyond the msg_id window")      \
  X(rnr_nacks, "no-buffer NACKs sent or received")                              \
  X(ce_pkts, "DATA packets received with CE")                                   \
  X(ece_acks, "ACKs received echoing CE")                                       \
  X(acks_tx, "ACKs sent")                                                       \
  X(acks_rx, "ACKs received")                                                   \
  X(probes_tx, "PROBE packets sent")                                            \
  X(cwnd_md_events, "multiplicative decreases of the window")

// Per endpoint (all connections of one worker). Drop reasons from the codec
// are counted separately in EndpointCounters::malformed[] (wire/srd.h list).
#define SPRAY_SRD_ENDPOINT_COUNTERS(X)                                          \
  X(conns_opened, "connections established (both directions)")                 \
  X(conns_closed, "connections closed gracefully")                             \
  X(conn_failed_unreachable, "connections failed: no response")                \
  X(conn_failed_unresponsive, "connections failed: responses stopped")         \
  X(conn_failed_reset, "connections failed: reset by the peer / bad nonce")    \
  X(drop_unknown_conn, "packets for a connection id we do not have")           \
  X(drop_wrong_peer, "DATA or ACK for a connection, from another address than its peer") \
  X(drop_bad_nonce, "control packets with the wrong nonce")                    \
  X(drop_bad_segment, "DATA whose message fields are inconsistent")            \
  X(drop_no_buffer, "DATA dropped: reassembly memory or slots exhausted")      \
  X(drop_table_full, "CONNECTs refused: connection table full")                \
  X(drop_not_listening, "CONNECTs while not listening")                        \
  X(drop_wrong_state, "packets that do not fit the connection's state")        \
  X(drop_bad_ack, "ACKs whose cumulative PSN is beyond what was sent")          \
  X(tx_no_record, "sends deferred: in-flight record pool exhausted")           \
  X(host_drop_reports, "reports of this host dropping packets (rx ring overflow, full tx queue)") \
  X(late_timers, "timers found late by rto_min or more (the host stalled): given time to read what arrived") \
  X(resets_tx, "RESET packets sent")                                           \
  X(event_queue_grow, "event queue capacity doublings")

struct ConnCounters {
#define SPRAY_SRD_X(name, help) std::uint64_t name = 0;
  SPRAY_SRD_CONN_COUNTERS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
};

struct EndpointCounterFields {
#define SPRAY_SRD_X(name, help) std::uint64_t name = 0;
  SPRAY_SRD_ENDPOINT_COUNTERS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
};

using telemetry::CounterInfo;

inline constexpr CounterInfo kConnCounterInfo[] = {
#define SPRAY_SRD_X(name, help) {#name, help},
    SPRAY_SRD_CONN_COUNTERS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
};
inline constexpr CounterInfo kEndpointCounterInfo[] = {
#define SPRAY_SRD_X(name, help) {#name, help},
    SPRAY_SRD_ENDPOINT_COUNTERS(SPRAY_SRD_X)
#undef SPRAY_SRD_X
};

// The connection counter of each cause, in RetxCause order: the sender
// counts a retransmission with ++retx_counter(c, cause) and readers sum
// them without naming each cause.
#define SPRAY_SRD_X(name, e, help) &ConnCounters::retx_##name,
inline constexpr std::array<std::uint64_t ConnCounters::*, kRetxCauseCount> kRetxCounter{
    SPRAY_SRD_RETX_CAUSES(SPRAY_SRD_X)};
#undef SPRAY_SRD_X

inline std::uint64_t& retx_counter(ConnCounters& c, RetxCause cause) noexcept {
  return c.*kRetxCounter[static_cast<std::size_t>(cause)];
}
inline std::uint64_t retx_counter(const ConnCounters& c, RetxCause cause) noexcept {
  return c.*kRetxCounter[static_cast<std::size_t>(cause)];
}

// Generic access for exporters: the i-th counter in list order.
inline std::uint64_t counter_at(const ConnCounters& c, std::size_t i) noexcept {
  return reinterpret_cast<const std::uint64_t*>(&c)[i];
}
inline std::uint64_t counter_at(const EndpointCounterFields& c, std::size_t i) noexcept {
  return reinterpret_cast<const std::uint64_t*>(&c)[i];
}

}  // namespace spray::srd
