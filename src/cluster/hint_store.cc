#include "cluster/hint_store.h"

#include <algorithm>

#include "common/coding.h"

namespace cairn {

namespace {

constexpr std::string_view kHintPrefix = "\xFFH";
constexpr size_t kHintKeyBytes = 2 + 8 + 8;

std::string target_prefix(NodeId target) {
  std::string key(kHintPrefix);
  put_big_endian64(&key, target.value);
  return key;
}

std::string hint_key(NodeId target, uint64_t sequence) {
  std::string key = target_prefix(target);
  put_big_endian64(&key, sequence);
  return key;
}

Result<Hint> decode_hint(std::string_view engine_key, std::string_view value) {
  Hint hint;
  hint.target = NodeId{decode_big_endian64(engine_key.data() + 2)};
  hint.sequence = decode_big_endian64(engine_key.data() + 10);
  uint64_t created = 0;
  std::string_view key;
  std::string_view state;
  if (!get_varint64(&value, &created) || !get_length_prefixed(&value, &key) ||
      !get_length_prefixed(&value, &state) || !value.empty()) {
    return Status::corruption("hint store: malformed hint");
  }
  hint.created_unix_ms = static_cast<int64_t>(created);
  hint.key = std::string(key);
  Result<KeyState> decoded = KeyState::decode(state);
  if (!decoded.is_ok()) return decoded.status().with_context("hint store");
  hint.state = std::move(decoded).value();
  return hint;
}

bool is_hint_key(std::string_view engine_key) {
  return engine_key.size() == kHintKeyBytes && engine_key.starts_with(kHintPrefix);
}

}  // namespace

Result<std::unique_ptr<HintStore>> HintStore::open(Database* database, HintLimits limits) {
  std::unique_ptr<HintStore> store(new HintStore(database, limits));
  std::unique_ptr<Iterator> it = database->new_iterator(ReadOptions{});
  for (it->seek(kHintPrefix); it->valid() && it->key().starts_with(kHintPrefix); it->next()) {
    if (!is_hint_key(it->key())) return Status::corruption("hint store: malformed hint key");
    const NodeId target{decode_big_endian64(it->key().data() + 2)};
    store->counts_[target]++;
    store->next_sequence_ =
        std::max(store->next_sequence_, decode_big_endian64(it->key().data() + 10) + 1);
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return store;
}

Status HintStore::add(NodeId target, std::string_view key, const KeyState& state,
                      int64_t now_unix_ms) {
  size_t& count = counts_[target];
  if (count >= limits_.hints_per_target_max) {
    stats_.dropped_full++;
    return Status::ok();
  }
  std::string value;
  put_varint64(&value, static_cast<uint64_t>(std::max<int64_t>(now_unix_ms, 0)));
  put_length_prefixed(&value, key);
  put_length_prefixed(&value, state.encode());
  CAIRN_RETURN_IF_ERROR(database_->put(hint_key(target, next_sequence_), value));
  next_sequence_++;
  count++;
  stats_.stored++;
  return Status::ok();
}

Result<std::vector<Hint>> HintStore::oldest(NodeId target, size_t limit, int64_t now_unix_ms) {
  std::vector<Hint> hints;
  std::vector<uint64_t> expired;
  const std::string prefix = target_prefix(target);
  {
    std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
    for (it->seek(prefix); it->valid() && it->key().starts_with(prefix) && hints.size() < limit;
         it->next()) {
      if (!is_hint_key(it->key())) return Status::corruption("hint store: malformed hint key");
      CAIRN_ASSIGN_OR_RETURN(Hint hint, decode_hint(it->key(), it->value()));
      if (now_unix_ms - hint.created_unix_ms > limits_.window_ms) {
        expired.push_back(hint.sequence);
      } else {
        hints.push_back(std::move(hint));
      }
    }
    CAIRN_RETURN_IF_ERROR(it->status());
  }
  for (const uint64_t sequence : expired) {
    CAIRN_RETURN_IF_ERROR(remove(target, sequence));
    stats_.dropped_expired++;
  }
  return hints;
}

Status HintStore::remove_delivered(NodeId target, uint64_t sequence) {
  const Result<std::optional<std::string>> present =
      database_->get(ReadOptions{}, hint_key(target, sequence));
  if (!present.is_ok()) return present.status();
  if (!present->has_value()) return Status::ok();
  CAIRN_RETURN_IF_ERROR(remove(target, sequence));
  stats_.delivered++;
  return Status::ok();
}

Status HintStore::drop_older_than(WriteVersion version) {
  std::vector<std::pair<NodeId, uint64_t>> flushed;
  {
    std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
    for (it->seek(kHintPrefix); it->valid() && it->key().starts_with(kHintPrefix); it->next()) {
      if (!is_hint_key(it->key())) return Status::corruption("hint store: malformed hint key");
      CAIRN_ASSIGN_OR_RETURN(const Hint hint, decode_hint(it->key(), it->value()));
      if (hint.state.newest_version() < version) flushed.emplace_back(hint.target, hint.sequence);
    }
    CAIRN_RETURN_IF_ERROR(it->status());
  }
  for (const auto& [target, sequence] : flushed) {
    CAIRN_RETURN_IF_ERROR(remove(target, sequence));
    stats_.dropped_flushed++;
  }
  return Status::ok();
}

Status HintStore::remove(NodeId target, uint64_t sequence) {
  CAIRN_RETURN_IF_ERROR(database_->remove(hint_key(target, sequence)));
  auto it = counts_.find(target);
  if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  return Status::ok();
}

std::vector<NodeId> HintStore::targets() const {
  std::vector<NodeId> targets;
  for (const auto& [target, count] : counts_) {
    if (count > 0) targets.push_back(target);
  }
  return targets;
}

size_t HintStore::count(NodeId target) const {
  const auto it = counts_.find(target);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace cairn
