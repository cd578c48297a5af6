#include "cluster/membership_message.h"

#include "common/assert.h"
#include "common/coding.h"
#include "io/network.h"

namespace cairn {

namespace {

bool carries_seq(MembershipMessageType type) {
  return type == MembershipMessageType::kPing || type == MembershipMessageType::kAck ||
         type == MembershipMessageType::kPingReq || type == MembershipMessageType::kNack;
}

bool carries_target(MembershipMessageType type) {
  return type == MembershipMessageType::kPing || type == MembershipMessageType::kPingReq;
}

bool carries_accuser(MemberState state) { return state != MemberState::kAlive; }

bool known_type(uint8_t type) {
  return type >= static_cast<uint8_t>(MembershipMessageType::kPing) &&
         type <= static_cast<uint8_t>(MembershipMessageType::kRing);
}

bool known_state(uint8_t state) {
  return state >= static_cast<uint8_t>(MemberState::kAlive) &&
         state <= static_cast<uint8_t>(MemberState::kDead);
}

void put_update(std::string* out, const MemberUpdate& update) {
  CAIRN_ASSERT(update.rack.size() <= kRackNameBytesMax);
  CAIRN_ASSERT(update.address.size() <= kAddressBytesMax);
  CAIRN_ASSERT(carries_accuser(update.state) || update.accuser == update.node);
  out->push_back(static_cast<char>(update.state));
  put_fixed64(out, update.node.value);
  put_varint64(out, update.incarnation);
  if (carries_accuser(update.state)) put_fixed64(out, update.accuser.value);
  put_length_prefixed(out, update.rack);
  put_length_prefixed(out, update.address);
}

Status corrupt(const char* what) {
  return Status::corruption(std::string("membership message: ") + what);
}

// A length-prefixed string of at most `max` bytes.
bool get_bounded(std::string_view* input, size_t max, std::string* value) {
  std::string_view bytes;
  if (!get_length_prefixed(input, &bytes) || bytes.size() > max) return false;
  value->assign(bytes);
  return true;
}

Status get_update(std::string_view* input, MemberUpdate* update) {
  if (input->empty()) return corrupt("truncated update");
  const auto state = static_cast<uint8_t>(input->front());
  input->remove_prefix(1);
  if (!known_state(state)) return corrupt("unknown member state");
  update->state = static_cast<MemberState>(state);
  if (!get_fixed64(input, &update->node.value) || !get_varint64(input, &update->incarnation)) {
    return corrupt("truncated update");
  }
  if (carries_accuser(update->state)) {
    if (!get_fixed64(input, &update->accuser.value)) return corrupt("truncated update");
  } else {
    update->accuser = update->node;
  }
  if (!get_bounded(input, kRackNameBytesMax, &update->rack)) return corrupt("bad rack");
  if (!get_bounded(input, kAddressBytesMax, &update->address)) return corrupt("bad address");
  return Status::ok();
}

Status get_updates(std::string_view* input, size_t max, std::vector<MemberUpdate>* updates) {
  uint32_t count = 0;
  if (!get_varint32(input, &count)) return corrupt("truncated update count");
  if (count > max) return corrupt("too many updates");
  updates->resize(count);
  for (MemberUpdate& update : *updates) CAIRN_RETURN_IF_ERROR(get_update(input, &update));
  return Status::ok();
}

// Decodes what follows the header, by type.
Status get_body(std::string_view* input, MembershipMessage* message) {
  if (carries_seq(message->type) && !get_varint64(input, &message->seq)) {
    return corrupt("truncated seq");
  }
  if (carries_target(message->type) && !get_fixed64(input, &message->target.value)) {
    return corrupt("truncated target");
  }
  if (message->type == MembershipMessageType::kSync) {
    if (input->empty()) return corrupt("truncated sync flags");
    message->sync_flags = static_cast<uint8_t>(input->front());
    input->remove_prefix(1);
    if ((message->sync_flags & ~kSyncFlagsKnown) != 0) return corrupt("unknown sync flags");
  }
  if (message->type == MembershipMessageType::kRing) {
    if (!get_bounded(input, kRingTransferBytesMax, &message->ring_bytes)) {
      return corrupt("bad ring bytes");
    }
  }
  const size_t max = updates_max(message->type);
  if (max > 0) CAIRN_RETURN_IF_ERROR(get_updates(input, max, &message->updates));
  return Status::ok();
}

}  // namespace

const char* to_string(MemberState state) {
  switch (state) {
    case MemberState::kAlive:
      return "alive";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDead:
      return "dead";
  }
  return "unknown";
}

size_t encoded_size(const MemberUpdate& update) {
  return 1 + 8 + static_cast<size_t>(varint_length(update.incarnation)) +
         (carries_accuser(update.state) ? 8 : 0) +
         static_cast<size_t>(varint_length(update.rack.size())) + update.rack.size() +
         static_cast<size_t>(varint_length(update.address.size())) + update.address.size();
}

size_t updates_max(MembershipMessageType type) {
  switch (type) {
    case MembershipMessageType::kPing:
    case MembershipMessageType::kAck:
    case MembershipMessageType::kPingReq:
      return kPiggybackUpdatesMax;
    case MembershipMessageType::kSync:
      return kMemberCountMax;
    case MembershipMessageType::kNack:
    case MembershipMessageType::kRing:
      return 0;
  }
  return 0;
}

std::string encode_membership_message(const MembershipMessage& message) {
  CAIRN_ASSERT(message.updates.size() <= updates_max(message.type));
  CAIRN_ASSERT(message.ring_bytes.size() <= kRingTransferBytesMax);
  CAIRN_ASSERT((message.sync_flags & ~kSyncFlagsKnown) == 0);
  std::string out;
  out.push_back(static_cast<char>(MessageChannel::kMembership));
  out.push_back(static_cast<char>(kMembershipMessageVersion));
  out.push_back(static_cast<char>(message.type));
  put_varint64(&out, message.ring.epoch);
  put_fixed64(&out, message.ring.digest);
  if (carries_seq(message.type)) put_varint64(&out, message.seq);
  if (carries_target(message.type)) put_fixed64(&out, message.target.value);
  if (message.type == MembershipMessageType::kSync)
    out.push_back(static_cast<char>(message.sync_flags));
  if (message.type == MembershipMessageType::kRing) put_length_prefixed(&out, message.ring_bytes);
  if (updates_max(message.type) > 0) {
    put_varint32(&out, static_cast<uint32_t>(message.updates.size()));
    for (const MemberUpdate& update : message.updates) put_update(&out, update);
  }
  CAIRN_ASSERT(out.size() <= kMembershipMessageBytesMax);
  return out;
}

Result<MembershipMessage> decode_membership_message(std::string_view bytes) {
  if (bytes.size() > kMembershipMessageBytesMax) return corrupt("too long");
  if (bytes.size() < 3) return corrupt("truncated header");
  if (static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(MessageChannel::kMembership)) {
    return corrupt("not the membership channel");
  }
  if (static_cast<uint8_t>(bytes[1]) != kMembershipMessageVersion)
    return corrupt("unknown version");
  if (!known_type(static_cast<uint8_t>(bytes[2]))) return corrupt("unknown type");
  MembershipMessage message;
  message.type = static_cast<MembershipMessageType>(bytes[2]);
  std::string_view input = bytes.substr(3);
  if (!get_varint64(&input, &message.ring.epoch) || !get_fixed64(&input, &message.ring.digest)) {
    return corrupt("truncated ring header");
  }
  CAIRN_RETURN_IF_ERROR(get_body(&input, &message));
  if (!input.empty()) return corrupt("trailing bytes");
  return message;
}

}  // namespace cairn
