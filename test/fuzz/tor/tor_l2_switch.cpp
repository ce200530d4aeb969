// SPDX-License-Identifier: BSD-3-Clause
// Arbitrary traffic through a 4-port L2Switch with a VLAN mix, link flaps,
// ageing and time steps. Beyond "no crash, no read past a frame's end" (the
// sanitizers' part), every burst is checked against the switch's contract:
// each frame gets exactly one decision and one count, nothing leaves by its
// ingress port or outside its VLAN, and group source MACs are never learned.
//
// Input: a sequence of records, each a control byte and a frame.
//   ctl bits 0-1  ingress port
//   ctl bit 2     close the current burst first (a port change closes it too)
//   ctl bits 3-4  time step before the frame: 0, 1 ms, 700 ms, 3 s
//   ctl bit 5     toggle the link of port (ctl >> 6) first
//   ctl bit 6     run an ageing sweep first
//   ctl bit 7     compact frame: 3 bytes pick destination, source and tag
//                 from a small address set, so learning, hits, hairpins and
//                 moves happen often; otherwise a length byte and raw bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "../wire/fuzz_check.h"
#include "tor/l2_switch.h"
#include "wire/ether.h"

using namespace spray;
using namespace spray::tor;

namespace {

constexpr std::size_t kPorts = 4;
constexpr std::uint64_t kMs = 1'000'000ULL;
constexpr VlanId kVlans[] = {10, 20, 30};
const wire::Mac kStaticMac{0x0200'0000'0077ULL};

// 0: access 10 (at most 6 learned MACs); 1: access 20; 2: trunk 10,20,30
// with native 10; 3: trunk 20,30 without native. A table of 24 entries, so
// it fills; one static entry on the trunk.
L2Config config() {
  L2Config c;
  c.fdb_capacity = 24;
  c.age_ns = 1'000'000'000ULL;
  c.hash_seed = 7;
  L2PortConfig p0;
  p0.mode = PortMode::kAccess;
  p0.access_vlan = 10;
  p0.max_macs = 6;
  L2PortConfig p1;
  p1.mode = PortMode::kAccess;
  p1.access_vlan = 20;
  L2PortConfig p2;
  p2.mode = PortMode::kTrunk;
  p2.allowed_vlans = {10, 20, 30};
  p2.native_vlan = 10;
  L2PortConfig p3;
  p3.mode = PortMode::kTrunk;
  p3.allowed_vlans = {20, 30};
  c.ports = {p0, p1, p2, p3};
  c.static_entries.push_back({20, kStaticMac, 2});
  return c;
}

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t u8() { return n ? (--n, *p++) : 0; }
};

wire::Mac compact_mac(std::uint8_t b) {
  switch (b >> 5) {
    case 0: return wire::Mac::broadcast();
    case 1: return wire::Mac{0x0100'5e00'0000ULL | (b & 3)};  // IPv4 multicast
    case 2: return wire::Mac{0x0180'c200'0000ULL | (b & 15)};  // 802.1D reserved
    case 3: return b & 1 ? kStaticMac : wire::Mac{};
    default: return wire::Mac{0x0200'0000'0000ULL | (b & 31)};
  }
}

std::vector<std::uint8_t> compact_frame(Input& in) {
  const wire::Mac dst = compact_mac(in.u8());
  const wire::Mac src = compact_mac(in.u8());
  const std::uint8_t tag = in.u8();
  std::vector<std::uint8_t> f(wire::kEthHdrLen + 46, 0);
  dst.store(f.data());
  src.store(f.data() + 6);
  if (tag & 0x80) {
    // 802.1Q: VID from a mix of configured, priority-only and odd VIDs.
    static constexpr VlanId kVids[] = {10, 20, 30, 0, 40, 4095, 1, 4094};
    f.resize(f.size() + wire::kVlanTagLen);
    wire::store_be16(f.data() + 12, wire::kEtherTypeVlan);
    wire::store_be16(f.data() + 14, static_cast<std::uint16_t>(((tag & 7) << 13) | kVids[(tag >> 3) & 7]));
    wire::store_be16(f.data() + 16, wire::kEtherTypeIpv4);
  } else {
    wire::store_be16(f.data() + 12, wire::kEtherTypeIpv4);
  }
  if (tag & 0x40) f.resize(tag & 0x1f);  // a runt
  return f;
}

struct Fuzz {
  const L2Config cfg = config();
  L2Switch sw{cfg};
  std::uint64_t now_ns = 10'000 * kMs;
  std::uint64_t offered = 0;
  std::array<bool, kPorts> link{true, true, true, true};

  std::optional<PortId> static_port(VlanId vlan, wire::Mac mac) const {
    for (const auto& s : cfg.static_entries)
      if (s.vlan == vlan && s.mac == mac) return s.port;
    return std::nullopt;
  }

  void burst(PortId in, const std::vector<std::vector<std::uint8_t>>& frames) {
    if (frames.empty()) return;
    const L2Stats before = sw.snapshot();
    const std::vector<std::span<const std::uint8_t>> spans(frames.begin(), frames.end());
    // An action no decision can have: a frame left undecided shows.
    L2Decision unset;
    unset.action = static_cast<L2Action>(0xee);
    std::vector<L2Decision> d(frames.size(), unset);
    sw.process_burst(in, spans, d, now_ns);
    offered += frames.size();

    std::uint64_t unicast = 0, flooded = 0;
    std::array<std::uint64_t, kL2DropCount> drops{};
    for (std::size_t i = 0; i < d.size(); ++i) {
      const L2Decision& x = d[i];
      WIRE_FUZZ_CHECK(x.action == L2Action::kDrop || x.action == L2Action::kUnicast ||
                      x.action == L2Action::kFlood);
      if (x.action == L2Action::kDrop) {
        WIRE_FUZZ_CHECK(static_cast<std::size_t>(x.drop) < kL2DropCount);
        ++drops[static_cast<std::size_t>(x.drop)];
        continue;
      }
      WIRE_FUZZ_CHECK(link[in]);
      WIRE_FUZZ_CHECK(cfg.port_in_vlan(in, x.vlan));
      if (x.action == L2Action::kUnicast) {
        ++unicast;
        WIRE_FUZZ_CHECK(x.port != in);
        WIRE_FUZZ_CHECK(x.port < kPorts);
        WIRE_FUZZ_CHECK(cfg.port_in_vlan(x.port, x.vlan));
        WIRE_FUZZ_CHECK(sw.port_up(x.port));
      } else {
        ++flooded;
        const PortMask out = sw.flood_ports(x.vlan, in);
        WIRE_FUZZ_CHECK(!out.empty());
        WIRE_FUZZ_CHECK(!out.contains(in));
        for (PortId p : out) {
          WIRE_FUZZ_CHECK(p < kPorts);
          WIRE_FUZZ_CHECK(cfg.port_in_vlan(p, x.vlan));
          WIRE_FUZZ_CHECK(sw.port_up(p));
        }
      }
    }

    // One count per frame, and the counts agree with the decisions.
    const L2Stats after = sw.snapshot();
    auto delta = [&](L2Counter c) { return after[c] - before[c]; };
    WIRE_FUZZ_CHECK(delta(L2Counter::kRxFrames) == frames.size());
    WIRE_FUZZ_CHECK(delta(L2Counter::kForwarded) == unicast);
    WIRE_FUZZ_CHECK(delta(L2Counter::kFlooded) + delta(L2Counter::kBroadcast) + delta(L2Counter::kMulticast) ==
                    flooded);
    for (std::size_t r = 0; r < kL2DropCount; ++r)
      WIRE_FUZZ_CHECK(after.drops[r] - before.drops[r] == drops[r]);

    // Sources: a group address is never learned; a learned one points at the
    // ingress port unless a static entry holds it elsewhere.
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (frames[i].size() < wire::kEthHdrLen) continue;
      const wire::Mac src = wire::Mac::load(frames[i].data() + 6);
      if (src.is_group()) {
        for (VlanId v : kVlans) WIRE_FUZZ_CHECK(!sw.lookup(v, src, now_ns));
        continue;
      }
      if (d[i].action == L2Action::kDrop || src.is_zero()) continue;
      const auto where = sw.lookup(d[i].vlan, src, now_ns);
      if (where) WIRE_FUZZ_CHECK(*where == in || where == static_port(d[i].vlan, src));
    }

    std::uint64_t learned = 0;
    for (PortId p = 0; p < kPorts; ++p) {
      learned += sw.port_learned(p);
      if (cfg.ports[p].max_macs != 0) WIRE_FUZZ_CHECK(sw.port_learned(p) <= cfg.ports[p].max_macs);
    }
    WIRE_FUZZ_CHECK(sw.fdb_size() <= cfg.fdb_capacity);
    WIRE_FUZZ_CHECK(sw.fdb_size() == learned + cfg.static_entries.size());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fuzz f;
  Input in{data, size};
  std::vector<std::vector<std::uint8_t>> frames;
  PortId port = 0;
  while (!in.empty()) {
    const std::uint8_t ctl = in.u8();
    const auto next_port = static_cast<PortId>(ctl & 3);
    const bool side_effect = (ctl & 0x78) != 0;  // time, link or ageing
    if ((ctl & 4) || next_port != port || side_effect) {
      f.burst(port, frames);
      frames.clear();
    }
    port = next_port;
    static constexpr std::uint64_t kSteps[] = {0, kMs, 700 * kMs, 3000 * kMs};
    f.now_ns += kSteps[(ctl >> 3) & 3];
    if (ctl & 0x20) {
      const auto p = static_cast<PortId>(ctl >> 6);
      f.link[p] = !f.link[p];
      f.sw.set_port_link(p, f.link[p]);
    }
    if (ctl & 0x40) (void)f.sw.age(f.now_ns, 8);
    if (ctl & 0x80) {
      frames.push_back(compact_frame(in));
    } else {
      std::size_t len = in.u8();
      if (len > in.n) len = in.n;
      frames.emplace_back(in.p, in.p + len);  // exact size: a read past it is an ASan report
      in.p += len;
      in.n -= len;
    }
  }
  f.burst(port, frames);

  const L2Stats s = f.sw.snapshot();
  WIRE_FUZZ_CHECK(s[L2Counter::kRxFrames] == f.offered);
  WIRE_FUZZ_CHECK(s[L2Counter::kForwarded] + s[L2Counter::kFlooded] + s[L2Counter::kBroadcast] +
                      s[L2Counter::kMulticast] + s.total_drops() ==
                  f.offered);
  return 0;
}
