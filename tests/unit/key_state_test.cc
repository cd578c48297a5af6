// Proves KeyState's merge rules one by one (LWW strings, counters, add-wins sets, hashes and
// sorted sets with tombstones, whole lists, type conflicts, expiry, DEL), then over random
// histories from several coordinators: replicas that receive the same deltas in any order,
// with duplicates and merges of each other, end equal; merge is idempotent, commutative and
// associative; read views match simple models; decode never crashes and accepts only what
// encode produces; purge changes no read view.
#include "model/key_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr int64_t kNow = 1;  // before every expiry these tests set

WriteVersion at(uint64_t ms, uint64_t node = 1) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

// Merges `states` into an empty state, in order.
KeyState merged(const std::vector<KeyState>& states) {
  KeyState out;
  for (const KeyState& state : states) out.merge(state);
  return out;
}

// Every order of `states` merges to the same state; returns it.
KeyState merged_in_every_order(std::vector<KeyState> states) {
  std::vector<size_t> order(states.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  const KeyState first = merged(states);
  do {
    KeyState out;
    for (const size_t i : order) out.merge(states[i]);
    EXPECT_EQ(out, first);
  } while (std::next_permutation(order.begin(), order.end()));
  return first;
}

KeyState incremented(const KeyState& current, uint64_t leader, WriteVersion version, int64_t delta,
                     int64_t* value_after = nullptr) {
  int64_t after = 0;
  Result<KeyState> result =
      KeyState::counter_add(current, NodeId{leader}, 7, version, delta, kNow, &after);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  if (value_after != nullptr) *value_after = after;
  return result.is_ok() ? std::move(result).value() : KeyState();
}

struct Views {
  KeyStateType type;
  std::optional<std::string> string;
  std::vector<std::string> set;
  std::vector<std::pair<std::string, std::string>> hash;
  std::vector<std::pair<std::string, double>> sorted_set;
  std::vector<std::string> list;
  int64_t expires_at_unix_ms;

  bool operator==(const Views&) const = default;
};

Views views_of(const KeyState& state, int64_t now_ms) {
  return Views{
      state.type(now_ms),        state.string_value(now_ms),       state.set_members(now_ms),
      state.hash_fields(now_ms), state.sorted_set_members(now_ms), state.list_elements(now_ms),
      state.expires_at_unix_ms()};
}

// ---- Semantics.

// The newer SET wins whichever order the replicas merge them in.
TEST(KeyStateTest, NewerStringWinsInEitherOrder) {
  const KeyState state = merged_in_every_order(
      {KeyState::string_set(at(20), "new", 0), KeyState::string_set(at(10), "old", 0)});
  EXPECT_EQ(state.type(kNow), KeyStateType::kString);
  EXPECT_EQ(state.string_value(kNow), "new");
}

// INCR adds to the string's integer; a later SET replaces base and shards, in any order.
TEST(KeyStateTest, SetReplacesCounterShards) {
  const KeyState base = KeyState::string_set(at(10), "5", 0);
  int64_t after = 0;
  const KeyState increment = incremented(base, 1, at(20), 3, &after);
  EXPECT_EQ(after, 8);
  EXPECT_EQ(merged({base, increment}).string_value(kNow), "8");
  const KeyState state =
      merged_in_every_order({base, increment, KeyState::string_set(at(30), "100", 0)});
  EXPECT_EQ(state.string_value(kNow), "100");
}

// Two leaders increment the same base concurrently: the merged value has both increments.
TEST(KeyStateTest, ConcurrentIncrementsOnTwoLeadersBothCount) {
  const KeyState base = KeyState::string_set(at(10), "10", 0);
  const KeyState a = incremented(base, 1, at(20, 1), 2);
  const KeyState b = incremented(base, 2, at(21, 2), -5);
  EXPECT_EQ(merged_in_every_order({base, a, b}).string_value(kNow), "7");
  // On a key that does not exist, too; and each leader's later INCR keeps growing its shard.
  const KeyState c = incremented(KeyState(), 1, at(30, 1), 1);
  const KeyState d = incremented(KeyState(), 2, at(31, 2), 1);
  const KeyState e = incremented(merged({c}), 1, at(32, 1), 4);
  EXPECT_EQ(merged_in_every_order({c, d, e}).string_value(kNow), "6");
}

// INCR on a non-integer, past int64, or on another type fails with Redis's messages.
TEST(KeyStateTest, CounterErrorsUseRedisMessages) {
  int64_t after = 0;
  const auto add = [&](const KeyState& current, int64_t delta) {
    return KeyState::counter_add(current, NodeId{1}, 1, at(100), delta, kNow, &after).status();
  };
  const Status not_integer = add(KeyState::string_set(at(1), "abc", 0), 1);
  EXPECT_TRUE(not_integer.is_invalid_argument());
  EXPECT_EQ(not_integer.message(), "ERR value is not an integer or out of range");
  const std::string max = std::to_string(std::numeric_limits<int64_t>::max());
  const Status overflow = add(KeyState::string_set(at(1), max, 0), 1);
  EXPECT_TRUE(overflow.is_invalid_argument());
  EXPECT_EQ(overflow.message(), "ERR increment or decrement would overflow");
  const std::string min = std::to_string(std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(add(KeyState::string_set(at(1), min, 0), -1).is_invalid_argument());
  EXPECT_TRUE(add(KeyState::string_set(at(1), min, 0), 1).is_ok());
  EXPECT_EQ(add(KeyState::set_add(at(1), {"x"}), 1).message().substr(0, 9), "WRONGTYPE");
}

// INCR on an expired key counts from 0 and leaves no expiry, as on a fresh key.
TEST(KeyStateTest, CounterOnExpiredKeyStartsAfresh) {
  const KeyState base = KeyState::string_set(at(10), "41", 50);
  int64_t after = 0;
  Result<KeyState> delta = KeyState::counter_add(base, NodeId{1}, 1, at(60), 5, 60, &after);
  ASSERT_TRUE(delta.is_ok());
  EXPECT_EQ(after, 5);
  const KeyState state = merged({base, *delta});
  EXPECT_EQ(state.string_value(1000), "5");
  EXPECT_EQ(state.expires_at_unix_ms(), 0);
}

// An SADD the SREM did not observe survives it (add wins), in every order.
TEST(KeyStateTest, ConcurrentAddSurvivesUnobservedRemove) {
  const KeyState first_add = KeyState::set_add(at(10), {"x", "y"});
  const KeyState concurrent_add = KeyState::set_add(at(20, 2), {"x"});
  const KeyState remove = KeyState::set_remove(at(30), first_add, {"x", "y"});
  const KeyState state = merged_in_every_order({first_add, concurrent_add, remove});
  EXPECT_EQ(state.set_members(kNow), std::vector<std::string>{"x"});
  EXPECT_TRUE(state.set_contains("x", kNow));
  EXPECT_FALSE(state.set_contains("y", kNow));
}

// An SREM that observed the member's only dot removes it, even when it arrives first.
TEST(KeyStateTest, ObservedRemoveRemovesTheDot) {
  const KeyState add = KeyState::set_add(at(10), {"x"});
  const KeyState remove = KeyState::set_remove(at(20), add, {"x"});
  const KeyState state = merged_in_every_order({add, remove});
  EXPECT_TRUE(state.set_members(kNow).empty());
  EXPECT_EQ(state.type(kNow), KeyStateType::kNone);
}

// Hash fields are last-writer-wins one by one; a delete is a tombstone that a newer set beats.
TEST(KeyStateTest, HashFieldsAreLastWriterWinsWithTombstones) {
  const KeyState state = merged_in_every_order({
      KeyState::hash_set(at(10), {{"f", "1"}, {"g", "2"}}),
      KeyState::hash_delete(at(20), {"f"}),
      KeyState::hash_set(at(15), {{"f", "3"}, {"h", "4"}}),
  });
  using Fields = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(state.hash_fields(kNow), (Fields{{"g", "2"}, {"h", "4"}}));
  const KeyState later = merged({state, KeyState::hash_set(at(30), {{"f", "5"}})});
  EXPECT_EQ(later.hash_fields(kNow), (Fields{{"f", "5"}, {"g", "2"}, {"h", "4"}}));
}

// Sorted set members are last-writer-wins one by one, read in (score, member) order.
TEST(KeyStateTest, SortedSetMembersAreLastWriterWinsWithTombstones) {
  const KeyState state = merged_in_every_order({
      KeyState::sorted_set_add(at(10), {{"a", 3.5}, {"b", -1}, {"c", 2}}),
      KeyState::sorted_set_add(at(20), {{"a", 0.25}}),
      KeyState::sorted_set_remove(at(15), {"c", "a"}),
  });
  using Members = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(state.sorted_set_members(kNow), (Members{{"b", -1}, {"a", 0.25}}));
  EXPECT_EQ(state.type(kNow), KeyStateType::kSortedSet);
}

// A list is replaced whole: the newest replacement wins, and an empty one deletes the key.
TEST(KeyStateTest, ListsAreLastWriterWinsWhole) {
  const KeyState state = merged_in_every_order({
      KeyState::list_replace(at(20), {"c"}),
      KeyState::list_replace(at(10), {"a", "b"}),
  });
  EXPECT_EQ(state.list_elements(kNow), std::vector<std::string>{"c"});
  EXPECT_EQ(merged({state, KeyState::list_replace(at(30), {})}).type(kNow), KeyStateType::kNone);
}

// The newest type wins; an older entry of a losing type, merged later or again, stays dropped.
TEST(KeyStateTest, NewestTypeWinsAndOlderSameTypeEntriesStayDropped) {
  const KeyState set = KeyState::string_set(at(10), "v", 0);
  const KeyState add = KeyState::set_add(at(20), {"x"});
  const KeyState hash = KeyState::hash_set(at(15), {{"f", "1"}});
  const KeyState state = merged_in_every_order({set, add, hash});
  EXPECT_EQ(state.type(kNow), KeyStateType::kSet);
  EXPECT_EQ(state.set_members(kNow), std::vector<std::string>{"x"});
  // Older than the clear the type rule raised, they leave no trace, not even in the version
  // vector.
  const KeyState older_field = KeyState::hash_set(at(12, 3), {{"g", "2"}});
  EXPECT_EQ(merged({state, older_field, set}), state);
  // A newer write of another type wins in turn.
  const KeyState newer = merged({state, KeyState::hash_set(at(25), {{"f", "2"}})});
  EXPECT_EQ(newer.type(kNow), KeyStateType::kHash);
  EXPECT_EQ(merged({newer, add, older_field, set}), newer);
}

// A key past its expiry reads as absent; before it, as itself.
TEST(KeyStateTest, ExpiryHidesTheKeyAtReadTime) {
  const KeyState state =
      merged({KeyState::set_add(at(5), {"x"}), KeyState::expiry_set(at(10), 100)});
  EXPECT_EQ(state.type(99), KeyStateType::kSet);
  EXPECT_TRUE(state.set_contains("x", 99));
  EXPECT_EQ(state.type(100), KeyStateType::kNone);
  EXPECT_TRUE(state.set_members(100).empty());
  EXPECT_FALSE(state.set_contains("x", 100));
  const KeyState string = KeyState::string_set(at(20), "v", 100);
  EXPECT_EQ(string.string_value(99), "v");
  EXPECT_EQ(string.string_value(100), std::nullopt);
}

// EXPIRE and PERSIST are last-writer-wins on the expiry alone.
TEST(KeyStateTest, ExpiryIsLastWriterWins) {
  const KeyState add = KeyState::set_add(at(5), {"x"});
  const KeyState persisted = merged_in_every_order(
      {add, KeyState::expiry_set(at(10), 100), KeyState::expiry_set(at(20), 0)});
  EXPECT_EQ(persisted.expires_at_unix_ms(), 0);
  EXPECT_EQ(persisted.type(1000), KeyStateType::kSet);
  const KeyState expiring = merged_in_every_order(
      {add, KeyState::expiry_set(at(30), 100), KeyState::expiry_set(at(20), 0)});
  EXPECT_EQ(expiring.expires_at_unix_ms(), 100);
}

// DEL clears the writes older than it, not the newer ones, whatever the order.
TEST(KeyStateTest, DeleteClearsOlderWritesOnly) {
  const KeyState state = merged_in_every_order({
      KeyState::set_add(at(10), {"x"}),
      KeyState::expiry_set(at(12), 100),
      KeyState::deleted(at(20)),
      KeyState::set_add(at(30), {"y"}),
  });
  EXPECT_EQ(state.set_members(1000), std::vector<std::string>{"y"});
  EXPECT_EQ(state.expires_at_unix_ms(), 0);
  const KeyState string =
      merged_in_every_order({KeyState::string_set(at(10), "v", 0), KeyState::deleted(at(20))});
  EXPECT_EQ(string.type(kNow), KeyStateType::kNone);
}

// merge() flags concurrent version vectors only, and says exactly whether the state changed.
TEST(KeyStateTest, VersionVectorsDetectConcurrentWrites) {
  KeyState replica = KeyState::string_set(at(10, 1), "a", 0);
  const KeyState concurrent = KeyState::string_set(at(11, 2), "b", 0);
  KeyState after = KeyState::string_set(at(12, 2), "c", 0);
  after.with_context(replica);
  KeyState copy = replica;
  EXPECT_TRUE(copy.merge(concurrent).concurrent);
  const MergeResult ordered = replica.merge(after);
  EXPECT_FALSE(ordered.concurrent);
  EXPECT_TRUE(ordered.changed);
  const MergeResult again = replica.merge(after);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(replica.newest_version(), at(12, 2));
  EXPECT_EQ(KeyState().newest_version(), WriteVersion{});
  // A delta older than the state's clear changes nothing: the clear wiped its write, and its
  // version vector entry with it.
  EXPECT_FALSE(replica.merge(KeyState::set_add(at(1, 3), {"x"})).changed);
  EXPECT_EQ(replica.version_vector().count(NodeId{3}), 0u);
  EXPECT_EQ(replica.string_value(kNow), "c");
}

// purge drops old tombstones, removed dots and cleared, and leaves every read as it was.
TEST(KeyStateTest, PurgeDropsOldTombstones) {
  const KeyState add = KeyState::set_add(at(10), {"x", "y"});
  const KeyState state = merged({
      KeyState::deleted(at(5)),
      add,
      KeyState::set_remove(at(20), add, {"x"}),
      KeyState::expiry_set(at(21), 0),
  });
  KeyState purged = state;
  purged.purge(HlcTimestamp::of(100, 0));
  EXPECT_LT(purged.encode().size(), state.encode().size());
  EXPECT_EQ(purged.set_members(kNow), state.set_members(kNow));
  KeyState expected = merged({KeyState::set_add(at(10), {"y"})});
  expected.with_context(state);
  EXPECT_EQ(purged, expected);
  // A deleted key keeps its cleared version (an INCR in flight must still see it).
  KeyState deleted = KeyState::deleted(at(5));
  deleted.purge(HlcTimestamp::of(100, 0));
  EXPECT_EQ(deleted, KeyState::deleted(at(5)));
}

// purge keeps the cleared version that an in-flight INCR racing a DEL or list is judged by.
TEST(KeyStateTest, PurgeKeepsTheClearedALateIncrementNeeds) {
  const KeyState base = KeyState::string_set(at(10), "5", 0);
  const KeyState late_increment = incremented(base, 1, at(30), 1);
  const HlcTimestamp horizon = HlcTimestamp::of(25, 0);
  for (const KeyState& clear : {KeyState::deleted(at(20)), KeyState::list_replace(at(20), {"a"})}) {
    KeyState purged = merged({base, clear});
    purged.purge(horizon);
    purged.merge(late_increment);
    const KeyState whole = merged({base, clear, late_increment});
    EXPECT_EQ(whole.type(kNow), KeyStateType::kNone);  // the INCR's base was replaced
    EXPECT_EQ(views_of(purged, kNow), views_of(whole, kNow));
  }
}

// ---- Random histories.

// One write as the model sees it.
struct Op {
  enum class Kind {
    kStringSet,
    kDelete,
    kIncrement,
    kSetAdd,
    kSetRemove,
    kHashSet,
    kHashDelete,
    kSortedSetAdd,
    kSortedSetRemove,
    kListReplace,
    kExpire,
  };
  Kind kind;
  WriteVersion version;
  std::vector<std::string> keys;    // members or fields
  std::vector<std::string> values;  // a SET's value, hash values, list elements
  std::vector<double> scores;
  int64_t delta = 0;
  std::map<std::string, std::set<WriteVersion>> removed;  // an SREM's dots, per member
};

enum class Workload { kMixed, kStrings, kCounters, kSets, kHashes, kSortedSets, kLists };

// Coordinators with skewed clocks that read (a random part of) what was written before, then
// write; every delta goes into the writer's own view, as a leader applies its own writes.
class History {
 public:
  History(uint64_t seed, Workload workload) : random_(seed), workload_(workload) {
    for (uint64_t node = 1; node <= 3; node++) {
      coordinators_.push_back(
          Coordinator{NodeId{node * 0x9e3779b97f4a7c15ull}, {}, random_.uniform(40), 1, {}, {}});
    }
  }

  void run(size_t writes) {
    while (deltas_.size() < writes) step();
  }

  const std::vector<KeyState>& deltas() const { return deltas_; }
  const std::vector<Op>& ops() const { return ops_; }
  std::vector<KeyState> views() const {
    std::vector<KeyState> views;
    for (const Coordinator& c : coordinators_) views.push_back(c.view);
    return views;
  }
  uint64_t physical_ms() const { return physical_ms_; }
  Random& random() { return random_; }

 private:
  struct Coordinator {
    NodeId node;
    HybridClock clock;
    uint64_t skew_ms;
    uint64_t incarnation;
    KeyState view;
    std::set<size_t> seen;  // the deltas merged into view
  };

  void step() {
    Coordinator& c = coordinators_[random_.uniform(coordinators_.size())];
    if (!deltas_.empty() && random_.one_in(2)) {
      for (uint64_t n = random_.range(1, 4); n > 0; n--) {
        const size_t i = random_.uniform(deltas_.size());
        c.view.merge(deltas_[i]);
        c.seen.insert(i);
      }
    }
    physical_ms_ += random_.uniform(3);
    if (random_.one_in(30)) c.incarnation++;  // a restart that lost nothing
    Op op{};
    op.version = WriteVersion{
        c.clock.update(c.view.newest_version().timestamp, physical_ms_ + c.skew_ms), c.node};
    std::optional<KeyState> delta = write(c, &op);
    if (!delta) return;
    if (random_.one_in(2)) delta->with_context(c.view);
    c.view.merge(*delta);
    c.seen.insert(deltas_.size());
    deltas_.push_back(std::move(*delta));
    ops_.push_back(std::move(op));
  }

  Op::Kind pick_kind() {
    using K = Op::Kind;
    switch (workload_) {
      case Workload::kStrings:
        return random_.one_in(3) ? K::kDelete : K::kStringSet;
      case Workload::kCounters:
        return K::kIncrement;
      case Workload::kSets:
        return random_.one_in(2) ? K::kSetRemove : K::kSetAdd;
      case Workload::kHashes:
        return random_.one_in(3) ? K::kHashDelete : K::kHashSet;
      case Workload::kSortedSets:
        return random_.one_in(3) ? K::kSortedSetRemove : K::kSortedSetAdd;
      case Workload::kLists:
        return K::kListReplace;
      case Workload::kMixed:
        break;
    }
    return static_cast<K>(random_.uniform(static_cast<uint64_t>(K::kExpire) + 1));
  }

  std::vector<std::string> some_keys() {
    static const char* const kKeys[] = {"a", "b", "c", "d"};
    std::vector<std::string> keys;
    for (uint64_t n = random_.range(1, 3); n > 0; n--) keys.push_back(kKeys[random_.uniform(4)]);
    return keys;
  }

  std::string some_value() { return "v" + std::to_string(random_.uniform(1000)); }

  // Only the mixed workload sets expiries, some of them already past.
  int64_t some_expiry() {
    if (workload_ != Workload::kMixed || random_.one_in(2)) return 0;
    return static_cast<int64_t>(physical_ms_ + random_.uniform(60)) - 20;
  }

  std::optional<KeyState> write(Coordinator& c, Op* op) {
    op->kind = pick_kind();
    std::optional<KeyState> delta = make_delta(c, op);
    if (!delta || op->kind == Op::Kind::kIncrement) return delta;
    // A write to a key the coordinator reads as expired starts a fresh key.
    const int64_t now_ms = static_cast<int64_t>(physical_ms_);
    if (c.view.expires_at_unix_ms() != 0 && c.view.expires_at_unix_ms() <= now_ms) {
      KeyState fresh = KeyState::deleted(op->version);
      fresh.merge(*delta);
      return fresh;
    }
    return delta;
  }

  std::optional<KeyState> make_delta(Coordinator& c, Op* op) {
    const WriteVersion version = op->version;
    switch (op->kind) {
      case Op::Kind::kStringSet:
        op->values = {some_value()};
        if (workload_ == Workload::kMixed && random_.one_in(3)) {
          op->values = {std::to_string(static_cast<int64_t>(random_.uniform(100)) - 50)};
        }
        return KeyState::string_set(version, op->values[0], some_expiry());
      case Op::Kind::kDelete:
        return KeyState::deleted(version);
      case Op::Kind::kIncrement:
        return increment(c, op);
      case Op::Kind::kSetAdd:
        op->keys = some_keys();
        return KeyState::set_add(version, op->keys);
      case Op::Kind::kSetRemove:
        op->keys = some_keys();
        op->removed = observed_dots(c, op->keys);
        return KeyState::set_remove(version, c.view, op->keys);
      case Op::Kind::kHashSet: {
        std::vector<std::pair<std::string, std::string>> fields;
        for (const std::string& key : some_keys()) fields.emplace_back(key, some_value());
        for (const auto& [field, value] : fields) {
          op->keys.push_back(field);
          op->values.push_back(value);
        }
        return KeyState::hash_set(version, fields);
      }
      case Op::Kind::kHashDelete:
        op->keys = some_keys();
        return KeyState::hash_delete(version, op->keys);
      case Op::Kind::kSortedSetAdd: {
        std::vector<std::pair<std::string, double>> members;
        for (const std::string& key : some_keys()) {
          members.emplace_back(key, static_cast<double>(random_.uniform(7)) / 4 - 0.5);
        }
        for (const auto& [member, score] : members) {
          op->keys.push_back(member);
          op->scores.push_back(score);
        }
        return KeyState::sorted_set_add(version, members);
      }
      case Op::Kind::kSortedSetRemove:
        op->keys = some_keys();
        return KeyState::sorted_set_remove(version, op->keys);
      case Op::Kind::kListReplace:
        for (uint64_t n = random_.uniform(4); n > 0; n--) op->values.push_back(some_value());
        return KeyState::list_replace(version, op->values);
      case Op::Kind::kExpire:
        return KeyState::expiry_set(version, some_expiry());
    }
    return std::nullopt;
  }

  std::optional<KeyState> increment(Coordinator& c, Op* op) {
    op->delta = static_cast<int64_t>(random_.uniform(2001)) - 1000;
    int64_t after = 0;
    Result<KeyState> delta =
        KeyState::counter_add(c.view, c.node, c.incarnation, op->version, op->delta,
                              static_cast<int64_t>(physical_ms_), &after);
    if (!delta.is_ok()) return std::nullopt;  // another type, or not an integer
    return std::move(delta).value();
  }

  // The dots of `members` in what the coordinator saw: its SADDs minus what its SREMs removed.
  std::map<std::string, std::set<WriteVersion>> observed_dots(
      const Coordinator& c, const std::vector<std::string>& members) const {
    std::map<std::string, std::set<WriteVersion>> dots;
    for (const size_t i : c.seen) {
      if (ops_[i].kind != Op::Kind::kSetAdd) continue;
      for (const std::string& member : ops_[i].keys) {
        if (std::count(members.begin(), members.end(), member))
          dots[member].insert(ops_[i].version);
      }
    }
    for (const size_t i : c.seen) {
      for (const auto& [member, removed] : ops_[i].removed) {
        for (const WriteVersion& dot : removed) {
          if (dots.count(member)) dots[member].erase(dot);
        }
      }
    }
    std::erase_if(dots, [](const auto& entry) { return entry.second.empty(); });
    return dots;
  }

  Random random_;
  Workload workload_;
  std::vector<Coordinator> coordinators_;
  uint64_t physical_ms_ = 10'000;
  std::vector<KeyState> deltas_;
  std::vector<Op> ops_;
};

void shuffle(std::vector<size_t>* items, Random* random) {
  for (size_t i = items->size(); i > 1; i--) {
    std::swap((*items)[i - 1], (*items)[random->uniform(i)]);
  }
}

// Delivers every delta to each of `count` replicas in its own random order, with duplicates,
// and now and then merges one replica's whole state into another.
std::vector<KeyState> deliver(const std::vector<KeyState>& deltas, size_t count, Random* random) {
  std::vector<std::vector<size_t>> queues(count);
  for (std::vector<size_t>& queue : queues) {
    for (size_t i = 0; i < deltas.size(); i++) {
      queue.push_back(i);
      if (random->one_in(4)) queue.push_back(i);
    }
    shuffle(&queue, random);
  }
  std::vector<KeyState> replicas(count);
  std::vector<size_t> next(count, 0);
  for (;;) {
    std::vector<size_t> busy;
    for (size_t r = 0; r < count; r++) {
      if (next[r] < queues[r].size()) busy.push_back(r);
    }
    if (busy.empty()) break;
    const size_t r = busy[random->uniform(busy.size())];
    if (random->one_in(8)) {
      replicas[r].merge(replicas[random->uniform(count)]);
    } else {
      replicas[r].merge(deltas[queues[r][next[r]++]]);
    }
  }
  return replicas;
}

void expect_round_trip(const KeyState& state) {
  const std::string bytes = state.encode();
  Result<KeyState> decoded = KeyState::decode(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, state);
  EXPECT_EQ(decoded->encode(), bytes);
}

// Replicas given the same deltas in any order, with duplicates and cross-merges, end equal.
TEST(KeyStateTest, ReplicasConvergeOverRandomHistories) {
  for (const uint64_t seed : test::test_seeds(1000, 100, 2000)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Workload workload =
        seed % 3 == 0 ? static_cast<Workload>(seed / 3 % 7) : Workload::kMixed;
    History history(seed, workload);
    history.run(60);
    const std::vector<KeyState> replicas = deliver(history.deltas(), 3, &history.random());
    const KeyState in_order = merged(history.deltas());
    for (const KeyState& replica : replicas) {
      ASSERT_EQ(replica, in_order);
      ASSERT_EQ(replica.encode(), in_order.encode());
    }
    KeyState again = in_order;
    for (const KeyState& delta : history.deltas()) ASSERT_FALSE(again.merge(delta).changed);
    expect_round_trip(in_order);
    for (const KeyState& view : history.views()) expect_round_trip(view);
  }
}

// Merge is idempotent, commutative and associative, and `changed` exact, on random triples.
TEST(KeyStateTest, MergeIsASemilatticeJoin) {
  for (const uint64_t seed : test::test_seeds(2000, 40, 1000)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History history(seed, Workload::kMixed);
    history.run(40);
    Random& random = history.random();
    // The lattice is of merged states: a delta's context may hold entries older than its
    // clear, which its first merge drops.
    std::vector<KeyState> pool;
    for (const KeyState& delta : history.deltas()) pool.push_back(merged({delta}));
    for (const KeyState& view : history.views()) pool.push_back(view);
    for (int i = 0; i < 20; i++) {
      KeyState partial;
      for (const KeyState& delta : history.deltas()) {
        if (random.one_in(3)) partial.merge(delta);
      }
      pool.push_back(partial);
    }
    const auto join = [](KeyState a, const KeyState& b) {
      a.merge(b);
      return a;
    };
    for (int i = 0; i < 100; i++) {
      const KeyState& a = pool[random.uniform(pool.size())];
      const KeyState& b = pool[random.uniform(pool.size())];
      const KeyState& c = pool[random.uniform(pool.size())];
      ASSERT_EQ(join(a, a), a);
      ASSERT_EQ(join(a, b), join(b, a));
      ASSERT_EQ(join(join(a, b), c), join(a, join(b, c)));
      KeyState ab = join(a, b);
      ASSERT_FALSE(ab.merge(b).changed);
      KeyState copy = a;
      ASSERT_EQ(copy.merge(b).changed, !(join(a, b) == a));
    }
  }
}

// A delta that replaces older states (SET, DEL, a whole list), merged into any state entirely
// older than it, leaves what it leaves merged into an empty state: what lets a replica apply it
// without reading the key.
TEST(KeyStateTest, AReplacingDeltaMergesIntoOlderStatesAsIntoNothing) {
  size_t checked = 0;
  for (const uint64_t seed : test::test_seeds(5000, 40, 1000)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History history(seed, Workload::kMixed);
    history.run(40);
    Random& random = history.random();
    for (size_t i = 0; i < history.deltas().size(); i++) {
      const KeyState& delta = history.deltas()[i];
      if (!delta.replaces_older_states()) continue;
      KeyState alone;
      alone.merge(delta);
      for (int tries = 0; tries < 5; tries++) {
        KeyState older;
        for (const KeyState& other : history.deltas()) {
          if (other.newest_version() < delta.newest_version() && random.one_in(2)) {
            older.merge(other);
          }
        }
        ASSERT_LT(older.newest_version(), delta.newest_version());
        older.merge(delta);
        ASSERT_EQ(older, alone);
        checked++;
      }
    }
  }
  EXPECT_GT(checked, 1000u) << "too few replacing deltas to prove anything";
}

std::string expected_string(const std::vector<Op>& ops) {
  const Op* newest = nullptr;
  for (const Op& op : ops) {
    if (newest == nullptr || newest->version < op.version) newest = &op;
  }
  return newest != nullptr && newest->kind == Op::Kind::kStringSet ? newest->values[0] : "";
}

// Per field or member, the newest write: its value, or nothing for a delete.
std::map<std::string, std::optional<std::string>> expected_entries(const std::vector<Op>& ops) {
  std::map<std::string, std::pair<WriteVersion, std::optional<std::string>>> newest;
  for (const Op& op : ops) {
    for (size_t i = 0; i < op.keys.size(); i++) {
      std::optional<std::string> value;
      if (!op.values.empty()) value = op.values[i];
      if (!op.scores.empty()) value = std::to_string(op.scores[i]);
      auto [found, inserted] = newest.try_emplace(op.keys[i], op.version, value);
      // Within one write the last occurrence of a key wins, as in HSET f 1 f 2.
      if (!inserted && found->second.first <= op.version) found->second = {op.version, value};
    }
  }
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& [key, entry] : newest) out[key] = entry.second;
  return out;
}

// The reads of single-type histories match a simple model of each type.
TEST(KeyStateTest, ReadsMatchModelsOfSingleTypeHistories) {
  const Workload workloads[] = {Workload::kStrings, Workload::kCounters,   Workload::kSets,
                                Workload::kHashes,  Workload::kSortedSets, Workload::kLists};
  for (const uint64_t seed : test::test_seeds(3000, 20, 200)) {
    for (const Workload workload : workloads) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " workload " +
                   std::to_string(static_cast<int>(workload)));
      History history(seed, workload);
      history.run(50);
      const std::vector<Op>& ops = history.ops();
      const KeyState state = deliver(history.deltas(), 1, &history.random())[0];
      switch (workload) {
        case Workload::kStrings:  // the newest SET or DEL
          EXPECT_EQ(state.string_value(kNow).value_or(""), expected_string(ops));
          break;
        case Workload::kCounters: {  // every INCR counts, whichever leader applied it
          int64_t sum = 0;
          for (const Op& op : ops) sum += op.delta;
          EXPECT_EQ(state.string_value(kNow), std::to_string(sum));
          break;
        }
        case Workload::kSets: {  // present iff an SADD dot of it was removed by no SREM
          std::map<std::string, std::set<WriteVersion>> dots;
          for (const Op& op : ops) {
            if (op.kind != Op::Kind::kSetAdd) continue;
            for (const std::string& member : op.keys) dots[member].insert(op.version);
          }
          for (const Op& op : ops) {
            for (const auto& [member, removed] : op.removed) {
              for (const WriteVersion& dot : removed) dots[member].erase(dot);
            }
          }
          std::vector<std::string> present;
          for (const auto& [member, live] : dots) {
            if (!live.empty()) present.push_back(member);
          }
          EXPECT_EQ(state.set_members(kNow), present);
          break;
        }
        case Workload::kHashes: {  // the newest write per field
          std::vector<std::pair<std::string, std::string>> fields;
          for (const auto& [field, value] : expected_entries(ops)) {
            if (value) fields.emplace_back(field, *value);
          }
          EXPECT_EQ(state.hash_fields(kNow), fields);
          break;
        }
        case Workload::kSortedSets: {  // the newest write per member
          std::map<std::string, std::optional<std::string>> read;
          for (const auto& [member, score] : state.sorted_set_members(kNow)) {
            read[member] = std::to_string(score);
          }
          auto expected = expected_entries(ops);
          std::erase_if(expected, [](const auto& entry) { return !entry.second; });
          EXPECT_EQ(read, expected);
          break;
        }
        case Workload::kLists: {  // the newest replacement
          const Op* newest = &ops[0];
          for (const Op& op : ops) newest = newest->version < op.version ? &op : newest;
          EXPECT_EQ(state.list_elements(kNow), newest->values);
          break;
        }
        case Workload::kMixed:
          break;
      }
    }
  }
}

// Calls every read, so that a state decoded from damaged bytes is exercised whole.
void read_everything(const KeyState& state) {
  for (const int64_t now_ms : {int64_t{0}, int64_t{10'050}, std::numeric_limits<int64_t>::max()}) {
    (void)state.type(now_ms);
    (void)state.string_value(now_ms);
    (void)state.set_members(now_ms);
    (void)state.set_contains("a", now_ms);
    (void)state.hash_fields(now_ms);
    (void)state.sorted_set_members(now_ms);
    (void)state.list_elements(now_ms);
  }
  (void)state.newest_version();
}

// Every truncation is refused; every byte flip decodes to exactly its bytes or is refused.
TEST(KeyStateTest, DecodeRefusesDamagedBytes) {
  std::vector<std::string> encodings;
  for (const uint64_t seed : test::test_seeds(4000, 10, 200)) {
    History history(seed, Workload::kMixed);
    history.run(30);
    encodings.push_back(merged(history.deltas()).encode());
    for (size_t i = 0; i < history.deltas().size(); i += 5) {
      encodings.push_back(history.deltas()[i].encode());
    }
  }
  Random random(4000);
  for (const std::string& bytes : encodings) {
    for (size_t length = 0; length < bytes.size(); length++) {
      const Result<KeyState> decoded = KeyState::decode(std::string_view(bytes).substr(0, length));
      ASSERT_FALSE(decoded.is_ok()) << "length " << length;
      ASSERT_TRUE(decoded.status().is_corruption());
    }
    const KeyState original = KeyState::decode(bytes).value();
    for (int flip = 0; flip < 60; flip++) {
      std::string damaged = bytes;
      for (uint64_t n = random.range(1, 3); n > 0; n--) {
        damaged[random.uniform(damaged.size())] ^= static_cast<char>(random.range(1, 255));
      }
      const Result<KeyState> decoded = KeyState::decode(damaged);
      if (!decoded.is_ok()) {
        ASSERT_TRUE(decoded.status().is_corruption());
        continue;
      }
      ASSERT_EQ(decoded->encode(), damaged);
      read_everything(*decoded);
      KeyState joined = original;
      joined.merge(*decoded);
      read_everything(joined);
    }
  }
}

// Random bytes, bare or behind a valid format byte, never crash the decoder.
TEST(KeyStateTest, DecodeSurvivesGarbage) {
  Random random(5000);
  for (int i = 0; i < 3000; i++) {
    std::string bytes = random.bytes(random.uniform(64));
    if (random.one_in(2)) bytes.insert(0, 1, '\x01');
    const Result<KeyState> decoded = KeyState::decode(bytes);
    if (decoded.is_ok()) {
      ASSERT_EQ(decoded->encode(), bytes);
      read_everything(*decoded);
    } else {
      ASSERT_TRUE(decoded.status().is_corruption());
    }
  }
  // A count far beyond the bytes is refused before anything is allocated for it.
  const std::string huge_count("\x01\xff\xff\xff\xff\x0f", 6);
  EXPECT_TRUE(KeyState::decode(huge_count).status().is_corruption());
}

// purge at any horizon leaves every read view as it was, and the state still encodes.
TEST(KeyStateTest, PurgeKeepsReadViews) {
  for (const uint64_t seed : test::test_seeds(6000, 40, 1000)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History history(seed, Workload::kMixed);
    history.run(50);
    std::vector<KeyState> states = history.views();
    states.push_back(merged(history.deltas()));
    for (const KeyState& state : states) {
      for (int i = 0; i < 5; i++) {
        const KeyState& delta = history.deltas()[history.random().uniform(history.deltas().size())];
        const HlcTimestamp horizon{delta.newest_version().timestamp.value +
                                   history.random().uniform(3)};
        KeyState purged = state;
        purged.purge(horizon);
        for (const uint64_t now_ms : {uint64_t{0}, history.physical_ms() - 20,
                                      history.physical_ms(), history.physical_ms() + 100}) {
          ASSERT_EQ(views_of(purged, static_cast<int64_t>(now_ms)),
                    views_of(state, static_cast<int64_t>(now_ms)));
        }
        expect_round_trip(purged);
      }
    }
  }
}

// A replica that purges, then receives the deltas newer than the horizon, reads as unpurged.
TEST(KeyStateTest, PurgeBeforeLateDeltasKeepsReadViews) {
  for (const uint64_t seed : test::test_seeds(7000, 100, 1500)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History history(seed, Workload::kMixed);
    history.run(60);
    Random& random = history.random();
    const std::vector<KeyState>& deltas = history.deltas();
    const HlcTimestamp horizon = history.ops()[random.uniform(deltas.size())].version.timestamp;
    KeyState purged;
    std::vector<size_t> late;
    for (size_t i = 0; i < deltas.size(); i++) {
      if (history.ops()[i].version.timestamp < horizon || random.one_in(3)) purged.merge(deltas[i]);
      if (history.ops()[i].version.timestamp >= horizon) late.push_back(i);
    }
    purged.purge(horizon);
    shuffle(&late, &random);
    for (const size_t i : late) purged.merge(deltas[i]);
    const KeyState whole = merged(deltas);
    for (const uint64_t now_ms : {uint64_t{0}, history.physical_ms() - 20, history.physical_ms(),
                                  history.physical_ms() + 100}) {
      ASSERT_EQ(views_of(purged, static_cast<int64_t>(now_ms)),
                views_of(whole, static_cast<int64_t>(now_ms)));
    }
  }
}

}  // namespace
}  // namespace cairn
