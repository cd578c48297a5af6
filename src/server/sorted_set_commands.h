// What the sorted-set command files (sorted_set_commands.cc, sorted_set_range_commands.cc,
// sorted_set_algebra_commands.cc) share: replying scored members as Redis 7.0 does, and
// replacing a key with a computed sorted set (ZRANGESTORE, ZUNIONSTORE, ...).
//
// Thread-safety: pure functions over the handler's own context; the caller holds the locks of
// the keys it writes.
#pragma once

#include <span>
#include <string_view>

#include "server/command.h"
#include "server/sorted_set.h"

namespace cairn {

// Members as ZRANGE replies them: an array of members; WITHSCORES, member and score flat in
// RESP2, a [member, score] pair per member in RESP3.
void reply_scored_members(CommandContext& context, std::span<const ScoredMember> members,
                          bool with_scores);
// Members as ZMPOP replies them: a [member, score] pair per member in either protocol.
void reply_member_pairs(CommandContext& context, std::span<const ScoredMember> members);

// Replaces `destination` (any type, or absent) with a sorted set of `members` (each once), or
// removes it when there are none, and replies the member count. REQUIRES: its lock held.
void store_sorted_set(CommandContext& context, std::string_view destination,
                      std::span<const ScoredMember> members);

}  // namespace cairn
