// KeyState: what one replica knows of one user key in the cluster, as a state-based CRDT.
// Every write is turned by its coordinator into a small KeyState (a delta) and merged into the
// replicas' states; reads merge the replicas' answers. merge() is commutative, associative and
// idempotent, so replicas that saw the same writes in any order, any number of times, hold equal
// states (operator==), and a duplicated or replayed message changes nothing.
//
// The rules (docs/cluster-versions.md):
// - Every write has a WriteVersion: the coordinator's HLC timestamp and node id. Coordinator
//   clocks strictly increase, so a version names exactly one write.
// - Key level: `cleared` is the version of the newest write that replaced the whole key (SET,
//   DEL, a list replaced whole, a write of another type); everything older than it is gone.
//   A write of one type to a key holding another makes the newest type win: the older type's
//   entries are dropped and `cleared` rises to the newest of them.
// - Strings: last writer wins on the version. The INCR family adds PN-counter shards on top of
//   the string's base: one shard per (leader node, leader incarnation, base version), holding
//   the increments and decrements that leader applied, each only growing; merge takes the max of
//   each. The value is the base (0 when there is none) plus all increments minus all decrements
//   of the current shards. A SET replaces base and shards. While there is a string, the current
//   shards are those on its version; without one, a leader's first INCR since the key was
//   cleared founds its shard on its own version, and the current shards are those founded at or
//   after `cleared`. Other shards are stale: they no longer count, and stay as string entries
//   for the type rule until `cleared` passes their version or purge() drops them.
// - Sets: add-wins observed-remove. Each SADD of a member adds a dot (its write version); an SREM
//   removes the dots its coordinator saw, so a concurrent SADD survives it. A member is present
//   while it has a dot not removed.
// - Hashes field by field, sorted sets member by member: last writer wins per field or member,
//   a delete being a versioned tombstone.
// - Lists: last writer wins on the whole list (its version is `cleared`).
// - Expiry: a last-writer-wins attribute (version, unix ms; 0 = none), identical on all
//   replicas; a key is absent to readers whose clock is past it.
// - Version vector: per coordinator, the newest version of its writes this state merged. merge()
//   reports two states as concurrent when neither vector covers the other.
//   An entry older than `cleared` names only writes the clear wiped, so merge drops it.
// - Tombstones (cleared, removed dots, field and member tombstones) stay until purge(), which
//   drops those older than a grace period.
//
// Thread-safety: a value type.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hlc.h"
#include "common/node_id.h"
#include "common/result.h"

namespace cairn {

struct WriteVersion {
  HlcTimestamp timestamp;
  NodeId node;

  auto operator<=>(const WriteVersion&) const = default;
};

// The Redis type a reader sees; kNone for an absent, deleted or expired key.
enum class KeyStateType : uint8_t { kNone, kString, kSet, kHash, kSortedSet, kList };

// A counter shard's identity: the leader that applies its increments, the leader's incarnation
// (a new one after every restart, so a leader that lost unsynced increments never reuses a
// total), and the string base version the increments apply to.
struct CounterShardId {
  NodeId leader;
  uint64_t incarnation = 0;
  WriteVersion base;

  auto operator<=>(const CounterShardId&) const = default;
};

struct CounterShard {
  uint64_t increments = 0;  // sum of positive deltas; only grows
  uint64_t decrements = 0;  // sum of magnitudes of negative deltas; only grows
  WriteVersion version;     // of the latest change, for the type and cleared rules

  bool operator==(const CounterShard&) const = default;
};

// The writes a state reflects: those its version vector names (a write (t, n) when
// vector[n] >= t), and every write older than `cleared`, which the state's clear superseded
// (merge drops their version vector entries).
struct SeenWrites {
  std::map<NodeId, HlcTimestamp> vector;
  WriteVersion cleared;

  bool reflects(WriteVersion write) const {
    if (write < cleared) return true;
    const auto it = vector.find(write.node);
    return it != vector.end() && it->second >= write.timestamp;
  }
};

struct MergeResult {
  bool changed = false;     // the state differs from before the merge
  bool concurrent = false;  // neither version vector covered the other (both non-empty)
};

class KeyState {
 public:
  // The state of a key nothing was ever written to.
  KeyState() = default;

  // ---- Deltas: the state one write produces. `version` is the write's.
  // SET: replaces the key. expires_at_unix_ms 0 = no expiry.
  static KeyState string_set(WriteVersion version, std::string value, int64_t expires_at_unix_ms);
  // DEL (or an expired key's removal): clears everything older.
  static KeyState deleted(WriteVersion version);
  // INCRBY on the leader: the leader's shard for the current base of `current` (the leader's
  // own merged state), with `delta` added; the delta also carries that base (the string and
  // `cleared`). Answers the new value in *value_after. Fails (invalid_argument, Redis's
  // messages) when the value is not an integer, the result overflows int64, or the key holds
  // another type (WRONGTYPE). On a key expired at now_unix_ms, the delta is a SET of `delta`
  // without expiry, as Redis counts from 0 on a fresh key.
  // REQUIRES: `current` holds every delta this leader made under `incarnation`, and `version`
  // is newer than current.newest_version() (the leader's clock absorbed what it read).
  static Result<KeyState> counter_add(const KeyState& current, NodeId leader, uint64_t incarnation,
                                      WriteVersion version, int64_t delta, int64_t now_unix_ms,
                                      int64_t* value_after);
  // SADD: a dot (the write's version) for each member.
  static KeyState set_add(WriteVersion version, const std::vector<std::string>& members);
  // SREM: removes, for each member, the dots `observed` holds for it (observed_dots()).
  static KeyState set_remove(WriteVersion version, const KeyState& observed,
                             const std::vector<std::string>& members);
  static KeyState hash_set(WriteVersion version,
                           const std::vector<std::pair<std::string, std::string>>& fields);
  static KeyState hash_delete(WriteVersion version, const std::vector<std::string>& fields);
  static KeyState sorted_set_add(WriteVersion version,
                                 const std::vector<std::pair<std::string, double>>& members);
  static KeyState sorted_set_remove(WriteVersion version, const std::vector<std::string>& members);
  // A list written whole (any list command, read-modify-write by its coordinator). An empty list
  // is a DEL, as Redis removes a list with its last element.
  static KeyState list_replace(WriteVersion version, std::vector<std::string> elements);
  // EXPIRE/PERSIST: 0 removes the expiry.
  static KeyState expiry_set(WriteVersion version, int64_t expires_at_unix_ms);
  // Every delta above also records `version` in its version vector; a coordinator that read the
  // key first passes what it read as the causal context (with_context), which merge() compares
  // before it drops the entries older than the clear. A write to a key the coordinator reads as
  // expired is merged with deleted(version) first, so that it starts a fresh key instead of
  // joining the expired one.
  KeyState& with_context(const KeyState& read);

  // ---- Merge. Costs O(size of both states): `changed` compares with a copy of the state before.
  MergeResult merge(const KeyState& other);
  // Whether this delta, merged into any state whose versions are all older than its newest,
  // leaves exactly what it leaves merged into an empty state: true when it clears the key at its
  // own newest version (SET, DEL, a list written whole), as everything older than cleared goes.
  // A replica then need not read the key to apply it (cluster/stored_version_bounds.h).
  bool replaces_older_states() const;
  // Drops tombstones (and removed dots) older than `horizon`. Not part of merge: only a replica
  // that knows every replica saw them may purge (the grace period, longer than the hint window).
  // No read view changes. `cleared` goes only where no delta still in flight could be judged
  // differently for it (docs/cluster-versions.md), so a deleted key keeps it.
  void purge(HlcTimestamp horizon);

  // ---- Reads, as a reader whose clock says now_unix_ms.
  KeyStateType type(int64_t now_unix_ms) const;
  // The string's bytes (a counter's decimal value). nullopt unless type() is kString.
  std::optional<std::string> string_value(int64_t now_unix_ms) const;
  // Members ascending; empty unless type() is kSet.
  std::vector<std::string> set_members(int64_t now_unix_ms) const;
  bool set_contains(std::string_view member, int64_t now_unix_ms) const;
  // Fields ascending with their values; empty unless type() is kHash.
  std::vector<std::pair<std::string, std::string>> hash_fields(int64_t now_unix_ms) const;
  // Members with scores, by (score, member); empty unless type() is kSortedSet.
  std::vector<std::pair<std::string, double>> sorted_set_members(int64_t now_unix_ms) const;
  std::vector<std::string> list_elements(int64_t now_unix_ms) const;
  // 0 when the key has no expiry.
  int64_t expires_at_unix_ms() const;
  // The newest version this state merged (zero for a never-written key): what read repair and
  // traces compare.
  WriteVersion newest_version() const;
  const std::map<NodeId, HlcTimestamp>& version_vector() const { return version_vector_; }
  SeenWrites seen_writes() const { return SeenWrites{version_vector_, cleared_}; }

  // ---- Encoding (docs/cluster-versions.md): self-delimiting, no checksum of its own (the
  // message or engine record around it has one). decode() rejects anything encode() would not
  // produce; it never asserts on input.
  std::string encode() const;
  static Result<KeyState> decode(std::string_view bytes);

  bool operator==(const KeyState& other) const;

 private:
  friend struct KeyStateCodec;  // key_state_codec.cc: encode() and decode()

  struct SetMember {
    std::vector<WriteVersion> dots;     // ascending, unique; the live ones (none in `removed`)
    std::vector<WriteVersion> removed;  // ascending, unique; dots removed by SREMs

    bool operator==(const SetMember&) const = default;
  };
  struct Versioned {  // a hash field's value or a sorted set member's score, or a tombstone
    WriteVersion version;
    std::optional<std::string> value;  // nullopt: deleted

    bool operator==(const Versioned&) const = default;
  };
  // A sorted set score as kept: %.17g prints every double exactly, so strtod restores it.
  static std::string score_text(double score);
  // The newest entry of each type (indexed by KeyStateType; kNone unused), for the type rule.
  using NewestByType = std::array<std::optional<WriteVersion>, 6>;

  // Merge, in key_state.cc: join() unions the entries (max or last writer per entry), then
  // normalize() re-establishes the invariants.
  void join(const KeyState& other);
  void join_list(const KeyState& other);
  void join_set_members(const KeyState& other);
  // Re-establishes the invariants after entries were added: drops entries (version vector ones
  // too) older than cleared_ and entries of types other than the newest entry's (raising
  // cleared_ to the newest dropped).
  void normalize();
  NewestByType newest_by_type() const;
  void drop_older_than_cleared();
  void keep_only(KeyStateType type);
  bool cleared_purgeable() const;

  // Reads, in key_state_reads.cc.
  bool expired(int64_t now_unix_ms) const;
  KeyStateType stored_type() const;  // ignoring expiry
  // Whether the shard counts toward the value (see Strings above).
  bool shard_is_current(const CounterShardId& id) const;
  bool has_current_shard() const;
  // The shard an INCR by (leader, incarnation) at `version` adds to, in key_state_string.cc.
  CounterShardId own_shard_id(NodeId leader, uint64_t incarnation, WriteVersion version) const;

  WriteVersion cleared_;  // zero: never cleared
  // String.
  std::optional<WriteVersion> string_version_;
  std::string string_value_;
  std::map<CounterShardId, CounterShard> counter_shards_;
  // Set, hash, sorted set (a sorted set's score is kept as the %.17g text of the double).
  std::map<std::string, SetMember> set_members_;
  std::map<std::string, Versioned> hash_fields_;
  std::map<std::string, Versioned> sorted_set_members_;
  // List: its version is cleared_.
  std::optional<std::vector<std::string>> list_elements_;
  // Expiry.
  WriteVersion expiry_version_;
  int64_t expires_at_unix_ms_ = 0;
  std::map<NodeId, HlcTimestamp> version_vector_;
};

}  // namespace cairn
