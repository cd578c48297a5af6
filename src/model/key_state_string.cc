// KeyState's strings as counters: INCRBY's delta (counter_add) and the value a reader sees.
// The value is the base plus the current shards' increments minus their decrements, summed in
// 128 bits: shards of several leaders may together leave int64, and the reader then sees the
// exact decimal (which INCR refuses as "not an integer", as Redis does for such a string).
#include <limits>

#include "common/assert.h"
#include "model/key_state.h"
#include "model/string_number.h"

namespace cairn {

namespace {

__extension__ typedef __int128 WideInt;

constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

struct CounterReading {
  bool base_is_integer = true;
  WideInt value = 0;
};

std::string decimal(WideInt value) {
  const bool negative = value < 0;
  std::string digits;
  do {
    const int digit = static_cast<int>(value % 10);
    digits.push_back(static_cast<char>('0' + (negative ? -digit : digit)));
    value /= 10;
  } while (value != 0);
  if (negative) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

// The current shards' increments minus decrements.
template <typename IsCurrent>
WideInt net_of(const std::map<CounterShardId, CounterShard>& shards, IsCurrent is_current) {
  WideInt net = 0;
  for (const auto& [id, shard] : shards) {
    if (is_current(id)) net += WideInt{shard.increments} - shard.decrements;
  }
  return net;
}

bool fits_int64(WideInt value) {
  return value >= std::numeric_limits<int64_t>::min() &&
         value <= std::numeric_limits<int64_t>::max();
}

// Adds `delta` to the shard's increments or decrements. False when the total would leave
// uint64: only after 2^64 of movement on one shard, reported as Redis's overflow.
bool add_to_shard(CounterShard* shard, int64_t delta) {
  if (delta >= 0) {
    return !__builtin_add_overflow(shard->increments, static_cast<uint64_t>(delta),
                                   &shard->increments);
  }
  // -(delta + 1) + 1 is |delta| without overflowing on INT64_MIN.
  const uint64_t magnitude = static_cast<uint64_t>(-(delta + 1)) + 1;
  return !__builtin_add_overflow(shard->decrements, magnitude, &shard->decrements);
}

}  // namespace

CounterShardId KeyState::own_shard_id(NodeId leader, uint64_t incarnation,
                                      WriteVersion version) const {
  if (string_version_) return CounterShardId{leader, incarnation, *string_version_};
  // Without a string: this leader's current shard, the newest if a wrong peer left several.
  const auto first = counter_shards_.lower_bound(CounterShardId{leader, incarnation, {}});
  std::optional<CounterShardId> own;
  for (auto it = first; it != counter_shards_.end() && it->first.leader == leader &&
                        it->first.incarnation == incarnation;
       ++it) {
    if (shard_is_current(it->first)) own = it->first;
  }
  // Else a new shard founded by this write: a version never used as a base before, so the
  // leader never restarts a shard that replicas still hold with larger totals.
  return own.value_or(CounterShardId{leader, incarnation, version});
}

Result<KeyState> KeyState::counter_add(const KeyState& current, NodeId leader, uint64_t incarnation,
                                       WriteVersion version, int64_t delta, int64_t now_unix_ms,
                                       int64_t* value_after) {
  CAIRN_ASSERT(value_after != nullptr);
  CAIRN_ASSERT(version > current.newest_version());
  if (current.expired(now_unix_ms)) {
    *value_after = delta;
    return string_set(version, std::to_string(delta), 0);
  }
  const KeyStateType type = current.stored_type();
  if (type != KeyStateType::kNone && type != KeyStateType::kString) {
    return Status::invalid_argument(kWrongType);
  }
  WideInt value = 0;
  if (current.string_version_) {
    const std::optional<int64_t> base = string_to_int64(current.string_value_);
    if (!base) return Status::invalid_argument(kNotInteger);
    value = *base;
  }
  value += net_of(current.counter_shards_,
                  [&](const CounterShardId& id) { return current.shard_is_current(id); });
  if (!fits_int64(value)) return Status::invalid_argument(kNotInteger);
  if (!fits_int64(value + delta)) return Status::invalid_argument(kOverflow);

  const CounterShardId id = current.own_shard_id(leader, incarnation, version);
  const auto found = current.counter_shards_.find(id);
  CounterShard shard = found == current.counter_shards_.end() ? CounterShard{} : found->second;
  if (!add_to_shard(&shard, delta)) return Status::invalid_argument(kOverflow);
  shard.version = version;

  // The delta carries its base, so that a replica applies it to the same value.
  KeyState result;
  result.cleared_ = current.cleared_;
  result.string_version_ = current.string_version_;
  result.string_value_ = current.string_value_;
  result.counter_shards_[id] = shard;
  result.version_vector_[version.node] = version.timestamp;
  *value_after = static_cast<int64_t>(value + delta);
  return result;
}

std::optional<std::string> KeyState::string_value(int64_t now_unix_ms) const {
  if (type(now_unix_ms) != KeyStateType::kString) return std::nullopt;
  if (!has_current_shard()) return string_value_;
  // A base that is not an integer under shards only comes from a wrong peer: counted as 0.
  const WideInt base = string_to_int64(string_value_).value_or(0);
  return decimal(base + net_of(counter_shards_,
                               [&](const CounterShardId& id) { return shard_is_current(id); }));
}

}  // namespace cairn
