// SPDX-License-Identifier: BSD-3-Clause
// A message workload over SRD connections, and the ledger that proves
// exactly-once, intact delivery.
//
// Every message carries a self-describing payload: a 24-byte header
// (magic, sender id, sequence, length) and a pattern derived from
// (sender id, sequence), so a receiver checks content without shared state
// and the ledger knows which message arrived.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "histogram.h"
#include "metrics.h"
#include "rng.h"
#include "srd_host.h"

namespace spray::sim {

inline constexpr std::uint32_t kMinMessageBytes = 24;

// Fills `out` with the payload of message (sender, seq). out.size() >= 24.
void fill_message(std::span<std::uint8_t> out, std::uint32_t sender, std::uint64_t seq) noexcept;
// Checks a received payload; on success sets sender and seq.
bool check_message(std::span<const std::uint8_t> in, std::uint32_t& sender, std::uint64_t& seq) noexcept;

// Every message of a scenario, as the senders and receivers saw it.
class Ledger {
 public:
  void sent(std::uint32_t sender, std::uint64_t seq, Nanos now_ns);
  void reported_delivered(std::uint32_t sender, std::uint64_t seq, Nanos now_ns);
  void reported_failed(std::uint32_t sender, std::uint64_t seq);
  void received(std::uint32_t sender, std::uint64_t seq, Nanos now_ns);
  void received_corrupt() noexcept { ++corrupt_; }

  std::uint64_t sent_count() const noexcept { return known_; }
  std::uint64_t received_unique() const noexcept { return received_unique_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t corrupt() const noexcept { return corrupt_; }
  std::uint64_t unknown() const noexcept { return unknown_; }  // received but never sent
  std::uint64_t delivered_reports() const noexcept { return delivered_reports_; }
  std::uint64_t failed_reports() const noexcept { return failed_reports_; }
  // Reported delivered to the sender but never received: must stay 0.
  std::uint64_t delivered_not_received() const;
  // Sent, neither received nor reported failed.
  std::uint64_t missing() const;
  // Submit to first arrival at the receiving application (RecoveryProbe
  // times drop to arrival of a segment).
  const LogHistogram& one_way_ns() const noexcept { return one_way_ns_; }

 private:
  struct Msg {
    Nanos sent_ns = 0;
    std::uint32_t received = 0;
    bool known = false;  // sent, or reported by the sender's endpoint
    bool delivered = false;
    bool failed = false;
  };
  // A sender's messages by sequence number. MessageApp numbers each
  // connection's messages 0, 1, 2, ..., so a dense array per sender holds
  // them with no per-message allocation or hashing; a sequence number far
  // beyond the array (a hand-made test message) lives in `sparse_` until the
  // array grows over it.
  struct Sender {
    std::vector<Msg> msgs;
    std::size_t sparse = 0;  // entries of this sender in sparse_
  };
  Sender& sender_of(std::uint32_t sender);
  Sender* find_sender(std::uint32_t sender) noexcept;
  Msg& entry(std::uint32_t sender, std::uint64_t seq);  // creates it (known)
  Msg* find(std::uint32_t sender, std::uint64_t seq) noexcept;
  template <class F> void for_each(F f) const;

  static constexpr std::uint32_t kNoSender = ~std::uint32_t{0};
  // Sender id -> index in senders_. Consecutive records mostly name the same
  // sender, so the last lookup is kept and the map is rarely consulted.
  std::unordered_map<std::uint32_t, std::uint32_t> sender_index_;
  std::vector<Sender> senders_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, Msg> sparse_;
  std::uint32_t last_id_ = 0;
  std::uint32_t last_index_ = kNoSender;
  std::uint64_t known_ = 0;
  std::uint64_t received_unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t corrupt_ = 0;
  std::uint64_t unknown_ = 0;
  std::uint64_t delivered_reports_ = 0;
  std::uint64_t failed_reports_ = 0;
  LogHistogram one_way_ns_;
};

// Messages a host sends to one peer.
struct FlowSpec {
  PeerAddr peer;
  std::uint32_t conns = 1;
  std::uint32_t msg_bytes = 64 * 1024;
  std::uint32_t window = 8;        // messages outstanding per connection
  std::uint64_t messages = 0;      // per connection; 0 = until stop_ns
  Nanos start_ns = 0;
  Nanos stop_ns = kNever;          // no new message after this
  // > 0: open loop, Poisson arrivals with this mean gap per connection;
  // arrivals beyond the window wait in the application and their latency
  // counts from arrival.
  Nanos mean_gap_ns = 0;
  // Connections open this far apart (0: all at once), as an application
  // opening thousands would pace them.
  Nanos connect_gap_ns = 0;
};

struct MessageAppConfig {
  bool listen = false;
  std::vector<FlowSpec> flows;
  Ledger* ledger = nullptr;        // shared by the scenario's apps; may be null
  Nanos goodput_window_ns = 100'000;
  std::uint64_t seed = 1;
};

struct ConnFailure {
  srd::ConnId conn;
  srd::FailReason reason;
  Nanos at_ns;
  bool accepted;  // the connection was accepted (not opened by us)
};

// Connects, keeps each connection's window full, verifies what it receives.
class MessageApp final : public App {
 public:
  explicit MessageApp(MessageAppConfig cfg);

  void on_service(srd::Endpoint& ep, Nanos now_ns) override;
  Nanos next_wake() const noexcept override;

  // No new message from now on; what is in flight completes.
  void stop_submitting() noexcept {
    for (FlowSpec& f : cfg_.flows) f.stop_ns = 0;
    arrivals_dirty_ = true;
  }

  // ---- results ----
  struct ConnResult {
    srd::ConnId id = srd::kNoConn;
    std::uint32_t sender = 0;
    std::uint64_t sent_msgs = 0;
    std::uint64_t delivered_msgs = 0;
    std::uint64_t failed_msgs = 0;
    std::uint64_t delivered_bytes = 0;
    bool connected = false;
    bool dead = false;
  };
  const std::vector<ConnResult>& conns() const noexcept { return conns_; }
  std::vector<srd::ConnId> conn_ids() const;
  const std::vector<ConnFailure>& failures() const noexcept { return failures_; }
  std::uint64_t delivered_msgs() const noexcept { return delivered_msgs_; }
  std::uint64_t received_msgs() const noexcept { return received_msgs_; }
  std::uint64_t received_bytes() const noexcept { return received_bytes_; }
  std::uint64_t accepted() const noexcept { return accepted_; }
  // Connections of ours that completed the handshake.
  std::uint64_t connected() const noexcept { return connected_; }
  std::uint64_t all_paths_impaired_events() const noexcept { return all_paths_impaired_; }
  std::uint64_t send_rejects() const noexcept { return send_rejects_; }
  // Every flow has sent and seen delivered (or failed) all its messages.
  bool done() const noexcept;
  // Sender side: submit (or arrival) -> kDelivered.
  const LogHistogram& completion_ns() const noexcept { return completion_ns_; }
  const std::vector<std::uint64_t>& completion_samples() const noexcept { return completion_samples_; }
  // Receiver side: message bytes handed up per window.
  const GoodputMeter& rx_goodput() const noexcept { return rx_goodput_; }
  // Sender side: message bytes acknowledged per window.
  const GoodputMeter& tx_goodput() const noexcept { return tx_goodput_; }
  // Accepted connections, by the peer's handle order of arrival.
  const std::vector<srd::ConnId>& accepted_conns() const noexcept { return accepted_conns_; }

 private:
  struct Conn {
    std::uint32_t flow = 0;
    std::uint64_t next_seq = 0;
    std::uint32_t outstanding = 0;
    std::vector<std::uint32_t> free_slots;
    std::vector<std::uint8_t> buf;      // window x msg_bytes: send() does not copy
    std::vector<Nanos> slot_t0;         // submit time per slot
    std::vector<std::uint64_t> slot_seq;
    std::deque<Nanos> arrivals;         // open loop: waiting for a slot
    Nanos next_arrival_ns = kNever;
    bool queued_ready = false;
  };

  void start(srd::Endpoint& ep, Nanos now_ns);
  void open_due(srd::Endpoint& ep, Nanos now_ns);
  void handle(srd::Endpoint& ep, const srd::Event& ev, Nanos now_ns);
  void pump(srd::Endpoint& ep, Nanos now_ns);
  bool has_work(const Conn& c, const ConnResult& r) const noexcept;
  void mark_ready(std::uint32_t i);

  MessageAppConfig cfg_;
  Rng rng_;
  bool started_ = false;
  bool any_open_loop_ = false;
  bool arrivals_dirty_ = false;         // open-loop state changed since next_arrival_min_
  Nanos next_arrival_min_ = kNever;     // earliest Conn::next_arrival_ns
  Nanos deferred_start_ns_ = kNever;  // earliest start_ns still in the future
  std::vector<Conn> state_;
  std::vector<ConnResult> conns_;
  std::unordered_map<srd::ConnId, std::uint32_t> by_id_;
  std::vector<std::uint32_t> ready_;
  std::vector<std::uint32_t> retry_;  // ready_'s successor while pumping
  std::vector<ConnFailure> failures_;
  std::vector<srd::ConnId> accepted_conns_;
  std::uint64_t delivered_msgs_ = 0;
  std::uint64_t received_msgs_ = 0;
  std::uint64_t received_bytes_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t connected_ = 0;
  std::uint32_t host_bits_ = 0;
  std::vector<std::pair<Nanos, std::uint32_t>> to_open_;  // (when, conn index), by time
  std::size_t opened_ = 0;
  std::uint64_t all_paths_impaired_ = 0;
  std::uint64_t send_rejects_ = 0;
  LogHistogram completion_ns_;
  std::vector<std::uint64_t> completion_samples_;
  GoodputMeter rx_goodput_;
  GoodputMeter tx_goodput_;
};

}  // namespace spray::sim
