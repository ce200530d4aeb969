// SPDX-License-Identifier: BSD-3-Clause
// Hostile input over DPDK ports: malformed and spoofed frames injected into a
// responder's receive path while a generator's traffic runs, malformed frames
// mixed into a switch's bridged and routed ports, and floods of MACs and of
// CONNECTs against the limits that bound them. Each bad frame is counted once
// under its reason; valid traffic is unaffected; no table grows past its limit.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/eal_env.h"
#include "common/frames.h"
#include "common/host_pair.h"
#include "common/mbuf_frames.h"
#include "dataplane/host_apps.h"
#include "dataplane/ring_link.h"
#include "dataplane/srd_host.h"
#include "dataplane/switch_pipeline.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/frame.h"
#include "wire/ipv4.h"
#include "wire/srd.h"

namespace spray::test {
namespace {

constexpr std::uint32_t kStranger = 0x0a000042;
constexpr std::uint64_t kStrangerMac = 0x0200000000eeULL;

rte_mbuf* to_mbuf(const Bytes& f) { return test::to_mbuf(EalEnvironment::pool(), f); }

// ---------------------------------------------------------------------------
// Frame builders

struct Addr {
  std::uint64_t src_mac = kGenMac, dst_mac = kRespMac;
  std::uint32_t src_ip = kGenIp, dst_ip = kRespIp;
  std::uint16_t src_port = dp::kSrdDefaultSrcBase, dst_port = dp::kSrdDefaultPort;
};

Bytes udp_frame(const Bytes& payload, const Addr& a = {}) {
  wire::UdpFlow fl;
  fl.src_mac = wire::Mac{a.src_mac};
  fl.dst_mac = wire::Mac{a.dst_mac};
  fl.src_ip = a.src_ip;
  fl.dst_ip = a.dst_ip;
  fl.dst_port = a.dst_port;
  Bytes f = test::udp_frame(fl, a.src_port, payload);
  EXPECT_EQ(f.size(), wire::UdpFrameTemplate(fl).header_len() + payload.size());
  return f;
}

constexpr std::size_t kIp = wire::kEthHdrLen;  // IPv4 header offset (untagged)

void fix_ip_csum(Bytes& f) {
  wire::store_be16(f.data() + kIp + wire::kIpv4OffCsum, 0);
  wire::store_be16(f.data() + kIp + wire::kIpv4OffCsum,
                   wire::internet_checksum({f.data() + kIp, wire::kIpv4MinHdrLen}));
}

// ---------------------------------------------------------------------------
// A generator and a responder over a ring link, pumped by hand, with a way to
// put extra frames into the responder's receive path between two bursts.

struct Snap {
  std::uint64_t malformed_frames = 0, not_for_us = 0, rx_srd = 0;
  srd::EndpointCounters ep;
  srd::ConnCounters conns;  // summed over the responder's open connections
};

struct Pair : HostPair {
  std::vector<Bytes> connects;    // the generator's CONNECT frames as they went out
  std::uint64_t misdirected = 0;  // frames to the generator's IP, not to its MAC

  Pair(const traffic::GenConfig& gcfg, const std::string& name, std::uint32_t resp_max_conns = 256)
      : HostPair(gcfg, traffic::RespondConfig{}, name, HostPairOptions{.resp_max_conns = resp_max_conns}) {
    watch_gen_rx = [this](rte_mbuf* const* pkts, std::uint16_t n) {
      for (std::uint16_t i = 0; i < n; ++i) {
        wire::FrameInfo fi;
        if (wire::parse_frame({rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), pkts[i]->data_len}, fi) ==
                wire::WireError::kOk &&
            fi.is_ipv4() && fi.dst_ip == kGenIp && fi.eth.dst != wire::Mac{kGenMac})
          ++misdirected;
      }
    };
    watch_resp_rx = [this](rte_mbuf* const* pkts, std::uint16_t n) {
      for (std::uint16_t i = 0; i < n; ++i) {
        const auto* d = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        wire::FrameInfo fi;
        if (wire::parse_frame({d, pkts[i]->data_len}, fi) == wire::WireError::kOk && fi.is_udp() &&
            fi.payload_len > 0 &&
            (d[fi.payload_offset] & 0x0f) == static_cast<std::uint8_t>(wire::SrdType::kConnect))
          connects.emplace_back(d, d + pkts[i]->data_len);
      }
    };
  }

  // Hands `frames` to the responder as one receive burst (or several).
  void inject(const std::vector<Bytes>& frames) {
    std::size_t i = 0;
    while (i < frames.size()) {
      rte_mbuf* pkts[dp::kBurst];
      std::uint16_t n = 0;
      for (; n < dp::kBurst && i < frames.size(); ++n, ++i) {
        pkts[n] = to_mbuf(frames[i]);
        ASSERT_NE(pkts[n], nullptr);
      }
      resp_host->rx(resp_tx, 0, pkts, n, rte_get_tsc_cycles());
    }
  }

  Snap snap() const {
    Snap s;
    const auto& h = resp_host->counters();
    s.malformed_frames = h.drop_malformed.read();
    s.not_for_us = h.drop_not_for_us.read();
    s.rx_srd = h.rx_srd.read();
    s.ep = resp_host->endpoint().counters();
    for (auto c : resp->open_connections()) {
      srd::ConnStats cs;
      if (!resp_host->endpoint().conn_stats(c, cs)) continue;
      for (std::size_t i = 0; i < std::size(srd::kConnCounterInfo); ++i)
        reinterpret_cast<std::uint64_t*>(&s.conns)[i] += srd::counter_at(cs.counters, i);
    }
    return s;
  }

  bool all_established(std::size_t n) const {
    if (resp->open_connections().size() != n) return false;
    for (auto c : resp->open_connections())
      if (resp_host->endpoint().state(c) != srd::ConnState::kEstablished) return false;
    return true;
  }
};

traffic::GenConfig traffic_of(std::uint64_t count, std::uint32_t conns = 4) {
  traffic::GenConfig g;
  g.peer = {kRespIp, dp::kSrdDefaultPort};
  g.connections = conns;
  g.outstanding = 8;
  g.request = traffic::SizeDist::parse("64:5,1000:3,4000:1,70000:1", 16, 1 << 20);
  g.reply = traffic::SizeDist::parse("16-3000", 0, 1 << 20);
  g.duration_ns = 0;
  g.warmup_ns = 0;
  g.count = count;
  return g;
}

// Every counter a dropped or refused frame can land in, summed.
std::uint64_t drops_total(const Snap& s) {
  std::uint64_t n = s.malformed_frames + s.not_for_us;
  for (auto m : s.ep.malformed) n += m;
  const auto& c = s.ep.c;
  n += c.drop_unknown_conn + c.drop_bad_nonce + c.drop_bad_segment + c.drop_no_buffer + c.drop_table_full +
       c.drop_not_listening + c.drop_wrong_state + c.drop_wrong_peer + c.drop_bad_ack;
  n += s.conns.dup_pkts + s.conns.out_of_window_pkts;
  return n;
}

struct BadClass {
  std::string name;
  std::function<std::vector<Bytes>()> make;  // built just before injection
  std::function<std::uint64_t(const Snap&)> counter;
  const char* counter_name;
};

std::uint64_t srd_malformed(const Snap& s, wire::SrdError e) { return s.ep.malformed[static_cast<std::size_t>(e)]; }

TEST(InjectionAtTheResponder, EveryBadFrameIsCountedByReasonAndTrafficIsUnharmed) {
  constexpr std::uint64_t kMessages = 1500;
  // One connection, so the responder's id for it and the generator's view of
  // its PSNs belong together.
  Pair p(traffic_of(kMessages, 1), "inj1");
  // Let every connection open and some traffic flow before the attack.
  ASSERT_TRUE(p.run_until([&] { return p.all_established(1) && p.gen->generator().counters().completed.read() >= 200; }, 30));
  const std::vector<srd::ConnId> conns = p.resp->open_connections();
  ASSERT_EQ(conns.size(), 1u);
  ASSERT_FALSE(p.connects.empty());
  const std::uint32_t real = conns[0];
  const std::uint32_t bogus = 0x00abcdefu;  // no connection has this id
  const std::uint32_t wrong_nonce = 0x13572468u;

  Addr stranger;
  stranger.src_ip = kStranger;
  stranger.src_mac = kStrangerMac;

  auto frame = [](const Bytes& srd, const Addr& a = {}) { return udp_frame(srd, a); };
  const Bytes good = frame(srd_probe(wire::SrdType::kProbe, bogus, 0));

  std::vector<BadClass> classes;
  auto host = [](std::uint64_t Snap::*f) { return [f](const Snap& s) { return s.*f; }; };
  auto ep = [](std::uint64_t srd::EndpointCounterFields::*f) { return [f](const Snap& s) { return s.ep.c.*f; }; };

  // --- Ethernet / IPv4 / UDP that does not parse -------------------------
  classes.push_back({"truncated Ethernet header", [=] { return std::vector<Bytes>{Bytes(good.begin(), good.begin() + 10)}; }, host(&Snap::malformed_frames), "drop_malformed"});
  classes.push_back({"truncated IPv4 header", [=] { return std::vector<Bytes>{Bytes(good.begin(), good.begin() + kIp + 12)}; }, host(&Snap::malformed_frames), "drop_malformed"});
  {
    Bytes f(good.begin(), good.begin() + kIp + 20 + 4);  // half a UDP header
    wire::store_be16(f.data() + kIp + wire::kIpv4OffTotalLen, 24);
    fix_ip_csum(f);
    classes.push_back({"truncated UDP header", [=] { return std::vector<Bytes>{f}; }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    std::vector<Bytes> fs;
    Bytes f = good;  // IP total length beyond the frame
    wire::store_be16(f.data() + kIp + wire::kIpv4OffTotalLen, static_cast<std::uint16_t>(f.size()));
    fix_ip_csum(f);
    fs.push_back(f);
    f = good;  // IP total length shorter than its own header
    wire::store_be16(f.data() + kIp + wire::kIpv4OffTotalLen, 12);
    fix_ip_csum(f);
    fs.push_back(f);
    classes.push_back({"bad IPv4 total length", [=] { return std::vector<Bytes>(fs); }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    std::vector<Bytes> fs;
    Bytes f = good;  // UDP length beyond the IP payload
    wire::store_be16(f.data() + kIp + 20 + 4, 200);
    fs.push_back(f);
    f = good;  // UDP length shorter than the UDP header
    wire::store_be16(f.data() + kIp + 20 + 4, 4);
    fs.push_back(f);
    f = good;  // a UDP checksum that does not match
    wire::store_be16(f.data() + kIp + 20 + 6, 0x1234);
    fs.push_back(f);
    classes.push_back({"bad UDP length or checksum", [=] { return std::vector<Bytes>(fs); }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    Bytes f = good;
    f[kIp + wire::kIpv4OffCsum] ^= 0x5a;
    classes.push_back({"bad IPv4 checksum", [=] { return std::vector<Bytes>{f}; }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    std::vector<Bytes> fs;
    Bytes f = good;
    f[kIp] = 0x65;  // version 6 in an IPv4 ethertype
    fix_ip_csum(f);
    fs.push_back(f);
    f = good;
    f[kIp] = 0x44;  // IHL 4
    fix_ip_csum(f);
    fs.push_back(f);
    classes.push_back({"wrong IP version or header length", [=] { return std::vector<Bytes>(fs); }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    Bytes f = good;
    wire::store_be16(f.data() + kIp + wire::kIpv4OffFrag, wire::kIpv4FlagMf);
    fix_ip_csum(f);
    Bytes v6 = good;
    wire::store_be16(v6.data() + 12, 0x86dd);
    classes.push_back({"IPv4 fragment, IPv6 ethertype", [=] { return std::vector<Bytes>{f, v6}; }, host(&Snap::malformed_frames), "drop_malformed"});
  }
  {
    std::vector<Bytes> fs;
    Addr a;
    a.dst_ip = 0x0a000063;
    fs.push_back(frame(srd_probe(wire::SrdType::kProbe, real, 0), a));
    a = {};
    a.dst_mac = 0x0200000000ddULL;
    fs.push_back(frame(srd_probe(wire::SrdType::kProbe, real, 0), a));
    a = {};
    a.dst_port = 4791;
    fs.push_back(frame(srd_probe(wire::SrdType::kProbe, real, 0), a));
    Bytes tcp = good;
    tcp[kIp + wire::kIpv4OffProto] = wire::kIpProtoTcp;
    fix_ip_csum(tcp);
    fs.push_back(tcp);
    classes.push_back({"another address, port or protocol", [=] { return std::vector<Bytes>(fs); }, host(&Snap::not_for_us), "drop_not_for_us"});
  }

  // --- SRD headers the codec rejects -------------------------------------
  classes.push_back({"truncated SRD header", [=] { return std::vector<Bytes>{frame(Bytes{0x11, 0, 0}), frame(Bytes(20, 0x11))}; },
                     [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_truncated); }, "malformed[truncated]"});
  {
    Bytes b = srd_probe(wire::SrdType::kProbe, real, 0);
    b[0] = 0x24;
    classes.push_back({"bad SRD version", [=] { return std::vector<Bytes>{frame(b)}; }, [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_bad_version); },
                       "malformed[bad_version]"});
    Bytes z = b, f = b;
    z[0] = 0x10;
    f[0] = 0x1f;
    classes.push_back({"unknown SRD type", [=] { return std::vector<Bytes>{frame(z), frame(f)}; },
                       [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_unknown_type); }, "malformed[unknown_type]"});
  }
  {
    Bytes b = srd_ack(real, 0, 0);
    b[8] ^= 1;  // changed after the checksum was taken
    Bytes d = srd_data(real, 7, 0, 100, 0, 100);
    d[9] ^= 1;
    classes.push_back({"bad SRD header checksum", [=] { return std::vector<Bytes>{frame(b), frame(d)}; },
                       [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_bad_checksum); }, "malformed[bad_checksum]"});
  }
  {
    Bytes b = srd_close(real, 0, false);
    b.push_back(0);
    classes.push_back({"control packet of the wrong size", [=] { return std::vector<Bytes>{frame(b)}; },
                       [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_bad_length); }, "malformed[bad_length]"});
  }
  classes.push_back({"DATA whose segment exceeds its message", [=] { return std::vector<Bytes>{frame(srd_data(real, 7, 0, 50, 10, 100))}; },
                     [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_bad_segment); }, "malformed[bad_segment]"});
  classes.push_back({"CONNECT offering 0 paths", [=] { return std::vector<Bytes>{frame(srd_handshake(wire::SrdType::kConnect, 0, 77, 1, 0))}; },
                     [](const Snap& s) { return srd_malformed(s, wire::SrdError::k_bad_handshake); }, "malformed[bad_handshake]"});

  // --- well-formed SRD that names no connection of ours ------------------
  classes.push_back({"spoofed connection id (DATA, ACK, NACK, PROBE, CLOSE, ACCEPT, RESET)", [=] { return std::vector<Bytes>{frame(srd_data(bogus, 1, 0, 100, 0, 100)), frame(srd_ack(bogus, 1, 1)),
                      frame(srd_ack(bogus, 1, 1, 0, true)), frame(srd_probe(wire::SrdType::kProbe, bogus, 5)),
                      frame(srd_close(bogus, 5, false)), frame(srd_handshake(wire::SrdType::kAccept, bogus, 9, 5)),
                      frame(srd_reset(bogus, 9, 5, wire::ResetReason::kAborted)),
                      frame(srd_reset(0, 0x00fedcbau, 0, wire::ResetReason::kUnknownConn), stranger)}; },
                     ep(&srd::EndpointCounterFields::drop_unknown_conn), "drop_unknown_conn"});

  // --- the right connection id, the wrong nonce --------------------------
  classes.push_back({"right id, wrong nonce (CLOSE, CLOSE_ACK, PROBE, PROBE_ACK, ACCEPT, RESET)", [=] { return std::vector<Bytes>{frame(srd_close(real, wrong_nonce, false)), frame(srd_close(real, wrong_nonce, true)),
                      frame(srd_probe(wire::SrdType::kProbe, real, wrong_nonce)),
                      frame(srd_probe(wire::SrdType::kProbeAck, real, wrong_nonce)),
                      frame(srd_handshake(wire::SrdType::kAccept, real, 9, wrong_nonce)),
                      frame(srd_reset(real, 9, wrong_nonce, wire::ResetReason::kAborted)),
                      frame(srd_reset(real, 9, wrong_nonce, wire::ResetReason::kBadNonce)),
                      frame(srd_reset(real, 9, wrong_nonce, wire::ResetReason::kRefused)),
                      // No nonce at all: only a peer without state sends that, and it
                      // cannot know our id, so it names its own (dst 0).
                      frame(srd_reset(real, 9, 0, wire::ResetReason::kUnknownConn)),
                      frame(srd_reset(real, 9, 0, wire::ResetReason::kUnknownConn), stranger)}; },
                     ep(&srd::EndpointCounterFields::drop_bad_nonce), "drop_bad_nonce"});

  // --- DATA and ACK carry no nonce: the peer's address is what binds them --
  // PSNs are read when the class is injected: the responder's receive base
  // (every PSN below it arrived) and the generator's (every reply PSN below it
  // was sent by the responder).
  auto rx_base = [&p, real] {
    srd::ConnStats cs;
    p.resp_host->endpoint().conn_stats(real, cs);
    return cs;
  };
  auto reply_base = [&p] {
    srd::ConnStats cs;
    p.gen_host->endpoint().conn_stats(p.gen->generator().connections().at(0), cs);
    return cs.cum_psn_rx;
  };
  classes.push_back({"right id from another address (DATA, ACK)",
                     [=] {
                       // A one-segment message the application would take, and an
                       // ACK for every reply in flight.
                       const srd::ConnStats cs = rx_base();
                       const auto msg_id = static_cast<std::uint32_t>(cs.counters.rx_msgs) + 3000;
                       const std::uint32_t r = reply_base();
                       return std::vector<Bytes>{frame(srd_data(real, cs.cum_psn_rx, msg_id, 100, 0, 100), stranger),
                                                 frame(srd_ack(real, r + 64, r + 64, ~0ULL), stranger)};
                     },
                     ep(&srd::EndpointCounterFields::drop_wrong_peer), "drop_wrong_peer"});
  classes.push_back({"ACK for PSNs never sent",
                     [=] {
                       const std::uint32_t far = reply_base() + (1u << 20);
                       return std::vector<Bytes>{frame(srd_ack(real, far, far, ~0ULL)),
                                                 frame(srd_ack(real, far, far, 0, true))};
                     },
                     ep(&srd::EndpointCounterFields::drop_bad_ack), "drop_bad_ack"});
  // DATA from the real peer that breaks segmentation: off a segment boundary,
  // and a message larger than the receiver accepts.
  classes.push_back({"DATA with inconsistent message fields",
                     [=] {
                       const std::uint32_t psn = rx_base().cum_psn_rx;
                       return std::vector<Bytes>{frame(srd_data(real, psn, 0x100, 3000, 7, 100, 0)),
                                                 frame(srd_data(real, psn, 0x100, 2000u << 20, 0, 1440, wire::kDataSom))};
                     },
                     ep(&srd::EndpointCounterFields::drop_bad_segment), "drop_bad_segment"});
  classes.push_back({"DATA beyond the receive window",
                     [=] { return std::vector<Bytes>{frame(srd_data(real, rx_base().cum_psn_rx + 100000, 5, 100, 0, 100))}; },
                     [](const Snap& s) { return s.conns.out_of_window_pkts; }, "out_of_window_pkts"});
  // The generator's address from another MAC: the responder must not start
  // sending the generator's frames there.
  {
    Addr a;
    a.src_mac = kStrangerMac;
    classes.push_back({"the generator's IP from another MAC",
                       [=] {
                         return std::vector<Bytes>{frame(srd_probe(wire::SrdType::kProbe, bogus, 1), a),
                                                   frame(srd_probe(wire::SrdType::kProbe, real, wrong_nonce), a)};
                       },
                       [](const Snap& s) { return s.ep.c.drop_unknown_conn + s.ep.c.drop_bad_nonce; },
                       "drop_unknown_conn + drop_bad_nonce"});
  }
  // Replays of the generator's own CONNECTs (same id, same nonce): the
  // responder answers with ACCEPT again and opens nothing.
  classes.push_back({"duplicate CONNECT from the generator", [&p] { return p.connects; }, nullptr, "(none: ACCEPT repeated)"});

  for (const BadClass& bc : classes) {
    // Interleave: some real traffic between two classes.
    for (int i = 0; i < 50; ++i) p.step();
    const Snap before = p.snap();
    const std::uint64_t opened = before.ep.c.conns_opened;
    const std::vector<Bytes> frames = bc.make();
    ASSERT_FALSE(frames.empty()) << bc.name;
    p.inject(frames);
    const Snap after = p.snap();
    if (bc.counter) {
      EXPECT_EQ(bc.counter(after) - bc.counter(before), frames.size()) << bc.name << ": " << bc.counter_name;
    }
    EXPECT_EQ(drops_total(after) - drops_total(before), bc.counter ? frames.size() : 0u)
        << bc.name << ": counted under some other reason as well";
    EXPECT_EQ(after.ep.c.conns_opened, opened) << bc.name;
    EXPECT_EQ(p.resp->open_connections().size(), 1u) << bc.name;
    for (auto c : conns) EXPECT_EQ(p.resp_host->endpoint().state(c), srd::ConnState::kEstablished) << bc.name;
  }

  ASSERT_TRUE(p.run_until([&] { return p.gen->finished(); }, 60)) << "generator did not finish";
  const auto& g = p.gen->generator().counters();
  EXPECT_EQ(g.completed.read(), kMessages);
  EXPECT_EQ(g.failed.read(), 0u);
  EXPECT_EQ(g.bad_reply.read(), 0u);
  EXPECT_EQ(g.unexpected_reply.read(), 0u);
  EXPECT_EQ(g.conn_failed.read(), 0u);
  const auto& r = p.resp->responder();
  EXPECT_EQ(r.counters().requests.read(), kMessages);
  EXPECT_EQ(r.violations().total(), 0u);
  EXPECT_EQ(r.counters().conns_accepted.read(), 1u);
  EXPECT_EQ(r.counters().conns_failed.read(), 0u);
  EXPECT_EQ(p.misdirected, 0u) << "frames for the generator went to another MAC";
  EXPECT_EQ(r.counters().conns_closed.read(), 1u) << "the connection closed gracefully";
  for (auto* h : {p.gen_host.get(), p.resp_host.get()}) {
    const auto& c = h->endpoint().counters().c;
    EXPECT_EQ(c.conn_failed_reset + c.conn_failed_unreachable + c.conn_failed_unresponsive, 0u);
  }
}

// The other side of "a known neighbour's MAC does not move with a forged
// frame": a generator restarted on a new MAC with a static --peer-mac sends no
// ARP, and its CONNECT is what tells the responder where it is now.
TEST(InjectionAtTheResponder, AGeneratorRestartedOnANewMacIsAnsweredThere) {
  Pair p(traffic_of(200, 1), "inj2");
  ASSERT_TRUE(p.run_until([&] { return p.gen->finished(); }, 30));
  dp::SrdHostConfig gh;
  gh.ip = kGenIp;
  gh.peer_ip = kRespIp;
  gh.peer_mac = wire::Mac{kRespMac};
  srd::EndpointConfig ep;
  ep.paths = 8;
  ep.link_rate_bps = 10'000'000'000ULL;
  ep.local = {kGenIp, gh.udp_port};
  ep.seed = 7;
  constexpr std::uint64_t kNewMac = 0x020000000011ULL;
  p.gen_host = std::make_unique<dp::SrdHostPipeline>(gh, ep, 0, kNewMac, EalEnvironment::pool(), p.clock);
  p.gen = std::make_unique<dp::GenHostApp>(traffic_of(200, 1), p.gen_host->endpoint());
  p.gen_host->set_app(p.gen.get());
  ASSERT_TRUE(p.run_until([&] { return p.gen->finished(); }, 30)) << "the restarted generator got no answers";
  EXPECT_EQ(p.gen->generator().counters().completed.read(), 200u);
  EXPECT_EQ(p.gen->generator().counters().conn_failed.read(), 0u);
  EXPECT_EQ(p.resp->responder().counters().requests.read(), 400u);
}

// ---------------------------------------------------------------------------
// The switch: bridged ports 0 and 1, routed ports 2 (10.0.1.1/24) and 3
// (10.0.2.1/24), frames put on the hosts' ends of ring links and the
// pipeline pumped by hand.

using wire::Mac;
constexpr Mac kHostA{0x020000000a01ULL}, kHostB{0x020000000b01ULL}, kHost3{0x020000000c03ULL};
constexpr Mac kRouter2{0x02aa00000002ULL}, kRouter3{0x02aa00000003ULL};
constexpr std::uint32_t kIp2 = 0x0a000102, kIp3 = 0x0a000202, kIf2 = 0x0a000101, kIf3 = 0x0a000201;

Bytes routed_frame(std::uint32_t seq, std::uint32_t src = kIp2, std::uint32_t dst = kIp3, Mac dst_mac = kRouter2) {
  Bytes payload(32, 0);
  std::memcpy(payload.data(), &seq, sizeof seq);
  Addr a;
  a.src_mac = 0x020000000c02ULL;
  a.dst_mac = dst_mac.bits;
  a.src_ip = src;
  a.dst_ip = dst;
  a.src_port = 5000;
  a.dst_port = 6000;
  return udp_frame(payload, a);
}

class SwitchRig {
 public:
  SwitchRig(const tor::SwitchConfig& cfg, const std::string& name) {
    for (std::size_t i = 0; i < cfg.l2.ports.size(); ++i) {
      const auto link = dp::make_ring_link(name + "s" + std::to_string(i), name + "h" + std::to_string(i));
      sw_.push_back(link.a);
      host_.push_back(link.b);
      start_port(link.a);
      start_port(link.b);
    }
    pipe_ = std::make_unique<dp::SwitchPipeline>(cfg, EalEnvironment::pool(), clock_);
    tx_.init(static_cast<std::uint16_t>(sw_.size()), sw_.data(), 0);
  }
  ~SwitchRig() {
    for (auto p : sw_) rte_eth_dev_stop(p), rte_eth_dev_close(p);
    for (auto p : host_) rte_eth_dev_stop(p), rte_eth_dev_close(p);
  }

  void put(unsigned host, const Bytes& f) {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_eth_tx_burst(host_[host], 0, &m, 1), 1);
  }
  // One worker iteration: every port's frames through the pipeline, then
  // what the router generated (ARP, ICMP).
  void pump() {
    rte_mbuf* pkts[dp::kBurst];
    for (std::uint16_t i = 0; i < sw_.size(); ++i) {
      std::uint16_t n;
      while ((n = rte_eth_rx_burst(sw_[i], 0, pkts, dp::kBurst)) > 0) pipe_->rx(tx_, i, pkts, n, tsc_ += 1000);
    }
    pipe_->poll(tx_, tsc_ += 2'000'000);
    tx_.flush();
  }
  std::vector<Bytes> take(unsigned host) {
    std::vector<Bytes> out;
    rte_mbuf* pkts[dp::kBurst];
    std::uint16_t n;
    while ((n = rte_eth_rx_burst(host_[host], 0, pkts, dp::kBurst)) > 0) {
      for (std::uint16_t i = 0; i < n; ++i) {
        const auto* d = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        out.emplace_back(d, d + pkts[i]->data_len);
      }
      rte_pktmbuf_free_bulk(pkts, n);
    }
    return out;
  }
  std::size_t ports() const { return sw_.size(); }
  dp::SwitchPipeline& pipe() { return *pipe_; }
  std::uint64_t now_ns() const { return clock_.to_ns(tsc_); }

 private:
  dp::TscClock clock_{1'000'000'000};
  std::uint64_t tsc_ = 1'000'000'000;
  std::vector<std::uint16_t> sw_, host_;
  std::unique_ptr<dp::SwitchPipeline> pipe_;
  dp::TxBuffers tx_;
};

tor::SwitchConfig bridged_and_routed() {
  tor::SwitchConfig c;
  c.l2.fdb_capacity = 1024;
  for (int i = 0; i < 4; ++i) c.l2.ports.push_back({});
  c.l3.interfaces.push_back({2, {kIf2, 24}, kRouter2});
  c.l3.interfaces.push_back({3, {kIf3, 24}, kRouter3});
  c.l3.icmp_errors_per_s = 0;  // no ICMP errors: what leaves port 2 is then only ARP
  return c;
}

std::uint64_t l2_ended(const tor::L2Stats& s) {
  return s.total_drops() + s[tor::L2Counter::kForwarded] + s[tor::L2Counter::kFlooded] + s[tor::L2Counter::kBroadcast] +
         s[tor::L2Counter::kMulticast];
}
std::uint64_t l3_drops(const tor::L3Stats& s) {
  std::uint64_t n = 0;
  for (auto d : s.drops) n += d;
  return n;
}
std::uint64_t l3_ended(const tor::L3Stats& s) {
  return l3_drops(s) + s[tor::L3Counter::kForwarded] + s[tor::L3Counter::kArpRequestsAnswered] +
         s[tor::L3Counter::kIcmpEchoAnswered] + s[tor::L3Counter::kArpRepliesLearned] +
         s[tor::L3Counter::kArpRepliesIgnored];
}

TEST(InjectionAtTheSwitch, ValidTrafficIsDeliveredIntactAndEveryBadFrameIsCountedByReason) {
  SwitchRig rig(bridged_and_routed(), "isw");
  // Learn B on port 1, resolve host 3 behind port 3 (the router asks by ARP
  // when the first packet arrives; that packet is counted unresolved).
  rig.put(1, seq_frame(Mac::broadcast(), kHostB, 0));
  rig.put(2, routed_frame(0));
  rig.pump();
  const auto arp = rig.take(3);
  ASSERT_EQ(arp.size(), 1u);
  wire::FrameInfo fi;
  ASSERT_EQ(wire::parse_frame(arp[0], fi), wire::WireError::kOk);
  ASSERT_TRUE(fi.is_arp());
  ASSERT_EQ(fi.arp.tpa, kIp3);
  Bytes reply(64, 0);
  reply.resize(wire::build_arp_reply(reply, kHost3, kIp3, kRouter3, kIf3));
  rig.put(3, reply);
  rig.pump();
  for (unsigned h = 0; h < 4; ++h) rig.take(h);
  const tor::L2Stats l2_0 = rig.pipe().snapshot();
  const tor::L3Stats l3_0 = rig.pipe().l3_snapshot();

  // Bad frames, by the reason each must be counted under.
  struct Bad {
    unsigned port;
    Bytes frame;
  };
  std::vector<std::pair<tor::L2Drop, Bad>> l2_bad;
  l2_bad.push_back({tor::L2Drop::kTruncated, {0, Bytes(10, 0xff)}});
  const Bytes tagged = seq_frame(kHostB, kHostA, 1, 7);
  l2_bad.push_back({tor::L2Drop::kTruncated, {0, Bytes(tagged.begin(), tagged.begin() + 15)}});
  l2_bad.push_back({tor::L2Drop::kInvalidSrcMac, {0, seq_frame(kHostB, Mac{0x010000000001ULL}, 1)}});
  l2_bad.push_back({tor::L2Drop::kInvalidSrcMac, {1, seq_frame(kHostA, Mac{0}, 1)}});
  l2_bad.push_back({tor::L2Drop::kReservedDst, {0, seq_frame(Mac{0x0180c2000000ULL}, kHostA, 1)}});
  l2_bad.push_back({tor::L2Drop::kTaggedOnAccess, {0, seq_frame(kHostB, kHostA, 1, 5)}});
  l2_bad.push_back({tor::L2Drop::kBadVlanId, {1, seq_frame(kHostA, kHostB, 1, 4095)}});
  l2_bad.push_back({tor::L2Drop::kHairpin, {1, seq_frame(kHostB, Mac{0x020000000b02ULL}, 1)}});

  std::vector<std::pair<tor::L3Drop, Bad>> l3_bad;
  auto mangle = [](Bytes f, auto&& edit, bool fix_csum = true) {
    edit(f);
    if (fix_csum) fix_ip_csum(f);
    return f;
  };
  l3_bad.push_back({tor::L3Drop::kTruncated, {2, Bytes(10, 0xff)}});
  const Bytes routed = routed_frame(1);
  l3_bad.push_back({tor::L3Drop::kTruncated, {2, Bytes(routed.begin(), routed.begin() + kIp + 12)}});
  l3_bad.push_back({tor::L3Drop::kTagged, {2, seq_frame(kRouter2, kHostA, 1, 5)}});
  l3_bad.push_back({tor::L3Drop::kNotForUs, {2, routed_frame(1, kIp2, kIp3, Mac{0x0200000000ddULL})}});
  l3_bad.push_back({tor::L3Drop::kUnsupportedEthertype, {2, seq_frame(kRouter2, kHostA, 1)}});
  l3_bad.push_back({tor::L3Drop::kBadIp, {2, mangle(routed_frame(1), [](Bytes& f) { f[kIp] = 0x65; })}});
  l3_bad.push_back({tor::L3Drop::kBadIp, {2, mangle(routed_frame(1), [](Bytes& f) { f[kIp] = 0x44; })}});
  l3_bad.push_back({tor::L3Drop::kBadIp, {2, mangle(routed_frame(1), [](Bytes& f) {
                                            wire::store_be16(f.data() + kIp + wire::kIpv4OffTotalLen, 12);
                                          })}});
  l3_bad.push_back({tor::L3Drop::kTruncated, {2, mangle(routed_frame(1), [](Bytes& f) {
                                               wire::store_be16(f.data() + kIp + wire::kIpv4OffTotalLen, 1400);
                                             })}});
  l3_bad.push_back({tor::L3Drop::kBadIpChecksum,
                    {2, mangle(routed_frame(1), [](Bytes& f) { f[kIp + wire::kIpv4OffCsum] ^= 0x5a; }, false)}});
  l3_bad.push_back({tor::L3Drop::kMartian, {2, routed_frame(1, 0x7f000001, kIp3)}});
  l3_bad.push_back({tor::L3Drop::kMartian, {2, routed_frame(1, kIp2, 0xe0000005)}});
  l3_bad.push_back({tor::L3Drop::kNoRoute, {2, routed_frame(1, kIp2, 0xc0000201)}});
  l3_bad.push_back({tor::L3Drop::kToRouter, {2, routed_frame(1, kIp2, kIf2)}});
  l3_bad.push_back({tor::L3Drop::kTtlExceeded, {2, mangle(routed_frame(1), [](Bytes& f) { f[kIp + wire::kIpv4OffTtl] = 1; })}});
  {
    Bytes req(64, 0);
    req.resize(wire::build_arp_request(req, Mac{0x020000000c02ULL}, kIp2, 0x0a000163));  // not our address
    l3_bad.push_back({tor::L3Drop::kBadArp, {2, req}});
  }

  // Valid frames in order, the bad ones spread between them, each round.
  constexpr std::uint32_t kRounds = 40;
  for (std::uint32_t r = 1; r <= kRounds; ++r) {
    rig.put(0, seq_frame(kHostB, kHostA, r));
    rig.put(2, routed_frame(r));
    for (const auto& [why, b] : l2_bad) rig.put(b.port, b.frame);
    rig.put(1, seq_frame(kHostA, kHostB, r));
    for (const auto& [why, b] : l3_bad) rig.put(b.port, b.frame);
    rig.pump();
  }
  const auto at_a = rig.take(0), at_b = rig.take(1), at_2 = rig.take(2), at_3 = rig.take(3);
  ASSERT_EQ(at_b.size(), kRounds) << "A to B: every valid frame, nothing else";
  ASSERT_EQ(at_a.size(), kRounds) << "B to A: every valid frame, nothing else";
  for (std::uint32_t r = 1; r <= kRounds; ++r) {
    EXPECT_EQ(at_b[r - 1], seq_frame(kHostB, kHostA, r));
    EXPECT_EQ(at_a[r - 1], seq_frame(kHostA, kHostB, r));
  }
  EXPECT_TRUE(at_2.empty()) << "nothing goes back to the routed sender (ICMP errors are off)";
  ASSERT_EQ(at_3.size(), kRounds) << "every routed packet, nothing else";
  for (std::uint32_t r = 1; r <= kRounds; ++r) {
    wire::FrameInfo out;
    ASSERT_EQ(wire::parse_frame(at_3[r - 1], out), wire::WireError::kOk);
    EXPECT_EQ(out.eth.dst, kHost3);
    EXPECT_EQ(out.eth.src, kRouter3);
    EXPECT_EQ(out.ttl, wire::kIpv4DefaultTtl - 1);
    const Bytes sent = routed_frame(r);
    EXPECT_TRUE(std::equal(sent.begin() + kIp + 20, sent.end(), at_3[r - 1].begin() + kIp + 20)) << "UDP changed, round " << r;
  }

  const tor::L2Stats l2 = rig.pipe().snapshot();
  const tor::L3Stats l3 = rig.pipe().l3_snapshot();
  std::array<std::uint64_t, tor::kL2DropCount> want2{};
  for (const auto& [why, b] : l2_bad) want2[static_cast<std::size_t>(why)] += kRounds;
  for (std::size_t i = 0; i < tor::kL2DropCount; ++i)
    EXPECT_EQ(l2.drops[i] - l2_0.drops[i], want2[i]) << "L2 " << tor::kL2DropInfo[i].name;
  std::array<std::uint64_t, tor::kL3DropCount> want3{};
  for (const auto& [why, b] : l3_bad) want3[static_cast<std::size_t>(why)] += kRounds;
  for (std::size_t i = 0; i < tor::kL3DropCount; ++i)
    EXPECT_EQ(l3.drops[i] - l3_0.drops[i], want3[i]) << "L3 " << tor::kL3DropInfo[i].name;
  // Sum identities: every frame offered ends under exactly one outcome.
  EXPECT_EQ(l2[tor::L2Counter::kRxFrames] - l2_0[tor::L2Counter::kRxFrames], kRounds * (2 + l2_bad.size()));
  EXPECT_EQ(l2_ended(l2) - l2_ended(l2_0), l2[tor::L2Counter::kRxFrames] - l2_0[tor::L2Counter::kRxFrames]);
  EXPECT_EQ(l3[tor::L3Counter::kRxFrames] - l3_0[tor::L3Counter::kRxFrames], kRounds * (1 + l3_bad.size()));
  EXPECT_EQ(l3_ended(l3) - l3_ended(l3_0), l3[tor::L3Counter::kRxFrames] - l3_0[tor::L3Counter::kRxFrames]);
  EXPECT_EQ(l3[tor::L3Counter::kForwarded] - l3_0[tor::L3Counter::kForwarded], kRounds);
  EXPECT_EQ(l2[tor::L2Counter::kForwarded] - l2_0[tor::L2Counter::kForwarded], 2 * kRounds);
}

// ---------------------------------------------------------------------------
// Floods against the limits.

// Distinct, scattered, unicast, locally administered: a bijection of i.
Mac flood_mac(std::uint32_t i) {
  const std::uint64_t x = (std::uint64_t{i} * 0x9E3779B97F4A7C15ULL) >> 24;  // 40 bits
  return Mac{0x020000000000ULL | (x & 0xffffffffffULL)};
}

TEST(Floods, MacFloodStaysWithinTheTableAndPortLimitsAndKnownHostsKeepBeingForwarded) {
  tor::SwitchConfig cfg;
  cfg.l2.fdb_capacity = 1024;
  constexpr unsigned kPorts = 8;
  for (unsigned i = 0; i < kPorts; ++i) {
    tor::L2PortConfig pc;
    pc.max_macs = 256;
    cfg.l2.ports.push_back(pc);
  }
  SwitchRig rig(cfg, "mfl");
  rig.put(0, seq_frame(Mac::broadcast(), kHostA, 0));
  rig.put(1, seq_frame(Mac::broadcast(), kHostB, 0));
  rig.pump();
  for (unsigned h = 0; h < kPorts; ++h) rig.take(h);
  const tor::L2Stats s0 = rig.pipe().snapshot();

  // Random sources, all to A (known: forwarded, not flooded): the first
  // 30,000 on port 2 alone (its limit), the rest over ports 3..7 (the
  // table's). Between bursts A talks to B.
  constexpr std::uint32_t kFlood = 100'000;
  auto port_of = [](std::uint32_t i) { return i < 30'000 ? 2u : 3u + i % 5; };
  std::uint32_t probes = 0, at_b = 0, at_a = 0;
  for (std::uint32_t i = 0; i < kFlood;) {
    for (unsigned k = 0; k < 24 && i < kFlood; ++k, ++i) rig.put(port_of(i), seq_frame(kHostA, flood_mac(i), i));
    rig.put(0, seq_frame(kHostB, kHostA, ++probes));
    rig.pump();
    ASSERT_LE(rig.pipe().logic().fdb_size(), 1024u) << "after " << i;
    for (unsigned p = 0; p < kPorts; ++p) ASSERT_LE(rig.pipe().logic().port_learned(p), 256u) << "port " << p;
    at_a += static_cast<std::uint32_t>(rig.take(0).size());
    for (const Bytes& f : rig.take(1)) {
      std::uint32_t seq;
      std::memcpy(&seq, f.data() + wire::kEthHdrLen, sizeof seq);
      ASSERT_EQ(seq, ++at_b) << "a probe to B lost or out of order";
    }
    for (unsigned h = 2; h < kPorts; ++h) ASSERT_TRUE(rig.take(h).empty()) << "flooded to port " << h << " after " << i;
  }
  EXPECT_EQ(at_b, probes);
  EXPECT_EQ(at_a, kFlood) << "frames to the known A all went to A's port";
  const tor::L2Stats s = rig.pipe().snapshot();
  const auto d = [&](tor::L2Counter c) { return s[c] - s0[c]; };
  EXPECT_EQ(rig.pipe().logic().fdb_size(), 1024u);
  EXPECT_EQ(d(tor::L2Counter::kLearned), 1024u - 2u) << "the table filled up, no further";
  EXPECT_EQ(rig.pipe().logic().port_learned(2), 256u);
  EXPECT_EQ(d(tor::L2Counter::kLearnRefusedPortLimit), 30'000u - 256u);
  EXPECT_GT(d(tor::L2Counter::kLearnRefusedTableFull), 0u);
  EXPECT_EQ(d(tor::L2Counter::kLearnRefusedTableFull) + d(tor::L2Counter::kLearnRefusedPortLimit), kFlood - (1024u - 2u))
      << "every source not learned is counted as refused";
  EXPECT_EQ(d(tor::L2Counter::kFlooded), 0u);
  EXPECT_EQ(d(tor::L2Counter::kForwarded), kFlood + probes);
  EXPECT_EQ(rig.pipe().logic().lookup(1, kHostA, rig.now_ns()), std::optional<tor::PortId>(0));
  EXPECT_EQ(rig.pipe().logic().lookup(1, kHostB, rig.now_ns()), std::optional<tor::PortId>(1));
}

TEST(Floods, ConnectFloodIsRefusedAtTheTableLimitWhileTheRealConnectionKeepsWorking) {
  constexpr std::uint32_t kMax = 64, kPeers = 10'000;
  constexpr std::uint64_t kMessages = 3000;
  Pair p(traffic_of(kMessages, 1), "cfl", kMax);
  ASSERT_TRUE(p.run_until([&] { return p.all_established(1) && p.gen->generator().counters().completed.read() >= 100; }, 30));
  const srd::ConnId real = p.resp->open_connections().at(0);
  const Snap s0 = p.snap();
  std::uint64_t last_completed = p.gen->generator().counters().completed.read();
  unsigned stalls = 0;
  for (std::uint32_t i = 0; i < kPeers; i += 100) {
    std::vector<Bytes> burst;
    for (std::uint32_t k = i; k < i + 100; ++k) {
      Addr a;
      a.src_ip = 0x0b000000u + k;  // 11.0.0.0/8: every peer its own address
      a.src_mac = flood_mac(k).bits;
      burst.push_back(udp_frame(srd_handshake(wire::SrdType::kConnect, 0, k + 1, 0x1000u + k), a));
    }
    p.inject(burst);
    ASSERT_LE(p.resp_host->endpoint().connection_count(), kMax);
    // The real connection must get a message through before the next burst.
    const bool moved = p.run_until([&] { return p.gen->generator().counters().completed.read() > last_completed; }, 5);
    stalls += !moved;
    last_completed = p.gen->generator().counters().completed.read();
  }
  EXPECT_EQ(stalls, 0u) << "the real connection completed messages between every two bursts";
  ASSERT_FALSE(p.gen->finished()) << "the flood ended after the traffic: make kMessages larger";
  const Snap s1 = p.snap();
  EXPECT_EQ(p.resp_host->endpoint().connection_count(), kMax);
  EXPECT_EQ(s1.ep.c.conns_opened - s0.ep.c.conns_opened, kMax - 1) << "the free slots, no more";
  EXPECT_EQ(s1.ep.c.drop_table_full - s0.ep.c.drop_table_full, kPeers - (kMax - 1)) << "every other CONNECT refused";
  EXPECT_EQ(p.resp_host->endpoint().state(real), srd::ConnState::kEstablished);

  ASSERT_TRUE(p.run_until([&] { return p.gen->finished(); }, 60)) << "generator did not finish";
  const auto& g = p.gen->generator().counters();
  EXPECT_EQ(g.completed.read(), kMessages);
  EXPECT_EQ(g.failed.read(), 0u);
  EXPECT_EQ(g.conn_failed.read(), 0u);
  EXPECT_EQ(p.resp->responder().violations().total(), 0u);
  EXPECT_LE(p.resp_host->endpoint().connection_count(), kMax);
}

}  // namespace
}  // namespace spray::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new spray::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
