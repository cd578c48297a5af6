// Pieces of the keyspace shared by its .cc files and the command handlers, not part of its
// public face: the user-key size check and the compaction filter that drops expired records.
// Thread-safety: the filter is immutable and called from compaction threads.
#pragma once

#include <string_view>

#include "common/status.h"
#include "io/clock.h"
#include "storage/options.h"

namespace cairn {

// InvalidArgument "key too large (max 65536 bytes)" for a key over kUserKeyBytesMax.
Status check_user_key(std::string_view key);

// Drops string records whose expiry passed (by the keyspace's wall clock). Expiry index entries
// and anything it cannot decode are kept.
class ExpiredRecordFilter final : public CompactionFilter {
 public:
  explicit ExpiredRecordFilter(const Clock* wall_clock) : clock_(wall_clock) {}
  bool should_drop(std::string_view engine_key, std::string_view value) const override;

 private:
  const Clock* clock_;
};

}  // namespace cairn
