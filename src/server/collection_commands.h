// Helpers the data-type command files (hash_commands.cc, set_commands.cc, ...) share: opening a
// key's collection for a write with Redis's type rules and replies, asking whether an element
// exists, and committing the command's batch with the collection's record.
//
// Thread-safety: pure functions over the handler's own context; the caller holds the locks of
// the keys it writes.
#pragma once

#include <optional>
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
// HDEL / SREM (ZREM) key element [element ...]: removes the named elements of the `type`
// collection at argv[1] in one batch (the key goes with its last element); replies how many
// were there.
void remove_elements(CommandContext& context, RecordType type);

// HSCAN / SSCAN (ZSCAN) key cursor [MATCH pattern] [COUNT count] over a `type` collection:
// replies [cursor, [element (value if `with_values`) ...]]. As Redis, the options are parsed
// only when the key exists.
void scan_collection(CommandContext& context, RecordType type, bool with_values);

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

// Adds the collection's record to `batch` (removing the key if it has no elements left) and
// commits; replies the error and returns false on failure.
bool commit_collection(CommandContext& context, KeyspaceWrite& batch, const CollectionWrite& write);

}  // namespace cairn
