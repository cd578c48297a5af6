// The deltas, merge, normalize and purge of KeyState. Reads are in key_state_reads.cc, the
// counter and string reads in key_state_string.cc, the encoding in key_state_codec.cc.
//
// Why merge converges: every entry (a string, a counter shard, a dot, a field, a member, a list)
// carries the version of the write that made it, and normalize() only ever drops an entry for a
// reason that stays true after any later merge: its version is older than `cleared` (which only
// rises), or a newer entry of another type is present (which only `cleared` removes, after
// raising itself past the dropped entry). A counter shard joins by maximum, which is safe
// because a leader only adds to a shard it holds: a later copy of a shard covers every earlier
// one. So the state is a function of the union of the entries merged, whatever the order. Which
// shards count toward a counter is decided at read time from the same state, never by dropping.
#include "model/key_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "common/assert.h"

namespace cairn {

namespace {

constexpr size_t type_index(KeyStateType type) { return static_cast<size_t>(type); }

// Ascending unique union of two ascending unique vectors.
std::vector<WriteVersion> sorted_union(const std::vector<WriteVersion>& a,
                                       const std::vector<WriteVersion>& b) {
  std::vector<WriteVersion> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<WriteVersion> sorted_difference(const std::vector<WriteVersion>& a,
                                            const std::vector<WriteVersion>& b) {
  std::vector<WriteVersion> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

void erase_older(std::vector<WriteVersion>* versions, WriteVersion floor) {
  std::erase_if(*versions, [&](const WriteVersion& version) { return version < floor; });
}

// Whether `a` has, for every node, at least the timestamp `b` has (a missing node counts as 0).
bool covers(const std::map<NodeId, HlcTimestamp>& a, const std::map<NodeId, HlcTimestamp>& b) {
  for (const auto& [node, timestamp] : b) {
    const auto found = a.find(node);
    const HlcTimestamp mine = found == a.end() ? HlcTimestamp{} : found->second;
    if (mine < timestamp) return false;
  }
  return true;
}

void keep_newest(std::optional<WriteVersion>* newest, WriteVersion version) {
  if (!newest->has_value() || **newest < version) *newest = version;
}

}  // namespace

std::string KeyState::score_text(double score) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", score);
  return text;
}

// ---- Deltas.

KeyState KeyState::string_set(WriteVersion version, std::string value, int64_t expires_at_unix_ms) {
  KeyState delta;
  delta.cleared_ = version;
  delta.string_version_ = version;
  delta.string_value_ = std::move(value);
  // SET without an expiry removes an older one too: the expiry is set at the SET's version.
  delta.expiry_version_ = version;
  delta.expires_at_unix_ms_ = expires_at_unix_ms;
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::deleted(WriteVersion version) {
  KeyState delta;
  delta.cleared_ = version;
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::set_add(WriteVersion version, const std::vector<std::string>& members) {
  KeyState delta;
  for (const std::string& member : members) delta.set_members_[member].dots = {version};
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::set_remove(WriteVersion version, const KeyState& observed,
                              const std::vector<std::string>& members) {
  KeyState delta;
  for (const std::string& member : members) {
    const auto found = observed.set_members_.find(member);
    if (found == observed.set_members_.end() || found->second.dots.empty()) continue;
    delta.set_members_[member].removed = found->second.dots;
  }
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::hash_set(WriteVersion version,
                            const std::vector<std::pair<std::string, std::string>>& fields) {
  KeyState delta;
  for (const auto& [field, value] : fields) delta.hash_fields_[field] = Versioned{version, value};
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::hash_delete(WriteVersion version, const std::vector<std::string>& fields) {
  KeyState delta;
  for (const std::string& field : fields) {
    delta.hash_fields_[field] = Versioned{version, std::nullopt};
  }
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::sorted_set_add(WriteVersion version,
                                  const std::vector<std::pair<std::string, double>>& members) {
  KeyState delta;
  for (const auto& [member, score] : members) {
    CAIRN_ASSERT(!std::isnan(score));  // the command layer refuses NaN, as Redis does
    delta.sorted_set_members_[member] = Versioned{version, score_text(score)};
  }
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::sorted_set_remove(WriteVersion version,
                                     const std::vector<std::string>& members) {
  KeyState delta;
  for (const std::string& member : members) {
    delta.sorted_set_members_[member] = Versioned{version, std::nullopt};
  }
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState KeyState::list_replace(WriteVersion version, std::vector<std::string> elements) {
  KeyState delta = deleted(version);
  if (!elements.empty()) delta.list_elements_ = std::move(elements);
  return delta;
}

KeyState KeyState::expiry_set(WriteVersion version, int64_t expires_at_unix_ms) {
  KeyState delta;
  delta.expiry_version_ = version;
  delta.expires_at_unix_ms_ = expires_at_unix_ms;
  delta.version_vector_[version.node] = version.timestamp;
  return delta;
}

KeyState& KeyState::with_context(const KeyState& read) {
  for (const auto& [node, timestamp] : read.version_vector_) {
    HlcTimestamp& mine = version_vector_[node];
    mine = std::max(mine, timestamp);
  }
  return *this;
}

// ---- Merge.

MergeResult KeyState::merge(const KeyState& other) {
  if (&other == this) return MergeResult{};
  MergeResult result;
  result.concurrent = !version_vector_.empty() && !other.version_vector_.empty() &&
                      !covers(version_vector_, other.version_vector_) &&
                      !covers(other.version_vector_, version_vector_);
  const KeyState before = *this;
  join(other);
  normalize();
  result.changed = !(*this == before);
  return result;
}

bool KeyState::replaces_older_states() const {
  return cleared_ != WriteVersion{} && cleared_ == newest_version();
}

// Ties between equal versions (one write, so equal values, unless a peer is wrong) are broken by
// value, so that even then the join stays commutative.
void KeyState::join(const KeyState& other) {
  join_list(other);  // before cleared_ rises: a list's version is its state's cleared_
  cleared_ = std::max(cleared_, other.cleared_);
  if (other.string_version_ &&
      (!string_version_ || std::tie(*other.string_version_, other.string_value_) >
                               std::tie(*string_version_, string_value_))) {
    string_version_ = other.string_version_;
    string_value_ = other.string_value_;
  }
  for (const auto& [id, theirs] : other.counter_shards_) {
    CounterShard& mine = counter_shards_[id];
    mine.increments = std::max(mine.increments, theirs.increments);
    mine.decrements = std::max(mine.decrements, theirs.decrements);
    mine.version = std::max(mine.version, theirs.version);
  }
  join_set_members(other);
  const auto join_versioned = [](std::map<std::string, Versioned>* mine,
                                 const std::map<std::string, Versioned>& theirs) {
    for (const auto& [key, entry] : theirs) {
      const auto [found, inserted] = mine->try_emplace(key, entry);
      if (!inserted && std::tie(entry.version, entry.value) >
                           std::tie(found->second.version, found->second.value)) {
        found->second = entry;
      }
    }
  };
  join_versioned(&hash_fields_, other.hash_fields_);
  join_versioned(&sorted_set_members_, other.sorted_set_members_);
  if (std::tie(other.expiry_version_, other.expires_at_unix_ms_) >
      std::tie(expiry_version_, expires_at_unix_ms_)) {
    expiry_version_ = other.expiry_version_;
    expires_at_unix_ms_ = other.expires_at_unix_ms_;
  }
  with_context(other);
}

// The list of the newest whole-key write survives; one older than the other side's cleared_ was
// replaced by it.
void KeyState::join_list(const KeyState& other) {
  if (other.cleared_ > cleared_) {
    list_elements_ = other.list_elements_;
  } else if (other.cleared_ == cleared_ && other.list_elements_ &&
             (!list_elements_ || *other.list_elements_ > *list_elements_)) {
    list_elements_ = other.list_elements_;
  }
}

// Dots and removals both union; a dot is live while no removal names it.
void KeyState::join_set_members(const KeyState& other) {
  for (const auto& [member, theirs] : other.set_members_) {
    const auto [found, inserted] = set_members_.try_emplace(member, theirs);
    if (inserted) continue;
    SetMember& mine = found->second;
    mine.removed = sorted_union(mine.removed, theirs.removed);
    mine.dots = sorted_difference(sorted_union(mine.dots, theirs.dots), mine.removed);
  }
}

void KeyState::normalize() {
  drop_older_than_cleared();
  const NewestByType newest = newest_by_type();
  size_t winner = 0;
  for (size_t type = 1; type < newest.size(); type++) {
    // On a tie (only from a wrong peer) the later type wins, to stay deterministic.
    if (newest[type] && (!newest[winner] || *newest[winner] <= *newest[type])) winner = type;
  }
  if (!newest[winner]) return;
  std::optional<WriteVersion> newest_dropped;
  for (size_t type = 1; type < newest.size(); type++) {
    if (type != winner && newest[type]) keep_newest(&newest_dropped, *newest[type]);
  }
  if (!newest_dropped) return;
  // cleared_ rises to the newest dropped entry, so that the same entry merged again later, or
  // an older one of its type from a third state, is dropped too.
  cleared_ = std::max(cleared_, *newest_dropped);
  keep_only(static_cast<KeyStateType>(winner));
  drop_older_than_cleared();
}

KeyState::NewestByType KeyState::newest_by_type() const {
  NewestByType newest;
  auto& string = newest[type_index(KeyStateType::kString)];
  if (string_version_) keep_newest(&string, *string_version_);
  for (const auto& [id, shard] : counter_shards_) keep_newest(&string, shard.version);
  auto& set = newest[type_index(KeyStateType::kSet)];
  for (const auto& [member, entry] : set_members_) {
    // Removed dots count: they are set writes, and a type they lost to must stay lost.
    if (!entry.dots.empty()) keep_newest(&set, entry.dots.back());
    if (!entry.removed.empty()) keep_newest(&set, entry.removed.back());
  }
  auto& hash = newest[type_index(KeyStateType::kHash)];
  for (const auto& [field, entry] : hash_fields_) keep_newest(&hash, entry.version);
  auto& sorted_set = newest[type_index(KeyStateType::kSortedSet)];
  for (const auto& [member, entry] : sorted_set_members_) keep_newest(&sorted_set, entry.version);
  if (list_elements_) newest[type_index(KeyStateType::kList)] = cleared_;
  return newest;
}

void KeyState::drop_older_than_cleared() {
  if (string_version_ && *string_version_ < cleared_) {
    string_version_.reset();
    string_value_.clear();
  }
  std::erase_if(counter_shards_,
                [&](const auto& entry) { return entry.second.version < cleared_; });
  for (auto it = set_members_.begin(); it != set_members_.end();) {
    erase_older(&it->second.dots, cleared_);
    erase_older(&it->second.removed, cleared_);
    const bool empty = it->second.dots.empty() && it->second.removed.empty();
    it = empty ? set_members_.erase(it) : std::next(it);
  }
  const auto older = [&](const auto& entry) { return entry.second.version < cleared_; };
  std::erase_if(hash_fields_, older);
  std::erase_if(sorted_set_members_, older);
  // A list's version is cleared_ itself: it never falls below it.
  if (expiry_version_ < cleared_) {
    expiry_version_ = WriteVersion{};
    expires_at_unix_ms_ = 0;
  }
  // The newest entry stays: the version vector's maximum is never older than cleared_.
  std::erase_if(version_vector_, [&](const auto& entry) {
    return WriteVersion{entry.second, entry.first} < cleared_;
  });
}

void KeyState::keep_only(KeyStateType type) {
  if (type != KeyStateType::kString) {
    string_version_.reset();
    string_value_.clear();
    counter_shards_.clear();
  }
  if (type != KeyStateType::kSet) set_members_.clear();
  if (type != KeyStateType::kHash) hash_fields_.clear();
  if (type != KeyStateType::kSortedSet) sorted_set_members_.clear();
  if (type != KeyStateType::kList) list_elements_.reset();
}

// ---- Purge.

void KeyState::purge(HlcTimestamp horizon) {
  const auto old = [&](WriteVersion version) { return version.timestamp < horizon; };
  const auto old_tombstone = [&](const auto& entry) {
    return !entry.second.value && old(entry.second.version);
  };
  std::erase_if(hash_fields_, old_tombstone);
  std::erase_if(sorted_set_members_, old_tombstone);
  for (auto it = set_members_.begin(); it != set_members_.end();) {
    std::erase_if(it->second.removed, old);
    const bool empty = it->second.dots.empty() && it->second.removed.empty();
    it = empty ? set_members_.erase(it) : std::next(it);
  }
  std::erase_if(counter_shards_, [&](const auto& entry) {
    return !shard_is_current(entry.first) && old(entry.second.version);
  });
  if (expires_at_unix_ms_ == 0 && old(expiry_version_)) expiry_version_ = WriteVersion{};
  if (old(cleared_) && cleared_purgeable()) cleared_ = WriteVersion{};
}

// Whether cleared_ can go back to zero without any read telling, now or after a later merge.
// With a string, shards count by the string's version, not by cleared_. Without one, a shard
// counts when founded at or after cleared_: a stale shard would count again, and so would an
// INCR still in flight that raced a DEL, here but not on a replica that has not purged yet. A
// set, hash or sorted set entry rules that out: the type rule raises cleared_ past such a shard
// on every replica when it arrives. (A list's version is cleared_: no other entry is present.)
bool KeyState::cleared_purgeable() const {
  if (string_version_) return true;
  return counter_shards_.empty() &&
         (!set_members_.empty() || !hash_fields_.empty() || !sorted_set_members_.empty());
}

bool KeyState::operator==(const KeyState& other) const {
  return cleared_ == other.cleared_ && string_version_ == other.string_version_ &&
         string_value_ == other.string_value_ && counter_shards_ == other.counter_shards_ &&
         set_members_ == other.set_members_ && hash_fields_ == other.hash_fields_ &&
         sorted_set_members_ == other.sorted_set_members_ &&
         list_elements_ == other.list_elements_ && expiry_version_ == other.expiry_version_ &&
         expires_at_unix_ms_ == other.expires_at_unix_ms_ &&
         version_vector_ == other.version_vector_;
}

}  // namespace cairn
