// SPDX-License-Identifier: BSD-3-Clause
// sim_report: runs the doc/protocol.md section 7 targets the simulator can
// measure (T4-T10) and prints a Markdown table plus the counters each target
// must show. Usage: sim_report [--seed N] [T4 T5 ...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "targets.h"

namespace {

using namespace spray::sim;
using namespace spray::sim::targets;

const char* verdict(bool ok) { return ok ? "pass" : "**FAIL**"; }

std::string us(Nanos ns) {
  if (ns == kNever) return "never";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  return b;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
  return b;
}

void row(const char* target, const std::string& condition, const std::string& measured, bool ok) {
  std::printf("| %s | %s | %s | %s |\n", target, condition.c_str(), measured.c_str(), verdict(ok));
}

void retx_line(const char* what, const spray::srd::ConnCounters& c) {
  std::printf("| %s | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu |\n", what,
              static_cast<unsigned long long>(c.tx_data_pkts), static_cast<unsigned long long>(c.retx_pkts),
              static_cast<unsigned long long>(c.retx_nack), static_cast<unsigned long long>(c.retx_same_path),
              static_cast<unsigned long long>(c.retx_rack), static_cast<unsigned long long>(c.retx_tlp),
              static_cast<unsigned long long>(c.retx_rto), static_cast<unsigned long long>(c.spurious_retx),
              static_cast<unsigned long long>(c.path_quarantines));
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf("usage: %s [--seed N] [T4 T5 T6 T7 T8 T9 T10 host clean]\n", argv[0]);
      return 0;
    } else only.insert(argv[i]);
  }
  const auto want = [&](const char* t) { return only.empty() || only.count(t); };
  const auto t_start = std::chrono::steady_clock::now();

  std::printf("## Transport targets in the simulator (seed %llu)\n\n", static_cast<unsigned long long>(seed));
  std::printf("| target | condition | measured | result |\n|---|---|---|---|\n");

  T4 t4;
  T5 t5;
  T6 t6;
  T7 t7;
  if (want("T4")) {
    t4 = run_t4(seed);
    for (int i = 0; i < 3; ++i)
      row("T4", "goodput at " + pct(t4.loss[i]) + " loss >= " + pct(t4.want[i]) + " of lossless",
          pct(t4.ratio[i]) + " (lossless " + std::to_string(static_cast<int>(t4.ref_bps / 1e9)) + " Gb/s)",
          t4.completed && t4.ratio[i] >= t4.want[i]);
  }
  if (want("T5")) {
    t5 = run_t5(seed);
    row("T5", "mid-flight loss: recovery p50 <= 2 RTT", us(t5.p50_ns) + " (SRTT " + us(t5.srtt_ns) + ", " +
                                                            std::to_string(t5.samples) + " drops)",
        t5.completed && t5.samples && t5.p50_ns <= 2 * t5.srtt_ns);
    row("T5", "mid-flight loss: recovery p99 <= 4 RTT", us(t5.p99_ns), t5.completed && t5.samples && t5.p99_ns <= 4 * t5.srtt_ns);
    row("T5", "last-packet loss <= TLP (2 SRTT) + RTT",
        "max " + us(t5.tail_max_ns) + " (SRTT " + us(t5.tail_srtt_ns) + ", " + std::to_string(t5.tail_samples) + " drops)",
        t5.completed && t5.tail_samples && t5.tail_max_ns <= 3 * t5.tail_srtt_ns);
  }
  if (want("T6")) {
    t6 = run_t6(seed);
    row("T6", "1 of 8 paths black-holed: quarantined <= 2 RTO",
        us(t6.quarantined_after_ns) + " (RTO " + us(t6.rto_at_hole_ns) + ")",
        t6.active_at_hole && t6.quarantined_after_ns != kNever && t6.quarantined_after_ns <= 2 * t6.rto_at_hole_ns);
    row("T6", "healthy paths stay in service meanwhile",
        std::to_string(t6.collateral_quarantines) + " quarantines of other paths", t6.collateral_quarantines == 0);
    row("T6", "goodput >= 85% of 7/8 capacity within 1 ms",
        us(t6.recovered_after_ns) + "; " + std::to_string(static_cast<int>(t6.during_bps / 1e9)) +
            " Gb/s during the outage, " + std::to_string(static_cast<int>(t6.before_bps / 1e9)) + " Gb/s before",
        t6.recovered_after_ns <= 1'000'000 && t6.during_bps >= 0.85 * t6.before_bps * 7 / 8);
    row("T6", "zero message loss or duplicates",
        std::to_string(t6.received) + "/" + std::to_string(t6.sent) + " received, " + std::to_string(t6.duplicates) + " dup",
        t6.sent && t6.received == t6.sent && t6.duplicates == 0);
    row("T6", "path back to ACTIVE after healing", us(t6.active_after_heal_ns), t6.active_after_heal_ns != kNever);
  }
  if (want("T7")) {
    t7 = run_t7(seed);
    row("T7", "16 paths, 0-100 us skew: spurious retx <= 0.5%", pct(t7.spurious_share),
        t7.completed && t7.counters.tx_data_pkts && t7.spurious_share <= 0.005);
    row("T7", "goodput >= 95% of the no-skew run",
        pct(t7.goodput_ratio) + " (steady state: " + std::to_string(static_cast<int>(t7.skew_bps / 1e9)) +
            " vs " + std::to_string(static_cast<int>(t7.flat_bps / 1e9)) + " Gb/s)",
        t7.completed && t7.goodput_ratio >= 0.95);
  }
  if (want("T8")) {
    const T8 t8 = run_t8(seed);
    const bool ran = t8.completed && t8.expected && t8.received == t8.expected;
    row("T8", "16 -> 1 incast, 64 KB: bottleneck utilisation >= 90%", pct(t8.utilisation),
        ran && t8.utilisation >= 0.9);
    row("T8", "switch queue p99 <= 2 x target delay",
        us(t8.queue_p99_ns) + " (target " + us(static_cast<Nanos>(t8.target_delay_ns)) + ")",
        ran && static_cast<double>(t8.queue_p99_ns) <= 2 * t8.target_delay_ns);
    row("T8", "drops <= 0.1%", pct(t8.drop_share), ran && t8.drop_share <= 0.001);
    char j[32];
    std::snprintf(j, sizeof j, "%.3f", t8.jain);
    row("T8", "Jain fairness >= 0.9", j, ran && t8.jain >= 0.9);
  }
  if (want("T9")) {
    const T9 t9 = run_t9(seed);
    const double spray_ratio = t9.spray_p50_ns ? static_cast<double>(t9.spray_p999_ns) / t9.spray_p50_ns : 0;
    const double gain = t9.spray_p999_ns ? static_cast<double>(t9.single_p999_ns) / t9.spray_p999_ns : 0;
    char b[96];
    std::snprintf(b, sizeof b, "%.2f (p50 %s, p99.9 %s)", spray_ratio, us(t9.spray_p50_ns).c_str(),
                  us(t9.spray_p999_ns).c_str());
    row("T9", "8 flows, 4 spines, 70% load: spray p99.9/p50 <= 3", b,
        t9.spray_samples > 1000 && spray_ratio > 0 && spray_ratio <= 3);
    std::snprintf(b, sizeof b, "%.1fx (single path p50 %s, p99.9 %s)", gain, us(t9.single_p50_ns).c_str(),
                  us(t9.single_p999_ns).c_str());
    row("T9", "single-path p99.9 >= 5x spray p99.9", b, t9.single_samples > 1000 && gain >= 5);
  }
  if (want("T10")) {
    const T10 t10 = run_t10(seed);
    const double ratio = t10.rate_100 > 0 ? t10.rate_10k / t10.rate_100 : 0;
    char b[128];
    std::snprintf(b, sizeof b, "%s (%.2f vs %.2f Mmsg/s virtual; host CPU %.0f vs %.0f ns/msg)", pct(ratio).c_str(),
                  t10.rate_10k / 1e6, t10.rate_100 / 1e6, t10.wall_ns_per_msg_10k, t10.wall_ns_per_msg_100);
    row("T10", "10,000 connections: message rate >= 80% of 100", b, t10.completed && ratio >= 0.8);
    row("T10", "<= 4 KB state per idle connection", std::to_string(t10.idle_state_bytes) + " B",
        t10.completed && t10.idle_state_bytes > 0 && t10.idle_state_bytes <= 4096);
  }

  if (only.empty() || only.count("clean")) {
    const CleanStart c = run_clean(seed);
    row("-", "clean 8-path fabric: no path quarantined, spurious retx <= 0.5%",
        std::to_string(c.path_quarantines) + " quarantines, " + std::to_string(c.retx_pkts) + " retx (" +
            std::to_string(c.spurious_retx) + " spurious) of " + std::to_string(c.tx_data_pkts) + " data pkts",
        c.completed && c.tx_data_pkts && c.path_quarantines == 0 &&
            static_cast<double>(c.spurious_retx) <= 0.005 * static_cast<double>(c.tx_data_pkts));
  }

  SlowReceiver slow;
  HostPause pause;
  if (want("host")) {
    slow = run_slow_receiver(seed);
    char b[192];
    std::snprintf(b, sizeof b, "0 wanted: %llu (%llu ring drops, %llu losses blamed on no path)",
                  static_cast<unsigned long long>(slow.counters.path_quarantines),
                  static_cast<unsigned long long>(slow.ring_drops),
                  static_cast<unsigned long long>(slow.counters.shared_losses));
    row("host", "receiver at 60% of the link, 128-packet ring: no path quarantined", b,
        slow.completed && slow.ring_drops > 0 && slow.counters.path_quarantines == 0);
    std::snprintf(b, sizeof b, "%llu/%llu received, %llu dup",
                  static_cast<unsigned long long>(slow.received), static_cast<unsigned long long>(slow.sent),
                  static_cast<unsigned long long>(slow.duplicates));
    row("host", "slow receiver: zero message loss or duplicates", b,
        slow.completed && slow.received == slow.sent && slow.duplicates == 0 && slow.missing == 0);
    std::snprintf(b, sizeof b, "%s (%.0f of %.0f Gb/s)", pct(slow.goodput_bps / slow.capacity_bps).c_str(),
                  slow.goodput_bps / 1e9, slow.capacity_bps / 1e9);
    // Reported, not a target: a ring smaller than the receiver's BDP makes
    // the window's sawtooth overrun it (doc/transport.md).
    row("host", "slow receiver: goodput, share of what it takes", b, slow.completed);
    pause = run_host_pause(seed);
    std::snprintf(b, sizeof b, "%llu (%u pauses of 1-5 ms, %llu ring drops)",
                  static_cast<unsigned long long>(pause.counters.path_quarantines), pause.pauses,
                  static_cast<unsigned long long>(pause.ring_drops));
    row("host", "hosts pausing 1-5 ms at random: no path quarantined", b,
        pause.completed && pause.ring_drops > 0 && pause.counters.path_quarantines == 0);
    row("host", "pausing hosts: slowest message <= 2 x longest pause",
        us(pause.max_completion_ns) + " (longest pause " + us(pause.longest_pause_ns) + ", p50 " +
            us(pause.p50_completion_ns) + ", " + std::to_string(pause.received) + "/" + std::to_string(pause.sent) +
            " received)",
        pause.completed && pause.received == pause.sent && pause.max_completion_ns <= 2 * pause.longest_pause_ns);
  }

  if (want("T4") || want("T5") || want("T6") || want("T7") || want("host")) {
    std::printf("\n### Retransmissions by cause (sender side)\n\n");
    std::printf("| run | data pkts | retx | nack | same-path | rack | tlp | rto | spurious | quarantines |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    if (want("T4"))
      for (int i = 0; i < 3; ++i) retx_line(("T4 " + pct(t4.loss[i]) + " loss").c_str(), t4.counters[i]);
    if (want("T5")) {
      retx_line("T5 1% data loss", t5.counters);
      retx_line("T5 tail loss", t5.tail_counters);
    }
    if (want("T6")) retx_line("T6 blackhole", t6.counters);
    if (want("host")) {
      retx_line("slow receiver", slow.counters);
      retx_line("pausing hosts", pause.counters);
    }
    if (want("T7")) retx_line("T7 100 us skew", t7.counters);
  }
  if (want("T6")) {
    std::printf("\n### T6 path state timeline (blackhole at %s, healed at %s)\n\n", us(t6.hole_ns).c_str(),
                us(t6.heal_ns).c_str());
    std::printf("Packets sent per path (a -> b):");
    for (std::size_t p = 0; p < t6.path_tx_pkts.size(); ++p)
      std::printf(" %zu:%llu", p, static_cast<unsigned long long>(t6.path_tx_pkts[p]));
    std::printf("\n\n| time | path | from | to |\n|---|---|---|---|\n");
    for (const auto& c : t6.timeline)
      std::printf("| %s | %u | %s | %s |\n", us(c.at_ns).c_str(), c.path, spray::srd::to_string(c.from),
                  spray::srd::to_string(c.to));
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf("\nWall time for the whole report: %.1f s.\n", wall_s);
  return 0;
}
