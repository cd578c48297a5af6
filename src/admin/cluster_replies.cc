#include "admin/cluster_replies.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "model/slot.h"

namespace cairn {

namespace {

constexpr size_t kClusterNodesFieldsMin = 8;

template <typename T>
bool parse_number(std::string_view text, T* value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

Status bad_nodes_line(std::string_view line, std::string_view why) {
  return Status::corruption("bad CLUSTER NODES line '" + std::string(line) +
                            "': " + std::string(why));
}

// "1000" or "0-5460"; false if malformed or out of range.
bool parse_slot_span(std::string_view text, SlotSpan* span) {
  const size_t dash = text.find('-');
  uint32_t start = 0;
  uint32_t end = 0;
  if (dash == std::string_view::npos) {
    if (!parse_number(text, &start)) return false;
    end = start;
  } else if (!parse_number(text.substr(0, dash), &start) ||
             !parse_number(text.substr(dash + 1), &end)) {
    return false;
  }
  if (start > end || end >= kSlotCount) return false;
  *span = {static_cast<uint16_t>(start), static_cast<uint16_t>(end)};
  return true;
}

// "ip:port@busport[,hostname]": the host (maybe empty) and port; the port after the last colon,
// so IPv6 addresses, which Redis writes without brackets, parse.
bool parse_node_address(std::string_view text, HostPort* address) {
  text = text.substr(0, text.find(','));
  text = text.substr(0, text.find('@'));
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  uint32_t port = 0;
  if (!parse_number(text.substr(colon + 1), &port) || port > 65535) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *address = HostPort{std::string(host), static_cast<uint16_t>(port)};
  return true;
}

Result<ClusterNodesLine> parse_cluster_nodes_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (const std::string_view field : split(line, ' ')) {
    if (!field.empty()) fields.push_back(field);
  }
  if (fields.size() < kClusterNodesFieldsMin) {
    return bad_nodes_line(line, "fewer than " + std::to_string(kClusterNodesFieldsMin) + " fields");
  }
  ClusterNodesLine node;
  node.id.assign(fields[0]);
  if (!parse_node_address(fields[1], &node.address)) return bad_nodes_line(line, "bad address");
  for (const std::string_view flag : split(fields[2], ',')) {
    node.flags.emplace_back(flag);
    if (flag == "myself") node.myself = true;
    if (flag == "fail") node.state = NodeState::kDead;
    if ((flag == "fail?" || flag == "pfail") && node.state != NodeState::kDead) {
      node.state = NodeState::kSuspect;
    }
  }
  for (size_t i = kClusterNodesFieldsMin; i < fields.size(); i++) {
    if (fields[i].front() == '[') continue;  // a slot being imported or migrated
    SlotSpan span;
    if (!parse_slot_span(fields[i], &span)) {
      return bad_nodes_line(line, "bad slot range '" + std::string(fields[i]) + "'");
    }
    node.slots.push_back(span);
  }
  return node;
}

// An integer reply, or a string of digits (a server that sends numbers as strings).
std::optional<int64_t> integer_of(const RespValue& value) {
  if (value.kind == RespKind::kInteger) return value.integer;
  int64_t number = 0;
  if (value.is_string() && parse_number(std::string_view(value.text), &number)) return number;
  return std::nullopt;
}

Status bad_slots(std::string_view why) {
  return Status::corruption("bad CLUSTER SLOTS reply: " + std::string(why));
}

Result<Replica> parse_slots_replica(const RespValue& entry) {
  if (!entry.is_aggregate() || entry.elements.size() < 2 || !entry.elements[0].is_string()) {
    return bad_slots("a replica is not [ip, port, id, ...]: " + entry.to_string());
  }
  const std::optional<int64_t> port = integer_of(entry.elements[1]);
  if (!port.has_value() || *port < 0 || *port > 65535) {
    return bad_slots("bad port " + entry.elements[1].to_string());
  }
  Replica replica;
  replica.address = HostPort{entry.elements[0].text, static_cast<uint16_t>(*port)};
  if (entry.elements.size() >= 3 && entry.elements[2].is_string()) {
    replica.id = entry.elements[2].text;
  }
  return replica;
}

Result<SlotRange> parse_slots_range(const RespValue& item) {
  if (!item.is_aggregate() || item.elements.size() < 2) {
    return bad_slots("a range is not [start, end, replicas...]: " + item.to_string());
  }
  const std::optional<int64_t> start = integer_of(item.elements[0]);
  const std::optional<int64_t> end = integer_of(item.elements[1]);
  if (!start.has_value() || !end.has_value() || *start < 0 || *start > *end || *end >= kSlotCount) {
    return bad_slots("bad slot range " + item.elements[0].to_string() + " to " +
                     item.elements[1].to_string());
  }
  SlotRange range;
  range.span = {static_cast<uint16_t>(*start), static_cast<uint16_t>(*end)};
  for (size_t i = 2; i < item.elements.size(); i++) {
    CAIRN_ASSIGN_OR_RETURN(Replica replica, parse_slots_replica(item.elements[i]));
    range.replicas.push_back(std::move(replica));
  }
  return range;
}

}  // namespace

std::string_view node_state_name(NodeState state) {
  switch (state) {
    case NodeState::kAlive:
      return "alive";
    case NodeState::kSuspect:
      return "suspect";
    case NodeState::kDead:
      return "dead";
  }
  return "unknown";
}

uint32_t ClusterNodesLine::slot_count() const {
  uint32_t count = 0;
  for (const SlotSpan& span : slots) count += span.count();
  return count;
}

Result<std::vector<ClusterNodesLine>> parse_cluster_nodes(std::string_view text) {
  std::vector<ClusterNodesLine> nodes;
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    CAIRN_ASSIGN_OR_RETURN(ClusterNodesLine node, parse_cluster_nodes_line(line));
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) return Status::corruption("empty CLUSTER NODES reply");
  return nodes;
}

Result<std::vector<SlotRange>> parse_cluster_slots(const RespValue& reply) {
  if (!reply.is_aggregate()) return bad_slots("not an array: " + reply.to_string());
  std::vector<SlotRange> ranges;
  for (const RespValue& item : reply.elements) {
    CAIRN_ASSIGN_OR_RETURN(SlotRange range, parse_slots_range(item));
    ranges.push_back(std::move(range));
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const SlotRange& a, const SlotRange& b) { return a.span.start < b.span.start; });
  std::vector<SlotRange> merged;
  for (SlotRange& range : ranges) {
    if (!merged.empty() && range.span.start <= merged.back().span.end) {
      return bad_slots("ranges overlap at slot " + std::to_string(range.span.start));
    }
    if (!merged.empty() && range.span.start == merged.back().span.end + 1 &&
        range.replicas == merged.back().replicas) {
      merged.back().span.end = range.span.end;
    } else {
      merged.push_back(std::move(range));
    }
  }
  return merged;
}

const SlotRange* find_slot_range(const std::vector<SlotRange>& ranges, uint16_t slot) {
  // The first range starting after `slot`; the one before it may hold it.
  auto after = std::upper_bound(ranges.begin(), ranges.end(), slot,
                                [](uint16_t s, const SlotRange& r) { return s < r.span.start; });
  if (after == ranges.begin()) return nullptr;
  const SlotRange& candidate = *(after - 1);
  return slot <= candidate.span.end ? &candidate : nullptr;
}

std::vector<SlotSpan> unassigned_spans(const std::vector<SlotRange>& ranges) {
  std::vector<SlotSpan> gaps;
  uint32_t next = 0;  // the first slot not yet accounted for
  for (const SlotRange& range : ranges) {
    if (range.span.start > next) {
      gaps.push_back({static_cast<uint16_t>(next), static_cast<uint16_t>(range.span.start - 1)});
    }
    next = std::max<uint32_t>(next, uint32_t{range.span.end} + 1);
  }
  if (next < kSlotCount) {
    gaps.push_back({static_cast<uint16_t>(next), static_cast<uint16_t>(kSlotCount - 1)});
  }
  return gaps;
}

NodeStats parse_info(std::string_view text) {
  NodeStats stats;
  bool keyspace_section = false;
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (line.find("Keyspace") != std::string_view::npos) keyspace_section = true;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view field = line.substr(0, colon);
    const std::string_view value = line.substr(colon + 1);
    uint64_t number = 0;
    if (field == "cairn_rack") {
      stats.rack = std::string(value);
    } else if (field == "instantaneous_ops_per_sec") {
      double rate = 0;
      if (parse_number(value, &rate) && rate >= 0) stats.ops_per_sec = uint64_t(rate + 0.5);
    } else if (field == "cairn_disk_bytes") {
      if (parse_number(value, &number)) stats.disk_bytes = number;
    } else if (field == "db0") {
      // keys=N,expires=M,avg_ttl=T
      for (const std::string_view pair : split(value, ',')) {
        if (pair.substr(0, 5) == "keys=" && parse_number(pair.substr(5), &number)) {
          stats.keys = number;
        }
      }
    }
  }
  // Redis leaves an empty db0 out of its keyspace section.
  if (keyspace_section && !stats.keys.has_value()) stats.keys = 0;
  return stats;
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 - 0.05 && unit + 1 < std::size(kUnits)) {  // never "1024.0 KiB"
    value /= 1024;
    unit++;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

const RespValue* map_field(const RespValue& reply, std::string_view field) {
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    if (reply.elements[i].is_string() && reply.elements[i].text == field) {
      return &reply.elements[i + 1];
    }
  }
  return nullptr;
}

Result<uint64_t> map_count(const RespValue& reply, std::string_view field, std::string_view what) {
  const RespValue* value = map_field(reply, field);
  if (value == nullptr || value->kind != RespKind::kInteger || value->integer < 0) {
    return Status::corruption(std::string(what) + ": no count " + std::string(field));
  }
  return static_cast<uint64_t>(value->integer);
}

}  // namespace cairn
