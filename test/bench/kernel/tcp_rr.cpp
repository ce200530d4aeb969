// SPDX-License-Identifier: BSD-3-Clause
// Kernel TCP request/response: the reference spray gen <-> spray respond is
// compared with on the same path (tools/bench/kernel-path.sh).
//
//   tcp_rr server --port P [--bind ADDR]
//   tcp_rr client --addr A --port P --size BYTES --reply BYTES --count N
//                 [--json FILE] [--connect-timeout S]
//
// One connection, TCP_NODELAY on both ends, one request in flight. A request
// is BYTES on the stream in all (so that it matches a spray message of
// --size BYTES, whose 16-byte header is part of the message too):
//
//   u32 request bytes | u32 reply bytes | u64 sequence | pattern ...
//
// The server reads a request whole, checks the pattern and answers with
// REPLY bytes: u64 bad bytes in this request | u64 the server's
// tcpi_total_retrans | zeros. The client times each round trip from the
// first byte written to the last byte of the reply read (CLOCK_MONOTONIC).
//
// Exit status: 0 clean, 1 runtime error, 2 usage error, 3 the server
// reported corrupted requests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace spray::bench {
namespace {

constexpr std::size_t kRequestHeader = 16;
constexpr std::size_t kReplyMin = 16;
constexpr std::uint64_t kMaxBytes = 1ULL << 30;

volatile sig_atomic_t g_stop = 0;

constexpr const char* kUsage =
    "usage: tcp_rr server --port P [--bind ADDR]\n"
    "       tcp_rr client --addr A --port P --size BYTES --reply BYTES --count N [--json FILE]"
    " [--connect-timeout S]\n"
    "  --size, --reply: bytes on the stream per request and per reply, headers included\n"
    "                   (16..1073741824)\n"
    "exit status: 0 clean, 1 runtime error, 2 usage error, 3 the server found corrupted requests\n";

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "tcp_rr: %s (tcp_rr --help shows the usage)\n", why.c_str());
  std::exit(2);
}

[[noreturn]] void help() {
  std::printf("tcp_rr: kernel TCP request/response, one message in flight\n%s", kUsage);
  std::exit(0);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "tcp_rr: %s\n", why.c_str());
  std::exit(1);
}

std::string errno_text() { return std::strerror(errno); }

// ACCEPTED names the range in the error, e.g. "bytes in 16..1073741824".
template <class T>
T number(std::string_view flag, std::string_view text, T lo, T hi, const char* accepted) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(v >= lo && v <= hi))
    usage(std::string(flag) + " '" + std::string(text) + "': expected " + accepted);
  return v;
}

std::uint8_t pattern(std::uint64_t seq, std::size_t i) {
  // Offset and sequence both enter, so a misplaced or stale chunk of an
  // earlier request does not pass as this one.
  return static_cast<std::uint8_t>((i * 131u) ^ (i >> 9) ^ (seq * 29u));
}

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

void put32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
void put64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// false on EOF before the first byte; dies on EOF mid-buffer or an error,
// unless a stop was requested (then false too).
bool read_full(int fd, std::uint8_t* p, std::size_t n, const char* what) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) {
      if (g_stop) return false;
      continue;
    }
    if (r == 0 && got == 0) return false;
    if (r == 0) die(std::string("connection closed in the middle of ") + what);
    die(std::string("reading ") + what + ": " + errno_text());
  }
  return true;
}

void write_full(int fd, const std::uint8_t* p, std::size_t n, const char* what) {
  std::size_t put = 0;
  while (put < n) {
    const ssize_t r = ::write(fd, p + put, n - put);
    if (r > 0) {
      put += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR && !g_stop) continue;
    die(std::string("writing ") + what + ": " + (r < 0 ? errno_text() : "nothing written"));
  }
}

std::uint64_t total_retrans(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) die("getsockopt(TCP_INFO): " + errno_text());
  return ti.tcpi_total_retrans;
}

void set_nodelay(int fd) {
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY: " + errno_text());
}

in_addr parse_addr(std::string_view flag, const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1)
    usage(std::string(flag) + " '" + s + "': expected an IPv4 address such as 10.0.0.2");
  return a;
}

void on_signal(int) { g_stop = 1; }

void install_signals() {
  // No SA_RESTART: a blocked accept() or read() must return so the loop
  // sees the stop request.
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// ---------------------------------------------------------------------------
// server

int run_server(int argc, char** argv) {
  std::uint16_t port = 0;
  in_addr bind_addr{htonl(INADDR_ANY)};
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") help();
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--port")
      port = number<std::uint16_t>(flag, v, 1, 65535, "a TCP port in 1..65535");
    else if (flag == "--bind")
      bind_addr = parse_addr(flag, v);
    else
      usage("server: unknown option " + std::string(flag) + " (accepted: --port, --bind)");
  }
  if (port == 0) usage("server needs --port P (1..65535)");
  install_signals();

  const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket: " + errno_text());
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr = bind_addr;
  if (::bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    die("bind to port " + std::to_string(port) + ": " + errno_text());
  if (::listen(ls, 4) != 0) die("listen: " + errno_text());
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &bind_addr, text, sizeof text);
  std::printf("tcp_rr server: listening on %s:%u\n", text, port);
  std::fflush(stdout);

  std::uint64_t requests = 0, bad_total = 0;
  std::vector<std::uint8_t> req, reply;
  while (!g_stop) {
    const int fd = ::accept(ls, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR) continue;
      die("accept: " + errno_text());
    }
    set_nodelay(fd);
    std::uint8_t hdr[kRequestHeader];
    while (!g_stop && read_full(fd, hdr, sizeof hdr, "a request header")) {
      const std::uint32_t len = get32(hdr), reply_len = get32(hdr + 4);
      const std::uint64_t seq = get64(hdr + 8);
      if (len < kRequestHeader || len > kMaxBytes || reply_len < kReplyMin || reply_len > kMaxBytes)
        die("malformed request header: size " + std::to_string(len) + ", reply " + std::to_string(reply_len));
      req.resize(len - kRequestHeader);
      if (!read_full(fd, req.data(), req.size(), "a request")) {
        if (g_stop) break;
        die("connection closed in the middle of a request");
      }
      std::uint64_t bad = 0;
      for (std::size_t i = 0; i < req.size(); ++i) bad += req[i] != pattern(seq, i + kRequestHeader);
      bad_total += bad;
      ++requests;
      reply.assign(reply_len, 0);
      put64(reply.data(), bad);
      put64(reply.data() + 8, total_retrans(fd));
      write_full(fd, reply.data(), reply.size(), "a reply");
    }
    ::close(fd);
  }
  std::printf("tcp_rr server: %llu request(s), %llu bad byte(s)\n", (unsigned long long)requests,
              (unsigned long long)bad_total);
  return bad_total ? 3 : 0;
}

// ---------------------------------------------------------------------------
// client

struct ClientOptions {
  in_addr addr{};
  bool have_addr = false;
  std::uint16_t port = 0;
  std::uint64_t size = 0, reply = 0, count = 0;
  double connect_timeout_s = 5;
  std::string json;
};

// Nearest rank, as spray gen's report takes it: the value at rank ceil(q n).
double quantile_us(const std::vector<std::uint64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1000.0;
}

int connect_with_retry(const ClientOptions& o) {
  // The server may still be starting in its namespace: refused connections
  // are retried until the timeout.
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(o.connect_timeout_s * 1e9);
  for (;;) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket: " + errno_text());
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o.port);
    sa.sin_addr = o.addr;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    const int err = errno;
    ::close(fd);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &o.addr, text, sizeof text);
    if (g_stop || now_ns() > deadline)
      die(std::string("cannot connect to ") + text + ":" + std::to_string(o.port) + " within " +
          std::to_string(o.connect_timeout_s) + " s: " + std::strerror(err));
    timespec pause{0, 20'000'000};
    nanosleep(&pause, nullptr);
  }
}

int run_client(int argc, char** argv) {
  ClientOptions o;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") help();
    if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--addr")
      o.addr = parse_addr(flag, v), o.have_addr = true;
    else if (flag == "--port")
      o.port = number<std::uint16_t>(flag, v, 1, 65535, "a TCP port in 1..65535");
    else if (flag == "--size")
      o.size = number<std::uint64_t>(flag, v, kRequestHeader, kMaxBytes, "bytes in 16..1073741824");
    else if (flag == "--reply")
      o.reply = number<std::uint64_t>(flag, v, kReplyMin, kMaxBytes, "bytes in 16..1073741824");
    else if (flag == "--count")
      o.count = number<std::uint64_t>(flag, v, 1, 100'000'000, "messages in 1..100000000");
    else if (flag == "--json")
      o.json = v;
    else if (flag == "--connect-timeout")
      o.connect_timeout_s = number<double>(flag, v, 0.001, 600.0, "seconds in 0.001..600");
    else {
      usage("client: unknown option " + std::string(flag) +
            " (accepted: --addr, --port, --size, --reply, --count, --json, --connect-timeout)");
    }
  }
  if (!o.have_addr) usage("client needs --addr A (the server's IPv4 address)");
  if (o.port == 0) usage("client needs --port P (1..65535)");
  if (o.size == 0) usage("client needs --size BYTES (16..1073741824, the whole request)");
  if (o.reply == 0) usage("client needs --reply BYTES (16..1073741824)");
  if (o.count == 0) usage("client needs --count N (1..100000000)");
  install_signals();

  // Opened before the run so that a bad path fails before any traffic.
  std::ofstream json;
  if (!o.json.empty()) {
    json.open(o.json);
    if (!json) die("--json '" + o.json + "': cannot write the file");
  }

  const int fd = connect_with_retry(o);
  set_nodelay(fd);
  std::vector<std::uint8_t> req(o.size), reply(o.reply);
  std::vector<std::uint64_t> rtt;
  rtt.reserve(o.count);
  std::uint64_t bad = 0, server_retrans = 0;
  for (std::uint64_t seq = 0; seq < o.count && !g_stop; ++seq) {
    put32(req.data(), static_cast<std::uint32_t>(o.size));
    put32(req.data() + 4, static_cast<std::uint32_t>(o.reply));
    put64(req.data() + 8, seq);
    for (std::size_t i = kRequestHeader; i < req.size(); ++i) req[i] = pattern(seq, i);
    const std::uint64_t t0 = now_ns();
    write_full(fd, req.data(), req.size(), "a request");
    if (!read_full(fd, reply.data(), reply.size(), "a reply")) {
      if (g_stop) break;
      die("the server closed the connection after " + std::to_string(seq) + " reply(ies)");
    }
    rtt.push_back(now_ns() - t0);
    bad += get64(reply.data());
    server_retrans = get64(reply.data() + 8);
  }
  const std::uint64_t retrans = total_retrans(fd);
  ::close(fd);
  if (rtt.size() != o.count)
    die("stopped after " + std::to_string(rtt.size()) + " of " + std::to_string(o.count) + " messages");

  double sum = 0;
  for (auto v : rtt) sum += static_cast<double>(v);
  std::vector<std::uint64_t> sorted = rtt;
  std::sort(sorted.begin(), sorted.end());
  const double p50 = quantile_us(sorted, 0.5), p99 = quantile_us(sorted, 0.99),
               p999 = quantile_us(sorted, 0.999);
  const double max = static_cast<double>(sorted.back()) / 1000.0,
               min = static_cast<double>(sorted.front()) / 1000.0;
  const double mean = sum / static_cast<double>(sorted.size()) / 1000.0;
  std::printf(
      "tcp_rr: count=%zu min_us=%.1f p50_us=%.1f p99_us=%.1f p99.9_us=%.1f max_us=%.1f mean_us=%.1f "
      "tcp_total_retrans=%llu server_total_retrans=%llu bad_bytes=%llu\n",
      sorted.size(), min, p50, p99, p999, max, mean, (unsigned long long)retrans,
      (unsigned long long)server_retrans, (unsigned long long)bad);
  if (json.is_open()) {
    json << "{\n  \"role\": \"tcp_rr\",\n  \"request_bytes\": " << o.size
         << ",\n  \"reply_bytes\": " << o.reply << ",\n  \"count\": " << sorted.size()
         << ",\n  \"rtt_us\": {\"min\": " << min << ", \"p50\": " << p50 << ", \"p99\": " << p99
         << ", \"p99.9\": " << p999 << ", \"max\": " << max << ", \"mean\": " << mean
         << "},\n  \"tcp_total_retrans\": " << retrans << ",\n  \"server_total_retrans\": " << server_retrans
         << ",\n  \"bad_bytes\": " << bad << "\n}\n";
    json.close();
    if (!json) die("--json '" + o.json + "': write failed");
  }
  if (bad) {
    std::fprintf(stderr, "tcp_rr: the server found %llu corrupted byte(s) in the requests\n",
                 (unsigned long long)bad);
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace spray::bench

int main(int argc, char** argv) {
  using namespace spray::bench;
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "server") return run_server(argc, argv);
  if (mode == "client") return run_client(argc, argv);
  if (mode == "-h" || mode == "--help") help();
  usage(mode.empty() ? "the first argument is server or client"
                     : "'" + std::string(mode) + "': the first argument is server or client");
}
