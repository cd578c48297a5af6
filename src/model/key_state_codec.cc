// KeyState's encoding (docs/cluster-versions.md). The bytes come from peers and from disk, so
// decode() trusts none of them: every count is bounded by the bytes left, every order and flag
// is checked, and a state that normalize() would change is refused. What decodes is exactly
// what encode() produces, so equal states have equal bytes and a decoded state re-encodes to
// the bytes it came from.
#include <cmath>
#include <cstdlib>

#include "common/assert.h"
#include "common/coding.h"
#include "model/key_state.h"

namespace cairn {

namespace {

constexpr uint8_t kFormat = 1;

// The body tag is the KeyStateType of the entries the state holds (kNone: none).
static_assert(static_cast<uint8_t>(KeyStateType::kNone) == 0);
static_assert(static_cast<uint8_t>(KeyStateType::kString) == 1);
static_assert(static_cast<uint8_t>(KeyStateType::kSet) == 2);
static_assert(static_cast<uint8_t>(KeyStateType::kHash) == 3);
static_assert(static_cast<uint8_t>(KeyStateType::kSortedSet) == 4);
static_assert(static_cast<uint8_t>(KeyStateType::kList) == 5);

Status corrupt(std::string_view what) {
  return Status::corruption(std::string("key state: ") + std::string(what));
}

void put_version(std::string* out, WriteVersion version) {
  put_varint64(out, version.timestamp.value);
  put_varint64(out, version.node.value);
}

void put_count(std::string* out, size_t count) {
  CAIRN_ASSERT(count <= UINT32_MAX);
  put_varint32(out, static_cast<uint32_t>(count));
}

void put_string(std::string* out, std::string_view value) {
  put_count(out, value.size());
  out->append(value);
}

void put_versions(std::string* out, const std::vector<WriteVersion>& versions) {
  put_count(out, versions.size());
  for (const WriteVersion& version : versions) put_version(out, version);
}

[[nodiscard]] bool get_byte(std::string_view* in, uint8_t* value) {
  if (in->empty()) return false;
  *value = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}

[[nodiscard]] bool get_flag(std::string_view* in, bool* value) {
  uint8_t byte = 0;
  if (!get_byte(in, &byte) || byte > 1) return false;
  *value = byte == 1;
  return true;
}

// A varint in its shortest form only (put_varint64 writes no other), so that one state has one
// encoding.
[[nodiscard]] bool get_varint(std::string_view* in, uint64_t* value) {
  const size_t size_before = in->size();
  return get_varint64(in, value) &&
         size_before - in->size() == static_cast<size_t>(varint_length(*value));
}

[[nodiscard]] bool get_version(std::string_view* in, WriteVersion* version) {
  return get_varint(in, &version->timestamp.value) && get_varint(in, &version->node.value);
}

// A count of items that take at least one byte each: never more than the bytes left, so a
// corrupt count cannot make the decoder loop or allocate beyond the input's size.
[[nodiscard]] bool get_count(std::string_view* in, uint32_t* count) {
  uint64_t value = 0;
  if (!get_varint(in, &value) || value > in->size()) return false;
  *count = static_cast<uint32_t>(value);
  return true;
}

// A varint length, then that many bytes.
[[nodiscard]] bool get_string(std::string_view* in, std::string* value) {
  uint64_t length = 0;
  if (!get_varint(in, &length) || length > in->size()) return false;
  value->assign(in->substr(0, length));
  in->remove_prefix(length);
  return true;
}

// Strictly ascending versions.
[[nodiscard]] bool get_versions(std::string_view* in, std::vector<WriteVersion>* versions) {
  uint32_t count = 0;
  if (!get_count(in, &count)) return false;
  versions->reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    WriteVersion version;
    if (!get_version(in, &version)) return false;
    if (!versions->empty() && !(versions->back() < version)) return false;
    versions->push_back(version);
  }
  return true;
}

bool disjoint(const std::vector<WriteVersion>& a, const std::vector<WriteVersion>& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return false;
    if (a[i] < b[j]) {
      i++;
    } else {
      j++;
    }
  }
  return true;
}

}  // namespace

// Friend of KeyState: reads and fills its private members.
struct KeyStateCodec {
  static KeyStateType body_type(const KeyState& state);
  static void encode(const KeyState& state, std::string* out);
  static void encode_string(const KeyState& state, std::string* out);
  static void encode_set(const KeyState& state, std::string* out);
  static void encode_versioned(const std::map<std::string, KeyState::Versioned>& entries,
                               std::string* out);

  static Status decode(std::string_view in, KeyState* state);
  static Status decode_version_vector(std::string_view* in, KeyState* state);
  static Status decode_body(KeyStateType type, std::string_view* in, KeyState* state);
  static Status decode_string(std::string_view* in, KeyState* state);
  static Status decode_set(std::string_view* in, KeyState* state);
  static Status decode_versioned(std::string_view* in, bool scores,
                                 std::map<std::string, KeyState::Versioned>* entries);
  static Status decode_list(std::string_view* in, KeyState* state);
  static bool canonical_score(const std::string& text);
};

// ---- Encoding.

KeyStateType KeyStateCodec::body_type(const KeyState& state) {
  const bool string = state.string_version_ || !state.counter_shards_.empty();
  const int groups = int{string} + int{!state.set_members_.empty()} +
                     int{!state.hash_fields_.empty()} + int{!state.sorted_set_members_.empty()} +
                     int{state.list_elements_.has_value()};
  CAIRN_ASSERT(groups <= 1);  // normalize() keeps the entries of one type
  if (string) return KeyStateType::kString;
  if (!state.set_members_.empty()) return KeyStateType::kSet;
  if (!state.hash_fields_.empty()) return KeyStateType::kHash;
  if (!state.sorted_set_members_.empty()) return KeyStateType::kSortedSet;
  if (state.list_elements_) return KeyStateType::kList;
  return KeyStateType::kNone;
}

void KeyStateCodec::encode(const KeyState& state, std::string* out) {
  out->push_back(static_cast<char>(kFormat));
  put_count(out, state.version_vector_.size());
  for (const auto& [node, timestamp] : state.version_vector_) {
    put_varint64(out, node.value);
    put_varint64(out, timestamp.value);
  }
  put_version(out, state.cleared_);
  put_version(out, state.expiry_version_);
  put_varint64(out, static_cast<uint64_t>(state.expires_at_unix_ms_));
  const KeyStateType type = body_type(state);
  out->push_back(static_cast<char>(type));
  switch (type) {
    case KeyStateType::kNone:
      break;
    case KeyStateType::kString:
      encode_string(state, out);
      break;
    case KeyStateType::kSet:
      encode_set(state, out);
      break;
    case KeyStateType::kHash:
      encode_versioned(state.hash_fields_, out);
      break;
    case KeyStateType::kSortedSet:
      encode_versioned(state.sorted_set_members_, out);
      break;
    case KeyStateType::kList:
      put_count(out, state.list_elements_->size());
      for (const std::string& element : *state.list_elements_) put_string(out, element);
      break;
  }
}

void KeyStateCodec::encode_string(const KeyState& state, std::string* out) {
  out->push_back(state.string_version_ ? 1 : 0);
  if (state.string_version_) {
    put_version(out, *state.string_version_);
    put_string(out, state.string_value_);
  }
  put_count(out, state.counter_shards_.size());
  for (const auto& [id, shard] : state.counter_shards_) {
    put_varint64(out, id.leader.value);
    put_varint64(out, id.incarnation);
    put_version(out, id.base);
    put_version(out, shard.version);
    put_varint64(out, shard.increments);
    put_varint64(out, shard.decrements);
  }
}

void KeyStateCodec::encode_set(const KeyState& state, std::string* out) {
  put_count(out, state.set_members_.size());
  for (const auto& [member, entry] : state.set_members_) {
    put_string(out, member);
    put_versions(out, entry.dots);
    put_versions(out, entry.removed);
  }
}

void KeyStateCodec::encode_versioned(const std::map<std::string, KeyState::Versioned>& entries,
                                     std::string* out) {
  put_count(out, entries.size());
  for (const auto& [key, entry] : entries) {
    put_string(out, key);
    put_version(out, entry.version);
    out->push_back(entry.value ? 1 : 0);
    if (entry.value) put_string(out, *entry.value);
  }
}

std::string KeyState::encode() const {
  std::string out;
  KeyStateCodec::encode(*this, &out);
  return out;
}

// ---- Decoding.

Result<KeyState> KeyState::decode(std::string_view bytes) {
  KeyState state;
  CAIRN_RETURN_IF_ERROR(KeyStateCodec::decode(bytes, &state));
  return state;
}

Status KeyStateCodec::decode(std::string_view in, KeyState* state) {
  uint8_t format = 0;
  if (!get_byte(&in, &format)) return corrupt("empty");
  if (format != kFormat) return corrupt("unknown format " + std::to_string(format));
  CAIRN_RETURN_IF_ERROR(decode_version_vector(&in, state));
  uint64_t expires_at = 0;
  uint8_t type = 0;
  if (!get_version(&in, &state->cleared_) || !get_version(&in, &state->expiry_version_) ||
      !get_varint(&in, &expires_at) || !get_byte(&in, &type)) {
    return corrupt("truncated header");
  }
  state->expires_at_unix_ms_ = static_cast<int64_t>(expires_at);
  if (type > static_cast<uint8_t>(KeyStateType::kList)) return corrupt("unknown body type");
  CAIRN_RETURN_IF_ERROR(decode_body(static_cast<KeyStateType>(type), &in, state));
  if (!in.empty()) return corrupt("trailing bytes");
  KeyState normalized = *state;
  normalized.normalize();
  // Except version vector entries older than the clear: a delta's causal context carries them,
  // and so do states stored before merge dropped them.
  normalized.version_vector_ = state->version_vector_;
  if (!(normalized == *state)) return corrupt("entries that merge would drop");
  return Status::ok();
}

Status KeyStateCodec::decode_version_vector(std::string_view* in, KeyState* state) {
  uint32_t count = 0;
  if (!get_count(in, &count)) return corrupt("bad version vector count");
  for (uint32_t i = 0; i < count; i++) {
    NodeId node;
    HlcTimestamp timestamp;
    if (!get_varint(in, &node.value) || !get_varint(in, &timestamp.value)) {
      return corrupt("truncated version vector");
    }
    auto& vector = state->version_vector_;
    if (!vector.empty() && !(vector.rbegin()->first < node)) {
      return corrupt("version vector not ascending");
    }
    vector.emplace_hint(vector.end(), node, timestamp);
  }
  return Status::ok();
}

Status KeyStateCodec::decode_body(KeyStateType type, std::string_view* in, KeyState* state) {
  switch (type) {
    case KeyStateType::kNone:
      return Status::ok();
    case KeyStateType::kString:
      return decode_string(in, state);
    case KeyStateType::kSet:
      return decode_set(in, state);
    case KeyStateType::kHash:
      return decode_versioned(in, false, &state->hash_fields_);
    case KeyStateType::kSortedSet:
      return decode_versioned(in, true, &state->sorted_set_members_);
    case KeyStateType::kList:
      return decode_list(in, state);
  }
  return corrupt("unknown body type");
}

Status KeyStateCodec::decode_string(std::string_view* in, KeyState* state) {
  bool has_value = false;
  if (!get_flag(in, &has_value)) return corrupt("bad string flag");
  if (has_value) {
    WriteVersion version;
    if (!get_version(in, &version) || !get_string(in, &state->string_value_)) {
      return corrupt("truncated string");
    }
    state->string_version_ = version;
  }
  uint32_t count = 0;
  if (!get_count(in, &count)) return corrupt("bad shard count");
  if (!has_value && count == 0) return corrupt("empty string body");
  auto& shards = state->counter_shards_;
  for (uint32_t i = 0; i < count; i++) {
    CounterShardId id;
    CounterShard shard;
    if (!get_varint(in, &id.leader.value) || !get_varint(in, &id.incarnation) ||
        !get_version(in, &id.base) || !get_version(in, &shard.version) ||
        !get_varint(in, &shard.increments) || !get_varint(in, &shard.decrements)) {
      return corrupt("truncated counter shard");
    }
    if (!shards.empty() && !(shards.rbegin()->first < id)) return corrupt("shards not ascending");
    shards.emplace_hint(shards.end(), id, shard);
  }
  return Status::ok();
}

Status KeyStateCodec::decode_set(std::string_view* in, KeyState* state) {
  uint32_t count = 0;
  if (!get_count(in, &count) || count == 0) return corrupt("bad set member count");
  auto& members = state->set_members_;
  for (uint32_t i = 0; i < count; i++) {
    std::string member;
    KeyState::SetMember entry;
    if (!get_string(in, &member) || !get_versions(in, &entry.dots) ||
        !get_versions(in, &entry.removed)) {
      return corrupt("bad set member");
    }
    if (!members.empty() && !(members.rbegin()->first < member)) {
      return corrupt("set members not ascending");
    }
    if (entry.dots.empty() && entry.removed.empty()) return corrupt("set member without dots");
    if (!disjoint(entry.dots, entry.removed))
      return corrupt("set member dot both live and removed");
    members.emplace_hint(members.end(), std::move(member), std::move(entry));
  }
  return Status::ok();
}

Status KeyStateCodec::decode_versioned(std::string_view* in, bool scores,
                                       std::map<std::string, KeyState::Versioned>* entries) {
  uint32_t count = 0;
  if (!get_count(in, &count) || count == 0) return corrupt("bad entry count");
  for (uint32_t i = 0; i < count; i++) {
    std::string key;
    KeyState::Versioned entry;
    bool present = false;
    if (!get_string(in, &key) || !get_version(in, &entry.version) || !get_flag(in, &present)) {
      return corrupt("bad entry");
    }
    if (present) {
      std::string value;
      if (!get_string(in, &value)) return corrupt("truncated entry value");
      if (scores && !canonical_score(value)) return corrupt("bad score");
      entry.value = std::move(value);
    }
    if (!entries->empty() && !(entries->rbegin()->first < key)) {
      return corrupt("entries not ascending");
    }
    entries->emplace_hint(entries->end(), std::move(key), std::move(entry));
  }
  return Status::ok();
}

Status KeyStateCodec::decode_list(std::string_view* in, KeyState* state) {
  uint32_t count = 0;
  if (!get_count(in, &count) || count == 0) return corrupt("bad list length");
  std::vector<std::string> elements(count);
  for (std::string& element : elements) {
    if (!get_string(in, &element)) return corrupt("truncated list element");
  }
  state->list_elements_ = std::move(elements);
  return Status::ok();
}

// The %.17g text of a double other than NaN, as sorted_set_add writes it.
bool KeyStateCodec::canonical_score(const std::string& text) {
  char* end = nullptr;
  const double score = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && !std::isnan(score) &&
         KeyState::score_text(score) == text;
}

}  // namespace cairn
