// KeyState's reads: what a reader whose clock says now_unix_ms sees. A normalized state holds
// entries of one type only, so the type is that of the first live entry found.
#include <algorithm>
#include <cstdlib>

#include "model/key_state.h"

namespace cairn {

bool KeyState::expired(int64_t now_unix_ms) const {
  return expires_at_unix_ms_ != 0 && expires_at_unix_ms_ <= now_unix_ms;
}

bool KeyState::shard_is_current(const CounterShardId& id) const {
  return string_version_ ? id.base == *string_version_ : id.base >= cleared_;
}

bool KeyState::has_current_shard() const {
  return std::any_of(counter_shards_.begin(), counter_shards_.end(),
                     [&](const auto& entry) { return shard_is_current(entry.first); });
}

KeyStateType KeyState::stored_type() const {
  if (string_version_ || has_current_shard()) return KeyStateType::kString;
  if (std::any_of(set_members_.begin(), set_members_.end(),
                  [](const auto& entry) { return !entry.second.dots.empty(); })) {
    return KeyStateType::kSet;
  }
  const auto live = [](const auto& entry) { return entry.second.value.has_value(); };
  if (std::any_of(hash_fields_.begin(), hash_fields_.end(), live)) return KeyStateType::kHash;
  if (std::any_of(sorted_set_members_.begin(), sorted_set_members_.end(), live)) {
    return KeyStateType::kSortedSet;
  }
  if (list_elements_) return KeyStateType::kList;
  return KeyStateType::kNone;
}

KeyStateType KeyState::type(int64_t now_unix_ms) const {
  return expired(now_unix_ms) ? KeyStateType::kNone : stored_type();
}

std::vector<std::string> KeyState::set_members(int64_t now_unix_ms) const {
  std::vector<std::string> members;
  if (expired(now_unix_ms)) return members;
  for (const auto& [member, entry] : set_members_) {
    if (!entry.dots.empty()) members.push_back(member);
  }
  return members;
}

bool KeyState::set_contains(std::string_view member, int64_t now_unix_ms) const {
  if (expired(now_unix_ms)) return false;
  const auto found = set_members_.find(std::string(member));
  return found != set_members_.end() && !found->second.dots.empty();
}

std::vector<std::pair<std::string, std::string>> KeyState::hash_fields(int64_t now_unix_ms) const {
  std::vector<std::pair<std::string, std::string>> fields;
  if (expired(now_unix_ms)) return fields;
  for (const auto& [field, entry] : hash_fields_) {
    if (entry.value) fields.emplace_back(field, *entry.value);
  }
  return fields;
}

std::vector<std::pair<std::string, double>> KeyState::sorted_set_members(
    int64_t now_unix_ms) const {
  std::vector<std::pair<std::string, double>> members;
  if (expired(now_unix_ms)) return members;
  for (const auto& [member, entry] : sorted_set_members_) {
    // The text was written by %.17g (or checked to be so by decode), so strtod restores it.
    if (entry.value) members.emplace_back(member, std::strtod(entry.value->c_str(), nullptr));
  }
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  });
  return members;
}

std::vector<std::string> KeyState::list_elements(int64_t now_unix_ms) const {
  if (expired(now_unix_ms) || !list_elements_) return {};
  return *list_elements_;
}

int64_t KeyState::expires_at_unix_ms() const { return expires_at_unix_ms_; }

WriteVersion KeyState::newest_version() const {
  WriteVersion newest;
  for (const auto& [node, timestamp] : version_vector_) {
    newest = std::max(newest, WriteVersion{timestamp, node});
  }
  return newest;
}

}  // namespace cairn
