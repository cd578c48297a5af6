#include "model/key_image.h"

#include <algorithm>
#include <map>
#include <set>

namespace cairn {

namespace {

// The whole key as `after` holds it, for a key created or changing type.
KeyState whole_key(const KeyImage& after, WriteVersion version) {
  switch (after.type) {
    case KeyStateType::kString:
      return KeyState::string_set(version, after.string_value, after.expires_at_unix_ms);
    case KeyStateType::kHash:
      return KeyState::hash_set(version, after.hash_fields);
    case KeyStateType::kSet:
      return KeyState::set_add(version, after.set_members);
    case KeyStateType::kSortedSet:
      return KeyState::sorted_set_add(version, after.sorted_set_members);
    case KeyStateType::kList:
      return KeyState::list_replace(version, after.list_elements);
    case KeyStateType::kNone:
      break;
  }
  return KeyState::deleted(version);
}

// The changed and the removed entries between two sorted (name, value) lists.
template <typename Value>
void diff_entries(const std::vector<std::pair<std::string, Value>>& before,
                  const std::vector<std::pair<std::string, Value>>& after,
                  std::vector<std::pair<std::string, Value>>* changed,
                  std::vector<std::string>* removed) {
  const std::map<std::string, Value> old(before.begin(), before.end());
  for (const auto& [name, value] : after) {
    const auto it = old.find(name);
    if (it == old.end() || !(it->second == value)) changed->emplace_back(name, value);
  }
  const std::map<std::string, Value> now(after.begin(), after.end());
  for (const auto& [name, value] : before) {
    if (!now.contains(name)) removed->push_back(name);
  }
}

// The delta of a key that keeps its type.
KeyState element_changes(const KeyState& before_state, const KeyImage& before,
                         const KeyImage& after, WriteVersion version) {
  KeyState delta;
  switch (after.type) {
    case KeyStateType::kString:
      // An unchanged value keeps its counter shards: only the expiry changed.
      if (before.string_value == after.string_value) return delta;
      return KeyState::string_set(version, after.string_value, after.expires_at_unix_ms);
    case KeyStateType::kList:
      return KeyState::list_replace(version, after.list_elements);
    case KeyStateType::kHash: {
      std::vector<std::pair<std::string, std::string>> changed;
      std::vector<std::string> removed;
      diff_entries(before.hash_fields, after.hash_fields, &changed, &removed);
      if (!changed.empty()) delta.merge(KeyState::hash_set(version, changed));
      if (!removed.empty()) delta.merge(KeyState::hash_delete(version, removed));
      return delta;
    }
    case KeyStateType::kSortedSet: {
      std::vector<std::pair<std::string, double>> changed;
      std::vector<std::string> removed;
      diff_entries(before.sorted_set_members, after.sorted_set_members, &changed, &removed);
      if (!changed.empty()) delta.merge(KeyState::sorted_set_add(version, changed));
      if (!removed.empty()) delta.merge(KeyState::sorted_set_remove(version, removed));
      return delta;
    }
    case KeyStateType::kSet: {
      std::vector<std::string> added;
      std::vector<std::string> removed;
      std::set_difference(after.set_members.begin(), after.set_members.end(),
                          before.set_members.begin(), before.set_members.end(),
                          std::back_inserter(added));
      std::set_difference(before.set_members.begin(), before.set_members.end(),
                          after.set_members.begin(), after.set_members.end(),
                          std::back_inserter(removed));
      if (!added.empty()) delta.merge(KeyState::set_add(version, added));
      if (!removed.empty()) delta.merge(KeyState::set_remove(version, before_state, removed));
      return delta;
    }
    case KeyStateType::kNone:
      break;
  }
  return delta;
}

}  // namespace

KeyImage image_of(const KeyState& state, int64_t now_unix_ms) {
  KeyImage image;
  image.type = state.type(now_unix_ms);
  switch (image.type) {
    case KeyStateType::kNone:
      return image;
    case KeyStateType::kString:
      image.string_value = *state.string_value(now_unix_ms);
      break;
    case KeyStateType::kHash:
      image.hash_fields = state.hash_fields(now_unix_ms);
      break;
    case KeyStateType::kSet:
      image.set_members = state.set_members(now_unix_ms);
      break;
    case KeyStateType::kSortedSet:
      image.sorted_set_members = state.sorted_set_members(now_unix_ms);
      std::sort(image.sorted_set_members.begin(), image.sorted_set_members.end());
      break;
    case KeyStateType::kList:
      image.list_elements = state.list_elements(now_unix_ms);
      break;
  }
  image.expires_at_unix_ms = state.expires_at_unix_ms();
  return image;
}

std::optional<KeyState> change_delta(const KeyState& before_state, int64_t now_unix_ms,
                                     const KeyImage& after, WriteVersion version) {
  const KeyImage before = image_of(before_state, now_unix_ms);
  if (before == after) return std::nullopt;
  KeyState delta;
  if (after.type == KeyStateType::kNone) {
    delta = KeyState::deleted(version);
  } else if (before.type != after.type) {
    // A fresh key: nothing of what `before` holds (another type, or an expired key) survives.
    delta = KeyState::deleted(version);
    delta.merge(whole_key(after, version));
    delta.merge(KeyState::expiry_set(version, after.expires_at_unix_ms));
  } else {
    delta = element_changes(before_state, before, after, version);
    // A list is written whole, which clears what is older than it, its expiry included: the
    // expiry is written again with it.
    const bool list_written =
        after.type == KeyStateType::kList && before.list_elements != after.list_elements;
    if (list_written || before.expires_at_unix_ms != after.expires_at_unix_ms) {
      delta.merge(KeyState::expiry_set(version, after.expires_at_unix_ms));
    }
  }
  delta.with_context(before_state);
  return delta;
}

}  // namespace cairn
