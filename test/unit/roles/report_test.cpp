// SPDX-License-Identifier: BSD-3-Clause
// The role reports as people and scripts read them: the JSON parses, holds
// every key test/smoke and tools/ read (the names are an interface), and
// escapes what it quotes; the text tables show the same figures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "roles/report.h"
#include "wire/ipv4.h"

namespace spray::roles {
namespace {

using json = nlohmann::ordered_json;  // keeps the order written, which the test checks

std::vector<std::string> keys(const json& j) {
  std::vector<std::string> k;
  for (const auto& [key, value] : j.items()) k.push_back(key);
  return k;
}

GenOptions gen_options() {
  GenOptions o;
  dp::SrdHostConfig h;
  h.ip = *wire::parse_ipv4_addr("10.0.0.1");
  o.host.hosts.push_back(h);
  o.host.endpoint.paths = 2;
  o.gen.peer = {*wire::parse_ipv4_addr("10.0.0.2"), 4792};
  o.gen.connections = 3;
  o.gen.outstanding = 4;
  o.gen.request = traffic::SizeDist::parse("1024", 16, 1u << 20);
  return o;
}

GenReport gen_report() {
  GenReport r;
  auto& f = r.figures;
  f.seconds = 2;
  f.sent = 100;
  f.completed = 98;
  f.failed = 2;
  f.measured = 90;
  f.tx_bytes = 1000;
  f.rx_bytes = 500;
  f.retx[static_cast<std::size_t>(srd::RetxCause::kRto)] = 7;
  f.acks_lost = 3;
  for (std::uint64_t v : {1000u, 2000u, 3000u}) f.rtt.add(v);
  r.paths.resize(2);
  r.paths[1].tx_pkts = 55;
  r.paths[1].srtt_us = 12.5;
  r.exit_code = 3;
  r.failure = "2 message(s) failed: \"quoted\"\n";
  return r;
}

TEST(GenReport, JsonHoldsEveryKeyInOrder) {
  const json j = json::parse(gen_json(gen_options(), gen_report()));
  EXPECT_EQ(keys(j), (std::vector<std::string>{
                         "role", "peer", "connections", "paths", "load", "outstanding", "offered_msgs_per_s",
                         "request_size", "reply_size", "duration_s", "messages", "integrity", "connections_failed",
                         "connection_failures", "reconnect", "reconnects", "connections_lost", "rate_msgs_per_s",
                         "goodput_bps", "rtt_us", "retransmits", "data_packets", "path_quarantines", "per_path",
                         "exit_code", "failure"}));
  EXPECT_EQ(j["role"], "gen");
  EXPECT_EQ(j["peer"], "10.0.0.2");
  EXPECT_EQ(j["load"], "closed");
  EXPECT_EQ(j["request_size"], "1024");
  EXPECT_EQ(j["reply_size"], "responder");
  EXPECT_EQ(j["messages"]["sent"], 100);
  EXPECT_EQ(j["messages"]["failed"], 2);
  EXPECT_EQ(keys(j["messages"]),
            (std::vector<std::string>{"sent", "completed", "failed", "measured", "late_sends", "reissued"}));
  EXPECT_DOUBLE_EQ(j["rate_msgs_per_s"].get<double>(), 45);
  EXPECT_DOUBLE_EQ(j["goodput_bps"].get<double>(), 6000);
  EXPECT_EQ(j["rtt_us"]["count"], 3);
  for (const char* k : {"mean", "min", "max", "p50", "p90", "p99", "p99.9", "p99.99"})
    EXPECT_TRUE(j["rtt_us"].contains(k)) << k;
  for (const auto& c : srd::kRetxCauseInfo) EXPECT_TRUE(j["retransmits"].contains(c.name)) << c.name;
  EXPECT_EQ(j["retransmits"]["rto"], 7);
  EXPECT_EQ(j["retransmits"]["acks_lost"], 3);
  ASSERT_EQ(j["per_path"].size(), 2u);
  EXPECT_EQ(j["per_path"][1]["path"], 1);
  EXPECT_EQ(j["per_path"][1]["tx_packets"], 55);
  EXPECT_DOUBLE_EQ(j["per_path"][1]["srtt_us"].get<double>(), 12.5);
  EXPECT_EQ(j["exit_code"], 3);
  // Quotes and control characters survive the round trip.
  EXPECT_EQ(j["failure"], "2 message(s) failed: \"quoted\"\n");
}

TEST(GenReport, TextShowsTheFigures) {
  const std::string t = gen_text(gen_options(), gen_report());
  EXPECT_NE(t.find("spray gen report: 10.0.0.1 -> 10.0.0.2, 3 connection(s) x 2 path(s), closed loop, 4 outstanding"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("100 sent, 98 completed, 2 failed; 90 measured over 2.00 s"), std::string::npos) << t;
  EXPECT_NE(t.find("rto 7"), std::string::npos) << t;
  EXPECT_NE(t.find("our ACKs lost 3"), std::string::npos) << t;
}

TEST(GenReport, FailureNamesWhatWentWrong) {
  GenFigures f;
  EXPECT_EQ(gen_failure(f, "x"), "no message was sent");
  f.sent = f.completed = 5;
  EXPECT_EQ(gen_failure(f, "x"), "");
  f.sent = 7;
  EXPECT_EQ(gen_failure(f, "x"), "2 message(s) never completed");
  f.failed = 1;
  EXPECT_EQ(gen_failure(f, "reset"), "1 message(s) failed: reset");
  f.conns_lost = 1;
  EXPECT_EQ(gen_failure(f, "reset"), "connection failed: reset");
}

DemoReport demo_report() {
  DemoReport r;
  r.spines = 3;
  r.failed_spine = 1;
  r.lossy_spine = 0;
  r.loss = 0.01;
  r.run_seconds = 3;
  for (int phase = 0; phase < 2; ++phase) {
    DemoRun run;
    run.mode = phase == 0 ? "spray" : "single-path";
    run.paths = phase == 0 ? 4 : 1;
    run.figures.sent = run.figures.completed = 50;
    run.figures.seconds = 1;
    run.spine_share = phase == 0 ? std::vector<double>{0.3, 0.3, 0.4} : std::vector<double>{0, 1, 0};
    run.failed_spine = 1;
    run.lossy_spine = 0;
    run.path_spine = phase == 0 ? std::vector<int>{0, 1, 2, 2} : std::vector<int>{1};
    run.back_spine = phase == 0 ? std::vector<int>{2, 2, 1, 2} : std::vector<int>{1};
    run.quarantined_in_outage = phase == 0 ? std::vector<bool>{false, true, true, false} : std::vector<bool>{false};
    run.quarantined_ever = phase == 0 ? std::vector<bool>{true, true, true, false} : std::vector<bool>{false};
    run.quarantine_ms = phase == 0 ? 1.5 : -1;
    r.runs.push_back(run);
  }
  return r;
}

TEST(DemoReport, PathsAreCutHealthyOrLossy) {
  const DemoReport r = demo_report();
  const DemoRun& s = r.runs[0];
  // Path 0 crosses the lossy spine, 1 and 2 the failed one, 3 neither.
  EXPECT_EQ(s.cut_paths(), 2u);
  EXPECT_EQ(s.cut_quarantined(), 2u);
  EXPECT_EQ(s.other_quarantined(), 0u);
  EXPECT_EQ(s.lossy_paths(), 1u);
  EXPECT_EQ(s.lossy_quarantined(), 1u);  // before the failure
  EXPECT_EQ(s.healthy_paths(), 1u);
  EXPECT_EQ(s.healthy_quarantined(), 0u);
  EXPECT_EQ(s.spines_used(), 3u);
}

TEST(DemoReport, JsonHoldsWhatTheSmokeTestReads) {
  const DemoReport r = demo_report();
  EXPECT_TRUE(r.claim_holds());
  const json j = json::parse(demo_json(r));
  EXPECT_EQ(keys(j), (std::vector<std::string>{"spines", "failed_spine", "lossy_spine", "loss", "run_seconds",
                                               "claim_holds", "runs"}));
  EXPECT_EQ(j["claim_holds"], true);
  ASSERT_EQ(j["runs"].size(), 2u);
  const json& s = j["runs"][0];
  EXPECT_EQ(keys(s), (std::vector<std::string>{
                         "mode", "paths", "sent", "completed", "failed", "lost", "violations", "seconds",
                         "goodput_bps", "rtt_us", "retransmits", "quarantines", "spine_share", "spines_used",
                         "failed_spine_quarantined", "quarantine_ms", "path_spine", "back_spine",
                         "quarantined_in_outage", "quarantined_ever", "cut_paths_quarantined",
                         "other_paths_quarantined", "lossy_paths", "lossy_paths_quarantined", "healthy_paths",
                         "healthy_paths_quarantined", "failure"}));
  EXPECT_EQ(s["mode"], "spray");
  EXPECT_EQ(s["spines_used"], 3);
  EXPECT_EQ(s["failed_spine_quarantined"], true);
  EXPECT_DOUBLE_EQ(s["quarantine_ms"].get<double>(), 1.5);
  EXPECT_EQ(s["path_spine"], json({0, 1, 2, 2}));
  EXPECT_EQ(s["quarantined_in_outage"], json({false, true, true, false}));
  EXPECT_EQ(s["lossy_paths_quarantined"], 1);
  EXPECT_EQ(s["healthy_paths"], 1);
  EXPECT_EQ(keys(s["rtt_us"]), (std::vector<std::string>{"p50", "p99", "p999", "max"}));
  for (const auto& c : srd::kRetxCauseInfo) EXPECT_TRUE(s["retransmits"].contains(c.name)) << c.name;
  EXPECT_EQ(j["runs"][1]["failed_spine_quarantined"], false);
  EXPECT_EQ(j["runs"][1]["quarantine_ms"], -1);
}

TEST(DemoReport, TextTableAndClaim) {
  const std::string t = demo_text(demo_report());
  EXPECT_NE(t.find("spray (4 paths)"), std::string::npos) << t;
  EXPECT_NE(t.find("single-path (1 path)"), std::string::npos) << t;
  EXPECT_NE(t.find("traffic per spine %"), std::string::npos) << t;
  EXPECT_NE(t.find("30 30 40"), std::string::npos) << t;
  EXPECT_NE(t.find("2 of 4 (either way)"), std::string::npos) << t;
  EXPECT_NE(t.find("claim holds: traffic spread over 3 spines, no message lost, failed spine's paths quarantined "
                   "1.50 ms after the failure"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("ECN marks"), std::string::npos) << t;
}

TEST(RespondReport, OneBlockPerHost) {
  RespondReport r;
  RespondHost h;
  h.ip = *wire::parse_ipv4_addr("10.0.0.2");
  h.port = "p";
  h.counters = {{"requests", 12}};
  h.violations = {{"bad_pattern", 1}};
  h.last_failure = "pattern";
  r.hosts.push_back(h);
  const std::string t = respond_text(r);
  EXPECT_NE(t.find("host 10.0.0.2 (port 'p')\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  requests                               12\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  last failure: pattern\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  violation bad_pattern                   1\n"), std::string::npos) << t;
}

TEST(SwitchReport, DropsOnlyWhenCountedAndTheRouterOnlyWhenRouted) {
  SwitchReport r;
  r.l2.fdb_entries = 4;
  r.glue_drops = {{"flood_copy_failed", 0}, {"no_headroom", 2}};
  std::string t = switch_text(r);
  EXPECT_NE(t.find("fdb_entries"), std::string::npos) << t;
  EXPECT_NE(t.find("drop no_headroom"), std::string::npos) << t;
  EXPECT_EQ(t.find("flood_copy_failed"), std::string::npos) << t;
  EXPECT_EQ(t.find("router counter"), std::string::npos) << t;
  r.routed = true;
  t = switch_text(r);
  EXPECT_NE(t.find("router counter"), std::string::npos) << t;
  EXPECT_NE(t.find("arp_entries"), std::string::npos) << t;
}

}  // namespace
}  // namespace spray::roles
