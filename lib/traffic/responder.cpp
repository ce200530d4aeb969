// SPDX-License-Identifier: BSD-3-Clause
#include "traffic/responder.h"

#include <algorithm>

namespace spray::traffic {

// Exactly-once bookkeeping for one connection: a sliding bitmap of sequence
// numbers above the lowest one not yet seen.
struct Responder::Conn {
  std::uint32_t key = 0;        // generator's connection number, from the first request
  bool keyed = false;
  std::uint32_t base = 0;       // every seq below has been received
  std::uint64_t received = 0;
  std::uint32_t highest = 0;    // highest seq + 1 seen
  std::vector<std::uint64_t> bits;  // bit i: base + i seen; grows with the reorder span

  // false if `seq` was seen before.
  bool mark(std::uint32_t seq) {
    if (seq < base) return false;
    const std::uint32_t off = seq - base;
    if (off / 64 >= bits.size()) bits.resize(off / 64 + 1, 0);
    std::uint64_t& w = bits[off / 64];
    const std::uint64_t m = std::uint64_t{1} << (off % 64);
    if (w & m) return false;
    w |= m;
    ++received;
    highest = std::max(highest, seq + 1);
    // Slide past full words so the bitmap stays as small as the reordering.
    std::size_t full = 0;
    while (full < bits.size() && bits[full] == ~std::uint64_t{0}) ++full;
    if (full) {
      bits.erase(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(full));
      base += static_cast<std::uint32_t>(full * 64);
    }
    return true;
  }
};

struct Responder::Reply {
  std::vector<std::uint8_t> buf;
  std::uint32_t len = 0;
  srd::ConnId conn = srd::kNoConn;
};

Responder::Responder(const RespondConfig& cfg, srd::Endpoint& ep) : cfg_(cfg), ep_(ep) { ep_.listen(true); }

Responder::~Responder() = default;

void Responder::close_conn(srd::ConnId id, bool closed_by_peer) {
  const auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (closed_by_peer) {
    // A graceful close means the generator had every request acknowledged:
    // whatever we never saw below its highest sequence number is missing.
    const std::uint64_t expected = it->second.highest;
    if (expected > it->second.received) v_.missing.add(expected - it->second.received);
  }
  conns_.erase(it);
}

void Responder::on_event(const srd::Event& ev, Nanos) {
  using srd::EventKind;
  switch (ev.kind) {
    case EventKind::kAccepted:
      conns_.try_emplace(ev.conn);
      c_.conns_accepted.add();
      break;
    case EventKind::kClosed:
      c_.conns_closed.add();
      close_conn(ev.conn, ev.reason == srd::FailReason::kNone || ev.reason == srd::FailReason::kClosed);
      break;
    case EventKind::kConnectionFailed:
      c_.conns_failed.add();
      if (ev.reason == srd::FailReason::kUnresponsive) c_.conns_failed_unresponsive.add();
      if (ev.reason == srd::FailReason::kReset) c_.conns_failed_reset.add();
      last_failure_ = srd::failure_text(ev.reason, ev.hint);
      close_conn(ev.conn, false);
      break;
    case EventKind::kMessage: {
      auto it = conns_.find(ev.conn);
      if (it == conns_.end()) it = conns_.try_emplace(ev.conn).first;
      on_request(it->second, ev);
      ep_.release(ev.msg);
      break;
    }
    case EventKind::kDelivered:
    case EventKind::kSendFailed: {
      const auto idx = static_cast<std::uint32_t>(ev.tag);
      if (idx < replies_.size()) free_replies_.push_back(idx);
      break;
    }
    default:
      break;
  }
}

void Responder::on_request(Conn& c, const srd::Event& ev) {
  const auto data = ev.msg.data;
  c_.requests.add();
  c_.request_bytes.add(data.size());
  if (data.size() < kAppHeaderLen) {
    v_.bad_header.add();
    return;
  }
  const AppHeader h = AppHeader::load(data.data());
  if (h.magic != kMagicRequest) {
    v_.bad_header.add();
    return;
  }
  if (!check_pattern(data, h)) {
    v_.bad_pattern.add();
    return;
  }
  if (!c.keyed) {
    c.key = h.conn_key;
    c.keyed = true;
  }
  if (!c.mark(h.seq)) {
    v_.duplicate.add();
    return;
  }
  std::uint32_t len = h.reply_len;
  if (len == kReplyDefault) {
    len = cfg_.reply_size == kEcho ? static_cast<std::uint32_t>(data.size()) : cfg_.reply_size;
    if (len < kAppHeaderLen) len = kAppHeaderLen;
  } else if (len == 0) {
    return;  // ack only: the transport's acknowledgement is the answer
  } else if (len > cfg_.max_reply_bytes) {
    v_.bad_reply_size.add();
    return;
  } else if (len < kAppHeaderLen) {
    len = kAppHeaderLen;
  }
  std::uint32_t idx;
  if (!free_replies_.empty()) {
    idx = free_replies_.back();
    free_replies_.pop_back();
  } else {
    idx = static_cast<std::uint32_t>(replies_.size());
    replies_.emplace_back();
  }
  Reply& r = replies_[idx];
  if (r.buf.size() < len) r.buf.resize(len);
  r.len = len;
  r.conn = ev.conn;
  fill_message(std::span<std::uint8_t>(r.buf.data(), len), AppHeader{kMagicReply, h.conn_key, h.seq, len});
  if (!send_reply(idx)) backlog_.push_back(idx);
}

bool Responder::send_reply(std::uint32_t idx) {
  Reply& r = replies_[idx];
  const srd::SendStatus st =
      ep_.send(r.conn, std::span<const std::uint8_t>(r.buf.data(), r.len), std::uint64_t{idx});
  if (st == srd::SendStatus::kOk) {
    c_.replies.add();
    c_.reply_bytes.add(r.len);
    return true;
  }
  if (st == srd::SendStatus::kQueueFull) {
    c_.reply_backlog.add();
    return false;
  }
  free_replies_.push_back(idx);  // connection gone: nobody to answer
  return true;
}

unsigned Responder::poll(Nanos) {
  unsigned sent = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < backlog_.size(); ++i) {
    if (send_reply(backlog_[i]))
      ++sent;
    else
      backlog_[kept++] = backlog_[i];
  }
  backlog_.resize(kept);
  return sent;
}

}  // namespace spray::traffic
