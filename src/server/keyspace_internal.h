// Pieces of the keyspace shared by its .cc files and the command handlers, not part of its
// public face: the user-key size check and the compaction filter that drops expired records.
// Thread-safety: the filter is immutable and called from compaction threads.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "io/clock.h"
#include "model/engine_key.h"
#include "model/key_record.h"
#include "storage/database.h"
#include "storage/options.h"

namespace cairn {

// InvalidArgument "key too large (max 65536 bytes)" for a key over kUserKeyBytesMax.
Status check_user_key(std::string_view key);
// InvalidArgument "element too large (max 524288 bytes)" for a hash field, set member or
// sorted-set member over kElementBytesMax.
Status check_element(std::string_view element);

// The keyspace's compaction filter (docs/keyspace-format.md, "Compaction"): drops records whose
// expiry passed (by the keyspace's wall clock) and the elements (score and sample index records
// too) of collection generations that are no longer live: their key's record is absent, of
// another type (or of a type without that index) or of another generation, unless a collection
// of that generation is being built (building_generations.h), whose record is yet to come.
// Generations are never reused (generation_allocator.h), so an element once unreachable (and not
// being built) stays so. An element's record is looked up in the database, once it is attached:
// until then, and whenever the lookup fails or finds bytes it cannot decode, the element is kept.
// Expiry index entries are kept. A compaction job looks a record up once for a run of its
// elements: they come in key order, one collection's together.
// Thread-safety: called from compaction threads; attach() before any compaction reads elements.
class KeyspaceCompactionFilter final : public CompactionFilter {
 public:
  KeyspaceCompactionFilter(const Clock* wall_clock, const BuildingGenerations* building)
      : clock_(wall_clock), building_(building) {}
  void attach(Database* database) { database_.store(database); }
  bool should_drop(std::string_view engine_key,
                   std::optional<std::string_view> value) const override;
  std::unique_ptr<Job> start_job() const override;

  // What a collection's record says of its elements, as one lookup found it.
  struct RecordState {
    enum class Kind {
      kUnknown,     // no database yet, a failed lookup or bytes that do not decode: keep
      kNone,        // absent, or not a collection: every element is unreachable
      kCollection,  // a live collection of `type` at `generation`
    };
    Kind kind = Kind::kUnknown;
    RecordType type = RecordType::kString;
    uint64_t generation = 0;
  };
  RecordState read_record(std::string_view user_key) const;
  // Whether `element` is unreachable given its key's record. REQUIRES: `record` is its record.
  bool element_unreachable(const ElementKey& element, const RecordState& record) const;
  // Whether an engine key that is not an element's may go: a record whose expiry passed.
  bool record_dropped(std::string_view engine_key, std::optional<std::string_view> value) const;

 private:

  const Clock* clock_;
  const BuildingGenerations* building_;
  std::atomic<Database*> database_{nullptr};
};

}  // namespace cairn
