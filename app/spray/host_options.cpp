// SPDX-License-Identifier: BSD-3-Clause
#include "host_options.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "wire/ipv4.h"

namespace spray::app {

namespace {

std::uint32_t parse_addr(const std::string& s, const char* option) {
  const auto a = wire::parse_ipv4_addr(s);
  if (!a) throw UsageError(std::string(option) + " '" + s + "': not an IPv4 address (expected a.b.c.d)");
  return *a;
}

}  // namespace

std::uint64_t parse_seconds(double s, const char* option, bool allow_zero, double max_s) {
  if (!(s >= 0) || s > max_s || (!allow_zero && s == 0))
    throw UsageError(std::string(option) + " " + std::to_string(s) + ": expected seconds in " +
                     (allow_zero ? "0" : "(0") + ".." + std::to_string(static_cast<long>(max_s)) +
                     (allow_zero ? "]" : "]"));
  return static_cast<std::uint64_t>(std::llround(s * 1e9));
}

RateSpec parse_rate(const std::string& s, double mean_msg_bytes, double link_bps, double payload_per_pkt) {
  const std::string accepted =
      "; expected messages/s (250000, 1e6), a bit rate (500Mbps, 10Gbps) or a share of the link (40%)";
  auto number = [&](const std::string& t) {
    double v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !(v > 0) || !std::isfinite(v))
      throw UsageError("--rate '" + s + "': '" + t + "' is not a positive number" + accepted);
    return v;
  };
  RateSpec r;
  const double wire_bits = wire_bits_per_message(mean_msg_bytes, payload_per_pkt);
  auto ends = [&](const char* suf) {
    const std::size_t n = std::char_traits<char>::length(suf);
    return s.size() > n && s.compare(s.size() - n, n, suf) == 0;
  };
  if (ends("%")) {
    r.percent = number(s.substr(0, s.size() - 1));
    if (r.percent > 100) throw UsageError("--rate '" + s + "': more than 100% of the link" + accepted);
    r.gbps = link_bps * r.percent / 100 / 1e9;
  } else if (ends("Gbps")) {
    r.gbps = number(s.substr(0, s.size() - 4));
  } else if (ends("Mbps")) {
    r.gbps = number(s.substr(0, s.size() - 4)) / 1000;
  } else {
    r.msgs_per_s = number(s);
    return r;
  }
  r.msgs_per_s = r.gbps * 1e9 / wire_bits;
  return r;
}

void describe_host_options(RoleParser& p, bool generator) {
  auto add = p.role_options().add_options();
  add("ip", po::value<std::vector<std::string>>()->value_name("ADDR/LEN"),
      generator ? "this host's IPv4 address and prefix on its port, e.g. 10.0.0.1/24 (required)"
                : "this host's IPv4 address and prefix, one per --port in the same order, "
                  "e.g. 10.0.0.2/24 (required)");
  add("gateway", po::value<std::string>()->value_name("ADDR"),
      "next hop for peers outside the prefix (default: none, peers must be on-link)");
  add("udp-port", po::value<unsigned>()->default_value(dp::kSrdDefaultPort)->value_name("PORT"),
      "UDP port of the SRD transport on both hosts (1..65535)");
  add("src-port-base", po::value<unsigned>()->default_value(dp::kSrdDefaultSrcBase)->value_name("PORT"),
      "UDP source port of path 0; path i uses base + i, so ECMP switches hash paths apart");
  add("paths", po::value<unsigned>()->default_value(16)->value_name("N"),
      "paths to spray each connection over (1..256; 1 = single path, like TCP over ECMP)");
  add("mtu", po::value<unsigned>()->default_value(1500)->value_name("BYTES"),
      "IP MTU, 576..9000; SRD payload per packet = MTU - 60. Above 1500 the port must take "
      "it (exit 1 naming its limit otherwise) and buffers grow to hold a whole frame");
  add("link-rate", po::value<double>()->default_value(10)->value_name("GBPS"),
      "port rate in Gbit/s for the congestion window's BDP and pacing, and for --rate N%");
  add("seed", po::value<std::uint64_t>()->default_value(1)->value_name("N"),
      "seed of every random choice (connection ids, nonces, sizes, Poisson gaps)");
}

namespace {

HostOptions host_options_from(const RoleParser& p, bool generator, bool local_responder) {
  HostOptions h;
  h.common = p.common();
  const auto& vm = p.vm();
  if (local_responder) {
    if (!h.common.ports.empty())
      throw UsageError("--local-responder brings its own in-memory link; give no --port");
  } else {
    if (h.common.ports.empty()) throw UsageError("needs a port (--port NAME=DEVARGS)");
    if (generator && h.common.ports.size() != 1)
      throw UsageError("a generator uses one port, got " + std::to_string(h.common.ports.size()));
  }
  if (!vm.count("ip")) throw UsageError("needs --ip ADDR/LEN (this host's address)");
  const auto ips = vm["ip"].as<std::vector<std::string>>();
  const std::size_t nb_ports = local_responder ? 1 : h.common.ports.size();
  if (ips.size() != nb_ports)
    throw UsageError("--ip given " + std::to_string(ips.size()) + " time(s) for " + std::to_string(nb_ports) +
                     " port(s); give one address per port");
  auto& ep = h.endpoint;
  const unsigned udp_port = vm["udp-port"].as<unsigned>();
  if (udp_port == 0 || udp_port > 65535)
    throw UsageError("--udp-port " + std::to_string(udp_port) + ": expected 1..65535");
  const unsigned paths = vm["paths"].as<unsigned>();
  if (paths == 0 || paths > 256) throw UsageError("--paths " + std::to_string(paths) + ": expected 1..256");
  const unsigned base = vm["src-port-base"].as<unsigned>();
  if (base == 0 || std::uint64_t{base} + paths - 1 > 65535)  // 64 bits: -1 parses as 4294967295
    throw UsageError("--src-port-base " + std::to_string(base) + ": with " + std::to_string(paths) +
                     " paths the ports must fit in 1..65535");
  if (udp_port >= base && udp_port < base + paths)
    throw UsageError("--udp-port " + std::to_string(udp_port) + " lies inside the source port range " +
                     std::to_string(base) + ".." + std::to_string(base + paths - 1));
  const unsigned mtu = vm["mtu"].as<unsigned>();
  if (mtu < kMinMtu || mtu > kMaxMtu)
    throw UsageError("--mtu " + std::to_string(mtu) + ": expected " + std::to_string(kMinMtu) + ".." +
                     std::to_string(kMaxMtu));
  const double rate = vm["link-rate"].as<double>();
  if (!(rate > 0 && rate <= 800)) throw UsageError("--link-rate " + std::to_string(rate) + ": expected Gbit/s in (0, 800]");
  ep.paths = static_cast<std::uint16_t>(paths);
  ep.mtu = static_cast<std::uint16_t>(mtu);
  ep.link_rate_bps = static_cast<std::uint64_t>(rate * 1e9);
  ep.seed = vm["seed"].as<std::uint64_t>();
  if (!h.common.idle_poll) {
    // A worker that sleeps when idle (--idle backoff) answers up to one
    // sleep late on each side; that wake-up time is host delay, not queueing
    // in the network, so the delay target must absorb it or the window
    // collapses on an idle-looking but healthy path.
    // The same holds for the retransmission timer's floor.
    ep.target_min_ns += 2 * std::uint64_t{dp::kIdleMaxSleepUs} * 1000;
    ep.rto_min_ns += 2 * std::uint64_t{dp::kIdleMaxSleepUs} * 1000;
  }
  std::uint32_t gateway = 0;
  if (vm.count("gateway")) gateway = parse_addr(vm["gateway"].as<std::string>(), "--gateway");
  for (const auto& s : ips) {
    const auto pfx = wire::parse_ipv4_prefix(s, wire::HostBits::kAllow);
    if (!pfx || pfx->len == 0 || pfx->len > 32)
      throw UsageError("--ip '" + s + "': expected ADDR/LEN such as 10.0.0.1/24 (LEN 1..32)");
    dp::SrdHostConfig hc;
    hc.ip = pfx->addr;
    hc.prefix_len = pfx->len;
    hc.gateway = gateway;
    hc.udp_port = static_cast<std::uint16_t>(udp_port);
    hc.src_port_base = static_cast<std::uint16_t>(base);
    h.hosts.push_back(hc);
  }
  return h;
}

}  // namespace

RoleParser make_gen_parser() {
  RoleParser parser("gen",
                    "Traffic generator: opens SRD connections to a responder, sends request messages in "
                    "closed or open loop, sprays them over paths, measures round trips.\n"
                    "Example: spray gen --port p=net_tap0,iface=gen0 --ip 10.0.0.1/24 --peer 10.0.0.2 "
                    "--outstanding 32 --duration 10");
  describe_gen_options(parser);
  return parser;
}

RoleParser make_respond_parser() {
  RoleParser parser("respond",
                    "Responder: owns an IPv4 address on each port (answers ARP and ping), accepts SRD "
                    "connections, answers every request and verifies what it receives.\n"
                    "Example: spray respond --port p=net_tap0,iface=resp0 --ip 10.0.0.2/24");
  describe_respond_options(parser);
  return parser;
}

void describe_gen_options(RoleParser& p) {
  describe_host_options(p, true);
  auto add = p.role_options().add_options();
  add("peer", po::value<std::string>()->value_name("ADDR"), "the responder's IPv4 address (required)");
  add("local-responder", po::bool_switch(),
      "also run a responder for --peer in this process, joined by an in-memory link (net_ring); "
      "the generator and the responder each take one CPU of --lcores (default: the last two)");
  add("peer-mac", po::value<std::string>()->value_name("MAC"),
      "the responder's (or gateway's) MAC: skips ARP");
  add("arp-timeout", po::value<double>()->default_value(3)->value_name("SECONDS"),
      "give up when ARP gets no answer for this long");
  add("connections", po::value<unsigned>()->default_value(1)->value_name("N"),
      "connections to open (1..65536), each spraying over --paths paths");
  add("outstanding", po::value<unsigned>()->default_value(1)->value_name("N"),
      "closed loop: requests in flight per connection (1..4096); the default mode");
  add("rate", po::value<std::string>()->value_name("RATE"),
      "open loop instead: total request rate in messages/s (250000), bits/s (10Gbps, 500Mbps) "
      "or % of --link-rate (40%)");
  add("poisson", po::bool_switch(), "open loop: exponential inter-arrival times (default: constant)");
  add("max-inflight", po::value<unsigned>()->default_value(256)->value_name("N"),
      "open loop: requests in flight per connection at most; beyond it sends wait");
  add("size", po::value<std::string>()->default_value("64")->value_name("SPEC"),
      "request size in bytes: fixed (1024), range (64-1500) or weighted list (64:7,576:4,1500:1); "
      "at least 16 (the header that makes replies verifiable)");
  add("reply-size", po::value<std::string>()->value_name("SPEC"),
      "reply size wanted, same forms as --size, 0 = acknowledgement only; default: the "
      "responder's --reply-size");
  add("warmup", po::value<double>()->default_value(1)->value_name("SECONDS"),
      "requests sent in the first seconds are not measured");
  add("duration", po::value<double>()->default_value(10)->value_name("SECONDS"),
      "measured sending time after the warm-up; 0 = until --count");
  add("count", po::value<std::uint64_t>()->default_value(0)->value_name("N"),
      "stop after N requests (0 = no limit)");
  add("reconnect", po::value<std::string>()->default_value("on")->value_name("on|off"),
      "on: a failed connection (responder restarted, unresponsive, unreachable) is replaced after a "
      "backoff (1 ms doubling to 1 s) and its unfinished requests are re-issued; off: it stays "
      "failed and so do its requests");
  add("json", po::value<std::string>()->value_name("FILE"), "write the final report as JSON");
  add("hdr", po::value<std::string>()->value_name("FILE"),
      "write the round-trip histogram: FILE ending in .hgrm gets HdrHistogram's percentile "
      "distribution in microseconds (what wrk2 prints and HdrHistogram's plotters read), any other "
      "name the mergeable one-line form in nanoseconds (doc/telemetry.md)");
}

void describe_respond_options(RoleParser& p) {
  describe_host_options(p, false);
  auto add = p.role_options().add_options();
  add("reply-size", po::value<std::string>()->default_value("echo")->value_name("BYTES"),
      "reply size for requests that leave it to the responder: echo (the request's size), "
      "0 (acknowledge with a 16-byte header-only reply), or bytes (16..16777216)");
}

GenOptions gen_options_from(const RoleParser& p) {
  GenOptions o;
  const auto& vm = p.vm();
  o.local_responder = vm["local-responder"].as<bool>();
  o.host = host_options_from(p, true, o.local_responder);
  auto& g = o.gen;
  if (!vm.count("peer")) throw UsageError("needs --peer ADDR (the responder's address)");
  const std::uint32_t peer = parse_addr(vm["peer"].as<std::string>(), "--peer");
  if (peer == o.host.hosts[0].ip)
    throw UsageError("--peer " + wire::format_ipv4(peer) + " is this host's own address");
  if (o.local_responder) {
    dp::SrdHostConfig rh = o.host.hosts[0];
    rh.ip = peer;
    o.host.hosts.push_back(rh);
  }
  // Taken after the push_back, which reallocates: a reference taken before
  // it pointed into freed memory, and the settings below were lost.
  auto& hc = o.host.hosts[0];
  hc.peer_ip = peer;
  if (vm.count("peer-mac")) {
    const auto mac = wire::Mac::parse(vm["peer-mac"].as<std::string>());
    if (!mac || mac->is_group() || mac->is_zero())
      throw UsageError("--peer-mac '" + vm["peer-mac"].as<std::string>() +
                       "': expected a unicast MAC such as 02:00:00:00:00:02");
    hc.peer_mac = *mac;
  }
  hc.arp_timeout_ns = parse_seconds(vm["arp-timeout"].as<double>(), "--arp-timeout", false, 600);
  g.peer = {peer, hc.udp_port};
  g.connections = vm["connections"].as<unsigned>();
  g.outstanding = vm["outstanding"].as<unsigned>();
  g.max_inflight = vm["max-inflight"].as<unsigned>();
  if (g.max_inflight == 0 || g.max_inflight > 4096)
    throw UsageError("--max-inflight " + std::to_string(g.max_inflight) + ": expected 1..4096");
  g.poisson = vm["poisson"].as<bool>();
  const std::uint32_t max_msg = o.host.endpoint.max_msg_bytes;
  try {
    g.request = traffic::SizeDist::parse(vm["size"].as<std::string>(), traffic::kMinMessageLen, max_msg);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--size ") + e.what() + " (at least 16: the header replies are checked against; "
                     "at most " + std::to_string(max_msg) + ")");
  }
  if (vm.count("reply-size")) {
    try {
      g.reply = traffic::SizeDist::parse(vm["reply-size"].as<std::string>(), 0, max_msg);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--reply-size ") + e.what());
    }
    if (g.reply->min() > 0 && g.reply->min() < traffic::kMinMessageLen)
      throw UsageError("--reply-size " + g.reply->text() + ": replies are 0 (acknowledgement only) or at least 16 bytes");
  }
  if (vm.count("rate")) {
    o.rate_text = vm["rate"].as<std::string>();
    const RateSpec r =
        parse_rate(o.rate_text, g.request.mean(), static_cast<double>(o.host.endpoint.link_rate_bps),
                   o.host.endpoint.payload_per_pkt());
    g.load = traffic::LoadMode::kOpen;
    g.rate_msgs_per_s = r.msgs_per_s;
    o.rate_gbps = r.gbps;
    o.rate_percent = r.percent;
    if (vm["outstanding"].defaulted() == false)
      throw UsageError("--rate (open loop) and --outstanding (closed loop) exclude each other; give one");
  } else if (g.poisson) {
    throw UsageError("--poisson shapes an open-loop --rate; give --rate too");
  }
  g.warmup_ns = parse_seconds(vm["warmup"].as<double>(), "--warmup", true, 3600);
  g.duration_ns = parse_seconds(vm["duration"].as<double>(), "--duration", true);
  g.count = vm["count"].as<std::uint64_t>();
  g.seed = o.host.endpoint.seed;
  const std::string rc = vm["reconnect"].as<std::string>();
  if (rc != "on" && rc != "off") throw UsageError("--reconnect '" + rc + "': expected on or off");
  g.reconnect = rc == "on";
  if (vm.count("json")) o.json_path = vm["json"].as<std::string>();
  if (vm.count("hdr")) o.hdr_path = vm["hdr"].as<std::string>();
  if (auto err = g.validate(); !err.empty()) throw UsageError(err);
  return o;
}

RespondOptions respond_options_from(const RoleParser& p) {
  RespondOptions o;
  o.host = host_options_from(p, false, false);
  const auto& vm = p.vm();
  const std::string rs = vm["reply-size"].as<std::string>();
  if (rs == "echo") {
    o.respond.reply_size = traffic::kEcho;
  } else {
    unsigned long v = 0;
    const auto [ptr, ec] = std::from_chars(rs.data(), rs.data() + rs.size(), v);
    if (rs.empty() || ec != std::errc() || ptr != rs.data() + rs.size() || (v != 0 && v < 16) || v > (1u << 24))
      throw UsageError("--reply-size '" + rs + "': expected echo, 0 or a size in 16..16777216 bytes");
    o.respond.reply_size = static_cast<std::uint32_t>(v);
  }
  return o;
}

}  // namespace spray::app
