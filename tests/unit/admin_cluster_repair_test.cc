// cairnctl repair's pieces that need no cluster: --slot parsing, CAIRN REPAIR STATUS parsing in
// RESP2 and RESP3 shapes (and its rejection of malformed replies), the totals and the
// completeness rule, and the text, progress and JSON forms of a report.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin/cluster_repair.h"
#include "admin/report_format.h"

namespace cairn {
namespace {

RespValue bulk(std::string text) { return RespValue::bulk_string(std::move(text)); }
RespValue integer(int64_t value) { return RespValue::integer_value(value); }

// A STATUS reply as a RESP2 flat array.
RespValue status_reply(std::string state, int64_t id, int64_t done) {
  std::vector<RespValue> elements = {bulk("id"), integer(id), bulk("state"), bulk(state)};
  const std::pair<const char*, int64_t> counts[] = {{"first_slot", 0},
                                                    {"last_slot", 16383},
                                                    {"partitions_total", 2048},
                                                    {"partitions_done", done},
                                                    {"exchanges_completed", 4000},
                                                    {"exchanges_failed", 1},
                                                    {"peers_skipped", 2},
                                                    {"slots_differing", 3},
                                                    {"keys_fetched", 10},
                                                    {"keys_pushed", 20},
                                                    {"bytes", 5000},
                                                    {"elapsed_ms", 1234}};
  for (const auto& [name, value] : counts) {
    elements.push_back(bulk(name));
    elements.push_back(integer(value));
  }
  return RespValue::array(std::move(elements));
}

// Proves --slot takes one slot or an inclusive run, and refuses anything else.
TEST(AdminClusterRepairTest, SlotSpansParse) {
  EXPECT_EQ(parse_slot_span("0-16383").value(), (SlotSpan{0, 16383}));
  EXPECT_EQ(parse_slot_span("100").value(), (SlotSpan{100, 100}));
  EXPECT_EQ(parse_slot_span("7-7").value(), (SlotSpan{7, 7}));
  for (const char* bad : {"", "16384", "5-4", "a", "1-", "-1", "1-2-3", "1 - 2", "99999999999"}) {
    EXPECT_TRUE(parse_slot_span(bad).status().is_invalid_argument()) << bad;
  }
}

// Proves a STATUS reply parses from a RESP2 array and a RESP3 map alike, field by field.
TEST(AdminClusterRepairTest, StatusParsesInEitherProtocol) {
  RespValue reply = status_reply("running", 4, 100);
  for (const RespKind kind : {RespKind::kArray, RespKind::kMap}) {
    reply.kind = kind;
    const Result<RepairPassReply> pass = parse_repair_status(reply);
    ASSERT_TRUE(pass.is_ok()) << pass.status().to_string();
    EXPECT_EQ(pass->id, 4u);
    EXPECT_EQ(pass->state, "running");
    EXPECT_EQ(pass->last_slot, 16383u);
    EXPECT_EQ(pass->partitions_done, 100u);
    EXPECT_EQ(pass->exchanges_failed, 1u);
    EXPECT_EQ(pass->keys_pushed, 20u);
    EXPECT_EQ(pass->elapsed_ms, 1234u);
  }
}

// Proves a reply of another shape, a missing or negative count, or an unknown state is a
// Corruption, never a guess.
TEST(AdminClusterRepairTest, MalformedStatusIsCorruption) {
  EXPECT_TRUE(parse_repair_status(bulk("OK")).status().is_corruption());
  RespValue odd = status_reply("done", 1, 2048);
  odd.elements.pop_back();
  EXPECT_TRUE(parse_repair_status(odd).status().is_corruption());
  RespValue missing = status_reply("done", 1, 2048);
  missing.elements.erase(missing.elements.end() - 2, missing.elements.end());
  EXPECT_TRUE(parse_repair_status(missing).status().is_corruption());
  RespValue negative = status_reply("done", 1, -5);
  EXPECT_TRUE(parse_repair_status(negative).status().is_corruption());
  EXPECT_TRUE(parse_repair_status(status_reply("paused", 1, 2)).status().is_corruption());
}

RepairReport sample_report() {
  RepairReport report;
  report.asked = {"127.0.0.1", 7001};
  report.slots = {0, 16383};
  report.elapsed_ms = 2500;
  for (const uint16_t port : {7001, 7002}) {
    NodeRepair node;
    node.node.id = std::string(40, port == 7001 ? 'a' : 'b');
    node.address = {"127.0.0.1", port};
    node.pass_id = 3;
    node.pass = parse_repair_status(status_reply("done", 3, 2048)).value();
    node.pass.exchanges_failed = 0;
    node.pass.peers_skipped = 0;
    report.nodes.push_back(node);
  }
  return report;
}

// Proves the totals sum the nodes, and a report is complete only when every node finished with
// no failed exchange, no replica down and no node lost.
TEST(AdminClusterRepairTest, TotalsAndCompleteness) {
  RepairReport report = sample_report();
  RepairTotals totals = repair_totals(report);
  EXPECT_EQ(totals.exchanges_completed, 8000u);
  EXPECT_EQ(totals.keys_fetched + totals.keys_pushed, 60u);
  EXPECT_EQ(totals.bytes, 10000u);
  EXPECT_TRUE(repair_complete(report));

  RepairReport failed = report;
  failed.nodes[1].pass.exchanges_failed = 1;
  EXPECT_FALSE(repair_complete(failed));
  RepairReport down = report;
  down.nodes[0].pass.peers_skipped = 1;
  EXPECT_FALSE(repair_complete(down));
  RepairReport lost = report;
  lost.nodes[1].error = "connection refused";
  EXPECT_EQ(repair_totals(lost).nodes_failed, 1u);
  EXPECT_FALSE(repair_complete(lost));
  RepairReport running = report;
  running.nodes[0].pass.state = "running";
  EXPECT_FALSE(running.nodes[0].done());
  EXPECT_FALSE(repair_complete(running));
}

// Proves the text names the outcome and the totals the issue asks for (ranges compared, keys
// exchanged, bytes), with a row per node and a failed node's reason in its row.
TEST(AdminClusterRepairTest, TextSummarizes) {
  RepairReport report = sample_report();
  std::string text = repair_text(report);
  EXPECT_NE(text.find("repair of slots 0-16383 on 2 nodes complete in 2.5 s; asked "
                      "127.0.0.1:7001\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ranges compared  8000 (0 failed, 0 replicas down)\n"), std::string::npos);
  EXPECT_NE(text.find("keys exchanged   60 (20 fetched, 40 pushed)\n"), std::string::npos);
  EXPECT_NE(text.find("bytes            9.8 KiB\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("127.0.0.1:7002  done    2048/2048    4000       0     0    30  4.9 KiB  1.2 s\n"),
      std::string::npos)
      << text;

  report.nodes[1].error = "connection refused";
  text = repair_text(report);
  EXPECT_NE(text.find("INCOMPLETE"), std::string::npos);
  EXPECT_NE(text.find("127.0.0.1:7002  failed (connection refused)\n"), std::string::npos) << text;
}

// Proves the progress line shows the share of partitions walked as a bar and a percentage.
TEST(AdminClusterRepairTest, ProgressShowsTheShareDone) {
  RepairReport report = sample_report();
  report.nodes[0].pass.partitions_done = 1024;
  report.nodes[1].pass.partitions_done = 0;
  const std::string line = repair_progress_text(report);
  EXPECT_EQ(line.substr(0, 38), "[#######.......................] 25%  ") << line;
  EXPECT_NE(line.find("1024/4096 partitions  60 keys  9.8 KiB  2.5 s"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

// Proves the JSON carries the totals, the outcome and each node's counts and error.
TEST(AdminClusterRepairTest, JsonFields) {
  RepairReport report = sample_report();
  report.nodes[1].error = "lost during the pass: timed out";
  const nlohmann::json json = nlohmann::json::parse(repair_json(report));
  EXPECT_EQ(json["asked"], "127.0.0.1:7001");
  EXPECT_EQ(json["first_slot"], 0);
  EXPECT_EQ(json["last_slot"], 16383);
  EXPECT_EQ(json["complete"], false);
  EXPECT_EQ(json["exchanges_completed"], 8000);
  EXPECT_EQ(json["keys_fetched"], 20);
  EXPECT_EQ(json["keys_pushed"], 40);
  EXPECT_EQ(json["bytes"], 10000);
  ASSERT_EQ(json["nodes"].size(), 2u);
  EXPECT_TRUE(json["nodes"][0]["error"].is_null());
  EXPECT_EQ(json["nodes"][1]["error"], "lost during the pass: timed out");
  EXPECT_EQ(json["nodes"][0]["partitions_done"], 2048);
  EXPECT_EQ(json["nodes"][0]["state"], "done");
}

}  // namespace
}  // namespace cairn
