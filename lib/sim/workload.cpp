// SPDX-License-Identifier: BSD-3-Clause
#include "workload.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace spray::sim {
namespace {

constexpr std::uint32_t kMagic = 0x53505259;  // "SPRY"

constexpr std::uint64_t kStep = 0x9e3779b97f4a7c15ULL;

// Word k of a message body is base + k * kStep, base derived from (sender,
// seq): distinct per (message, offset), so a segment placed in the wrong
// message or at the wrong offset fails the check. Each word is the previous
// one plus a constant, so the loops below make the expected words as
// running sums, two per 128-bit vector (GCC/Clang vector extensions, SSE2 on
// x86-64): every byte is still written and checked, with a few instructions
// per 16 bytes.
using U64x2 = std::uint64_t __attribute__((vector_size(16)));

U64x2 load(const std::uint8_t* p) noexcept {
  U64x2 v;
  std::memcpy(&v, p, 16);
  return v;
}

void store(std::uint8_t* p, U64x2 v) noexcept { std::memcpy(p, &v, 16); }

void fill_body(std::uint8_t* out, std::size_t bytes, std::uint64_t base) noexcept {
  // Words k .. k + 7 of the body, in four vectors (plain variables, so they
  // stay in registers).
  U64x2 w0{base, base + kStep}, w1 = w0 + 2 * kStep, w2 = w0 + 4 * kStep, w3 = w0 + 6 * kStep;
  std::size_t off = 0;
  for (; off + 64 <= bytes; off += 64) {
    store(out + off, w0);
    store(out + off + 16, w1);
    store(out + off + 32, w2);
    store(out + off + 48, w3);
    w0 += 8 * kStep;
    w1 += 8 * kStep;
    w2 += 8 * kStep;
    w3 += 8 * kStep;
  }
  std::uint64_t word = w0[0];
  for (; off + 8 <= bytes; off += 8, word += kStep) std::memcpy(out + off, &word, 8);
  if (off < bytes) std::memcpy(out + off, &word, bytes - off);
}

bool body_ok(const std::uint8_t* in, std::size_t bytes, std::uint64_t base) noexcept {
  U64x2 w0{base, base + kStep}, w1 = w0 + 2 * kStep, w2 = w0 + 4 * kStep, w3 = w0 + 6 * kStep;
  U64x2 diff{0, 0};  // no early exit: intact messages are the common case
  std::size_t off = 0;
  for (; off + 64 <= bytes; off += 64) {
    diff |= ((load(in + off) ^ w0) | (load(in + off + 16) ^ w1)) |
            ((load(in + off + 32) ^ w2) | (load(in + off + 48) ^ w3));
    w0 += 8 * kStep;
    w1 += 8 * kStep;
    w2 += 8 * kStep;
    w3 += 8 * kStep;
  }
  std::uint64_t word = w0[0];
  std::uint64_t rest = diff[0] | diff[1];
  for (; off + 8 <= bytes; off += 8, word += kStep) {
    std::uint64_t got;
    std::memcpy(&got, in + off, 8);
    rest |= got ^ word;
  }
  return rest == 0 && (off == bytes || std::memcmp(in + off, &word, bytes - off) == 0);
}

}  // namespace

void fill_message(std::span<std::uint8_t> out, std::uint32_t sender, std::uint64_t seq) noexcept {
  const auto len = static_cast<std::uint32_t>(out.size());
  std::memcpy(out.data(), &kMagic, 4);
  std::memcpy(out.data() + 4, &sender, 4);
  std::memcpy(out.data() + 8, &seq, 8);
  std::memcpy(out.data() + 16, &len, 4);
  std::memset(out.data() + 20, 0, 4);
  fill_body(out.data() + kMinMessageBytes, out.size() - kMinMessageBytes,
            mix64((std::uint64_t{sender} << 32) ^ seq));
}

bool check_message(std::span<const std::uint8_t> in, std::uint32_t& sender, std::uint64_t& seq) noexcept {
  if (in.size() < kMinMessageBytes) return false;
  std::uint32_t magic, len, pad;
  std::memcpy(&magic, in.data(), 4);
  std::memcpy(&sender, in.data() + 4, 4);
  std::memcpy(&seq, in.data() + 8, 8);
  std::memcpy(&len, in.data() + 16, 4);
  std::memcpy(&pad, in.data() + 20, 4);
  if (magic != kMagic || len != in.size() || pad != 0) return false;
  return body_ok(in.data() + kMinMessageBytes, in.size() - kMinMessageBytes,
                 mix64((std::uint64_t{sender} << 32) ^ seq));
}

// ---- Ledger ----

Ledger::Sender* Ledger::find_sender(std::uint32_t sender) noexcept {
  if (last_index_ == kNoSender || last_id_ != sender) {
    const auto it = sender_index_.find(sender);
    if (it == sender_index_.end()) return nullptr;
    last_id_ = sender;
    last_index_ = it->second;
  }
  return &senders_[last_index_];
}

Ledger::Sender& Ledger::sender_of(std::uint32_t sender) {
  if (Sender* s = find_sender(sender)) return *s;
  last_id_ = sender;
  last_index_ = static_cast<std::uint32_t>(senders_.size());
  sender_index_.emplace(sender, last_index_);
  return senders_.emplace_back();
}

Ledger::Msg& Ledger::entry(std::uint32_t sender, std::uint64_t seq) {
  Sender& s = sender_of(sender);
  const std::size_t have = s.msgs.size();
  Msg* m;
  if (seq < have) {
    m = &s.msgs[seq];
  } else if (seq <= 2 * have + 1024) {
    s.msgs.resize(seq + 1);
    // Entries the array now covers move in from the sparse side.
    for (auto it = sparse_.lower_bound({sender, have}); s.sparse && it != sparse_.end() &&
                                                        it->first.first == sender && it->first.second <= seq;) {
      s.msgs[it->first.second] = it->second;
      it = sparse_.erase(it);
      --s.sparse;
    }
    m = &s.msgs[seq];
  } else {
    const auto [it, added] = sparse_.try_emplace({sender, seq});
    s.sparse += added;
    m = &it->second;
  }
  if (!m->known) {
    m->known = true;
    ++known_;
  }
  return *m;
}

Ledger::Msg* Ledger::find(std::uint32_t sender, std::uint64_t seq) noexcept {
  Sender* s = find_sender(sender);
  if (s == nullptr) return nullptr;
  if (seq < s->msgs.size()) return s->msgs[seq].known ? &s->msgs[seq] : nullptr;
  if (s->sparse == 0) return nullptr;
  const auto it = sparse_.find({sender, seq});
  return it == sparse_.end() ? nullptr : &it->second;
}

template <class F>
void Ledger::for_each(F f) const {
  for (const Sender& s : senders_)
    for (const Msg& m : s.msgs)
      if (m.known) f(m);
  for (const auto& [k, m] : sparse_) f(m);
}

void Ledger::sent(std::uint32_t sender, std::uint64_t seq, Nanos now_ns) {
  entry(sender, seq).sent_ns = now_ns;
}

void Ledger::reported_delivered(std::uint32_t sender, std::uint64_t seq, Nanos) {
  ++delivered_reports_;
  entry(sender, seq).delivered = true;
}

void Ledger::reported_failed(std::uint32_t sender, std::uint64_t seq) {
  ++failed_reports_;
  entry(sender, seq).failed = true;
}

void Ledger::received(std::uint32_t sender, std::uint64_t seq, Nanos now_ns) {
  Msg* m = find(sender, seq);
  if (m == nullptr) {
    ++unknown_;
    return;
  }
  if (m->received++ == 0) {
    ++received_unique_;
    one_way_ns_.add(now_ns - m->sent_ns);
  } else {
    ++duplicates_;
  }
}

std::uint64_t Ledger::delivered_not_received() const {
  std::uint64_t n = 0;
  for_each([&n](const Msg& m) { n += m.delivered && m.received == 0; });
  return n;
}

std::uint64_t Ledger::missing() const {
  std::uint64_t n = 0;
  for_each([&n](const Msg& m) { n += m.received == 0 && !m.failed; });
  return n;
}

// ---- MessageApp ----

MessageApp::MessageApp(MessageAppConfig cfg)
    : cfg_(std::move(cfg)), rng_(cfg_.seed), rx_goodput_(cfg_.goodput_window_ns),
      tx_goodput_(cfg_.goodput_window_ns) {
  for (const FlowSpec& f : cfg_.flows) {
    if (f.msg_bytes < kMinMessageBytes)
      throw std::invalid_argument("FlowSpec.msg_bytes must be >= 24 (the message header)");
    if (f.window == 0) throw std::invalid_argument("FlowSpec.window must be >= 1");
  }
}

std::vector<srd::ConnId> MessageApp::conn_ids() const {
  std::vector<srd::ConnId> v;
  for (const auto& c : conns_) v.push_back(c.id);
  return v;
}

void MessageApp::start(srd::Endpoint& ep, Nanos now_ns) {
  started_ = true;
  if (cfg_.listen) ep.listen(true);
  host_bits_ = (ep.config().local.ip & 0xffffu) << 16;
  for (std::uint32_t fi = 0; fi < cfg_.flows.size(); ++fi) {
    const FlowSpec& f = cfg_.flows[fi];
    for (std::uint32_t k = 0; k < f.conns; ++k) {
      const auto idx = static_cast<std::uint32_t>(conns_.size());
      conns_.emplace_back().sender = host_bits_ | idx;
      state_.emplace_back().flow = fi;
      to_open_.push_back({now_ns + k * f.connect_gap_ns, idx});
    }
  }
  std::stable_sort(to_open_.begin(), to_open_.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
}

void MessageApp::open_due(srd::Endpoint& ep, Nanos now_ns) {
  for (; opened_ < to_open_.size() && to_open_[opened_].first <= now_ns; ++opened_) {
    const std::uint32_t idx = to_open_[opened_].second;
    ConnResult& r = conns_[idx];
    Conn& c = state_[idx];
    const FlowSpec& f = cfg_.flows[c.flow];
    r.id = ep.connect(f.peer);
    if (r.id == srd::kNoConn) {
      r.dead = true;
      failures_.push_back({srd::kNoConn, srd::FailReason::kUnreachable, now_ns, false});
      continue;
    }
    by_id_[r.id] = idx;
    c.buf.resize(std::size_t{f.window} * f.msg_bytes);
    c.slot_t0.resize(f.window);
    c.slot_seq.resize(f.window);
    for (std::uint32_t s = f.window; s-- > 0;) c.free_slots.push_back(s);
    if (f.mean_gap_ns) {
      any_open_loop_ = true;
      arrivals_dirty_ = true;
      c.next_arrival_ns = std::max(now_ns, f.start_ns) +
                          static_cast<Nanos>(-std::log(1.0 - rng_.uniform()) * static_cast<double>(f.mean_gap_ns));
    }
    mark_ready(idx);
  }
}

void MessageApp::mark_ready(std::uint32_t i) {
  if (state_[i].queued_ready) return;
  state_[i].queued_ready = true;
  ready_.push_back(i);
}

bool MessageApp::has_work(const Conn& c, const ConnResult& r) const noexcept {
  if (r.dead) return false;
  const FlowSpec& f = cfg_.flows[c.flow];
  if (f.mean_gap_ns) return !c.arrivals.empty();
  return f.messages == 0 || c.next_seq < f.messages;
}

void MessageApp::on_service(srd::Endpoint& ep, Nanos now_ns) {
  if (!started_) start(ep, now_ns);
  if (opened_ < to_open_.size()) open_due(ep, now_ns);
  srd::Event ev;
  while (ep.poll_event(ev)) handle(ep, ev, now_ns);
  // Open-loop arrivals due by now join their connection's backlog. Until
  // the earliest arrival is due, and no connection or stop time changed,
  // the pass would change nothing: skipped.
  if (any_open_loop_ && (arrivals_dirty_ || now_ns >= next_arrival_min_)) {
    Nanos earliest = kNever;
    for (std::uint32_t i = 0; i < state_.size(); ++i) {
      Conn& c = state_[i];
      const FlowSpec& f = cfg_.flows[c.flow];
      if (!f.mean_gap_ns) continue;
      while (c.next_arrival_ns <= now_ns && c.next_arrival_ns < f.stop_ns) {
        c.arrivals.push_back(c.next_arrival_ns);
        c.next_arrival_ns +=
            1 + static_cast<Nanos>(-std::log(1.0 - rng_.uniform()) * static_cast<double>(f.mean_gap_ns));
        mark_ready(i);
      }
      if (c.next_arrival_ns >= f.stop_ns) c.next_arrival_ns = kNever;
      earliest = std::min(earliest, c.next_arrival_ns);
    }
    next_arrival_min_ = earliest;
    arrivals_dirty_ = false;
  }
  pump(ep, now_ns);
}

Nanos MessageApp::next_wake() const noexcept {
  if (!started_) return 0;
  Nanos t = deferred_start_ns_;
  if (opened_ < to_open_.size()) t = std::min(t, to_open_[opened_].first);
  if (any_open_loop_ && arrivals_dirty_)
    for (const Conn& c : state_) t = std::min(t, c.next_arrival_ns);
  else if (any_open_loop_)
    t = std::min(t, next_arrival_min_);
  return t;
}

void MessageApp::pump(srd::Endpoint& ep, Nanos now_ns) {
  deferred_start_ns_ = kNever;
  if (ready_.empty()) return;  // most polls: nothing became ready
  std::vector<std::uint32_t>& again = retry_;  // kept across calls: no allocation per poll
  again.clear();
  for (std::size_t k = 0; k < ready_.size(); ++k) {
    const std::uint32_t i = ready_[k];
    Conn& c = state_[i];
    ConnResult& r = conns_[i];
    const FlowSpec& f = cfg_.flows[c.flow];
    c.queued_ready = false;
    if (now_ns < f.start_ns) {
      c.queued_ready = true;
      again.push_back(i);
      deferred_start_ns_ = std::min(deferred_start_ns_, f.start_ns);
      continue;
    }
    // Closed loop stops submitting at stop_ns; open-loop arrivals stop there.
    while (!c.free_slots.empty() && has_work(c, r) && (f.mean_gap_ns || now_ns < f.stop_ns)) {
      const std::uint32_t slot = c.free_slots.back();
      std::span<std::uint8_t> msg(c.buf.data() + std::size_t{slot} * f.msg_bytes, f.msg_bytes);
      const std::uint64_t seq = c.next_seq;
      fill_message(msg, r.sender, seq);
      const srd::SendStatus st = ep.send(r.id, msg, (std::uint64_t{i} << 32) | slot);
      if (st == srd::SendStatus::kQueueFull) {
        ++send_rejects_;
        c.queued_ready = true;
        again.push_back(i);
        break;
      }
      if (st != srd::SendStatus::kOk) {
        ++send_rejects_;
        r.dead = true;
        break;
      }
      c.free_slots.pop_back();
      c.slot_seq[slot] = seq;
      if (f.mean_gap_ns) {
        c.slot_t0[slot] = c.arrivals.front();
        c.arrivals.pop_front();
      } else {
        c.slot_t0[slot] = now_ns;
      }
      ++c.next_seq;
      ++c.outstanding;
      ++r.sent_msgs;
      if (cfg_.ledger) cfg_.ledger->sent(r.sender, seq, now_ns);
    }
  }
  ready_.swap(again);
}

void MessageApp::handle(srd::Endpoint& ep, const srd::Event& ev, Nanos now_ns) {
  using K = srd::EventKind;
  const auto mine = [&](srd::ConnId id) -> ConnResult* {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &conns_[it->second];
  };
  switch (ev.kind) {
    case K::kConnected:
      if (ConnResult* r = mine(ev.conn); r && !r->connected) {
        r->connected = true;
        ++connected_;
      }
      break;
    case K::kAccepted:
      ++accepted_;
      accepted_conns_.push_back(ev.conn);
      break;
    case K::kConnectionFailed:
    case K::kClosed: {
      ConnResult* r = mine(ev.conn);
      if (r) r->dead = true;
      if (ev.kind == K::kConnectionFailed) failures_.push_back({ev.conn, ev.reason, now_ns, r == nullptr});
      break;
    }
    case K::kDelivered:
    case K::kSendFailed: {
      const auto i = static_cast<std::uint32_t>(ev.tag >> 32);
      const auto slot = static_cast<std::uint32_t>(ev.tag);
      if (i >= state_.size() || slot >= state_[i].slot_seq.size()) break;
      Conn& c = state_[i];
      ConnResult& r = conns_[i];
      const FlowSpec& f = cfg_.flows[c.flow];
      const std::uint64_t seq = c.slot_seq[slot];
      if (ev.kind == K::kDelivered) {
        ++r.delivered_msgs;
        ++delivered_msgs_;
        r.delivered_bytes += f.msg_bytes;
        tx_goodput_.add(now_ns, f.msg_bytes);
        completion_ns_.add(now_ns - c.slot_t0[slot]);
        completion_samples_.push_back(now_ns - c.slot_t0[slot]);
        if (cfg_.ledger) cfg_.ledger->reported_delivered(r.sender, seq, now_ns);
      } else {
        ++r.failed_msgs;
        if (cfg_.ledger) cfg_.ledger->reported_failed(r.sender, seq);
      }
      --c.outstanding;
      c.free_slots.push_back(slot);
      mark_ready(i);
      break;
    }
    case K::kMessage: {
      std::uint32_t sender = 0;
      std::uint64_t seq = 0;
      if (check_message(ev.msg.data, sender, seq)) {
        ++received_msgs_;
        received_bytes_ += ev.msg.data.size();
        rx_goodput_.add(now_ns, ev.msg.data.size());
        if (cfg_.ledger) cfg_.ledger->received(sender, seq, now_ns);
      } else if (cfg_.ledger) {
        cfg_.ledger->received_corrupt();
      }
      ep.release(ev.msg);
      break;
    }
    case K::kAllPathsImpaired:
      ++all_paths_impaired_;
      break;
  }
}

bool MessageApp::done() const noexcept {
  if (!started_) return cfg_.flows.empty();
  if (opened_ < to_open_.size()) return false;
  for (std::uint32_t i = 0; i < conns_.size(); ++i) {
    const ConnResult& r = conns_[i];
    const FlowSpec& f = cfg_.flows[state_[i].flow];
    if (r.dead) {
      if (state_[i].outstanding) return false;  // failures still to be reported
      continue;
    }
    if (f.messages == 0 || r.delivered_msgs + r.failed_msgs < f.messages) return false;
  }
  return true;
}

// ---- endpoint config ----

srd::EndpointConfig endpoint_config(const Sim& sim, std::uint32_t host_node, std::uint64_t seed,
                                    std::uint64_t link_rate_bps) {
  srd::EndpointConfig c;
  c.local = sim.host(host_node).cfg.addr;
  std::uint64_t x = seed ^ (std::uint64_t{host_node} << 48);
  c.seed = mix64(x);
  c.link_rate_bps = link_rate_bps;
  return c;
}

}  // namespace spray::sim
