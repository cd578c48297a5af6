// Helpers the data-type command files (hash_commands.cc, set_commands.cc, ...) share: opening a
// key's collection for a write with Redis's type rules and replies, asking whether an element
// exists, and committing the command's batch with the collection's record.
//
// Thread-safety: pure functions over the handler's own context; the caller holds the locks of
// the keys it writes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "server/collection.h"
#include "server/collection_sample.h"
#include "server/command.h"
#include "server/keyspace.h"

namespace cairn {

// A collection being changed by one command: what its key held, and the collection it writes.
struct CollectionWrite {
  FoundCollection found;
  std::optional<Collection> collection;
};

// Reads `key` for a write of a `type` collection (REQUIRES: its lock held). Replies the error
// (or WRONGTYPE) and returns false on failure. `create`: an absent key gets a new empty
// collection with a fresh generation; otherwise write->collection stays empty for it.
bool open_collection_for_write(CommandContext& context, std::string_view key, RecordType type,
                               bool create, CollectionWrite* write);
// Whether `element` exists in the collection being written, read before its write (so the row
// cache keeps the entry the write then updates). REQUIRES: write.collection set.
Result<bool> element_exists(Keyspace& keyspace, const CollectionWrite& write,
                            std::string_view element);
// HDEL / SREM key element [element ...]: removes the named elements of the `type` collection
// at argv[1] in one batch (the key goes with its last element); replies how many were there.
void remove_elements(CommandContext& context, RecordType type);

// What a scan replies after each element: nothing (SSCAN), its value (HSCAN), or its value
// decoded as a sorted-set score and formatted as Redis does (ZSCAN).
enum class ScanValues { kNone, kRaw, kScore };
// HSCAN / SSCAN / ZSCAN key cursor [MATCH pattern] [COUNT count] over a `type` collection:
// replies [cursor, [element (value) ...]]. As Redis, the options are parsed only when the key
// exists.
void scan_collection(CommandContext& context, RecordType type, ScanValues values);

// The count argument of HRANDFIELD / SRANDMEMBER (ZRANDMEMBER): negative draws with repeats.
// Negative counts draw at most kRandomDrawsMax (held in memory before the reply is written).
constexpr uint64_t kRandomDrawsMax = uint64_t{1} << 24;
struct RandomCount {
  bool distinct = true;  // a count >= 0: different elements
  uint64_t wanted = 1;   // |count|
};
// Parses it as Redis does (an integer within [-LONG_MAX, LONG_MAX]); replies the error and
// returns nullopt otherwise.
std::optional<RandomCount> parse_random_count(CommandContext& context, std::string_view text);
// The common tail of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER once their arguments are parsed
// (`count` nullopt when none was given): reads the `type` collection at argv[1] at a snapshot
// and draws from it (random_elements, collection_sample.h). Replies what all of them reply
// alike and returns nullopt: the error or WRONGTYPE; for an absent key a null without a count,
// an empty array with one; an empty array for a count of 0; the element alone without a count.
// Otherwise returns the drawn elements (with their values when `with_values`) for the caller to
// reply.
std::optional<ElementValues> draw_random_elements(CommandContext& context, RecordType type,
                                                  const std::optional<RandomCount>& count,
                                                  bool with_values);

// How a pop that finds nothing answers: at once, or by waiting (the blocking variants, given
// their timeout in ms) when the context allows it.
struct Waiting {
  bool blocking = false;
  uint64_t timeout_ms = 0;
};
// Replies what a pop that found none of `keys` holding a collection answers: its null (a null
// array if `null_array`) at once, or nothing yet, having registered the client to wait on them
// (REQUIRES: their locks held). Its timeout replies a null array whatever `null_array` says: Redis
// 7.0's BLMOVE answers a null inside MULTI but a null array when it times out.
void wait_or_reply_null(CommandContext& context, std::span<const std::string_view> keys,
                        const Waiting& waiting, bool null_array);
// Reads `key` for a pop of a `type` collection (REQUIRES: its lock held): as
// open_collection_for_write without creating, except that on a blocked client's retry a key of
// another type reads as absent (Redis 7.0 keeps such a client waiting). Replies and returns false
// on error.
bool open_for_pop(CommandContext& context, std::string_view key, RecordType type,
                  CollectionWrite* write);

// LMPOP / ZMPOP numkeys key [key ...] <where> [COUNT count], numkeys at argv[first], and their
// blocking forms (BLMPOP / BZMPOP timeout numkeys ..., the timeout at argv[1], parsed last as
// Redis does). `where` names the two accepted words of <where> (LEFT/RIGHT, MIN/MAX).
struct MultiPopRequest {
  std::span<const std::string_view> keys;
  bool second_where = false;  // <where> is where[1] (RIGHT, MAX)
  uint64_t count = 1;
  Waiting waiting;
};
// Replies Redis's error and returns nullopt on failure.
std::optional<MultiPopRequest> parse_multi_pop(CommandContext& context, size_t first,
                                               bool blocking,
                                               const std::array<std::string_view, 2>& where);

// Adds the collection's record to `batch` (removing the key if it has no elements left) and
// commits; replies the error and returns false on failure.
bool commit_collection(CommandContext& context, KeyspaceWrite& batch, const CollectionWrite& write);

}  // namespace cairn
