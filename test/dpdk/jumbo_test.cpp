// SPDX-License-Identifier: BSD-3-Clause
// Jumbo frames (IP MTU 9000) over real ports and mbufs: the ports configured
// by the runtime's dp::start_port, buffers sized by dp::mbuf_data_room, and
// messages from 16 B to 1 MiB (one byte short of and one past a packet's
// 8940-byte payload among them) delivered exactly once and verified both
// ways. Over rings in this process, and over memif against a `spray
// respond` process started (and stopped) by the test.
// usage: jumbo_dpdk_test SPRAY_BINARY [gtest flags]
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/eal_env.h"
#include "common/host_pair.h"
#include "dataplane/errors.h"
#include "dataplane/host_apps.h"
#include "dataplane/port.h"
#include "dataplane/srd_host.h"

namespace spray::test {
namespace {

constexpr std::uint16_t kMtu = 9000;
const char* g_spray = nullptr;

rte_mempool* jumbo_pool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("jumbo-pool", 8191, 256, 0, dp::mbuf_data_room(kMtu), 0);
  return pool;
}

// Every size class several times: the smallest message, sub-packet ones,
// exactly one jumbo packet's payload and one byte more, and 1 MiB.
traffic::GenConfig sizes_16b_to_1mib(std::uint64_t count) {
  traffic::GenConfig g;
  g.peer = {kRespIp, dp::kSrdDefaultPort};
  g.connections = 2;
  g.outstanding = 4;
  g.request = traffic::SizeDist::parse("16:1,100:1,1500:1,8940:1,8941:1,65536:1,1048576:1", 16, 1 << 20);
  g.duration_ns = 0;
  g.warmup_ns = 0;
  g.count = count;
  return g;
}

void expect_all_verified(const traffic::Generator& gen, std::uint64_t count) {
  const auto& c = gen.counters();
  EXPECT_EQ(c.sent.read(), count);
  EXPECT_EQ(c.completed.read(), count);
  EXPECT_EQ(c.failed.read(), 0u);
  EXPECT_EQ(c.bad_reply.read(), 0u) << "an echoed reply differed from its request";
  EXPECT_EQ(c.unexpected_reply.read(), 0u);
  EXPECT_EQ(c.conn_failed.read(), 0u)
      << "unreachable " << c.conn_failed_unreachable.read() << ", unresponsive "
      << c.conn_failed_unresponsive.read() << ", reset " << c.conn_failed_reset.read();
}

std::uint32_t max_frame(rte_mbuf* const* m, std::uint16_t n, std::uint32_t seen) {
  for (std::uint16_t i = 0; i < n; ++i) seen = std::max(seen, m[i]->pkt_len);
  return seen;
}

TEST(JumboOverRings, Mtu9000MessagesFrom16BTo1MiBDeliveredOnceAndVerified) {
  ASSERT_NE(jumbo_pool(), nullptr);
  constexpr std::uint64_t kCount = 210;
  HostPair p(sizes_16b_to_1mib(kCount), {}, "jr1", HostPairOptions{.mtu = kMtu, .pool = jumbo_pool()});
  std::uint16_t mtu = 0;
  ASSERT_EQ(rte_eth_dev_get_mtu(p.link.a, &mtu), 0);
  EXPECT_EQ(mtu, kMtu) << "the port was not configured for the MTU";
  std::uint32_t to_resp = 0, to_gen = 0;
  p.watch_resp_rx = [&](rte_mbuf* const* m, std::uint16_t n) { to_resp = max_frame(m, n, to_resp); };
  p.watch_gen_rx = [&](rte_mbuf* const* m, std::uint16_t n) { to_gen = max_frame(m, n, to_gen); };
  ASSERT_TRUE(p.run(120)) << p.gen->generator().counters().completed.read() << " of " << kCount
                          << " completed";
  expect_all_verified(p.gen->generator(), kCount);
  const auto& r = p.resp->responder();
  EXPECT_EQ(r.counters().requests.read(), kCount) << "each request delivered exactly once";
  EXPECT_EQ(r.counters().replies.read(), kCount);
  EXPECT_EQ(r.violations().total(), 0u) << "a request failed the responder's pattern check";
  // Full jumbo frames both ways: 9000 bytes of IP and the Ethernet header.
  EXPECT_EQ(to_resp, kMtu + 14u);
  EXPECT_EQ(to_gen, kMtu + 14u);
  EXPECT_EQ(p.gen_host->counters().drop_malformed.read() + p.resp_host->counters().drop_malformed.read(), 0u);
}

// Buffers too small for the MTU are refused when the port starts, naming
// both sizes, instead of truncating frames later.
TEST(JumboOverRings, APoolTooSmallForTheMtuIsRefusedAtStart) {
  const dp::RingLink link = dp::make_ring_link("jr2-a", "jr2-b", 1, 64, 64);
  dp::Port port;
  port.spec = {"a", "ring-link"};
  port.id = link.a;
  port.driver = "net_ring";
  try {
    dp::start_port(port, dp::PortOptions{.mtu = kMtu}, EalEnvironment::pool());
    ADD_FAILURE() << "a 2 KB pool was accepted for MTU 9000";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("--mtu 9000 needs mbufs of 9022 bytes; the pool's hold 2048"),
              std::string::npos)
        << e.what();
  }
  for (auto id : {link.a, link.b}) rte_eth_dev_close(id);
}

// A counter of `spray respond`'s final report ("  NAME    VALUE"); -1 when
// the report lacks it.
long long report_counter(const std::string& log, const std::string& name) {
  const auto at = log.find("\n  " + name + " ");
  if (at == std::string::npos) return -1;
  std::istringstream in(log.substr(at + 3 + name.size()));
  long long v = -1;
  in >> v;
  return v;
}

// A `spray respond` process on the server end of a memif link, started here
// and stopped (SIGTERM, then SIGKILL) however the test ends.
class RespondProcess {
 public:
  RespondProcess(const std::string& dir, const std::string& sock) : log_(dir + "/respond.log") {
    const std::string port = "m=net_memif0,role=server,socket=" + sock + ",socket-abstract=no,bsize=9216";
    const std::string prefix = "jumbo-resp-" + std::to_string(::getpid());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
      ::execl(g_spray, g_spray, "respond", "--port", port.c_str(), "--ip", "10.0.0.2/24", "--mtu", "9000",
              "--lcores", "1", "--file-prefix", prefix.c_str(), "--stats-period", "0", "--metrics", "off",
              "--idle", "backoff", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~RespondProcess() {
    if (pid_ > 0) stop();
  }
  // SIGTERM and the exit status (-1: killed after 30 s, or a signal).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(100'000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

TEST(JumboOverMemif, Mtu9000AgainstASprayRespondProcess) {
  ASSERT_NE(g_spray, nullptr) << "usage: jumbo_dpdk_test SPRAY_BINARY";
  ASSERT_NE(jumbo_pool(), nullptr);
  char dir_tmpl[] = "/tmp/spray-jumbo.XXXXXX";
  const char* dir = ::mkdtemp(dir_tmpl);
  ASSERT_NE(dir, nullptr);
  const std::string sock = std::string(dir) + "/memif.sock";
  // Gone however the test ends (declared before the process, so it goes after it).
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      for (const char* f : {"/respond.log", "/memif.sock"}) std::remove((dir + f).c_str());
      ::rmdir(dir.c_str());
    }
  } remove_dir{dir};
  auto resp = std::make_unique<RespondProcess>(dir, sock);
  // The socket file appears at bind(), before listen(): a client that
  // connects in between is refused and memif does not retry. The responder
  // prints its address once its ports have started, so wait for that.
  const auto started = [&] { return resp->log().find("spray respond: 10.0.0.2") != std::string::npos; };
  for (int i = 0; i < 400 && !started() && resp->running(); ++i) ::usleep(50'000);
  ASSERT_TRUE(started()) << "the responder never started:\n" << resp->log();

  // The client end, with buffers that hold a whole frame as the server's do
  // (dp::start_port refuses memif buffers smaller than the frame).
  dp::Port port =
      dp::probe_port({"m", "net_memif1,role=client,socket=" + sock + ",socket-abstract=no,bsize=9216"});
  dp::start_port(port, dp::PortOptions{.mtu = kMtu}, jumbo_pool());
  // The memif handshake runs on EAL's interrupt thread; on a busy machine
  // it can outlast the generator's ARP timeout.
  for (int i = 0; i < 400 && !dp::link_up(port.id); ++i) ::usleep(50'000);
  EXPECT_TRUE(dp::link_up(port.id)) << "the memif link never came up";
  constexpr std::uint64_t kCount = 140;
  {
    dp::TscClock clock{rte_get_tsc_hz()};
    dp::SrdHostConfig gh;
    gh.ip = kGenIp;
    gh.peer_ip = kRespIp;
    gh.arp_timeout_ns = 20'000'000'000;
    srd::EndpointConfig ep;
    ep.mtu = kMtu;
    ep.paths = 8;
    ep.local = {kGenIp, gh.udp_port};
    // Two processes on a machine shared with other work: the responder can
    // be off its CPU longer than the 100 ms after which a connection is
    // given up by default. This test is about frames, not about detecting
    // a dead peer; a connection that failed anyway still fails it below.
    ep.conn_timeout_ns = 5'000'000'000;
    ep.max_attempts = 255;
    ep.rto_max_ns = 100'000'000;
    dp::SrdHostPipeline host(gh, ep, 0, port.mac, jumbo_pool(), clock);
    dp::GenHostApp gen(sizes_16b_to_1mib(kCount), host.endpoint());
    host.set_app(&gen);
    dp::TxBuffers tx;
    tx.init(1, &port.id, 0);
    rte_mbuf* pkts[dp::kBurst];
    std::uint32_t largest = 0;
    const std::uint64_t deadline = rte_get_tsc_cycles() + 120 * rte_get_tsc_hz();
    while (!gen.finished() && rte_get_tsc_cycles() < deadline &&
           host.peer_state() != dp::NeighborState::kFailed) {
      const std::uint64_t now = rte_get_tsc_cycles();
      const std::uint16_t n = rte_eth_rx_burst(port.id, 0, pkts, dp::kBurst);
      largest = max_frame(pkts, n, largest);
      if (n) host.rx(tx, 0, pkts, n, now);
      host.poll(tx, now);
      tx.flush();
    }
    EXPECT_TRUE(gen.finished()) << gen.generator().counters().completed.read() << " of " << kCount
                                << " completed; responder:\n"
                                << resp->log();
    expect_all_verified(gen.generator(), kCount);
    EXPECT_EQ(largest, kMtu + 14u) << "no full jumbo frame came back";
    EXPECT_EQ(host.counters().drop_malformed.read(), 0u);
  }
  dp::close_port(port);
  const int rc = resp->stop();
  const std::string log = resp->log();
  EXPECT_EQ(rc, 0) << log;
  // The responder's final report (exit 3 had it found a bad request): every
  // request delivered once, and no frame it could not parse.
  EXPECT_EQ(report_counter(log, "requests"), static_cast<long long>(kCount)) << log;
  EXPECT_EQ(report_counter(log, "drop_malformed"), 0) << log;
}

}  // namespace
}  // namespace spray::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) spray::test::g_spray = argv[1];
  ::testing::AddGlobalTestEnvironment(new spray::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
