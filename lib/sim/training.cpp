// SPDX-License-Identifier: BSD-3-Clause
#include "training.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "metrics.h"
#include "topology.h"

namespace spray::sim {

void DurationStats::finish() {
  if (ns.empty()) return;
  double sum = 0;
  for (const auto v : ns) sum += static_cast<double>(v);
  mean_ns = sum / static_cast<double>(ns.size());
  p50_ns = quantile(ns, 0.5);
  p99_ns = quantile(ns, 0.99);
  max_ns = *std::max_element(ns.begin(), ns.end());
}

namespace {

enum class Kind : std::uint8_t { kAllReduce, kAllToAll };

struct Send {
  std::uint32_t slot = 0;      // the host's connection to the peer
  std::uint64_t bytes = 0;     // this phase, every iteration
};

struct Phase {
  Kind kind = Kind::kAllReduce;
  std::uint32_t group = 0;
  std::uint32_t groups = 0;
  std::uint64_t unit = 0;      // all-reduce: chunk; all-to-all: bytes per peer
  std::uint32_t steps = 0;     // all-reduce: 2(G-1)
  std::uint64_t bytes = 0;     // every rank's sends, one iteration
};

// What one host does in each phase.
struct HostPlan {
  std::vector<std::uint32_t> peers;        // out connections, by slot
  std::vector<std::uint32_t> in_peers;     // hosts that send to this one
  std::vector<std::vector<Send>> sends;    // by phase
  std::uint32_t left = ~0u;                // ring: the host we receive chunks from
};

std::vector<std::vector<std::uint32_t>> make_groups(std::uint32_t n, std::uint32_t g, Placement pl,
                                                    const char* key) {
  if (g == 0) g = n;
  if (g < 2 || g > n)
    throw std::invalid_argument(std::string(key) + " = '" + std::to_string(g) + "': expected 2.." +
                                std::to_string(n) + " (the fabric's hosts), or 0 for all of them");
  const std::uint32_t count = n / g;
  std::vector<std::vector<std::uint32_t>> out(count);
  for (std::uint32_t k = 0; k < count; ++k)
    for (std::uint32_t i = 0; i < g; ++i) out[k].push_back(pl == Placement::kStrided ? k + i * count : k * g + i);
  return out;
}

class CollectiveApp;

}  // namespace

struct Training::State {
  Sim* sim = nullptr;
  std::vector<std::uint32_t> nodes;
  TrainingConfig cfg;
  std::uint32_t message_bytes = 0;
  std::uint32_t window = 0;
  std::vector<Phase> phases;
  std::vector<HostPlan> plan;
  std::vector<std::uint8_t> payload;     // every message's bytes, read only
  std::vector<CollectiveApp*> apps;
  // Progress.
  std::uint64_t phase_seq = 0;           // collectives started so far
  int phase = -1;                        // running collective, -1: computing
  std::uint32_t iteration = 0;
  Nanos iter_start = 0, phase_start = 0;
  std::uint64_t phase_left = 0;          // bytes of the running collective not yet acknowledged
  bool finished = false, failed = false;
  std::vector<std::uint64_t> step_ns;
  std::vector<std::vector<std::uint64_t>> phase_ns;  // by phase, one per iteration
  std::uint64_t acked = 0, received = 0, messages = 0;
  std::vector<std::uint64_t> msg_ns;

  void start_phase(int p, Nanos now) {
    phase = p;
    phase_start = now;
    phase_left = phases[static_cast<std::size_t>(p)].bytes;
    ++phase_seq;
    for (const std::uint32_t n : nodes) sim->wake(n);
  }
  void start_iteration(Nanos now) {
    phase = -1;
    iter_start = now;
    sim->at(now + cfg.compute_ns, [this](Sim& s) {
      if (!failed) start_phase(0, s.now());
    });
  }
  void phase_done(Nanos now) {
    phase_ns[static_cast<std::size_t>(phase)].push_back(now - phase_start);
    if (static_cast<std::size_t>(phase) + 1 < phases.size()) return start_phase(phase + 1, now);
    step_ns.push_back(now - iter_start);
    if (++iteration == cfg.iterations) {
      phase = -1;
      finished = true;
      return;
    }
    start_iteration(now);
  }
  void acked_bytes(std::uint64_t len, Nanos now) {
    acked += len;
    phase_left -= std::min(phase_left, len);
    if (phase_left == 0 && phase >= 0) phase_done(now);
  }
};

namespace {

// One rank: opens its connections once, and in each collective sends what
// the plan says as messages of message_bytes, `window` outstanding per
// connection; a ring's chunks leave as the left neighbour's arrive.
class CollectiveApp final : public App {
 public:
  CollectiveApp(Training::State& st, std::uint32_t me) : st_(st), plan_(st.plan[me]) {
    slots_.resize(plan_.peers.size());
    for (Slot& s : slots_) {
      s.len.resize(st.window);
      s.t0.resize(st.window);
      for (std::uint32_t w = st.window; w-- > 0;) s.free.push_back(w);
    }
  }

  void on_service(srd::Endpoint& ep, Nanos now) override {
    ep_now_ = now;
    if (!opened_) open(ep);
    srd::Event ev;
    while (ep.poll_event(ev)) handle(ev, now, ep);
    if (st_.phase >= 0 && seen_seq_ != st_.phase_seq) begin_phase();
    if (ready_.empty()) return;
    std::swap(ready_, pumping_);
    for (const std::uint32_t s : pumping_) {
      slots_[s].ready = false;
      pump(ep, s);
    }
    pumping_.clear();
  }
  Nanos next_wake() const noexcept override { return opened_ ? kNever : 0; }

  std::vector<srd::ConnId> conns() const {
    std::vector<srd::ConnId> v;
    for (const Slot& s : slots_) v.push_back(s.conn);
    return v;
  }
  std::uint64_t conn_failures = 0;

 private:
  struct Slot {
    srd::ConnId conn = srd::kNoConn;
    std::uint64_t allowed = 0, submitted = 0;  // cumulative over the job
    std::uint32_t outstanding = 0;
    std::vector<std::uint32_t> len;            // by window slot
    std::vector<Nanos> t0;
    std::vector<std::uint32_t> free;
    bool ready = false;
  };

  void open(srd::Endpoint& ep) {
    opened_ = true;
    ep.listen(true);
    for (std::uint32_t s = 0; s < slots_.size(); ++s) {
      slots_[s].conn = ep.connect(PeerAddr{host_ip(plan_.peers[s]), ep.config().local.port});
      if (slots_[s].conn == srd::kNoConn) return fail();
      by_conn_[slots_[s].conn] = s;
    }
  }
  void fail() {
    st_.failed = true;
    ++conn_failures;
  }
  void mark(std::uint32_t s) {
    if (slots_[s].ready) return;
    slots_[s].ready = true;
    ready_.push_back(s);
  }

  void begin_phase() {
    seen_seq_ = st_.phase_seq;
    const auto p = static_cast<std::size_t>(st_.phase);
    const Phase& ph = st_.phases[p];
    const std::vector<Send>& sends = plan_.sends[p];
    if (ph.kind == Kind::kAllReduce) {
      if (sends.empty()) return;  // not in a ring
      // Chunks of earlier all-reduces from the left neighbour count as
      // received already: only this one's gate from here.
      ring_base_ = static_cast<std::uint64_t>(rings_done_++) * ph.steps * ph.unit;
      ring_slot_ = sends[0].slot;
      ring_steps_ = ph.steps;
      ring_chunk_ = ph.unit;
      released_ = 0;
      release_ring();
      return;
    }
    for (const Send& s : sends) {
      slots_[s.slot].allowed += s.bytes;
      mark(s.slot);
    }
  }
  // Chunk s leaves once chunk s-1 has arrived from the left.
  void release_ring() {
    while (released_ < ring_steps_ && recv_left_ >= ring_base_ + released_ * ring_chunk_) {
      slots_[ring_slot_].allowed += ring_chunk_;
      ++released_;
      mark(ring_slot_);
    }
  }

  void pump(srd::Endpoint& ep, std::uint32_t si) {
    Slot& s = slots_[si];
    while (!s.free.empty() && s.submitted < s.allowed && !st_.failed) {
      const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(st_.message_bytes, s.allowed - s.submitted));
      const std::uint32_t w = s.free.back();
      const srd::SendStatus r = ep.send(s.conn, std::span<const std::uint8_t>(st_.payload.data(), len),
                                        std::uint64_t{si} << 32 | w);
      if (r == srd::SendStatus::kQueueFull) {
        starved_.push_back(si);
        return;
      }
      if (r != srd::SendStatus::kOk) return fail();
      s.free.pop_back();
      s.len[w] = len;
      s.t0[w] = ep_now_;
      s.submitted += len;
      ++s.outstanding;
      ++st_.messages;
    }
  }

  void handle(const srd::Event& ev, Nanos now, srd::Endpoint& ep) {
    switch (ev.kind) {
      case srd::EventKind::kAccepted:
        in_peer_[ev.conn] = ev.peer.ip;
        break;
      case srd::EventKind::kMessage: {
        const std::uint64_t len = ev.msg.data.size();
        st_.received += len;
        if (plan_.left != ~0u) {
          const auto it = in_peer_.find(ev.conn);
          if (it != in_peer_.end() && it->second == host_ip(plan_.left)) {
            recv_left_ += len;
            if (st_.phase >= 0 && seen_seq_ == st_.phase_seq) release_ring();
          }
        }
        ep.release(ev.msg);
        break;
      }
      case srd::EventKind::kDelivered: {
        const auto si = static_cast<std::uint32_t>(ev.tag >> 32);
        const auto w = static_cast<std::uint32_t>(ev.tag);
        Slot& s = slots_[si];
        --s.outstanding;
        s.free.push_back(w);
        st_.msg_ns.push_back(now - s.t0[w]);
        mark(si);
        for (const std::uint32_t g : starved_) mark(g);
        starved_.clear();
        st_.acked_bytes(s.len[w], now);
        break;
      }
      case srd::EventKind::kSendFailed:
        fail();
        break;
      case srd::EventKind::kConnectionFailed:
        if (by_conn_.count(ev.conn)) fail();
        break;
      default:
        break;
    }
  }

  Training::State& st_;
  const HostPlan& plan_;
  std::vector<Slot> slots_;
  std::unordered_map<srd::ConnId, std::uint32_t> by_conn_;   // ours -> slot
  std::unordered_map<srd::ConnId, std::uint32_t> in_peer_;   // accepted -> peer ip
  std::vector<std::uint32_t> ready_, pumping_, starved_;
  bool opened_ = false;
  std::uint64_t seen_seq_ = 0;
  Nanos ep_now_ = 0;
  // Ring all-reduce.
  std::uint64_t recv_left_ = 0;  // from the left neighbour, over the whole job
  std::uint64_t ring_base_ = 0;
  std::uint32_t rings_done_ = 0;
  std::uint32_t ring_slot_ = 0, ring_steps_ = 0, released_ = 0;
  std::uint64_t ring_chunk_ = 0;
};

}  // namespace

Training::Training(Sim& sim, std::vector<std::uint32_t> host_nodes, const TrainingConfig& cfg,
                   std::uint32_t message_bytes, std::uint32_t window)
    : st_(std::make_unique<State>()) {
  State& st = *st_;
  st.sim = &sim;
  st.nodes = std::move(host_nodes);
  st.cfg = cfg;
  st.message_bytes = message_bytes;
  st.window = window;
  st.payload.assign(message_bytes, 0x5a);
  const auto n = static_cast<std::uint32_t>(st.nodes.size());
  if (cfg.allreduce_bytes == 0 && cfg.alltoall_bytes == 0)
    throw std::invalid_argument(
        "training.allreduce_bytes = '0' and training.alltoall_bytes = '0': expected at least one collective");
  st.plan.resize(n);
  std::vector<std::unordered_map<std::uint32_t, std::uint32_t>> slot_of(n);
  auto slot = [&](std::uint32_t from, std::uint32_t to) {
    const auto [it, added] = slot_of[from].try_emplace(to, static_cast<std::uint32_t>(st.plan[from].peers.size()));
    if (added) {
      st.plan[from].peers.push_back(to);
      st.plan[to].in_peers.push_back(from);
    }
    return it->second;
  };
  auto add_phase = [&](Kind kind, std::uint64_t bytes, std::uint32_t group, const char* key) {
    Phase ph;
    ph.kind = kind;
    const auto groups = make_groups(n, group, cfg.placement, key);
    ph.groups = static_cast<std::uint32_t>(groups.size());
    ph.group = static_cast<std::uint32_t>(groups[0].size());
    const std::uint32_t g = ph.group;
    ph.unit = (bytes + g - 1) / g;
    const std::size_t p = st.phases.size();
    for (HostPlan& hp : st.plan) hp.sends.emplace_back();
    for (const auto& members : groups)
      for (std::uint32_t i = 0; i < g; ++i) {
        const std::uint32_t me = members[i];
        if (kind == Kind::kAllReduce) {
          ph.steps = 2 * (g - 1);
          const std::uint32_t right = members[(i + 1) % g];
          st.plan[me].sends[p].push_back({slot(me, right), ph.unit * ph.steps});
          st.plan[me].left = members[(i + g - 1) % g];
          ph.bytes += ph.unit * ph.steps;
        } else {
          for (std::uint32_t j = 1; j < g; ++j) {
            const std::uint32_t peer = members[(i + j) % g];
            st.plan[me].sends[p].push_back({slot(me, peer), ph.unit});
            ph.bytes += ph.unit;
          }
        }
      }
    st.phases.push_back(ph);
  };
  if (cfg.allreduce_bytes) add_phase(Kind::kAllReduce, cfg.allreduce_bytes, cfg.allreduce_group, "training.allreduce_group");
  if (cfg.alltoall_bytes) add_phase(Kind::kAllToAll, cfg.alltoall_bytes, cfg.alltoall_group, "training.alltoall_group");
  st.phase_ns.resize(st.phases.size());
  st.apps.resize(n, nullptr);
}

Training::~Training() = default;

std::uint32_t Training::out_peers(std::uint32_t h) const noexcept {
  return static_cast<std::uint32_t>(st_->plan[h].peers.size());
}
std::uint32_t Training::in_peers(std::uint32_t h) const noexcept {
  return static_cast<std::uint32_t>(st_->plan[h].in_peers.size());
}

std::unique_ptr<App> Training::make_app(std::uint32_t h) {
  auto app = std::make_unique<CollectiveApp>(*st_, h);
  st_->apps[h] = app.get();
  return app;
}

void Training::start() { st_->start_iteration(st_->sim->now()); }

bool Training::done() const noexcept { return st_->finished || st_->failed; }
std::uint32_t Training::iterations_done() const noexcept { return st_->iteration; }
std::uint64_t Training::bytes_acked() const noexcept { return st_->acked; }
std::uint64_t Training::bytes_total() const noexcept {
  std::uint64_t b = 0;
  for (const Phase& p : st_->phases) b += p.bytes;
  return b * st_->cfg.iterations;
}
const std::vector<std::uint64_t>& Training::message_ns() const noexcept { return st_->msg_ns; }

std::vector<srd::ConnId> Training::out_conns(std::uint32_t h) const {
  return st_->apps[h] ? st_->apps[h]->conns() : std::vector<srd::ConnId>{};
}
std::uint64_t Training::conn_failures(std::uint32_t h) const noexcept {
  return st_->apps[h] ? st_->apps[h]->conn_failures : 0;
}

TrainingReport Training::report() const {
  const State& st = *st_;
  TrainingReport r;
  r.enabled = true;
  r.iterations = st.cfg.iterations;
  r.iterations_done = st.iteration;
  r.failed = st.failed;
  r.step.ns = st.step_ns;
  r.step.finish();
  for (std::size_t p = 0; p < st.phases.size(); ++p) {
    const Phase& ph = st.phases[p];
    TrainingReport::Collective c;
    c.name = ph.kind == Kind::kAllReduce ? "allreduce" : "alltoall";
    c.group = ph.group;
    c.groups = ph.groups;
    c.bytes_per_iteration = ph.bytes;
    c.time.ns = st.phase_ns[p];
    c.time.finish();
    r.collectives.push_back(std::move(c));
    r.bytes_expected += ph.bytes * st.cfg.iterations;
  }
  r.bytes_acked = st.acked;
  r.bytes_received = st.received;
  r.messages = st.messages;
  return r;
}

}  // namespace spray::sim
