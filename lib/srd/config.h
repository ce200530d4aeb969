// SPDX-License-Identifier: BSD-3-Clause
// Endpoint configuration: every knob of doc/protocol.md sections 4-5 with its
// default. Validated once at construction (Endpoint throws
// std::invalid_argument naming the field, its value and what is accepted).
#pragma once

#include <cstdint>
#include <string>

#include "srd/types.h"

namespace spray::srd {

struct EndpointConfig {
  // --- identity and wire -------------------------------------------------
  PeerAddr local;                    // our address (for logs and dumps)
  std::uint64_t seed = 1;            // the only source of randomness (ids, nonces, PSNs)
  std::uint16_t mtu = 1500;          // IP MTU; DATA payload = mtu - 20 - 8 - 32
  std::uint16_t paths = 16;          // P, 1..256; negotiated down to the peer's
  std::uint64_t link_rate_bps = 100'000'000'000ULL;  // port rate, for BDP / pacing

  // --- limits (memory is sized from these at creation) --------------------
  std::uint32_t max_connections = 16384;     // connection table slots (<= 2^20)
  std::uint32_t max_inflight_pkts = 65536;   // tx records shared by all connections
  std::uint32_t max_send_msgs = 65536;       // queued + in-flight messages, all connections
  std::uint32_t max_rx_msgs = 65536;         // partial + undelivered received messages
  std::uint64_t rx_buffer_bytes = 1ULL << 30; // cap on reassembly memory
  std::uint32_t max_msg_bytes = 64u << 20;   // largest message accepted (send and receive)
  std::uint16_t rwnd_pkts = 4096;            // advertised receive window (<= MPR)
  bool ordered = false;                      // per-connection ordered delivery (msg_id window)
  std::uint16_t ordered_window = 64;         // msg_id window; later completions go to overflow

  // --- connection timers (section 3 / 5) ----------------------------------
  Nanos connect_retry_ns = 1'000'000;        // first CONNECT retry, doubles
  std::uint8_t connect_max_tries = 5;
  Nanos conn_timeout_ns = 100'000'000;       // no ACK while data outstanding -> UNRESPONSIVE
  std::uint8_t max_attempts = 16;            // transmissions of one packet before failing

  // --- loss recovery (section 5) ------------------------------------------
  Nanos rto_min_ns = 100'000;                // 20 us .. 10 ms
  Nanos rto_max_ns = 10'000'000;
  Nanos initial_rtt_ns = 50'000;             // before the first sample
  bool tlp = true;
  std::uint8_t reo_decay_recoveries = 16;    // clean recoveries before reo_wnd halves back

  // --- ACK policy (section 3) ---------------------------------------------
  Nanos delayed_ack_ns = 10'000;
  std::uint32_t ack_every_bytes = 16 * 1024;
  std::uint16_t ack_burst_pkts = 32;         // at most this many packets per ACK

  // --- paths (section 3) --------------------------------------------------
  Nanos quarantine_min_ns = 1'000'000;
  Nanos quarantine_max_ns = 100'000'000;
  std::uint8_t suspect_rtts = 8;             // SUSPECT persisting this many RTTs -> QUARANTINED
  double suspect_loss_rate = 0.05;
  double suspect_rtt_factor = 4.0;           // RTT > factor x path min -> SUSPECT
  double penalty_rtt_factor = 2.0;           // RTT > factor x path min -> lower weight
  Nanos penalty_min_queue_ns = 10'000;       // ... and RTT - path min above this
  std::uint8_t ecn_penalty_rtts = 4;

  // --- congestion control (section 4) -------------------------------------
  Nanos target_min_ns = 5'000;               // target = base + max(target_min, 0.5 base) + scaling
  double target_base_factor = 0.5;
  Nanos flow_scaling_ns = 10'000;            // at cwnd <= 1 pkt, falls as 1/sqrt(cwnd) to 0 at 64
  double max_cwnd_bdp = 1.5;                 // max cwnd = this x BDP
  std::uint32_t initial_cwnd_cap_pkts = 64;
  double min_cwnd_pkts = 0.01;
  double ai_pkts = 1.0;                      // additive increase per RTT
  double md_beta = 0.8;
  double md_floor = 0.5;
  Nanos base_rtt_refresh_ns = 10'000'000'000ULL;
  bool pacing = true;
  Nanos wheel_slot_ns = 1'000;
  std::uint32_t wheel_slots = 4096;          // horizon = slots x slot_ns (>= 1 ms)

  // DATA payload bytes per packet for this MTU.
  std::uint32_t payload_per_pkt() const noexcept { return mtu - 20u - 8u - 32u; }
  // Throws std::invalid_argument describing the first bad field.
  void validate() const;
};

}  // namespace spray::srd
