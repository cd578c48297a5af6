// The text forms of the reports: a summary line, then a table whose columns are as wide as
// their widest cell; a row shorter than the header ends with one cell that spans the rest.
#include <algorithm>
#include <string_view>
#include <vector>

#include "admin/report_format.h"
#include "model/slot.h"
#include "net/resp_value.h"

namespace cairn {

namespace {

enum class Align { kLeft, kRight };

struct Column {
  std::string title;
  Align align;
};

using Row = std::vector<std::string>;

constexpr std::string_view kColumnGap = "  ";
// Node ids in ring listings: as many leading hex digits as git shows of a commit.
constexpr size_t kShortIdChars = 8;

std::string render_table(const std::vector<Column>& columns, const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const Column& column : columns) widths.push_back(column.title.size());
  for (const Row& row : rows) {
    CAIRN_ASSERT(!row.empty() && row.size() <= columns.size());
    // A short row's last cell spans the rest and sets no width.
    const size_t sized = row.size() == columns.size() ? row.size() : row.size() - 1;
    for (size_t i = 0; i < sized; i++) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  const auto append_row = [&](const Row& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      if (i > 0) line.append(kColumnGap);
      const bool spans = i + 1 == row.size();
      const size_t pad = row[i].size() < widths[i] ? widths[i] - row[i].size() : 0;
      if (columns[i].align == Align::kRight && !(spans && row.size() < columns.size())) {
        line.append(pad, ' ').append(row[i]);
      } else {
        line.append(row[i]).append(spans ? 0 : pad, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out.append(line).push_back('\n');
  };
  Row header;
  for (const Column& column : columns) header.push_back(column.title);
  append_row(header);
  for (const Row& row : rows) append_row(row);
  return out;
}

std::string span_text(const SlotSpan& span) {
  if (span.start == span.end) return std::to_string(span.start);
  return std::to_string(span.start) + "-" + std::to_string(span.end);
}

// A key as typed when it is printable ASCII, else quoted with escapes.
std::string printable_key(const std::string& key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"';
  });
  return plain ? key : RespValue::bulk_string(key).to_string();
}

// Why a node gave no INFO, without the address the row already shows.
std::string unreachable_text(const NodeStatus& status) {
  std::string_view why = status.error;
  const std::string prefix = status.address.to_string() + ": ";
  if (why.substr(0, prefix.size()) == prefix) why.remove_prefix(prefix.size());
  return "unreachable (" + std::string(why) + ")";
}

std::string replica_text(const Replica& replica, size_t id_chars) {
  std::string text = replica.address.to_string();
  if (replica.id.empty()) return text;
  // Cairn's ids are 64 bits shown as 40 hex digits, the first 24 zeros: skip those.
  const size_t significant = replica.id.find_first_not_of('0');
  const size_t start = significant != std::string::npos && replica.id.size() - significant <= 16 &&
                               replica.id.size() >= id_chars + 16
                           ? replica.id.size() - 16
                           : 0;
  return text + " " + replica.id.substr(start, id_chars);
}

// "[#####.....] 50%  5/10 partitions": how much of `total` is done.
std::string progress_bar(uint64_t done, uint64_t total) {
  constexpr size_t kBarWidth = 30;
  const uint64_t percent = total == 0 ? 0 : std::min<uint64_t>(done * 100 / total, 100);
  const size_t filled = static_cast<size_t>(percent * kBarWidth / 100);
  return "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] " +
         std::to_string(percent) + "%  " + std::to_string(done) + "/" + std::to_string(total) +
         " partitions";
}

// "12.3 s", with a tenth of a second.
std::string seconds_text(uint64_t ms) {
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

uint32_t assigned_slots(const std::vector<SlotRange>& ranges) {
  uint32_t count = 0;
  for (const SlotRange& range : ranges) count += range.span.count();
  return count;
}

}  // namespace

std::string status_text(const StatusReport& report) {
  size_t alive = 0;
  uint32_t owned = 0;
  std::vector<Row> rows;
  for (const NodeStatus& status : report.nodes) {
    const ClusterNodesLine& node = status.node;
    if (node.state == NodeState::kAlive) alive++;
    owned += node.slot_count();
    Row row = {node.id, node.address.to_string() + (node.myself ? " (myself)" : ""),
               std::string(node_state_name(node.state)), std::to_string(node.slot_count())};
    if (!status.reachable) {
      row.push_back(unreachable_text(status));
    } else {
      const NodeStats& stats = status.stats;
      row.push_back(stats.rack.value_or("-"));
      row.push_back(stats.keys ? std::to_string(*stats.keys) : "-");
      row.push_back(stats.ops_per_sec ? std::to_string(*stats.ops_per_sec) : "-");
      row.push_back(stats.disk_bytes ? human_bytes(*stats.disk_bytes) : "-");
    }
    rows.push_back(std::move(row));
  }
  std::string out = std::to_string(report.nodes.size()) + " nodes (" + std::to_string(alive) +
                    " alive), " + std::to_string(owned) + " of " + std::to_string(kSlotCount) +
                    " slots owned; asked " + report.asked.to_string() + "\n";
  out += render_table({{"ID", Align::kLeft},
                       {"ADDRESS", Align::kLeft},
                       {"STATE", Align::kLeft},
                       {"SLOTS", Align::kRight},
                       {"RACK", Align::kLeft},
                       {"KEYS", Align::kRight},
                       {"OPS/S", Align::kRight},
                       {"DISK", Align::kRight}},
                      rows);
  return out;
}

std::string ring_text(const RingReport& report) {
  // The ranges and the gaps between them, in slot order.
  std::vector<std::pair<SlotSpan, const SlotRange*>> spans;
  for (const SlotRange& range : report.ranges) spans.emplace_back(range.span, &range);
  for (const SlotSpan& gap : unassigned_spans(report.ranges)) spans.emplace_back(gap, nullptr);
  std::sort(spans.begin(), spans.end(),
            [](const auto& a, const auto& b) { return a.first.start < b.first.start; });
  std::vector<Row> rows;
  for (const auto& [span, range] : spans) {
    std::string replicas = "(unassigned)";
    if (range != nullptr) {
      replicas.clear();
      for (const Replica& replica : range->replicas) {
        if (!replicas.empty()) replicas += ", ";
        replicas += replica_text(replica, kShortIdChars);
      }
      if (replicas.empty()) replicas = "(no replicas)";
    }
    rows.push_back({span_text(span), std::to_string(span.count()), replicas});
  }
  std::string out = std::to_string(report.ranges.size()) + " ranges, " +
                    std::to_string(assigned_slots(report.ranges)) + " of " +
                    std::to_string(kSlotCount) + " slots assigned; asked " +
                    report.asked.to_string() + "\n";
  out += render_table(
      {{"SLOTS", Align::kLeft}, {"COUNT", Align::kRight}, {"REPLICAS", Align::kLeft}}, rows);
  return out;
}

std::string slot_text(const SlotReport& report) {
  std::string out;
  out += "key       " + printable_key(report.key) + "\n";
  out += "slot      " + std::to_string(report.slot) + "\n";
  if (report.replicas.empty()) {
    out += "replicas  none: no node owns this slot\n";
  }
  for (size_t i = 0; i < report.replicas.size(); i++) {
    out += (i == 0 ? "replicas  " : "          ") +
           replica_text(report.replicas[i], std::string::npos) + "\n";
  }
  out += "asked     " + report.asked.to_string() + "\n";
  return out;
}

std::string repair_text(const RepairReport& report) {
  const RepairTotals totals = repair_totals(report);
  std::vector<Row> rows;
  for (const NodeRepair& node : report.nodes) {
    Row row = {node.address.to_string()};
    if (!node.error.empty()) {
      row.push_back("failed (" + node.error + ")");
      rows.push_back(std::move(row));
      continue;
    }
    const RepairPassReply& pass = node.pass;
    row.push_back(pass.state);
    row.push_back(std::to_string(pass.partitions_done) + "/" +
                  std::to_string(pass.partitions_total));
    row.push_back(std::to_string(pass.exchanges_completed));
    row.push_back(std::to_string(pass.exchanges_failed));
    row.push_back(std::to_string(pass.peers_skipped));
    row.push_back(std::to_string(pass.keys_fetched + pass.keys_pushed));
    row.push_back(human_bytes(pass.bytes));
    row.push_back(seconds_text(pass.elapsed_ms));
    rows.push_back(std::move(row));
  }
  std::string out = "repair of slots " + span_text(report.slots) + " on " +
                    std::to_string(report.nodes.size()) + " nodes " +
                    (repair_complete(report) ? "complete" : "INCOMPLETE") + " in " +
                    seconds_text(report.elapsed_ms) + "; asked " + report.asked.to_string() + "\n";
  out += "ranges compared  " + std::to_string(totals.exchanges_completed) + " (" +
         std::to_string(totals.exchanges_failed) + " failed, " +
         std::to_string(totals.peers_skipped) + " replicas down)\n";
  out += "slots differing  " + std::to_string(totals.slots_differing) + "\n";
  out += "keys exchanged   " + std::to_string(totals.keys_fetched + totals.keys_pushed) + " (" +
         std::to_string(totals.keys_fetched) + " fetched, " + std::to_string(totals.keys_pushed) +
         " pushed)\n";
  out += "bytes            " + human_bytes(totals.bytes) + "\n";
  out += render_table({{"ADDRESS", Align::kLeft},
                       {"STATE", Align::kLeft},
                       {"PARTITIONS", Align::kRight},
                       {"RANGES", Align::kRight},
                       {"FAILED", Align::kRight},
                       {"DOWN", Align::kRight},
                       {"KEYS", Align::kRight},
                       {"BYTES", Align::kRight},
                       {"TIME", Align::kRight}},
                      rows);
  return out;
}

std::string repair_progress_text(const RepairReport& report) {
  const RepairTotals totals = repair_totals(report);
  return progress_bar(totals.partitions_done, totals.partitions_total) + "  " +
         std::to_string(totals.keys_fetched + totals.keys_pushed) + " keys  " +
         human_bytes(totals.bytes) + "  " + seconds_text(report.elapsed_ms);
}

std::string ring_step_text(const RingStatus& status) {
  return "ring epoch " + std::to_string(status.epoch) + ": " + status.transition + ", " +
         std::to_string(status.members) + " members";
}

std::string ring_progress_text(const RingProgress& progress) {
  return progress_bar(progress.stream_partitions_done, progress.stream_partitions) + " streamed  " +
         seconds_text(progress.elapsed_ms);
}

std::string plan_text(const PlanReport& report) {
  std::vector<Row> rows;
  for (const PlanMember& member : report.members) {
    rows.push_back({member.id, member.address.port == 0 ? "-" : member.address.to_string(),
                    std::to_string(member.replicas_before), std::to_string(member.replicas_after),
                    std::to_string(member.gained), std::to_string(member.lost)});
  }
  const double ratio = report.replicas_ideal == 0 ? 0.0
                                                  : static_cast<double>(report.replicas_moved) /
                                                        static_cast<double>(report.replicas_ideal);
  char summary[160];
  std::snprintf(summary, sizeof(summary),
                "%llu of %llu replicas move (%.1f%%), %.2fx the ideal %llu",
                static_cast<unsigned long long>(report.replicas_moved),
                static_cast<unsigned long long>(report.replicas_total),
                report.replicas_total == 0 ? 0.0
                                           : 100.0 * static_cast<double>(report.replicas_moved) /
                                                 static_cast<double>(report.replicas_total),
                ratio, static_cast<unsigned long long>(report.replicas_ideal));
  std::string out =
      "plan: " + report.change + "; asked " + report.asked.to_string() + "\n" + summary + "\n";
  out += render_table({{"ID", Align::kLeft},
                       {"ADDRESS", Align::kLeft},
                       {"BEFORE", Align::kRight},
                       {"AFTER", Align::kRight},
                       {"GAINS", Align::kRight},
                       {"LOSES", Align::kRight}},
                      rows);
  return out;
}

std::string leave_text(const LeaveReport& report) {
  std::string out = std::string(report.was_alive ? "left: " : "removed: ") + report.id + " (" +
                    report.address.to_string() + ") in " + seconds_text(report.elapsed_ms) +
                    "; the ring settled at epoch " + std::to_string(report.final_status.epoch) +
                    " with " + std::to_string(report.final_status.members) + " members\n";
  if (!report.shutdown_error.empty()) out += "not shut down: " + report.shutdown_error + "\n";
  return out;
}

std::string add_text(const AddReport& report) {
  return "added: " + report.id + " (" + report.address.to_string() + ") in " +
         seconds_text(report.elapsed_ms) + "; the ring settled at epoch " +
         std::to_string(report.final_status.epoch) + " with " +
         std::to_string(report.final_status.members) + " members\n";
}

}  // namespace cairn
