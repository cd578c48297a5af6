// KeyspaceFormat: which layout of engine keys a database holds (docs/keyspace-format.md), kept in
// a marker record, and the one-time moves of an older database to the current format 3.
//
//   format 1 (cairnd before the data types): a record's key is [slot: u16][user key]
//   format 2: [slot: u16][tag: u8][...], the tag 0x00 for a user key's record (engine_key.h)
//   format 3: format 2 with a sample index record (tag 0x03) for every member of every set, hash
//             and sorted set (collection_meta.h, has_sample_index)
//
// The two layouts cannot be told apart by their bytes (a format-1 user key may begin with 0x00),
// so the move goes through a staging area, in two phases that each survive a crash at any point:
//   1. (no marker) every record [slot][user key] moves to [0xFF]['M'][slot][user key]; one batch
//      writes the copy and deletes the original. Then the marker says "staged".
//   2. (marker "staged") every staged record moves to data_key(user key). Then the marker says 2.
// A crash leaves a prefix of the batches applied (the WAL's order), so every record is in exactly
// one place, or, for a value in a blob file (copied by streaming, then its original deleted in a
// later batch), in both: the phase, run again, moves it again. A database with no record and no
// staged record is given the marker at once.
// From format 2 a third phase writes the sample index of the collections written before it:
//   3. (marker "2", or "2-sampling:" followed by the engine key to resume at) walks the element
//      records ([slot][0x01]...) slot by slot, and for each one of its key's live generation
//      whose record is a set, hash or sorted set writes its sample record. Each batch carries the
//      marker with the key after its last element, so a crash resumes after the last batch
//      applied (and writing a sample record again is harmless). At the end the marker says 3.
// New collections get their sample records from their writes (server/collection.h), so a
// database that reached format 3 never needs the walk again.
//
// Thread-safety: call before the database serves anything; nothing else may write meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/database.h"

namespace cairn {

// The marker's engine key: [0xFF]['F'], after every data key and outside the expiry index.
std::string keyspace_format_marker_key();

// Brings the database to format 3 (doing nothing when it is already there). Corruption when the
// marker names a format this code does not know, or a record's key cannot be a format-1 key.
Status ensure_keyspace_format(Database& db);

// The move as steps, which tests stop between as a crash would. REQUIRES: `db` outlives it.
class KeyspaceFormatMigration {
 public:
  explicit KeyspaceFormatMigration(Database& db) : db_(db) {}

  // Moves at most `records_max` records (REQUIRES > 0) of the current phase (phase 3: examines
  // at most that many elements), or, when none is left, writes the next marker (and syncs the
  // WAL). True once the database is in the current format.
  Result<bool> step(uint64_t records_max);

 private:
  // Phase 3 from the engine key `resume_at`.
  Result<bool> index_samples(uint64_t elements_max, std::string_view resume_at);

  Database& db_;
  int phase_ = 0;            // of the last step: 1 or 2, 0 before the first
  std::string resume_from_;  // in that phase, every record before this key has moved
};

}  // namespace cairn
