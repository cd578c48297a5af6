#include "cluster/keyspace_message.h"

#include "cluster/message_frame.h"
#include "cluster/replication_message.h"
#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "io/network.h"

namespace cairn {

namespace {

constexpr size_t kErrorBytesMax = 1024;
constexpr uint8_t kTypeAny = 0;  // the type byte of a scan without TYPE; else 1 + KeyStateType

bool is_reply(KeyspaceMessageType type) {
  return type == KeyspaceMessageType::kSlotScanReply || type == KeyspaceMessageType::kFlushAck;
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// u16 slot, u8 has-key, and the key when it has one.
void put_position(std::string* out, const ScanPosition& position) {
  put_u16(out, position.slot);
  out->push_back(position.after.has_value() ? 1 : 0);
  if (position.after.has_value()) put_length_prefixed(out, *position.after);
}

bool get_position(std::string_view* in, ScanPosition* position) {
  bool has_after = false;
  if (!get_u16(in, &position->slot) || position->slot >= kSlotCount || !get_flag(in, &has_after)) {
    return false;
  }
  if (!has_after) return true;
  position->after.emplace();
  return get_bounded(in, kReplicationKeyBytesMax, &*position->after);
}

void put_scan(std::string* out, const SlotScan& scan) {
  put_varint32(out, static_cast<uint32_t>(scan.ranges.size()));
  for (const ScanRange& range : scan.ranges) {
    put_u16(out, range.first);
    put_u16(out, range.last);
  }
  put_position(out, scan.start);
  put_length_prefixed(out, scan.pattern);
  out->push_back(static_cast<char>(scan.type ? 1 + static_cast<uint8_t>(*scan.type) : kTypeAny));
  out->push_back(scan.count_only ? 1 : 0);
  put_varint64(out, scan.keys_max);
  put_varint64(out, scan.records_max);
  put_varint64(out, zigzag(scan.now_unix_ms));
}

Status get_scan(std::string_view* in, SlotScan* scan) {
  const Status corrupt = Status::corruption("keyspace message: bad slot scan");
  uint32_t ranges = 0;
  if (!get_varint32(in, &ranges) || ranges == 0 || ranges > kSlotScanRangesMax) return corrupt;
  scan->ranges.resize(ranges);
  for (ScanRange& range : scan->ranges) {
    if (!get_u16(in, &range.first) || !get_u16(in, &range.last)) return corrupt;
  }
  uint8_t type = 0;
  uint64_t now = 0;
  if (!get_position(in, &scan->start) || !get_bounded(in, kScanPatternBytesMax, &scan->pattern) ||
      !get_u8(in, &type) || type > 1 + static_cast<uint8_t>(KeyStateType::kList) ||
      !get_flag(in, &scan->count_only) || !get_varint64(in, &scan->keys_max) ||
      !get_varint64(in, &scan->records_max) || !get_varint64(in, &now)) {
    return corrupt;
  }
  if (type != kTypeAny) scan->type = static_cast<KeyStateType>(type - 1);
  scan->now_unix_ms = unzigzag(now);
  return slot_scan_is_valid(*scan) ? Status::ok() : corrupt;
}

void put_result(std::string* out, const SlotScanResult& result) {
  put_varint64(out, result.matched);
  put_varint32(out, static_cast<uint32_t>(result.keys.size()));
  for (const std::string& key : result.keys) put_length_prefixed(out, key);
  out->push_back(result.resume.has_value() ? 1 : 0);
  if (result.resume.has_value()) put_position(out, *result.resume);
}

Status get_result(std::string_view* in, SlotScanResult* result) {
  const Status corrupt = Status::corruption("keyspace message: bad slot scan reply");
  uint32_t keys = 0;
  if (!get_varint64(in, &result->matched) || !get_varint32(in, &keys) || keys > kSlotScanKeysMax ||
      keys > result->matched) {
    return corrupt;
  }
  result->keys.resize(keys);
  for (std::string& key : result->keys) {
    if (!get_bounded(in, kReplicationKeyBytesMax, &key)) return corrupt;
  }
  bool has_resume = false;
  if (!get_flag(in, &has_resume)) return corrupt;
  if (has_resume && !get_position(in, &result->resume.emplace())) return corrupt;
  return Status::ok();
}

}  // namespace

// Layout after the channel, version and type bytes: varint64 request id; then by type
// (docs/cluster-replication.md): kSlotScan the scan, kSlotScanReply the result, kFlush the
// version (fixed64 HLC, fixed64 node); replies end with a length-prefixed error.
std::string encode_keyspace_message(const KeyspaceMessage& message) {
  CAIRN_ASSERT(message.error.size() <= kErrorBytesMax);
  std::string out = begin_message_frame(MessageChannel::kKeyspace, kKeyspaceMessageVersion,
                                        static_cast<uint8_t>(message.type));
  put_varint64(&out, message.request_id);
  switch (message.type) {
    case KeyspaceMessageType::kSlotScan:
      CAIRN_ASSERT(slot_scan_is_valid(message.scan));
      put_scan(&out, message.scan);
      break;
    case KeyspaceMessageType::kSlotScanReply:
      CAIRN_ASSERT(message.result.keys.size() <= kSlotScanKeysMax);
      put_result(&out, message.result);
      break;
    case KeyspaceMessageType::kFlush:
      put_fixed64(&out, message.flush_version.timestamp.value);
      put_fixed64(&out, message.flush_version.node.value);
      break;
    case KeyspaceMessageType::kFlushAck:
      break;
  }
  if (is_reply(message.type)) put_length_prefixed(&out, message.error);
  end_message_frame(&out);
  return out;
}

Result<KeyspaceMessage> decode_keyspace_message(std::string_view bytes) {
  auto corrupt = [](const char* what) {
    return Status::corruption(std::string("keyspace message: ") + what);
  };
  CAIRN_ASSIGN_OR_RETURN(
      const MessageFrame frame,
      open_message_frame(bytes, MessageChannel::kKeyspace, kKeyspaceMessageVersion,
                         static_cast<uint8_t>(KeyspaceMessageType::kFlushAck), "keyspace message"));
  std::string_view body = frame.body;
  KeyspaceMessage message;
  message.type = static_cast<KeyspaceMessageType>(frame.type);
  if (!get_varint64(&body, &message.request_id)) return corrupt("truncated request id");
  switch (message.type) {
    case KeyspaceMessageType::kSlotScan:
      CAIRN_RETURN_IF_ERROR(get_scan(&body, &message.scan));
      break;
    case KeyspaceMessageType::kSlotScanReply:
      CAIRN_RETURN_IF_ERROR(get_result(&body, &message.result));
      break;
    case KeyspaceMessageType::kFlush:
      if (!get_fixed64(&body, &message.flush_version.timestamp.value) ||
          !get_fixed64(&body, &message.flush_version.node.value)) {
        return corrupt("truncated flush version");
      }
      break;
    case KeyspaceMessageType::kFlushAck:
      break;
  }
  if (is_reply(message.type) && !get_bounded(&body, kErrorBytesMax, &message.error)) {
    return corrupt("truncated error");
  }
  if (!body.empty()) return corrupt("trailing bytes");
  return message;
}

}  // namespace cairn
