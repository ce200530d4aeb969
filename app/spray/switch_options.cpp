// SPDX-License-Identifier: BSD-3-Clause
#include "switch_options.h"

#include <charconv>
#include <random>
#include <sstream>

namespace spray::app {

namespace {

const char* kVlanForms =
    "expected PORT=access:VID or PORT=trunk:VIDS[:native=VID] with VIDs in 1..4094, "
    "e.g. a=access:10 or up=trunk:10,20,30-39:native=1";

tor::VlanId parse_vid(const std::string& s, const std::string& spec) {
  unsigned v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || v < tor::kMinVlan || v > tor::kMaxVlan)
    throw UsageError("--vlan '" + spec + "': VLAN '" + s + "' is not in 1..4094; " + kVlanForms);
  return static_cast<tor::VlanId>(v);
}

}  // namespace

RoleParser make_switch_parser() {
  RoleParser parser("switch",
                    "Software top-of-rack switch over DPDK ports (tap for namespaces, vhost-user for VMs, "
                    "rings and memif in one host): an L2 learning bridge with 802.1Q VLANs, and routed "
                    "ports with static routes and ECMP; egress shaping with ECN marking. SIGHUP reloads "
                    "the options and --config file without restarting ports.\n"
                    "Example: spray switch --port a=net_tap0,iface=sw-a --port b=net_tap1,iface=sw-b");
  describe_switch_options(parser);
  return parser;
}

void describe_switch_options(RoleParser& p) {
  auto add = p.role_options().add_options();
  add("vlan", po::value<std::vector<std::string>>()->value_name("PORT=MODE:VIDS"),
      "802.1Q mode of a port, repeatable: PORT=access:VID (untagged) or "
      "PORT=trunk:VIDS[:native=VID] (tagged; VIDS like 10,20,30-39). Ports not named are "
      "access ports of VLAN 1");
  add("fdb-size", po::value<std::uint32_t>()->default_value(16384)->value_name("ENTRIES"),
      "forwarding database capacity in entries (1..4194304); beyond it new MACs are counted, "
      "not learned");
  add("fdb-age", po::value<double>()->default_value(300)->value_name("SECONDS"),
      "seconds after which a silent MAC is forgotten (1..1000000; 0 = never)");
  add("max-macs-per-port", po::value<std::uint32_t>()->default_value(4096)->value_name("N"),
      "learned MACs per port at most (0 = no limit); protects the table from a flooding host");
  add("mac", po::value<std::vector<std::string>>()->value_name("PORT=MAC[@VID]"),
      "static FDB entry, repeatable: never aged or moved, e.g. a=02:00:00:00:00:01@10");
  add("interface", po::value<std::vector<std::string>>()->value_name("PORT=ADDR/LEN"),
      "make PORT a routed (L3) port with this IPv4 address and subnet, repeatable, e.g. "
      "up1=10.1.0.1/31; it answers ARP and ping for the address. Ports without one are bridged (L2)");
  add("route", po::value<std::vector<std::string>>()->value_name("PREFIX=NH[,NH...]"),
      "static route, repeatable: PREFIX/LEN via 1..64 next hops on routed ports' subnets; several "
      "next hops form an ECMP group hashed on the 5-tuple, e.g. 10.0.2.0/24=10.1.0.0,10.1.1.0");
  add("ecmp-seed", po::value<std::uint64_t>()->value_name("N"),
      "seed of the ECMP flow hash (default: random, printed at start); give each fabric layer its own");
  add("shape", po::value<std::vector<std::string>>()->value_name("PORT=RATE[,OPT...]"),
      "egress queue of a port, repeatable: RATE is a bit rate (10Gbps, 500Mbps) or 'line'; options "
      "depth=PKTS (default 1024, tail drop beyond), ecn-pkts=K (mark CE above K queued, default 32), "
      "ecn-us=US (mark CE after US microseconds queued, default 20), ecn=off");
  add("arp-timeout", po::value<double>()->default_value(30)->value_name("SECONDS"),
      "seconds after which a neighbor's ARP entry is confirmed again (0.01..3600)");
  add("icmp-rate", po::value<std::uint32_t>()->default_value(100)->value_name("PER_S"),
      "ICMP errors (TTL exceeded, unreachable) sent per second at most (0 = none)");
}

std::uint64_t parse_bit_rate(const std::string& s, const std::string& option) {
  const std::string forms = "; expected a bit rate like 10Gbps, 500Mbps, 100Kbps, 2.5e9, or 'line'";
  if (s == "line" || s == "0") return 0;
  double scale = 1;
  std::string num = s;
  auto ends = [&](const char* suf) {
    const std::string x(suf);
    return num.size() > x.size() && num.compare(num.size() - x.size(), x.size(), x) == 0;
  };
  if (ends("Gbps")) scale = 1e9, num.resize(num.size() - 4);
  else if (ends("Mbps")) scale = 1e6, num.resize(num.size() - 4);
  else if (ends("Kbps")) scale = 1e3, num.resize(num.size() - 4);
  else if (ends("bps")) num.resize(num.size() - 3);
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(num, &used);
  } catch (...) {
    used = 0;
  }
  if (num.empty() || used != num.size() || !(v > 0) || v * scale > 4e12 || v * scale < 1e3)
    throw UsageError(option + " '" + s + "': not a bit rate in 1Kbps..4Tbps" + forms);
  return static_cast<std::uint64_t>(v * scale);
}

void apply_shape_spec(const std::string& spec, const std::vector<dp::PortSpec>& ports, tor::SwitchConfig& c) {
  const std::string forms =
      "; expected PORT=RATE[,depth=PKTS][,ecn-pkts=K][,ecn-us=US][,ecn=on|off], e.g. up1=10Gbps,ecn-pkts=32";
  const auto eq = spec.find('=');
  if (eq == std::string::npos) throw UsageError("--shape '" + spec + "': missing '='" + forms);
  const std::string name = spec.substr(0, eq);
  std::size_t idx = ports.size();
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name) idx = i;
  if (idx == ports.size()) throw UsageError("--shape '" + spec + "': no port named '" + name + "'");
  std::stringstream ss(spec.substr(eq + 1));
  std::string item;
  tor::EgressConfig e;
  bool first = true;
  while (std::getline(ss, item, ',')) {
    if (first) {
      e.rate_bps = parse_bit_rate(item, "--shape");
      first = false;
      continue;
    }
    const auto k = item.find('=');
    const std::string key = item.substr(0, k), val = k == std::string::npos ? "" : item.substr(k + 1);
    auto number = [&](double lo, double hi) {
      double v = 0;
      std::size_t used = 0;
      try {
        v = std::stod(val, &used);
      } catch (...) {
        used = 0;
      }
      if (val.empty() || used != val.size() || v < lo || v > hi)
        throw UsageError("--shape '" + spec + "': " + key + "=" + val + " is out of range; accepted: " +
                         std::to_string(static_cast<long long>(lo)) + ".." + std::to_string(static_cast<long long>(hi)));
      return v;
    };
    if (key == "depth") e.depth_pkts = static_cast<std::uint32_t>(number(1, 65536));
    else if (key == "ecn-pkts") e.ecn_threshold_pkts = static_cast<std::uint32_t>(number(0, 65536));
    else if (key == "ecn-us") e.ecn_sojourn_ns = static_cast<std::uint64_t>(number(0, 1e6) * 1000);
    else if (key == "ecn" && (val == "on" || val == "off")) e.ecn = val == "on";
    else throw UsageError("--shape '" + spec + "': unknown option '" + item + "'" + forms);
  }
  if (first) throw UsageError("--shape '" + spec + "': missing the rate" + forms);
  if (auto err = e.validate(); !err.empty()) throw UsageError("--shape '" + spec + "': " + err);
  if (c.egress.size() < ports.size()) c.egress.resize(ports.size());
  c.egress[idx] = e;
}

void apply_vlan_spec(const std::string& spec, const std::vector<dp::PortSpec>& ports,
                     tor::L2Config& l2) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos) throw UsageError("--vlan '" + spec + "': missing '='; " + kVlanForms);
  const std::string name = spec.substr(0, eq);
  std::size_t idx = ports.size();
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name) idx = i;
  if (idx == ports.size()) {
    std::string names;
    for (const auto& p : ports) names += (names.empty() ? "" : ", ") + p.name;
    throw UsageError("--vlan '" + spec + "': no port named '" + name + "'; ports: " +
                     (names.empty() ? "(none)" : names));
  }
  auto& pc = l2.ports[idx];
  const std::string rest = spec.substr(eq + 1);
  if (rest.rfind("access:", 0) == 0) {
    pc.mode = tor::PortMode::kAccess;
    pc.access_vlan = parse_vid(rest.substr(7), spec);
    pc.allowed_vlans.clear();
    pc.native_vlan = tor::kNoVlan;
  } else if (rest.rfind("trunk:", 0) == 0) {
    pc.mode = tor::PortMode::kTrunk;
    pc.allowed_vlans.clear();
    pc.native_vlan = tor::kNoVlan;
    std::string body = rest.substr(6);
    const auto colon = body.find(':');
    if (colon != std::string::npos) {
      const std::string opt = body.substr(colon + 1);
      if (opt.rfind("native=", 0) != 0)
        throw UsageError("--vlan '" + spec + "': unknown trunk option '" + opt + "'; " + kVlanForms);
      pc.native_vlan = parse_vid(opt.substr(7), spec);
      body = body.substr(0, colon);
    }
    std::stringstream ss(body);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const auto dash = item.find('-');
      if (dash == std::string::npos) {
        pc.allowed_vlans.push_back(parse_vid(item, spec));
      } else {
        const auto a = parse_vid(item.substr(0, dash), spec);
        const auto b = parse_vid(item.substr(dash + 1), spec);
        if (b < a) throw UsageError("--vlan '" + spec + "': range '" + item + "' runs backwards");
        for (unsigned v = a; v <= b; ++v) pc.allowed_vlans.push_back(static_cast<tor::VlanId>(v));
      }
    }
    if (pc.allowed_vlans.empty() && pc.native_vlan == tor::kNoVlan)
      throw UsageError("--vlan '" + spec + "': a trunk needs at least one VLAN; " + kVlanForms);
  } else {
    throw UsageError("--vlan '" + spec + "': unknown mode; " + kVlanForms);
  }
}

namespace {

std::size_t port_named(const std::string& name, const std::vector<dp::PortSpec>& ports, const std::string& what) {
  for (std::size_t i = 0; i < ports.size(); ++i)
    if (ports[i].name == name) return i;
  std::string names;
  for (const auto& p : ports) names += (names.empty() ? "" : ", ") + p.name;
  throw UsageError(what + ": no port named '" + name + "'; ports: " + (names.empty() ? "(none)" : names));
}

void apply_l3_options(const po::variables_map& vm, const std::vector<dp::PortSpec>& ports, tor::SwitchConfig& c) {
  if (vm.count("interface"))
    for (const auto& spec : vm["interface"].as<std::vector<std::string>>()) {
      const std::string what = "--interface '" + spec + "'";
      const auto eq = spec.find('=');
      if (eq == std::string::npos) throw UsageError(what + ": missing '='; expected PORT=ADDR/LEN, e.g. up1=10.1.0.1/31");
      tor::L3Interface i;
      i.port = static_cast<tor::PortId>(port_named(spec.substr(0, eq), ports, what));
      const auto pfx = wire::parse_ipv4_prefix(spec.substr(eq + 1), wire::HostBits::kAllow);
      if (!pfx) throw UsageError(what + ": '" + spec.substr(eq + 1) + "' is not ADDR/LEN, e.g. 10.1.0.1/24");
      i.addr = *pfx;
      // The port's MAC is known only once the port exists; the role fills it.
      i.mac = wire::Mac{0x020000000001ULL};
      c.l3.interfaces.push_back(i);
    }
  if (vm.count("route"))
    for (const auto& spec : vm["route"].as<std::vector<std::string>>()) {
      const std::string what = "--route '" + spec + "'";
      const std::string forms = "; expected PREFIX/LEN=NH[,NH...], e.g. 10.0.2.0/24=10.1.0.0,10.1.1.0";
      const auto eq = spec.find('=');
      if (eq == std::string::npos) throw UsageError(what + ": missing '='" + forms);
      tor::L3Route r;
      const auto pfx = wire::parse_ipv4_prefix(spec.substr(0, eq));
      if (!pfx) throw UsageError(what + ": '" + spec.substr(0, eq) + "' is not a network PREFIX/LEN (host bits zero)" + forms);
      r.prefix = *pfx;
      std::stringstream ss(spec.substr(eq + 1));
      std::string nh;
      while (std::getline(ss, nh, ',')) {
        const auto a = wire::parse_ipv4_addr(nh);
        if (!a) throw UsageError(what + ": next hop '" + nh + "' is not an IPv4 address" + forms);
        r.next_hops.push_back(*a);
      }
      c.l3.routes.push_back(r);
    }
  const double arp = vm["arp-timeout"].as<double>();
  if (!(arp >= 0.01 && arp <= 3600))
    throw UsageError("--arp-timeout " + std::to_string(arp) + ": expected seconds in 0.01..3600");
  c.l3.arp_reachable_ns = static_cast<std::uint64_t>(arp * 1e9);
  c.l3.arp_retry_ns = std::min<std::uint64_t>(c.l3.arp_retry_ns, c.l3.arp_reachable_ns);
  c.l3.icmp_errors_per_s = vm["icmp-rate"].as<std::uint32_t>();
  c.l3.icmp_burst = std::max<std::uint32_t>(1, std::min<std::uint32_t>(10, c.l3.icmp_errors_per_s));
  if (vm.count("shape"))
    for (const auto& s : vm["shape"].as<std::vector<std::string>>()) apply_shape_spec(s, ports, c);
}

}  // namespace

SwitchOptions switch_options_from(const RoleParser& p) {
  SwitchOptions o;
  o.common = p.common();
  const auto& vm = p.vm();
  if (o.common.ports.size() < 2)
    throw UsageError("needs at least two ports (--port NAME=DEVARGS), got " +
                     std::to_string(o.common.ports.size()));
  if (o.common.ports.size() > tor::kMaxPorts)
    throw UsageError("at most " + std::to_string(tor::kMaxPorts) + " ports, got " +
                     std::to_string(o.common.ports.size()));
  o.config.l2.fdb_capacity = vm["fdb-size"].as<std::uint32_t>();
  const double age = vm["fdb-age"].as<double>();
  if (!(age == 0 || (age >= 1 && age <= 1e6)))
    throw UsageError("--fdb-age " + std::to_string(age) + ": expected seconds in 1..1000000, or 0 (never)");
  o.config.l2.age_ns = static_cast<std::uint64_t>(age * 1e9);
  o.config.l2.hash_seed = std::random_device{}();
  o.config.l2.hash_seed = (o.config.l2.hash_seed << 32) ^ std::random_device{}();
  const auto max_macs = vm["max-macs-per-port"].as<std::uint32_t>();
  for (const auto& ps : o.common.ports) {
    tor::L2PortConfig pc;
    pc.name = ps.name;
    pc.max_macs = max_macs;
    o.config.l2.ports.push_back(pc);
  }
  if (vm.count("vlan"))
    for (const auto& v : vm["vlan"].as<std::vector<std::string>>()) apply_vlan_spec(v, o.common.ports, o.config.l2);
  if (vm.count("mac")) {
    for (const auto& m : vm["mac"].as<std::vector<std::string>>()) {
      const std::string forms = "; expected PORT=MAC[@VID], e.g. a=02:00:00:00:00:01@10";
      const auto eq = m.find('=');
      if (eq == std::string::npos) throw UsageError("--mac '" + m + "': missing '='" + forms);
      tor::L2StaticEntry e;
      const std::string name = m.substr(0, eq);
      std::string mac = m.substr(eq + 1);
      std::size_t idx = o.common.ports.size();
      for (std::size_t i = 0; i < o.common.ports.size(); ++i)
        if (o.common.ports[i].name == name) idx = i;
      if (idx == o.common.ports.size()) throw UsageError("--mac '" + m + "': no port named '" + name + "'");
      e.port = static_cast<tor::PortId>(idx);
      const auto at = mac.find('@');
      e.vlan = 1;
      if (at != std::string::npos) {
        e.vlan = parse_vid(mac.substr(at + 1), m);
        mac = mac.substr(0, at);
      } else if (o.config.l2.ports[idx].mode == tor::PortMode::kAccess) {
        e.vlan = o.config.l2.ports[idx].access_vlan;
      }
      const auto parsed = wire::Mac::parse(mac);
      if (!parsed || parsed->is_group() || parsed->is_zero())
        throw UsageError("--mac '" + m + "': '" + mac + "' is not a unicast MAC address" + forms);
      e.mac = *parsed;
      o.config.l2.static_entries.push_back(e);
    }
  }
  apply_l3_options(vm, o.common.ports, o.config);
  if (vm.count("ecmp-seed")) {
    o.config.l3.ecmp_seed = vm["ecmp-seed"].as<std::uint64_t>();
    o.ecmp_seed_given = true;
  } else {
    o.config.l3.ecmp_seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  }
  if (auto err = o.config.validate(); !err.empty()) throw UsageError(err);
  return o;
}

}  // namespace spray::app
