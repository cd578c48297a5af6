#include "cluster/replication_message.h"

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "io/network.h"

namespace cairn {

namespace {

constexpr size_t kChecksumBytes = 4;
constexpr size_t kErrorBytesMax = 1024;

bool has_state(ReplicationMessageType type) {
  return type == ReplicationMessageType::kWrite || type == ReplicationMessageType::kReadReply ||
         type == ReplicationMessageType::kCounterAddReply;
}

bool is_reply(ReplicationMessageType type) {
  return type == ReplicationMessageType::kWriteAck || type == ReplicationMessageType::kReadReply ||
         type == ReplicationMessageType::kCounterAddReply;
}

void put_version(std::string* out, WriteVersion version) {
  put_fixed64(out, version.timestamp.value);
  put_fixed64(out, version.node.value);
}

bool get_version(std::string_view* in, WriteVersion* version) {
  return get_fixed64(in, &version->timestamp.value) && get_fixed64(in, &version->node.value);
}

}  // namespace

// Layout after the channel and type bytes: varint64 request id; length-prefixed key (not on
// replies); length-prefixed encoded state (kWrite, kReadReply, kCounterAddReply); kWrite: a byte
// 0/1 and, when 1, fixed64 hint target; kCounterAdd: version (2 x fixed64), varint64
// incarnation, u8 consistency level, varint64 zigzag delta, varint64 zigzag now; kCounterAddReply:
// varint64 zigzag value; replies: length-prefixed error; then fixed32 checksum.
std::string encode_replication_message(const ReplicationMessage& message) {
  auto zigzag = [](int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  };
  CAIRN_ASSERT(message.key.size() <= kReplicationKeyBytesMax);
  CAIRN_ASSERT(message.error.size() <= kErrorBytesMax);
  std::string out;
  out.push_back(static_cast<char>(MessageChannel::kReplication));
  out.push_back(static_cast<char>(message.type));
  put_varint64(&out, message.request_id);
  if (!is_reply(message.type)) put_length_prefixed(&out, message.key);
  if (has_state(message.type)) put_length_prefixed(&out, message.state.encode());
  switch (message.type) {
    case ReplicationMessageType::kWrite:
      out.push_back(message.hint_for.has_value() ? 1 : 0);
      if (message.hint_for) put_fixed64(&out, message.hint_for->value);
      break;
    case ReplicationMessageType::kCounterAdd:
      put_version(&out, message.version);
      put_varint64(&out, message.incarnation);
      out.push_back(static_cast<char>(message.level));
      put_varint64(&out, zigzag(message.delta));
      put_varint64(&out, zigzag(message.now_unix_ms));
      break;
    case ReplicationMessageType::kCounterAddReply:
      put_varint64(&out, zigzag(message.value));
      break;
    default:
      break;
  }
  if (is_reply(message.type)) put_length_prefixed(&out, message.error);
  put_fixed32(&out, checksum32(out));
  return out;
}

std::optional<std::string_view> replication_read_key(std::string_view bytes) {
  if (bytes.size() < 2 ||
      static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(MessageChannel::kReplication) ||
      static_cast<uint8_t>(bytes[1]) != static_cast<uint8_t>(ReplicationMessageType::kRead)) {
    return std::nullopt;
  }
  bytes.remove_prefix(2);
  uint64_t request_id = 0;
  std::string_view key;
  if (!get_varint64(&bytes, &request_id) || !get_length_prefixed(&bytes, &key)) {
    return std::nullopt;
  }
  return key;
}

Result<ReplicationMessage> decode_replication_message(std::string_view bytes) {
  auto corrupt = [](const char* what) {
    return Status::corruption(std::string("replication message: ") + what);
  };
  auto unzigzag = [](uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  };
  if (bytes.size() < 2 + kChecksumBytes) return corrupt("too short");
  std::string_view trailer = bytes.substr(bytes.size() - kChecksumBytes);
  std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  uint32_t checksum = 0;
  if (!get_fixed32(&trailer, &checksum) || checksum != checksum32(body)) {
    return corrupt("checksum mismatch");
  }
  if (static_cast<uint8_t>(body[0]) != static_cast<uint8_t>(MessageChannel::kReplication)) {
    return corrupt("not a replication message");
  }
  const auto type_byte = static_cast<uint8_t>(body[1]);
  if (type_byte < 1 || type_byte > 6) return corrupt("unknown type");
  body.remove_prefix(2);
  ReplicationMessage message;
  message.type = static_cast<ReplicationMessageType>(type_byte);
  if (!get_varint64(&body, &message.request_id)) return corrupt("truncated request id");
  if (!is_reply(message.type)) {
    std::string_view key;
    if (!get_length_prefixed(&body, &key)) return corrupt("truncated key");
    if (key.size() > kReplicationKeyBytesMax) return corrupt("key too long");
    message.key = std::string(key);
  }
  if (has_state(message.type)) {
    std::string_view state;
    if (!get_length_prefixed(&body, &state)) return corrupt("truncated state");
    Result<KeyState> decoded = KeyState::decode(state);
    if (!decoded.is_ok()) return decoded.status().with_context("replication message");
    message.state = std::move(decoded).value();
  }
  uint64_t raw = 0;
  switch (message.type) {
    case ReplicationMessageType::kWrite: {
      if (body.empty() || static_cast<uint8_t>(body[0]) > 1) return corrupt("bad hint flag");
      const bool hinted = body[0] == 1;
      body.remove_prefix(1);
      if (hinted) {
        NodeId target;
        if (!get_fixed64(&body, &target.value)) return corrupt("truncated hint target");
        message.hint_for = target;
      }
      break;
    }
    case ReplicationMessageType::kCounterAdd:
      if (!get_version(&body, &message.version) || !get_varint64(&body, &message.incarnation) ||
          body.empty()) {
        return corrupt("truncated counter add");
      }
      if (static_cast<uint8_t>(body[0]) > static_cast<uint8_t>(ConsistencyLevel::kAll)) {
        return corrupt("unknown consistency level");
      }
      message.level = static_cast<ConsistencyLevel>(body[0]);
      body.remove_prefix(1);
      if (!get_varint64(&body, &raw)) return corrupt("truncated counter add");
      message.delta = unzigzag(raw);
      if (!get_varint64(&body, &raw)) return corrupt("truncated counter add");
      message.now_unix_ms = unzigzag(raw);
      break;
    case ReplicationMessageType::kCounterAddReply:
      if (!get_varint64(&body, &raw)) return corrupt("truncated counter value");
      message.value = unzigzag(raw);
      break;
    default:
      break;
  }
  if (is_reply(message.type)) {
    std::string_view error;
    if (!get_length_prefixed(&body, &error)) return corrupt("truncated error");
    if (error.size() > kErrorBytesMax) return corrupt("error too long");
    message.error = std::string(error);
  }
  if (!body.empty()) return corrupt("trailing bytes");
  return message;
}

}  // namespace cairn
