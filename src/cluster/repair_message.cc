#include "cluster/repair_message.h"

#include "cluster/message_frame.h"
#include "cluster/replication_message.h"
#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "io/network.h"
#include "model/slot.h"

namespace cairn {

namespace {

constexpr size_t kErrorBytesMax = 1024;

bool is_reply(RepairMessageType type) {
  return type == RepairMessageType::kRangeDigestReply ||
         type == RepairMessageType::kKeyDigestsReply || type == RepairMessageType::kStatesReply ||
         type == RepairMessageType::kStreamStatusReply;
}

// A run of slots a kRangeDigest may name.
bool is_valid_run(uint16_t first_slot, uint16_t last_slot) {
  return first_slot <= last_slot && last_slot < kSlotCount &&
         uint32_t{last_slot} - first_slot + 1 <= kRepairSlotRunMax;
}

bool keys_ascend(const std::vector<KeyDigest>& key_digests) {
  for (size_t i = 1; i < key_digests.size(); i++) {
    if (!(key_digests[i - 1].key < key_digests[i].key)) return false;
  }
  return true;
}

// Varints as put_varint* writes them: get_varint* also accepts padded forms (a value followed by
// 0x80 continuation groups of zero), which encode never produces.
bool get_canonical_varint64(std::string_view* in, uint64_t* value) {
  const size_t before = in->size();
  return get_varint64(in, value) &&
         before - in->size() == static_cast<size_t>(varint_length(*value));
}

bool get_canonical_varint32(std::string_view* in, uint32_t* value) {
  const size_t before = in->size();
  return get_varint32(in, value) &&
         before - in->size() == static_cast<size_t>(varint_length(*value));
}

// A canonical varint32 length, then at most `bytes_max` bytes.
bool get_canonical_bounded(std::string_view* in, size_t bytes_max, std::string_view* value) {
  uint32_t length = 0;
  if (!get_canonical_varint32(in, &length) || length > bytes_max || length > in->size()) {
    return false;
  }
  *value = in->substr(0, length);
  in->remove_prefix(length);
  return true;
}

bool get_canonical_bounded(std::string_view* in, size_t bytes_max, std::string* value) {
  std::string_view bytes;
  if (!get_canonical_bounded(in, bytes_max, &bytes)) return false;
  value->assign(bytes);
  return true;
}

// A varint32 count, at most `count_max`.
bool get_count(std::string_view* in, size_t count_max, uint32_t* count) {
  return get_canonical_varint32(in, count) && *count <= count_max;
}

void put_exchanges(std::string* out, const std::vector<ExchangeRecord>& exchanges) {
  CAIRN_ASSERT(exchanges.size() <= kExchangeRecordsMax);
  put_varint32(out, static_cast<uint32_t>(exchanges.size()));
  for (const ExchangeRecord& record : exchanges) {
    CAIRN_ASSERT(record.first < record.second);
    put_varint64(out, record.first.value);
    put_varint64(out, record.second.value);
    put_varint64(out, record.started_unix_ms);
  }
}

bool get_exchanges(std::string_view* in, std::vector<ExchangeRecord>* exchanges) {
  uint32_t count = 0;
  if (!get_count(in, kExchangeRecordsMax, &count)) return false;
  exchanges->resize(count);
  for (ExchangeRecord& record : *exchanges) {
    if (!get_canonical_varint64(in, &record.first.value) ||
        !get_canonical_varint64(in, &record.second.value) ||
        !get_canonical_varint64(in, &record.started_unix_ms) || !(record.first < record.second)) {
      return false;
    }
  }
  return true;
}

Status get_range_digest(std::string_view* in, RepairMessage* message) {
  if (!get_u16(in, &message->first_slot) || !get_u16(in, &message->last_slot) ||
      !get_fixed64(in, &message->root) || !is_valid_run(message->first_slot, message->last_slot) ||
      !get_exchanges(in, &message->exchanges)) {
    return Status::corruption("repair message: bad range digest");
  }
  return Status::ok();
}

Status get_range_digest_reply(std::string_view* in, RepairMessage* message) {
  const Status corrupt = Status::corruption("repair message: bad range digest reply");
  if (!get_flag(in, &message->equal)) return corrupt;
  if (!message->equal) {
    uint32_t count = 0;
    if (!get_count(in, kRepairSlotRunMax, &count)) return corrupt;
    message->slot_digests.resize(count);
    for (uint64_t& digest : message->slot_digests) {
      if (!get_fixed64(in, &digest)) return corrupt;
    }
  }
  return get_exchanges(in, &message->exchanges) ? Status::ok() : corrupt;
}

Status get_key_digests(std::string_view* in, RepairMessage* message) {
  if (!get_u16(in, &message->first_slot) || message->first_slot >= kSlotCount ||
      !get_canonical_bounded(in, kReplicationKeyBytesMax, &message->after)) {
    return Status::corruption("repair message: bad key digests request");
  }
  return Status::ok();
}

Status get_key_digests_reply(std::string_view* in, RepairMessage* message) {
  const Status corrupt = Status::corruption("repair message: bad key digests reply");
  uint32_t count = 0;
  if (!get_count(in, kRepairKeyDigestsMax, &count)) return corrupt;
  message->key_digests.resize(count);
  for (KeyDigest& key_digest : message->key_digests) {
    if (!get_canonical_bounded(in, kReplicationKeyBytesMax, &key_digest.key) ||
        !get_fixed64(in, &key_digest.digest)) {
      return corrupt;
    }
  }
  if (!keys_ascend(message->key_digests)) {
    return Status::corruption("repair message: key digests not ascending");
  }
  return get_flag(in, &message->more) ? Status::ok() : corrupt;
}

Status get_states_request(std::string_view* in, RepairMessage* message) {
  const Status corrupt = Status::corruption("repair message: bad states request");
  uint32_t count = 0;
  if (!get_count(in, kRepairStatesMax, &count) || count == 0) return corrupt;
  message->keys.resize(count);
  for (std::string& key : message->keys) {
    if (!get_canonical_bounded(in, kReplicationKeyBytesMax, &key)) return corrupt;
  }
  return Status::ok();
}

Status get_states_reply(std::string_view* in, RepairMessage* message) {
  const Status corrupt = Status::corruption("repair message: bad states reply");
  uint32_t count = 0;
  if (!get_count(in, kRepairStatesMax, &count)) return corrupt;
  message->states.resize(count);
  for (auto& [key, state] : message->states) {
    std::string_view bytes;
    if (!get_canonical_bounded(in, kReplicationKeyBytesMax, &key) ||
        !get_canonical_bounded(in, in->size(), &bytes)) {
      return corrupt;
    }
    Result<KeyState> decoded = KeyState::decode(bytes);
    if (!decoded.is_ok()) return decoded.status().with_context("repair message");
    state = std::move(decoded).value();
  }
  return Status::ok();
}

}  // namespace

// Layout after the channel, version and type bytes: varint64 request id; then by type:
// kRangeDigest u16 first slot, u16 last slot (big-endian), fixed64 root, exchanges;
// kRangeDigestReply u8 equal, and when not equal a varint32 count of fixed64 slot digests, then
// exchanges (a varint32 count of varint64 first, second, start); kKeyDigests u16 slot,
// length-prefixed `after`; kKeyDigestsReply a varint32 count of (length-prefixed key, fixed64
// digest), keys strictly ascending, then u8 more; kStates a varint32 count (at least 1) of
// length-prefixed keys; kStatesReply a varint32 count of (length-prefixed key, length-prefixed
// KeyState::encode()); kStreamStatus varint64 ring epoch; kStreamStatusReply varint64 ring epoch,
// u8 ready. Replies end with a length-prefixed error.
std::string encode_repair_message(const RepairMessage& message) {
  CAIRN_ASSERT(message.error.size() <= kErrorBytesMax);
  std::string out = begin_message_frame(MessageChannel::kRepair, kRepairMessageVersion,
                                        static_cast<uint8_t>(message.type));
  put_varint64(&out, message.request_id);
  switch (message.type) {
    case RepairMessageType::kRangeDigest:
      CAIRN_ASSERT(is_valid_run(message.first_slot, message.last_slot));
      put_u16(&out, message.first_slot);
      put_u16(&out, message.last_slot);
      put_fixed64(&out, message.root);
      put_exchanges(&out, message.exchanges);
      break;
    case RepairMessageType::kRangeDigestReply:
      out.push_back(message.equal ? 1 : 0);
      if (message.equal) {
        CAIRN_ASSERT(message.slot_digests.empty());
      } else {
        CAIRN_ASSERT(message.slot_digests.size() <= kRepairSlotRunMax);
        put_varint32(&out, static_cast<uint32_t>(message.slot_digests.size()));
        for (const uint64_t digest : message.slot_digests) put_fixed64(&out, digest);
      }
      put_exchanges(&out, message.exchanges);
      break;
    case RepairMessageType::kKeyDigests:
      CAIRN_ASSERT(message.first_slot < kSlotCount);
      CAIRN_ASSERT(message.after.size() <= kReplicationKeyBytesMax);
      put_u16(&out, message.first_slot);
      put_length_prefixed(&out, message.after);
      break;
    case RepairMessageType::kKeyDigestsReply:
      CAIRN_ASSERT(message.key_digests.size() <= kRepairKeyDigestsMax);
      CAIRN_ASSERT(keys_ascend(message.key_digests));
      put_varint32(&out, static_cast<uint32_t>(message.key_digests.size()));
      for (const KeyDigest& key_digest : message.key_digests) {
        CAIRN_ASSERT(key_digest.key.size() <= kReplicationKeyBytesMax);
        put_length_prefixed(&out, key_digest.key);
        put_fixed64(&out, key_digest.digest);
      }
      out.push_back(message.more ? 1 : 0);
      break;
    case RepairMessageType::kStates:
      CAIRN_ASSERT(!message.keys.empty() && message.keys.size() <= kRepairStatesMax);
      put_varint32(&out, static_cast<uint32_t>(message.keys.size()));
      for (const std::string& key : message.keys) {
        CAIRN_ASSERT(key.size() <= kReplicationKeyBytesMax);
        put_length_prefixed(&out, key);
      }
      break;
    case RepairMessageType::kStatesReply:
      CAIRN_ASSERT(message.states.size() <= kRepairStatesMax);
      put_varint32(&out, static_cast<uint32_t>(message.states.size()));
      for (const auto& [key, state] : message.states) {
        CAIRN_ASSERT(key.size() <= kReplicationKeyBytesMax);
        put_length_prefixed(&out, key);
        put_length_prefixed(&out, state.encode());
      }
      break;
    case RepairMessageType::kStreamStatus:
      put_varint64(&out, message.ring_epoch);
      break;
    case RepairMessageType::kStreamStatusReply:
      put_varint64(&out, message.ring_epoch);
      out.push_back(message.ready ? 1 : 0);
      break;
  }
  if (is_reply(message.type)) put_length_prefixed(&out, message.error);
  end_message_frame(&out);
  return out;
}

Result<RepairMessage> decode_repair_message(std::string_view bytes) {
  auto corrupt = [](const char* what) {
    return Status::corruption(std::string("repair message: ") + what);
  };
  CAIRN_ASSIGN_OR_RETURN(
      const MessageFrame frame,
      open_message_frame(bytes, MessageChannel::kRepair, kRepairMessageVersion,
                         static_cast<uint8_t>(RepairMessageType::kStreamStatusReply),
                         "repair message"));
  std::string_view body = frame.body;
  RepairMessage message;
  message.type = static_cast<RepairMessageType>(frame.type);
  if (!get_canonical_varint64(&body, &message.request_id)) return corrupt("truncated request id");
  switch (message.type) {
    case RepairMessageType::kRangeDigest:
      CAIRN_RETURN_IF_ERROR(get_range_digest(&body, &message));
      break;
    case RepairMessageType::kRangeDigestReply:
      CAIRN_RETURN_IF_ERROR(get_range_digest_reply(&body, &message));
      break;
    case RepairMessageType::kKeyDigests:
      CAIRN_RETURN_IF_ERROR(get_key_digests(&body, &message));
      break;
    case RepairMessageType::kKeyDigestsReply:
      CAIRN_RETURN_IF_ERROR(get_key_digests_reply(&body, &message));
      break;
    case RepairMessageType::kStates:
      CAIRN_RETURN_IF_ERROR(get_states_request(&body, &message));
      break;
    case RepairMessageType::kStatesReply:
      CAIRN_RETURN_IF_ERROR(get_states_reply(&body, &message));
      break;
    case RepairMessageType::kStreamStatus:
      if (!get_canonical_varint64(&body, &message.ring_epoch)) return corrupt("bad stream status");
      break;
    case RepairMessageType::kStreamStatusReply:
      if (!get_canonical_varint64(&body, &message.ring_epoch) || !get_flag(&body, &message.ready)) {
        return corrupt("bad stream status reply");
      }
      break;
  }
  if (is_reply(message.type) && !get_canonical_bounded(&body, kErrorBytesMax, &message.error)) {
    return corrupt("truncated error");
  }
  if (!body.empty()) return corrupt("trailing bytes");
  return message;
}

}  // namespace cairn
