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
  o.l2.fdb_capacity = vm["fdb-size"].as<std::uint32_t>();
  const double age = vm["fdb-age"].as<double>();
  if (!(age == 0 || (age >= 1 && age <= 1e6)))
    throw UsageError("--fdb-age " + std::to_string(age) + ": expected seconds in 1..1000000, or 0 (never)");
  o.l2.age_ns = static_cast<std::uint64_t>(age * 1e9);
  o.l2.hash_seed = std::random_device{}();
  o.l2.hash_seed = (o.l2.hash_seed << 32) ^ std::random_device{}();
  const auto max_macs = vm["max-macs-per-port"].as<std::uint32_t>();
  for (const auto& ps : o.common.ports) {
    tor::L2PortConfig pc;
    pc.name = ps.name;
    pc.max_macs = max_macs;
    o.l2.ports.push_back(pc);
  }
  if (vm.count("vlan"))
    for (const auto& v : vm["vlan"].as<std::vector<std::string>>()) apply_vlan_spec(v, o.common.ports, o.l2);
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
      } else if (o.l2.ports[idx].mode == tor::PortMode::kAccess) {
        e.vlan = o.l2.ports[idx].access_vlan;
      }
      const auto parsed = wire::Mac::parse(mac);
      if (!parsed || parsed->is_group() || parsed->is_zero())
        throw UsageError("--mac '" + m + "': '" + mac + "' is not a unicast MAC address" + forms);
      e.mac = *parsed;
      o.l2.static_entries.push_back(e);
    }
  }
  if (auto err = o.l2.validate(); !err.empty()) throw UsageError(err);
  return o;
}

}  // namespace spray::app
