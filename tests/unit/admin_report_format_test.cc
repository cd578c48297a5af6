// cairnctl's output: the text tables (columns as wide as their cells, an unreachable node's row
// ending in its reason, unassigned slots shown in the ring) and the JSON shapes documented in
// docs/cairnctl.md, field by field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin/report_format.h"

namespace cairn {
namespace {

const std::string kIdA(40, 'a');
const std::string kIdB(40, 'b');

StatusReport sample_status() {
  StatusReport report;
  report.asked = {"127.0.0.1", 7001};
  NodeStatus a;
  a.node.id = kIdA;
  a.node.address = {"127.0.0.1", 7001};
  a.node.flags = {"myself", "master"};
  a.node.myself = true;
  a.node.slots = {{0, 8191}};
  a.address = a.node.address;
  a.reachable = true;
  a.stats.rack = "r1";
  a.stats.keys = 12345;
  a.stats.ops_per_sec = 7;
  a.stats.disk_bytes = 3u << 20;
  NodeStatus b;
  b.node.id = kIdB;
  b.node.address = {"127.0.0.1", 7002};
  b.node.flags = {"master", "fail"};
  b.node.state = NodeState::kDead;
  b.node.slots = {{8192, 16383}};
  b.address = b.node.address;
  b.error = "127.0.0.1:7002: connection refused";
  report.nodes = {a, b};
  return report;
}

// Proves the status table: one row per node, the asked node marked, the unreachable one's INFO
// columns replaced by the reason.
TEST(ReportFormatTest, StatusText) {
  EXPECT_EQ(status_text(sample_status()),
            "2 nodes (1 alive), 16384 of 16384 slots owned; asked 127.0.0.1:7001\n"
            "ID                                        ADDRESS                  STATE  SLOTS  "
            "RACK   KEYS  OPS/S     DISK\n" +
                kIdA + "  127.0.0.1:7001 (myself)  alive   8192  r1    12345      7  3.0 MiB\n" +
                kIdB +
                "  127.0.0.1:7002           dead    8192  unreachable (connection refused)\n");
}

// Proves the status JSON: every field, nulls for what is unknown.
TEST(ReportFormatTest, StatusJson) {
  const nlohmann::json json = nlohmann::json::parse(status_json(sample_status()));
  EXPECT_EQ(json["asked"], "127.0.0.1:7001");
  ASSERT_EQ(json["nodes"].size(), 2u);
  const nlohmann::json& a = json["nodes"][0];
  EXPECT_EQ(a["id"], kIdA);
  EXPECT_EQ(a["address"], "127.0.0.1:7001");
  EXPECT_EQ(a["state"], "alive");
  EXPECT_EQ(a["myself"], true);
  EXPECT_EQ(a["flags"], nlohmann::json::array({"myself", "master"}));
  EXPECT_EQ(a["slots"], 8192);
  EXPECT_EQ(a["slot_ranges"], nlohmann::json::parse("[[0, 8191]]"));
  EXPECT_EQ(a["reachable"], true);
  EXPECT_TRUE(a["error"].is_null());
  EXPECT_EQ(a["rack"], "r1");
  EXPECT_EQ(a["keys"], 12345);
  EXPECT_EQ(a["ops_per_sec"], 7);
  EXPECT_EQ(a["disk_bytes"], 3 << 20);
  const nlohmann::json& b = json["nodes"][1];
  EXPECT_EQ(b["state"], "dead");
  EXPECT_EQ(b["reachable"], false);
  EXPECT_EQ(b["error"], "127.0.0.1:7002: connection refused");
  for (const char* field : {"rack", "keys", "ops_per_sec", "disk_bytes"}) {
    EXPECT_TRUE(b[field].is_null()) << field;
  }
}

RingReport sample_ring() {
  const Replica a{{"127.0.0.1", 7001}, kIdA};
  const Replica b{{"127.0.0.1", 7002}, kIdB};
  return RingReport{{"127.0.0.1", 7001}, {{{0, 99}, {a, b}}, {{200, 16383}, {b, a}}}};
}

// Proves the ring listing: ranges and the gaps between them in slot order, short ids.
TEST(ReportFormatTest, RingText) {
  EXPECT_EQ(ring_text(sample_ring()),
            "2 ranges, 16284 of 16384 slots assigned; asked 127.0.0.1:7001\n"
            "SLOTS      COUNT  REPLICAS\n"
            "0-99         100  127.0.0.1:7001 aaaaaaaa, 127.0.0.1:7002 bbbbbbbb\n"
            "100-199      100  (unassigned)\n"
            "200-16383  16184  127.0.0.1:7002 bbbbbbbb, 127.0.0.1:7001 aaaaaaaa\n");
}

// Proves the ring JSON: ranges with their preference lists, and the unassigned spans.
TEST(ReportFormatTest, RingJson) {
  const nlohmann::json json = nlohmann::json::parse(ring_json(sample_ring()));
  EXPECT_EQ(json["asked"], "127.0.0.1:7001");
  ASSERT_EQ(json["ranges"].size(), 2u);
  EXPECT_EQ(json["ranges"][0]["start"], 0);
  EXPECT_EQ(json["ranges"][0]["end"], 99);
  EXPECT_EQ(json["ranges"][0]["replicas"][0]["address"], "127.0.0.1:7001");
  EXPECT_EQ(json["ranges"][0]["replicas"][0]["id"], kIdA);
  EXPECT_EQ(json["ranges"][1]["replicas"][0]["id"], kIdB);
  EXPECT_EQ(json["unassigned"], nlohmann::json::parse("[[100, 199]]"));
}

// Proves the slot report in both forms, a key with unprintable bytes escaped in text and still
// valid JSON, and an unowned slot.
TEST(ReportFormatTest, SlotTextAndJson) {
  const Replica a{{"127.0.0.1", 7001}, kIdA};
  const Replica b{{"127.0.0.1", 7002}, kIdB};
  const SlotReport report{{"127.0.0.1", 7001}, "foo", 12182, {a, b}};
  EXPECT_EQ(slot_text(report), "key       foo\nslot      12182\nreplicas  127.0.0.1:7001 " + kIdA +
                                   "\n          127.0.0.1:7002 " + kIdB +
                                   "\nasked     127.0.0.1:7001\n");
  const nlohmann::json json = nlohmann::json::parse(slot_json(report));
  EXPECT_EQ(json["key"], "foo");
  EXPECT_EQ(json["slot"], 12182);
  EXPECT_EQ(json["replicas"].size(), 2u);
  EXPECT_EQ(json["replicas"][1]["address"], "127.0.0.1:7002");

  const SlotReport odd{{"h", 1}, std::string("a b\n\xff", 5), 7, {}};
  EXPECT_EQ(slot_text(odd),
            "key       \"a b\\n\\xff\"\nslot      7\nreplicas  none: no node owns this slot\n"
            "asked     h:1\n");
  const nlohmann::json odd_json = nlohmann::json::parse(slot_json(odd));
  EXPECT_TRUE(odd_json["replicas"].empty());
  EXPECT_EQ(odd_json["key"], "a b\n\xef\xbf\xbd");  // the invalid byte replaced by U+FFFD
}

// Proves a ring change's progress shows its step, and the partitions streamed over all nodes as a
// bar and a count, on one line to redraw.
TEST(ReportFormatTest, RingProgressText) {
  RingProgress progress;
  progress.status.epoch = 11;
  progress.status.transition = "moving";
  progress.status.members = 3;
  progress.stream_partitions = 1536;
  progress.stream_partitions_done = 768;
  progress.elapsed_ms = 7500;
  EXPECT_EQ(ring_step_text(progress.status), "ring epoch 11: moving, 3 members");
  EXPECT_EQ(ring_progress_text(progress),
            "[###############...............] 50%  768/1536 partitions streamed  7.5 s");
  progress.stream_partitions = 0;  // nothing gained yet: an empty bar, not a division by zero
  progress.stream_partitions_done = 0;
  EXPECT_EQ(ring_progress_text(progress).substr(0, 37), "[..............................] 0%  ");
}

// Proves the summary of `cairnctl add` names the node and the ring it settled in, as text and
// JSON.
TEST(ReportFormatTest, AddTextAndJson) {
  AddReport report;
  report.id = kIdA;
  report.address = {"127.0.0.1", 7604};
  report.final_status.epoch = 13;
  report.final_status.members = 4;
  report.elapsed_ms = 14500;
  EXPECT_EQ(add_text(report), "added: " + kIdA +
                                  " (127.0.0.1:7604) in 14.5 s; the ring settled at epoch 13 "
                                  "with 4 members\n");
  const nlohmann::json json = nlohmann::json::parse(add_json(report));
  EXPECT_EQ(json["id"], kIdA);
  EXPECT_EQ(json["address"], "127.0.0.1:7604");
  EXPECT_EQ(json["epoch"], 13);
  EXPECT_EQ(json["members"], 4);
  EXPECT_EQ(json["elapsed_ms"], 14500);
}

}  // namespace
}  // namespace cairn
