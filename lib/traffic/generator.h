// SPDX-License-Identifier: BSD-3-Clause
// The traffic generator's logic, sans I/O: opens connections on an
// srd::Endpoint, sends request messages in closed loop (N outstanding per
// connection) or open loop (a rate, constant or Poisson), matches replies,
// verifies them and measures each message's round trip.
//
// Driven by one thread (the worker owning the endpoint) with injected time,
// so the same code runs over DPDK and in the simulator:
//
//   gen.start(now);
//   loop: for each endpoint event: gen.on_event(ev, now);
//         gen.poll(now);                  // sends what is due
//         sleep until min(gen.next_deadline(), endpoint expiry, input)
//   until gen.finished().
//
// Round trip = from send() of the request to the reply's arrival (the last
// byte, since the transport hands up complete messages); with reply size 0,
// to the request's delivery acknowledgement. Timestamps are the worker's
// loop time (TSC, read once per iteration).
//
// Reconnect (GenConfig::reconnect, on by default): when a connection fails
// (the peer restarted, stopped answering, or cannot be reached) its slot
// opens a replacement connection to the same peer after a backoff (1 ms,
// doubling to 1 s, back to 1 ms once one is established) and re-issues, in
// their original order, the requests that had not completed. A replacement
// is a new connection, so its message numbers start again at 0 and each
// re-issued request is generated (header and pattern) for its new number;
// the responder checks exactly-once per connection, so a request answered by
// a peer that then died may be answered twice, once per connection, but is
// counted completed once. A re-issued request keeps its first send time: its
// round trip includes the outage. `sent` counts unique requests, `reissued`
// the re-sends. Requests still waiting when the run ends (--duration,
// --count, then the drain) fail; a slot that has had no working connection
// for `reconnect_give_up_ns` stops trying, so a peer that never returns ends
// even a --count run.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "srd/endpoint.h"
#include "telemetry/counter.h"
#include "telemetry/histogram.h"
#include "traffic/pattern.h"
#include "traffic/rng.h"
#include "traffic/sizes.h"

namespace spray::traffic {

using srd::Nanos;

enum class LoadMode : std::uint8_t { kClosed, kOpen };

struct GenConfig {
  srd::PeerAddr peer;
  std::uint32_t connections = 1;
  LoadMode load = LoadMode::kClosed;
  std::uint32_t outstanding = 1;        // closed loop: requests in flight per connection
  double rate_msgs_per_s = 0;           // open loop: total over all connections
  bool poisson = false;                 // open loop: exponential inter-arrival times
  SizeDist request = SizeDist::fixed(64);
  std::optional<SizeDist> reply;        // nullopt: the responder decides (--reply-size)
  Nanos warmup_ns = 0;                  // messages sent earlier are not measured
  Nanos duration_ns = 10'000'000'000;   // 0: until `count`
  std::uint64_t count = 0;              // messages to complete; 0: until duration
  std::uint32_t max_inflight = 256;     // open loop: per connection, beyond it sends wait
  Nanos drain_ns = 2'000'000'000;       // after the end: wait this long for replies
  bool reconnect = true;                // replace failed connections, re-issue their requests
  Nanos reconnect_min_ns = 1'000'000;   // first backoff before a replacement; doubles
  Nanos reconnect_max_ns = 1'000'000'000;
  Nanos reconnect_give_up_ns = 30'000'000'000;  // a slot down this long stops trying
  // With reconnect: a request acknowledged but unanswered this long was lost
  // by the responder (it restarted between the two); its connection is
  // replaced and the request re-issued. 0: wait for the reply forever. Keep
  // it well above the endpoints' conn_timeout_ns: a reply the transport is
  // still trying to deliver is not lost.
  Nanos reply_timeout_ns = 2'000'000'000;
  std::uint64_t seed = 1;

  // Empty when usable, else one line naming the bad value.
  std::string validate() const;
  // Requests each connection can have in flight (buffers are sized for it).
  std::uint32_t inflight_limit() const noexcept {
    return load == LoadMode::kClosed ? outstanding : max_inflight;
  }
};

#define SPRAY_GEN_COUNTERS(X)                                                         \
  X(sent, "requests handed to the transport")                                         \
  X(completed, "requests whose reply (or delivery, for reply size 0) arrived")        \
  X(failed, "requests the transport reported failed")                                 \
  X(measured, "completed requests sent after the warm-up (in the histogram)")         \
  X(tx_bytes, "request bytes of completed, measured requests")                        \
  X(rx_bytes, "reply bytes of completed, measured requests")                          \
  X(late_sends, "open loop: sends more than 100 us behind their schedule")            \
  X(window_full, "sends deferred: the connection had max in-flight requests")         \
  X(bad_reply, "replies with a wrong header, length or pattern (integrity)")          \
  X(unexpected_reply, "replies matching no request in flight (duplicate or stray)")   \
  X(conn_failed, "connections that failed")                                           \
  X(conn_failed_unreachable, "connections that failed: no answer to the handshake")   \
  X(conn_failed_unresponsive, "connections that failed: the peer stopped answering")  \
  X(conn_failed_reset, "connections that failed: the peer reset them (lost its state)") \
  X(reconnects, "replacement connections established after a failure")                \
  X(reissued, "requests re-sent on a replacement connection (sent counts them once)")

// The counters' values at one moment, under the same names.
struct GenCounts {
#define X(name, help) std::uint64_t name = 0;
  SPRAY_GEN_COUNTERS(X)
#undef X
};

struct GenCounters {
#define X(name, help) telemetry::SingleWriterCounter name;
  SPRAY_GEN_COUNTERS(X)
#undef X
  GenCounts read() const noexcept {
    GenCounts v;
#define X(name, help) v.name = name.read();
    SPRAY_GEN_COUNTERS(X)
#undef X
    return v;
  }
};

class Generator {
 public:
  // `ep` must outlive the generator; the generator is its only application.
  Generator(const GenConfig& cfg, srd::Endpoint& ep);
  ~Generator();

  void start(Nanos now);
  void on_event(const srd::Event& ev, Nanos now);
  // Sends what is due at `now`; returns how many requests it sent.
  unsigned poll(Nanos now);
  // When poll() next has something to do without new events (open loop
  // schedule, end of run); srd::kNever if nothing.
  Nanos next_deadline() const noexcept;
  // Every request completed or failed, connections closed (or given up).
  bool finished() const noexcept { return phase_ == Phase::kDone; }
  // Stop sending now (SIGINT): drain, then close.
  void stop(Nanos now);
  // Called once, just before the generator closes its connections (which
  // discards their statistics): the last moment to read them.
  void on_before_close(std::function<void()> f) { before_close_ = std::move(f); }

  // Worker thread; any thread for the counters and histogram (single writer).
  const GenCounters& counters() const noexcept { return c_; }
  const telemetry::Histogram& rtt() const noexcept { return rtt_; }
  Nanos measure_start_ns() const noexcept { return measure_start_; }
  Nanos measure_end_ns() const noexcept { return measure_end_; }
  // Connection handles (worker thread only), for per-path statistics.
  std::vector<srd::ConnId> connections() const;
  // Failure reasons seen, with counts (worker thread, after the run).
  const std::array<std::uint64_t, 5>& failures_by_reason() const noexcept { return fail_reasons_; }
  // Connection slots left without a connection for good: could not open one,
  // failed with reconnect off, or gave up reconnecting (worker thread).
  std::uint32_t connections_lost() const noexcept;
  std::string last_failure() const { return last_failure_; }
  const GenConfig& config() const noexcept { return cfg_; }

 private:
  struct Slot;
  struct Conn;
  struct Pending;
  enum class Phase : std::uint8_t { kIdle, kRunning, kDraining, kClosing, kDone };

  Conn* find(srd::ConnId id) noexcept;
  bool send_one(std::uint32_t ci, Nanos now);
  bool issue(std::uint32_t ci, std::uint32_t len, std::uint32_t reply, Nanos t_send);
  bool reconnecting() const noexcept;
  void on_conn_failed(Conn& c, const srd::Event& ev, Nanos now);
  void reissue(std::uint32_t ci);
  void reconnect_due(Nanos now);
  void check_replies(Nanos now);
  Nanos reply_check_due() const noexcept {
    return cfg_.reconnect && cfg_.reply_timeout_ns != 0 && in_flight_total_ != 0 ? next_reply_check_ : srd::kNever;
  }
  void fail_pending(Conn& c);
  void complete(Conn& c, Slot& s, Nanos now);
  void fail_slot(Conn& c, Slot& s);
  void maybe_free(Conn& c, std::uint32_t slot_index);
  void enter_draining(Nanos now);
  void check_progress(Nanos now);
  std::uint32_t reply_len_for_request();

  GenConfig cfg_;
  srd::Endpoint& ep_;
  Rng rng_;
  GenCounters c_;
  telemetry::Histogram rtt_;
  std::vector<Conn> conns_;
  std::unordered_map<srd::ConnId, std::uint32_t> index_;  // filled at start()
  std::vector<std::uint32_t> ready_;  // closed loop: connections with room
  std::uint32_t slots_per_conn_ = 0;  // power of two
  std::uint32_t rr_ = 0;              // open loop: next connection
  Phase phase_ = Phase::kIdle;
  Nanos start_ = 0, end_ = 0, measure_start_ = 0, measure_end_ = 0, drain_deadline_ = 0;
  Nanos next_send_ = 0;
  double interval_ns_ = 0;
  std::uint64_t in_flight_total_ = 0;
  std::uint32_t live_conns_ = 0;
  Nanos next_retry_ = srd::kNever;         // earliest reconnect due
  Nanos next_reply_check_ = 0;             // check_replies() due
  std::uint32_t conns_pending_ = 0;        // connected slots with requests left to re-issue
  bool open_blocked_ = false;              // open loop: the last poll found no connection with room
  std::array<std::uint64_t, 5> fail_reasons_{};
  std::string last_failure_;
  std::function<void()> before_close_;
};

}  // namespace spray::traffic
