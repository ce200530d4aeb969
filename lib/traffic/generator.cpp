// SPDX-License-Identifier: BSD-3-Clause
#include "traffic/generator.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace spray::traffic {

struct Generator::Slot {
  std::vector<std::uint8_t> buf;  // grown once to the largest request size
  Nanos t_send = 0;
  std::uint32_t seq = 0;
  std::uint32_t req_len = 0;
  std::uint32_t reply_len = 0;  // asked for; kReplyDefault: the responder chooses
  bool busy = false;
  bool delivered = false;  // the transport acknowledged every byte
  bool done = false;       // completed (reply in, or delivered when no reply)
  Nanos delivered_ns = 0;  // when the transport acknowledged it
};

// A request of a failed connection, waiting for a replacement to re-issue it.
struct Generator::Pending {
  std::uint32_t req_len = 0;
  std::uint32_t reply_len = 0;
  Nanos t_send = 0;  // first send: the round trip counts from there
};

struct Generator::Conn {
  srd::ConnId id = srd::kNoConn;  // kNoConn while waiting to reconnect
  std::uint32_t next_seq = 0;
  std::uint32_t inflight = 0;  // sent, not yet completed or failed
  bool up = false;
  bool dead = false;
  bool closed = false;
  bool in_ready = false;
  bool replacement = false;       // id is a reconnect, not yet established
  Nanos retry_at = srd::kNever;   // when to open a replacement
  Nanos backoff_ns = 0;           // the wait after the next failure
  Nanos down_since = 0;           // first failure since the last working connection
  std::vector<Slot> slots;
  std::vector<Pending> pending;   // oldest first; counted in `inflight`
};

std::string GenConfig::validate() const {
  if (connections == 0 || connections > 65536)
    return "--connections " + std::to_string(connections) + ": expected 1..65536";
  if (load == LoadMode::kClosed && (outstanding == 0 || outstanding > 4096))
    return "--outstanding " + std::to_string(outstanding) + ": expected 1..4096";
  if (load == LoadMode::kOpen && !(rate_msgs_per_s > 0 && rate_msgs_per_s <= 1e9))
    return "--rate: expected a positive rate up to 1e9 messages/s";
  if (duration_ns == 0 && count == 0) return "give --duration or --count (or both)";
  if (reconnect && (reconnect_min_ns == 0 || reconnect_max_ns < reconnect_min_ns))
    return "reconnect backoff " + std::to_string(reconnect_min_ns) + ".." + std::to_string(reconnect_max_ns) +
           " ns: expected 0 < min <= max";
  if (request.min() < kMinMessageLen)
    return "--size " + request.text() + ": messages carry a 16-byte header, so at least 16 bytes";
  const double buffers = double(connections) * std::bit_ceil(inflight_limit() * 2u) * request.max();
  if (buffers > 4.0 * (1ull << 30))
    return "request buffers would take " + std::to_string(std::llround(buffers / (1 << 20))) +
           " MiB (connections x in-flight x largest request); lower --connections, "
           "--outstanding or the message size";
  return {};
}

Generator::Generator(const GenConfig& cfg, srd::Endpoint& ep) : cfg_(cfg), ep_(ep), rng_(cfg.seed) {
  slots_per_conn_ = std::bit_ceil(std::max<std::uint32_t>(4, cfg_.inflight_limit() * 2));
  conns_.resize(cfg_.connections);
  for (auto& c : conns_) {
    c.slots.resize(slots_per_conn_);
    c.backoff_ns = cfg_.reconnect_min_ns;
  }
  ready_.reserve(cfg_.connections * std::size_t{cfg_.outstanding});
  if (cfg_.load == LoadMode::kOpen) interval_ns_ = 1e9 / cfg_.rate_msgs_per_s;
}

Generator::~Generator() = default;

Generator::Conn* Generator::find(srd::ConnId id) noexcept {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &conns_[it->second];
}

std::uint32_t Generator::connections_lost() const noexcept {
  std::uint32_t n = 0;
  for (const auto& c : conns_) n += c.dead;
  return n;
}

std::vector<srd::ConnId> Generator::connections() const {
  std::vector<srd::ConnId> ids;
  for (const auto& c : conns_)
    if (c.id != srd::kNoConn) ids.push_back(c.id);
  return ids;
}

void Generator::start(Nanos now) {
  start_ = now;
  measure_start_ = now + cfg_.warmup_ns;
  end_ = cfg_.duration_ns ? now + cfg_.warmup_ns + cfg_.duration_ns : srd::kNever;
  next_send_ = now;
  for (auto& c : conns_) {
    c.id = ep_.connect(cfg_.peer);
    if (c.id != srd::kNoConn) index_.emplace(c.id, static_cast<std::uint32_t>(&c - conns_.data()));
    if (c.id == srd::kNoConn) {
      c.dead = true;
      c_.conn_failed.add();
      last_failure_ = "connection table full";
    } else {
      ++live_conns_;
    }
  }
  phase_ = live_conns_ ? Phase::kRunning : Phase::kDone;
}

std::uint32_t Generator::reply_len_for_request() {
  return cfg_.reply ? cfg_.reply->sample(rng_) : kReplyDefault;
}

bool Generator::issue(std::uint32_t ci, std::uint32_t len, std::uint32_t reply, Nanos t_send) {
  Conn& c = conns_[ci];
  const std::uint32_t idx = c.next_seq & (slots_per_conn_ - 1);
  Slot& s = c.slots[idx];
  if (s.busy) {
    // A request from far back is still in flight (being recovered): wait.
    c_.window_full.add();
    return false;
  }
  if (s.buf.size() < len) s.buf.resize(cfg_.request.max());
  const std::span<std::uint8_t> msg(s.buf.data(), len);
  // The pattern follows the message number on this connection, so a
  // re-issued request is regenerated for its new number.
  fill_message(msg, AppHeader{kMagicRequest, ci, c.next_seq, reply});
  const std::uint64_t tag = (std::uint64_t{ci} << 32) | idx;
  const srd::SendStatus st = ep_.send(c.id, std::span<const std::uint8_t>(msg), tag);
  if (st != srd::SendStatus::kOk) {
    c_.window_full.add();
    return false;
  }
  s.busy = true;
  s.delivered = false;
  s.done = false;
  s.seq = c.next_seq;
  s.req_len = len;
  s.reply_len = reply;
  s.t_send = t_send;
  ++c.next_seq;
  return true;
}

bool Generator::send_one(std::uint32_t ci, Nanos now) {
  // Sampled before knowing whether the send goes out, as before: a refused
  // send draws again next time (the sequence of sizes is what the seed gives).
  const std::uint32_t len = cfg_.request.sample(rng_);
  const std::uint32_t reply = reply_len_for_request();
  if (!issue(ci, len, reply, now)) return false;
  Conn& c = conns_[ci];
  ++c.inflight;
  ++in_flight_total_;
  c_.sent.add();
  return true;
}

bool Generator::reconnecting() const noexcept {
  return cfg_.reconnect && (phase_ == Phase::kRunning || phase_ == Phase::kDraining);
}

void Generator::reissue(std::uint32_t ci) {
  Conn& c = conns_[ci];
  std::size_t n = 0;
  while (n < c.pending.size()) {
    const Pending& p = c.pending[n];
    if (!issue(ci, p.req_len, p.reply_len, p.t_send)) break;
    c_.reissued.add();
    ++n;
  }
  const bool had = !c.pending.empty();
  c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<std::ptrdiff_t>(n));
  if (had && c.pending.empty()) {
    --conns_pending_;
    open_blocked_ = false;
    if (cfg_.load == LoadMode::kClosed && !c.in_ready && c.inflight < cfg_.outstanding) {
      c.in_ready = true;
      ready_.push_back(ci);
    }
  }
}

void Generator::fail_pending(Conn& c) {
  const auto n = c.pending.size();
  if (n == 0) return;
  if (c.up) --conns_pending_;
  c_.failed.add(n);
  c.inflight -= static_cast<std::uint32_t>(n);
  in_flight_total_ -= n;
  c.pending.clear();
}

void Generator::on_conn_failed(Conn& c, const srd::Event& ev, Nanos now) {
  c_.conn_failed.add();
  switch (ev.reason) {
    case srd::FailReason::kUnreachable: c_.conn_failed_unreachable.add(); break;
    case srd::FailReason::kUnresponsive: c_.conn_failed_unresponsive.add(); break;
    case srd::FailReason::kReset: c_.conn_failed_reset.add(); break;
    default: break;
  }
  fail_reasons_[static_cast<std::size_t>(ev.reason) % fail_reasons_.size()]++;
  last_failure_ = srd::failure_text(ev.reason, ev.hint);
  if (!reconnecting()) {
    c.dead = true;
    --live_conns_;
    // Whatever was still in flight on it will never complete.
    for (auto& s : c.slots) {
      if (s.busy) fail_slot(c, s);
      s.busy = false;
    }
    fail_pending(c);
    return;
  }
  // Keep what never completed, oldest first, ahead of anything still
  // waiting from an earlier failure (those were issued later).
  std::vector<Pending> keep;
  keep.reserve(c.inflight);
  std::vector<const Slot*> open;
  for (const auto& s : c.slots)
    if (s.busy && !s.done) open.push_back(&s);
  // Distance below next_seq orders them even across a wrap of the numbers.
  std::sort(open.begin(), open.end(),
            [&](const Slot* a, const Slot* b) { return c.next_seq - a->seq > c.next_seq - b->seq; });
  for (const Slot* s : open) keep.push_back(Pending{s->req_len, s->reply_len, s->t_send});
  if (c.up && !c.pending.empty()) --conns_pending_;
  keep.insert(keep.end(), c.pending.begin(), c.pending.end());
  c.pending = std::move(keep);
  for (auto& s : c.slots) s.busy = s.delivered = s.done = false;
  index_.erase(c.id);
  c.id = srd::kNoConn;
  c.up = false;
  c.replacement = false;
  c.next_seq = 0;  // a new connection numbers its messages from 0
  if (c.down_since == 0) c.down_since = now;
  c.retry_at = now + c.backoff_ns;
  c.backoff_ns = std::min(c.backoff_ns * 2, cfg_.reconnect_max_ns);
  next_retry_ = std::min(next_retry_, c.retry_at);
}

// A request the transport delivered but the responder never answered: the
// responder went away between the two (a restart after it acknowledged the
// request). The connection itself may have nothing outstanding and so never
// time out; it is replaced, and the request re-issued, like a failed one.
void Generator::check_replies(Nanos now) {
  next_reply_check_ = now + std::max<Nanos>(cfg_.reply_timeout_ns / 4, 1'000'000);
  for (auto& c : conns_) {
    if (c.dead || c.closed || !c.up || c.id == srd::kNoConn) continue;
    bool stale = false;
    for (const auto& s : c.slots)
      stale |= s.busy && s.delivered && !s.done && now - s.delivered_ns >= cfg_.reply_timeout_ns;
    if (!stale) continue;
    const srd::ConnId old = c.id;
    srd::Event ev;
    ev.kind = srd::EventKind::kConnectionFailed;
    ev.conn = old;
    ev.peer = cfg_.peer;
    ev.reason = srd::FailReason::kUnresponsive;
    ev.hint = "a request was acknowledged but never answered (did the responder restart?)";
    on_conn_failed(c, ev, now);
    ep_.abort(old);
  }
}

void Generator::reconnect_due(Nanos now) {
  if (now < next_retry_) return;
  next_retry_ = srd::kNever;
  for (auto& c : conns_) {
    if (c.dead || c.id != srd::kNoConn || c.retry_at == srd::kNever) continue;
    if (c.retry_at <= now) {
      if (now - c.down_since >= cfg_.reconnect_give_up_ns) {
        c.dead = true;
        c.retry_at = srd::kNever;
        --live_conns_;
        fail_pending(c);
        last_failure_ += "; no working connection for " +
                         std::to_string((now - c.down_since) / 1'000'000'000) + " s, gave up reconnecting";
        continue;
      }
      c.id = ep_.connect(cfg_.peer);
      if (c.id != srd::kNoConn) {
        index_.emplace(c.id, static_cast<std::uint32_t>(&c - conns_.data()));
        c.replacement = true;
        c.retry_at = srd::kNever;
        continue;
      }
      c.retry_at = now + c.backoff_ns;  // connection table full: try later
      c.backoff_ns = std::min(c.backoff_ns * 2, cfg_.reconnect_max_ns);
    }
    next_retry_ = std::min(next_retry_, c.retry_at);
  }
}

unsigned Generator::poll(Nanos now) {
  if (phase_ == Phase::kRunning) {
    if (now >= end_ || (cfg_.count && c_.sent.read() >= cfg_.count)) enter_draining(now);
  }
  if (reconnecting()) {
    reconnect_due(now);
    if (now >= reply_check_due()) check_replies(now);
    if (conns_pending_)
      for (std::uint32_t ci = 0; ci < conns_.size(); ++ci)
        if (conns_[ci].up && !conns_[ci].pending.empty()) reissue(ci);
  }
  unsigned sent = 0;
  if (phase_ == Phase::kRunning) {
    const bool capped = cfg_.count != 0;
    if (cfg_.load == LoadMode::kClosed) {
      // Bounded per call so one poll never starves the receive path.
      while (!ready_.empty() && sent < 64) {
        if (capped && c_.sent.read() >= cfg_.count) break;
        const std::uint32_t ci = ready_.back();
        Conn& c = conns_[ci];
        if (c.dead || !c.up || !c.pending.empty() || c.inflight >= cfg_.outstanding) {
          ready_.pop_back();
          c.in_ready = false;
          continue;
        }
        if (!send_one(ci, now)) {
          ready_.pop_back();
          c.in_ready = false;
          continue;
        }
        ++sent;
        if (c.inflight >= cfg_.outstanding) {
          ready_.pop_back();
          c.in_ready = false;
        }
      }
    } else {
      if (now > next_send_ + 10'000'000) {
        // More than 10 ms behind (the link or the core cannot keep up):
        // skip ahead rather than burst, and count what was skipped.
        c_.late_sends.add(static_cast<std::uint64_t>((now - next_send_) / std::max(interval_ns_, 1.0)));
        next_send_ = now;
      }
      open_blocked_ = false;
      while (next_send_ <= now && sent < 64) {
        if (capped && c_.sent.read() >= cfg_.count) break;
        bool ok = false;
        for (std::uint32_t tries = 0; tries < conns_.size() && !ok; ++tries) {
          const std::uint32_t ci = rr_;
          rr_ = rr_ + 1 == conns_.size() ? 0 : rr_ + 1;
          Conn& c = conns_[ci];
          if (c.dead || !c.up || !c.pending.empty() || c.inflight >= cfg_.max_inflight) continue;
          ok = send_one(ci, now);
        }
        if (!ok) {
          // No connection can take it (all down or full): only an event
          // changes that, so the schedule is no deadline until one comes.
          open_blocked_ = true;
          break;
        }
        if (now - next_send_ > 100'000) c_.late_sends.add();
        next_send_ += static_cast<Nanos>(cfg_.poisson ? rng_.exponential(interval_ns_) : interval_ns_);
        ++sent;
      }
    }
  }
  check_progress(now);
  return sent;
}

Nanos Generator::next_deadline() const noexcept {
  switch (phase_) {
    case Phase::kRunning: {
      Nanos d = std::min({end_, next_retry_, reply_check_due()});
      if (cfg_.load == LoadMode::kOpen && !open_blocked_) d = std::min(d, next_send_);
      return d;
    }
    case Phase::kDraining:
      return std::min({drain_deadline_, next_retry_, reply_check_due()});
    case Phase::kClosing:
      return drain_deadline_;
    default:
      return srd::kNever;
  }
}

void Generator::enter_draining(Nanos now) {
  phase_ = Phase::kDraining;
  measure_end_ = now;
  drain_deadline_ = now + cfg_.drain_ns;
}

void Generator::stop(Nanos now) {
  if (phase_ == Phase::kRunning) enter_draining(now);
}

void Generator::check_progress(Nanos now) {
  if (phase_ == Phase::kRunning && live_conns_ == 0) enter_draining(now);
  if (phase_ == Phase::kDraining && (in_flight_total_ == 0 || now >= drain_deadline_ || live_conns_ == 0)) {
    phase_ = Phase::kClosing;
    drain_deadline_ = now + 1'000'000'000;  // a second for CLOSE to complete
    if (before_close_) before_close_();
    for (auto& c : conns_) {
      // Requests still waiting for a replacement connection will not get one.
      fail_pending(c);
      if (c.dead || c.closed) continue;
      if (c.id == srd::kNoConn) {
        c.closed = true;
        c.retry_at = srd::kNever;
        --live_conns_;
      } else {
        ep_.close(c.id);
      }
    }
    next_retry_ = srd::kNever;
  }
  if (phase_ == Phase::kClosing) {
    bool all_closed = true;
    for (const auto& c : conns_) all_closed &= c.dead || c.closed;
    if (all_closed || now >= drain_deadline_) phase_ = Phase::kDone;
  }
}

void Generator::complete(Conn& c, Slot& s, Nanos now) {
  s.done = true;
  --c.inflight;
  --in_flight_total_;
  c_.completed.add();
  if (s.t_send >= measure_start_ && (measure_end_ == 0 || s.t_send < measure_end_)) {
    c_.measured.add();
    c_.tx_bytes.add(s.req_len);
    c_.rx_bytes.add(s.reply_len == kReplyDefault ? 0 : s.reply_len);
    rtt_.record(now - s.t_send);
  }
}

void Generator::fail_slot(Conn& c, Slot& s) {
  if (s.done) return;
  s.done = true;
  c_.failed.add();
  --c.inflight;
  --in_flight_total_;
}

void Generator::maybe_free(Conn& c, std::uint32_t idx) {
  Slot& s = c.slots[idx];
  if (!(s.done && s.delivered)) return;
  s.busy = false;
  if (cfg_.load == LoadMode::kClosed && !c.in_ready && !c.dead && c.inflight < cfg_.outstanding) {
    c.in_ready = true;
    ready_.push_back(static_cast<std::uint32_t>(&c - conns_.data()));
  }
}

void Generator::on_event(const srd::Event& ev, Nanos now) {
  using srd::EventKind;
  open_blocked_ = false;
  switch (ev.kind) {
    case EventKind::kConnected: {
      if (Conn* c = find(ev.conn)) {
        c->up = true;
        c->backoff_ns = cfg_.reconnect_min_ns;
        c->down_since = 0;
        if (c->replacement) {
          c->replacement = false;
          c_.reconnects.add();
        }
        if (!c->pending.empty()) {
          ++conns_pending_;
          reissue(static_cast<std::uint32_t>(c - conns_.data()));
        }
        if (cfg_.load == LoadMode::kClosed && !c->in_ready) {
          c->in_ready = true;
          ready_.push_back(static_cast<std::uint32_t>(c - conns_.data()));
        }
      }
      break;
    }
    case EventKind::kConnectionFailed:
    case EventKind::kClosed: {
      Conn* cp = find(ev.conn);
      if (!cp || cp->dead || cp->closed) break;
      if (ev.kind == EventKind::kConnectionFailed) {
        on_conn_failed(*cp, ev, now);
        break;
      }
      {
        Conn& c = *cp;
        c.closed = true;
        --live_conns_;
        // Whatever was still in flight on it will never complete.
        for (auto& s : c.slots) {
          if (s.busy) fail_slot(c, s);
          s.busy = false;
        }
        fail_pending(c);
      }
      break;
    }
    case EventKind::kDelivered:
    case EventKind::kSendFailed: {
      // tag = connection index << 32 | slot index (see send_one).
      const auto ci = static_cast<std::uint32_t>(ev.tag >> 32);
      const auto idx = static_cast<std::uint32_t>(ev.tag);
      if (ci >= conns_.size() || idx >= slots_per_conn_) break;
      Conn& c = conns_[ci];
      Slot& s = c.slots[idx];
      if (!s.busy) break;
      if (ev.kind == EventKind::kSendFailed && reconnecting() && ev.reason != srd::FailReason::kClosed) {
        // The connection is failing (its kConnectionFailed follows): the
        // transport let go of the bytes; the request waits for a replacement.
        s.delivered = true;
        break;
      }
      if (ev.kind == EventKind::kSendFailed) {
        if (!s.done) last_failure_ = std::string("message failed: ") + srd::to_string(ev.reason);
        fail_slot(c, s);
      } else if (s.reply_len == 0 && !s.done) {
        complete(c, s, now);
      }
      s.delivered = true;
      s.delivered_ns = now;
      maybe_free(c, idx);
      break;
    }
    case EventKind::kMessage: {
      const auto data = ev.msg.data;
      bool ok = data.size() >= kAppHeaderLen;
      AppHeader h;
      if (ok) {
        h = AppHeader::load(data.data());
        ok = h.magic == kMagicReply && h.conn_key < conns_.size() && h.reply_len == data.size();
      }
      if (!ok) {
        c_.bad_reply.add();
        ep_.release(ev.msg);
        break;
      }
      Conn& c = conns_[h.conn_key];
      const std::uint32_t idx = h.seq & (slots_per_conn_ - 1);
      Slot& s = c.slots[idx];
      if (c.id != ev.conn || !s.busy || s.done || s.seq != h.seq || s.reply_len == 0) {
        c_.unexpected_reply.add();
      } else if ((s.reply_len != kReplyDefault && data.size() != s.reply_len) || !check_pattern(data, h)) {
        c_.bad_reply.add();
      } else {
        if (s.reply_len == kReplyDefault) s.reply_len = static_cast<std::uint32_t>(data.size());
        complete(c, s, now);
        maybe_free(c, idx);
      }
      ep_.release(ev.msg);
      break;
    }
    default:
      break;
  }
  check_progress(now);
}

}  // namespace spray::traffic
