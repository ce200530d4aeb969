// SPDX-License-Identifier: BSD-3-Clause
// Internal state of an Endpoint, shared by the files that implement one
// concern each: connection.cpp (handshake, close, reset, failure),
// sender.cpp (segmentation, in-flight records, loss detection, ACK
// processing), receiver.cpp (PSN window, reassembly, ACK generation) and
// endpoint.cpp (dispatch, scheduling, timers, application API).
//
// Memory: every per-packet structure comes from a pool sized at creation
// (in-flight records, message descriptors, receive slots) or at connect
// (the path array). Reassembly buffers come from size-class free lists
// that only call the allocator when a class runs dry, within
// rx_buffer_bytes. Nothing here is touched by more than one thread.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "srd/cc.h"
#include "srd/config.h"
#include "srd/counters.h"
#include "srd/endpoint.h"
#include "srd/flat_index.h"
#include "srd/histograms.h"
#include "srd/paths.h"
#include "srd/rng.h"
#include "srd/timers.h"
#include "srd/types.h"
#include "wire/srd.h"

namespace spray::srd {

inline constexpr std::uint32_t kNil = ~std::uint32_t{0};
// Receive window in packets (UET MPR): bit-per-PSN dedupe.
inline constexpr std::uint32_t kMpr = 4096;
// Messages a connection may have between the oldest undelivered and the
// newest (sender side) / remembered as complete (receiver side).
inline constexpr std::uint32_t kMsgWindow = 4096;
inline constexpr unsigned kSlotBits = 20;
inline constexpr std::uint32_t kSlotMask = (1u << kSlotBits) - 1;
// After a report of host drops, ACKs carry HOST_DROP this long, and a
// sender treats transmissions around a report (its own or its peer's) as
// dropped by a host, not by a path.
inline constexpr Nanos kHostDropHoldNs = 100'000;
// Half-life of the tail probe's floor learned from spurious probes
// (Connection::tlp_slack_ns).
inline constexpr Nanos kTlpSlackHalfLifeNs = 1'000'000'000;


// Sliding bitmap over a 32-bit sequence space: [base, base + kBits).
// Used for the PSN window (dedupe, cum_psn, SACK) and for completed msg_ids.
class SeqWindow {
 public:
  static constexpr std::uint32_t kBits = 4096;
  enum class Mark : std::uint8_t { kNew, kDup, kBelow, kBeyond };

  void reset(std::uint32_t base) noexcept {
    base_ = base;
    bits_.fill(0);
  }
  std::uint32_t base() const noexcept { return base_; }

  Mark classify(std::uint32_t seq) const noexcept {
    const std::uint32_t off = seq - base_;
    if (off >= 0x80000000u) return Mark::kBelow;
    if (off >= kBits) return Mark::kBeyond;
    return test(seq) ? Mark::kDup : Mark::kNew;
  }
  bool test(std::uint32_t seq) const noexcept {
    const std::uint32_t i = seq % kBits;
    return (bits_[i / 64] >> (i % 64)) & 1;
  }
  void set(std::uint32_t seq) noexcept {
    const std::uint32_t i = seq % kBits;
    bits_[i / 64] |= 1ULL << (i % 64);
  }
  // Slides base past the set bits at its front, clearing them; returns how far.
  std::uint32_t advance() noexcept {
    std::uint32_t n = 0;
    for (;;) {
      const std::uint32_t i = base_ % kBits;
      const std::uint64_t w = bits_[i / 64] >> (i % 64);
      const unsigned run = static_cast<unsigned>(std::countr_one(w));
      const unsigned avail = 64 - i % 64;
      const unsigned take = run < avail ? run : avail;
      if (take == 0) return n;
      const std::uint64_t mask = take == 64 ? ~0ULL : ((1ULL << take) - 1) << (i % 64);
      bits_[i / 64] &= ~mask;
      base_ += take;
      n += take;
      if (take < avail) return n;
    }
  }
  // 64 bits starting at base + off (bit k = seq base + off + k).
  std::uint64_t bits_from(std::uint32_t off) const noexcept {
    if (off >= kBits) return 0;
    const std::uint32_t i = (base_ + off) % kBits;
    const std::uint32_t w = i / 64, sh = i % 64;
    std::uint64_t v = bits_[w] >> sh;
    if (sh) v |= bits_[(w + 1) % (kBits / 64)] << (64 - sh);
    // Bits at or past the window end belong to the wrapped-around front.
    const std::uint32_t valid = kBits - off;
    if (valid < 64) v &= (1ULL << valid) - 1;
    return v;
  }

 private:
  std::uint32_t base_ = 0;
  std::array<std::uint64_t, kBits / 64> bits_{};
};

// Simple index pool: a vector of T and a stack of free indices.
template <typename T>
class Pool {
 public:
  explicit Pool(std::size_t n) : items_(n) {
    free_.reserve(n);
    for (std::size_t i = n; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
  }
  std::uint32_t alloc() noexcept {
    if (free_.empty()) return kNil;
    const std::uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  void release(std::uint32_t i) noexcept { free_.push_back(i); }
  T& operator[](std::uint32_t i) noexcept { return items_[i]; }
  const T& operator[](std::uint32_t i) const noexcept { return items_[i]; }
  std::size_t available() const noexcept { return free_.size(); }
  std::size_t capacity() const noexcept { return items_.size(); }

 private:
  std::vector<T> items_;
  std::vector<std::uint32_t> free_;
};

// One transmission unit of the sender (doc/protocol.md section 3, sender per packet).
// Lives in exactly one list of its connection: the in-flight list (in
// transmit order) or the retransmit queue.
// IPv4 and UDP headers (no options) and the DATA header, before the payload.
inline constexpr std::uint32_t kIpUdpSrdDataHdrLen = 20 + 8 + static_cast<std::uint32_t>(wire::kSrdDataHdrLen);

struct TxRec {
  enum Where : std::uint8_t { kFree = 0, kInFlight, kRetxQueue };
  Nanos tx_ns = 0;
  std::uint32_t psn = 0;
  std::uint32_t msg = kNil;
  std::uint32_t msg_off = 0;
  std::uint32_t tx_seq = 0;   // connection-wide transmit order (RACK)
  // Low 32 bits of the first transmission's time, where loss-recovery
  // latency starts (a packet older than 4.29 s has failed its connection);
  // 32 bits keep the record at 48 bytes.
  std::uint32_t first_tx_lo = 0;
  std::uint32_t prev = kNil, next = kNil;
  std::uint16_t len = 0;
  std::uint16_t path = 0;
  std::uint16_t prev_path = 0;  // path of the previous transmission
  std::uint8_t attempt = 0;
  Where where = kFree;
  RetxCause cause = RetxCause::kRto;
  // The loss that queued this retransmission had evidence against the path
  // of the previous copy (path_evidence in sender.cpp): once this copy is
  // acknowledged and the receiver had not seen the packet, that path is
  // charged with the loss.
  bool blame = false;
  bool lost_now = false;  // found lost by the detection pass under way
  // Its timeout fired first: the copy goes on the path whose round trip
  // completed last (PathSet::freshest), not the next one in the rotation,
  // which may be as dead as the first.
  bool to_freshest = false;
  // When the first copy left (within 4.29 s of the latest transmission).
  Nanos first_tx_ns() const noexcept { return tx_ns - (static_cast<std::uint32_t>(tx_ns) - first_tx_lo); }
};

// A message handed to send(): the application's memory, not a copy.
struct TxMsg {
  std::uint64_t tag = 0;
  std::uint32_t len = 0;
  std::uint32_t msg_id = 0;
  std::uint32_t sent_off = 0;     // bytes segmented so far
  std::uint32_t acked_bytes = 0;
  std::uint32_t prev = kNil, next = kNil;  // the connection's live list
  std::uint8_t niov = 0;
  std::array<IoVec, kMaxIov> iov{};
};

// A received message being reassembled, held (ordered mode), or owned by
// the application until release().
struct RxMsg {
  enum State : std::uint8_t { kFree = 0, kAssembling, kHeld, kWithApp };
  std::uint8_t* buf = nullptr;
  std::uint32_t cap_class = 0;
  std::uint32_t len = 0;
  std::uint32_t received = 0;
  std::uint32_t msg_id = 0;
  std::uint32_t first_psn = 0;
  std::uint32_t prev = kNil, next = kNil;  // the connection's receive list
  ConnId conn = kNoConn;
  State state = kFree;
  bool ordered = false;
  // In the reassembly index and the connection's receive list. A message in
  // one unordered packet completes on arrival and is in neither.
  bool indexed = false;
};

// Reassembly memory: power-of-two size classes from 2 KiB, recycled through
// per-class free lists, bounded by rx_buffer_bytes.
class BufferPool {
 public:
  explicit BufferPool(std::uint64_t limit_bytes) : limit_(limit_bytes) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  // nullptr when the limit would be exceeded.
  std::uint8_t* get(std::uint32_t bytes, std::uint32_t& cls) noexcept;
  void put(std::uint8_t* p, std::uint32_t cls) noexcept;
  std::uint64_t allocated_bytes() const noexcept { return allocated_; }

 private:
  static constexpr unsigned kMinShift = 11;
  static constexpr unsigned kClasses = 32 - kMinShift;
  static std::uint64_t class_bytes(std::uint32_t cls) noexcept { return 1ULL << (cls + kMinShift); }
  bool trim(std::uint64_t need) noexcept;
  std::array<std::vector<std::uint8_t*>, kClasses> free_;
  std::uint64_t limit_;
  std::uint64_t allocated_ = 0;
};

// Pending control bits of a connection.
enum CtrlBit : std::uint8_t {
  kSendConnect = 1,
  kSendAccept = 2,
  kSendClose = 4,
};

struct Connection {
  // --- identity ---
  ConnId id = kNoConn;
  ConnState state = ConnState::kClosed;
  bool initiator = false;
  bool ordered = false;
  bool impaired = false;          // all paths quarantined (event raised once)
  PeerAddr peer;
  std::uint32_t remote_id = 0;
  std::uint32_t nonce = 0;
  std::uint32_t payload = 0;      // DATA payload bytes per packet (negotiated MTU)
  std::uint16_t mtu = 0;

  // --- handshake / close ---
  std::uint8_t ctrl = 0;          // CtrlBit
  std::uint8_t hs_tries = 0;
  // Acceptor: the path the latest CONNECT came on, which its ACCEPT takes
  // back. (The initiator sends CONNECT number k on path k mod P, so that
  // retries do not all take a dead way.)
  std::uint8_t hs_path = 0;
  bool close_requested = false;
  Nanos hs_deadline = kNever;
  Nanos established_ns = 0;
  std::uint32_t hs_echo_ts = 0;   // acceptor: the CONNECT's tx_ts, echoed in ACCEPT

  // --- sender ---
  std::uint32_t next_psn = 0;
  std::uint32_t snd_una = 0;
  std::uint32_t next_msg_id = 0;
  std::uint32_t next_tx_seq = 1;
  std::uint32_t msg_head = kNil, msg_tail = kNil, send_cursor = kNil;
  std::uint32_t live_msgs = 0;
  std::uint32_t fl_head = kNil, fl_tail = kNil;  // in flight, transmit order
  std::uint32_t rq_head = kNil, rq_tail = kNil;  // retransmit queue
  std::uint32_t inflight = 0;
  // What the packets in flight weigh in the window, in bytes (window_weight
  // in sender.cpp): the window is a number of full packets, mtu bytes each.
  std::uint32_t inflight_bytes = 0;
  std::uint32_t retx_queued = 0;
  std::uint32_t peer_rwnd = 1;
  std::uint32_t sack_hi = 0;      // end of the PSN range the newest ACK described
  bool sack_hi_valid = false;
  std::uint32_t rack_tx_seq = 0;  // newest transmission known delivered
  Nanos rack_tx_ns = 0;           // when it was sent
  Nanos rack_rtt_ns = 0;          // and how long it took
  // Send times between which nothing sent was delivered, on any path, for
  // longer than kDarkNs (sender.cpp): the receiver or its host dropped
  // everything then, and losses sent in that interval blame no path.
  Nanos dark_from_ns = 0, dark_to_ns = 0;
  // The peer's host dropped packets (ACKs flagged HOST_DROP): what we sent
  // from peer_drop_from_ns (a round trip before we last heard from the peer
  // ahead of the report; its ring may have been full since) until the last
  // flagged ACK arrived may have been lost in that host. 0: never flagged.
  Nanos peer_drop_from_ns = 0, peer_drop_ns = 0;
  std::uint32_t last_lost_tx_seq = 0;  // newest transmission declared lost
  std::uint16_t last_lost_path = 0;    // and its path
  // Lowest RTT sample (any path) received in the current and the previous
  // window (sibling_rtt_floor): what the siblings of a path see now.
  std::uint32_t rtt_floor_cur_ns = 0, rtt_floor_prev_ns = 0;  // 0 = none
  Nanos rtt_floor_since_ns = 0;
  // Slowly decaying maximum of how much longer an ACK took than SRTT
  // (receiver hold time and both hosts' scheduling): the tail probe waits
  // for it, so a late ACK is not taken for a lost tail.
  Nanos ack_jitter_ns = 0;
  // Floor of the RTO learned from timeouts and tail probes that proved
  // spurious (the packet was only late): 1.25 x the longest such wait,
  // fading with clean samples.
  Nanos rto_slack_ns = 0;
  // Floor of the tail probe's timeout while its probes keep proving
  // spurious (from the second in a row): 1.25 x the longest wait a
  // spurious probe cut short, doubled by each further one. It fades with
  // time (half-life kTlpSlackHalfLifeNs), not with samples: a host's
  // hiccups recur on the scheduler's time scale whatever the message rate,
  // and at a few microseconds per round trip a per-sample fade forgot them
  // within milliseconds. A probe that repairs a real loss clears it, so a
  // lossy path keeps its fast tail recovery while a host whose stalls
  // outlast the ACK jitter's memory stops drawing probes.
  Nanos tlp_slack_ns = 0;
  Nanos tlp_slack_faded_ns = 0;  // when tlp_slack_ns was last set or faded
  std::uint8_t tlp_spurious_run = 0;  // spurious probes since the last real one
  Nanos srtt_ns = 0;
  Nanos rttvar_ns = 0;
  Nanos base_rtt_ns = 0;          // fastest path's min RTT
  Nanos wide_rtt_ns = 0;          // slowest path's min RTT
  Nanos rack_deadline = kNever;
  Nanos last_ack_rx_ns = 0;
  Nanos outstanding_since_ns = 0;
  Nanos pace_next_ns = 0;
  Nanos last_tx_ns = 0;           // last DATA transmission (TLP anchor)
  std::uint8_t rto_backoff = 0;
  std::uint8_t reo_mult = 1;
  std::uint8_t clean_recoveries = 0;
  bool tlp_out = false;           // a TLP is outstanding (no ACK since)
  bool tlp_pending = false;       // a TLP is to be sent
  bool starved = false;           // waiting for in-flight records
  SwiftCc cc;
  PathSet paths;

  // --- receiver ---
  SeqWindow rx_psn;               // base = cum_psn
  SeqWindow rx_msgs;              // completed msg_ids; base = oldest incomplete
  std::uint32_t rx_highest = 0;   // highest PSN received
  std::uint32_t rx_head = kNil, rx_tail = kNil;  // RxMsgs of this connection
  std::uint32_t rx_held = 0;      // ordered messages complete but not deliverable
  // ACK state: the latest packet since the last ACK triggers the next one.
  Nanos ack_rx_ns = 0;
  Nanos ack_deadline = kNever;
  std::uint32_t ack_psn = 0;
  std::uint32_t ack_echo_ts = 0;
  std::uint32_t ack_unacked_bytes = 0;
  std::uint32_t nack_psn = 0;
  std::uint16_t ack_path = 0;
  std::uint16_t ack_unacked_pkts = 0;
  std::uint16_t ack_ce_count = 0;
  std::uint8_t ack_flags = 0;
  bool ack_pending = false;
  bool ack_now = false;
  bool nack_pending = false;
  struct AckTrigger {
    Nanos rx_ns;
    std::uint32_t psn;
    std::uint32_t echo_ts;
    std::uint16_t path;
  };
  std::array<AckTrigger, 8> ack_extra{};  // triggers owed an ACK of their own
  std::uint8_t ack_extra_count = 0;
  // The last ACK sent: a resent duplicate of a packet it covered, arriving
  // more than two RTT bounds after it, means it was lost (receiver.cpp).
  struct SentAck {
    Nanos ns = 0;
    std::uint64_t sack_bits = 0;
    std::uint32_t cum_psn = 0;
    std::uint32_t psn = 0;
    std::uint16_t path = 0;
    bool charged = false;  // its loss was counted already
  };
  SentAck last_ack{};
  bool probe_ack_pending = false;
  // PROBEs to answer: several paths are often probed at the same instant.
  struct ProbeEcho {
    std::uint16_t path;
    std::uint32_t ts;
  };
  std::array<ProbeEcho, 8> probe_acks{};
  std::uint8_t probe_ack_count = 0;

  ConnCounters ctr;

  std::size_t state_bytes() const noexcept { return sizeof(Connection) + paths.state_bytes(); }
};

// Key of the peer table: (peer address, the peer's id for the connection).
struct PeerKey {
  std::uint32_t ip;
  std::uint16_t port;
  std::uint32_t remote_id;
  friend bool operator==(const PeerKey&, const PeerKey&) = default;
};
struct PeerKeyHash {
  std::size_t operator()(const PeerKey& k) const noexcept {
    std::uint64_t x = (std::uint64_t{k.ip} << 16 | k.port) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(x ^ (k.remote_id * 0xc2b2ae3d27d4eb4fULL));
  }
};

// A control packet not tied to a live connection (RESET, the CLOSE_ACK to a
// connection we just freed), already encoded.
struct OrphanPkt {
  PeerAddr to;
  std::uint16_t path_id = 0;
  std::uint8_t len = 0;
  std::array<std::uint8_t, wire::kSrdMaxCtrlLen> bytes{};
};

class EndpointImpl {
 public:
  explicit EndpointImpl(const EndpointConfig& cfg);
  ~EndpointImpl();
  EndpointImpl(const EndpointImpl&) = delete;
  EndpointImpl& operator=(const EndpointImpl&) = delete;

  // ---- endpoint.cpp ----
  void on_packet(std::span<const std::uint8_t> pkt, const RxMeta& meta, Nanos now) noexcept;
  std::size_t poll_tx(std::span<std::uint8_t> buf, TxMeta& meta, Nanos now) noexcept;
  Nanos next_expiry() const noexcept;
  void on_expiry(Nanos now) noexcept;
  Connection* lookup(ConnId id) noexcept {
    const std::uint32_t slot = id & kSlotMask;
    if (slot >= conns.size() || !conns[slot]) return nullptr;
    Connection* c = conns[slot].get();
    return (c->id == id && c->state != ConnState::kClosed) ? c : nullptr;
  }
  const Connection* lookup(ConnId id) const noexcept {
    return const_cast<EndpointImpl*>(this)->lookup(id);
  }
  static std::uint32_t slot_of(const Connection& c) noexcept { return c.id & kSlotMask; }
  void kick(Connection& c) noexcept { sched.make_ready(slot_of(c)); }
  // A control packet or an ACK (or NACK, PROBE_ACK) is owed: the transmit
  // loop has something for this connection whatever its window says.
  static bool owes_ctrl_or_ack(const Connection& c) noexcept {
    return c.ctrl != 0 || c.ack_now || c.nack_pending || c.probe_ack_pending;
  }
  void rearm(Connection& c) noexcept;
  void push_event(const Event& ev) noexcept;
  bool pop_event(Event& ev) noexcept;
  void queue_orphan(const PeerAddr& to, std::uint16_t path_id,
                    std::span<const std::uint8_t> bytes) noexcept;
  std::string dump(Nanos now) const;

  // ---- connection.cpp ----
  ConnId connect(const PeerAddr& peer) noexcept;
  bool close(ConnId id) noexcept;
  bool abort(ConnId id) noexcept;
  void on_handshake(wire::SrdType type, const wire::SrdHandshake& h, const RxMeta& meta,
                    Nanos now) noexcept;
  void on_close_pkt(const wire::SrdClose& h, const RxMeta& meta, Nanos now) noexcept;
  void on_reset_pkt(const wire::SrdReset& h, const RxMeta& meta) noexcept;
  void on_probe_pkt(wire::SrdType type, const wire::SrdProbe& h, const RxMeta& meta,
                    Nanos now) noexcept;
  void send_reset(const PeerAddr& to, std::uint16_t path_id, std::uint32_t dst_id,
                  std::uint32_t src_id, std::uint32_t nonce, wire::ResetReason r) noexcept;
  // Fails every message and the connection, reports it, frees it.
  void fail(Connection& c, FailReason reason, const char* hint) noexcept;
  // Graceful end (kClosed event), pending messages fail with `msg_reason`.
  void finish_close(Connection& c, FailReason msg_reason, const char* hint) noexcept;
  std::size_t emit_ctrl(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                        Nanos now) noexcept;
  void conn_timers(Connection& c, Nanos now) noexcept;
  Connection* alloc_conn() noexcept;
  void free_conn(Connection& c) noexcept;
  void setup_paths(Connection& c, std::uint16_t paths, std::uint16_t mtu, Nanos now) noexcept;
  void note_quarantines(Connection& c, unsigned n, Nanos now) noexcept;

  // ---- sender.cpp ----
  SendStatus send(ConnId id, std::span<const IoVec> pieces, std::uint64_t tag) noexcept;
  void on_ack_pkt(Connection& c, const wire::SrdAck& a, bool nack, Nanos now) noexcept;
  bool sender_has_tx(Connection& c, Nanos now, Nanos& pace_at) noexcept;
  std::size_t sender_tx(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                        Nanos now) noexcept;
  void sender_timers(Connection& c, Nanos now) noexcept;
  Nanos sender_deadline(const Connection& c) const noexcept;
  Nanos rto_ns(const Connection& c) const noexcept;
  Nanos reo_wnd_ns(const Connection& c) const noexcept;
  // Tail loss probe timeout: 2 SRTT plus the ACK jitter measured on the
  // connection (Connection::ack_jitter_ns), at least the floor spurious
  // probes taught it (Connection::tlp_slack_ns).
  Nanos tlp_ns(const Connection& c) const noexcept;
  void release_sender(Connection& c, FailReason reason) noexcept;

  // ---- receiver.cpp ----
  void on_data_pkt(Connection& c, const wire::SrdDataHdr& h, std::span<const std::uint8_t> payload,
                   const RxMeta& meta, Nanos now) noexcept;
  std::size_t emit_ack(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                       Nanos now) noexcept;
  void release_msg(const Message& m) noexcept;
  void release_receiver(Connection& c) noexcept;

  // ---- state ----
  EndpointConfig cfg;
  Rng rng;
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<std::uint16_t> generation;
  std::vector<std::uint32_t> free_slots;
  std::unordered_map<PeerKey, ConnId, PeerKeyHash> by_peer;
  std::size_t live_conns = 0;

  Pool<TxRec> recs;
  FlatIndex rec_index;     // (slot, psn) -> TxRec
  Pool<TxMsg> msgs;
  Pool<RxMsg> rxmsgs;
  FlatIndex rx_index;      // (slot, msg_id) -> RxMsg (assembling or held)
  BufferPool bufs;
  std::vector<std::uint32_t> starved;  // slots waiting for TxRecs

  TimerHeap timers;
  SchedLists sched;

  std::vector<Event> events;  // ring, grows by doubling (never on a warm path)
  std::size_t ev_head = 0, ev_count = 0;
  std::array<OrphanPkt, 64> orphans{};
  std::size_t orph_head = 0, orph_count = 0;

  EndpointCounters counters;
  TransportHistograms hist;
  bool listening = false;
  Nanos last_now = 0;
  // Reports of this host's drops (note_host_drops) that came less than
  // 2 kHostDropHoldNs apart form one episode, [host_drop_from_ns,
  // host_drop_ns]; 0: none yet.
  Nanos host_drop_from_ns = 0, host_drop_ns = 0;
  void note_host_drops(Nanos now) noexcept {
    if (host_drop_ns == 0 || now - host_drop_ns > 2 * kHostDropHoldNs) host_drop_from_ns = now;
    host_drop_ns = now;
  }
};

inline std::uint64_t rec_key(std::uint32_t slot, std::uint32_t psn) noexcept {
  return (std::uint64_t{slot} << 32) | psn;
}

}  // namespace spray::srd
