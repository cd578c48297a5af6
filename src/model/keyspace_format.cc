#include "model/keyspace_format.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "model/collection_meta.h"
#include "model/engine_key.h"
#include "model/key_record.h"
#include "model/slot.h"
#include "storage/write_batch.h"

namespace cairn {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kMarkerKey = "\xFF" "F"sv;
constexpr std::string_view kFormatCurrent = "3"sv;
constexpr std::string_view kFormatStaged = "1-staged"sv;
constexpr std::string_view kFormat2 = "2"sv;
// Followed by the engine key phase 3 resumes at.
constexpr std::string_view kFormatSampling = "2-sampling:"sv;
// Format 1's records: [slot: u16][user key], slots below 0x4000.
constexpr std::string_view kFormat1Start = "\x00\x00"sv;
constexpr std::string_view kFormat1End = "\x40"sv;
constexpr std::string_view kStagingStart = "\xFF" "M"sv;
constexpr std::string_view kStagingEnd = "\xFF" "N"sv;
constexpr size_t kSlotBytes = 2;
constexpr uint64_t kRecordsPerStep = 1000;

// Where phase 1 puts a format-1 record.
Result<std::string> staged_key(std::string_view format1_key) {
  if (format1_key.size() < kSlotBytes) {
    return Status::corruption("keyspace format 1: a record key shorter than its slot");
  }
  std::string out(kStagingStart);
  out.append(format1_key);
  return out;
}

// Where phase 2 puts a staged record: its format-2 data key, the slot checked against the key's.
Result<std::string> migrated_key(std::string_view staged) {
  const std::string_view format1_key = staged.substr(kStagingStart.size());
  if (format1_key.size() < kSlotBytes) {
    return Status::corruption("keyspace format 1: a staged key shorter than its slot");
  }
  const std::string_view user_key = format1_key.substr(kSlotBytes);
  std::string out = data_key(user_key);
  if (out.compare(0, kSlotBytes, format1_key.substr(0, kSlotBytes)) != 0) {
    return Status::corruption("keyspace format 1: a record stored under another slot than its key's");
  }
  return out;
}

// Where the elements of `slot` begin: [slot][kElementTag].
std::string element_range_start(uint32_t slot) {
  std::string out = slot_start_key(static_cast<uint16_t>(slot));
  out.push_back(kElementTag);
  return out;
}

// The live generation of the sampled collection at `user_key`, or nullopt when the key holds
// none (absent, another type, or a record this code cannot decode: its elements are unreachable
// through it, and the keyspace reports it when read).
Result<std::optional<uint64_t>> sampled_generation(Database& db, std::string_view user_key) {
  CAIRN_ASSIGN_OR_RETURN(const StoredValue record, db.get_value(ReadOptions(), data_key(user_key)));
  if (record.kind() != StoredValue::Kind::kInline) return std::optional<uint64_t>();
  const Result<DecodedRecord> decoded = decode_record(record.inline_bytes());
  if (!decoded.is_ok() || !has_sample_index(decoded->trailer.type)) {
    return std::optional<uint64_t>();
  }
  const Result<CollectionMeta> meta =
      decode_collection_meta(decoded->trailer.type, decoded->payload);
  if (!meta.is_ok()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(meta->generation);
}

// The sample key of a live element key: the tag changed, the position inserted before the
// element bytes.
std::string sample_key_of(std::string_view element_key, const ElementKey& element) {
  std::string out(element_key.substr(0, element_key.size() - element.element.size()));
  out[kSlotPrefixBytes - 1] = kSampleTag;
  append_sample_element(element.element, element.generation, &out);
  return out;
}

}  // namespace

std::string keyspace_format_marker_key() { return std::string(kMarkerKey); }

Result<bool> KeyspaceFormatMigration::step(uint64_t records_max) {
  CAIRN_ASSERT(records_max > 0);
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> marker,
                         db_.get(ReadOptions(), kMarkerKey));
  int phase = 0;
  if (!marker.has_value()) {
    phase = 1;
  } else if (*marker == kFormatStaged) {
    phase = 2;
  } else if (*marker == kFormat2) {
    return index_samples(records_max, element_range_start(0));
  } else if (marker->starts_with(kFormatSampling)) {
    return index_samples(records_max, marker->substr(kFormatSampling.size()));
  } else if (*marker == kFormatCurrent) {
    return true;
  } else {
    return Status::corruption("keyspace format \"" + *marker + "\" is not one this cairnd reads");
  }
  if (phase != phase_) resume_from_.clear();
  phase_ = phase;
  const std::string_view start = phase == 1 ? kFormat1Start : kStagingStart;
  const std::string_view end = phase == 1 ? kFormat1End : kStagingEnd;

  std::vector<std::string> keys;
  {
    std::unique_ptr<Iterator> it = db_.new_iterator(ReadOptions());
    it->seek(std::max(start, std::string_view(resume_from_)));
    for (; it->valid() && it->key() < end && keys.size() < records_max; it->next()) {
      keys.emplace_back(it->key());
    }
    CAIRN_RETURN_IF_ERROR(it->status());
  }
  if (keys.empty()) {
    CAIRN_RETURN_IF_ERROR(db_.put(kMarkerKey, phase == 1 ? kFormatStaged : kFormat2));
    CAIRN_RETURN_IF_ERROR(db_.sync_wal());
    return false;
  }

  WriteBatch batch;
  for (const std::string& key : keys) {
    CAIRN_ASSIGN_OR_RETURN(const std::string destination,
                           phase == 1 ? staged_key(key) : migrated_key(key));
    CAIRN_ASSIGN_OR_RETURN(const StoredValue value, db_.get_value(ReadOptions(), key));
    if (value.kind() == StoredValue::Kind::kInline) {
      batch.put(destination, value.inline_bytes());
    } else if (value.kind() == StoredValue::Kind::kBlob) {
      // Copied a chunk at a time under its own commit; the batch deletes the original.
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ValueWriter> writer,
                             db_.put_stream(destination, value.size_bytes()));
      CAIRN_RETURN_IF_ERROR(value.append_prefix_to(value.size_bytes(), *writer));
      CAIRN_RETURN_IF_ERROR(writer->commit());
    }
    batch.remove(key);
  }
  CAIRN_RETURN_IF_ERROR(db_.write(batch));
  resume_from_ = keys.back() + '\0';
  return false;
}

Result<bool> KeyspaceFormatMigration::index_samples(uint64_t elements_max,
                                                    std::string_view resume_at) {
  WriteBatch batch;
  std::string last_key;      // the last element examined
  std::string cached_key;    // the user key whose record `cached` describes
  std::optional<uint64_t> cached;
  bool have_cached = false;
  uint64_t examined = 0;
  bool finished = true;
  {
    std::unique_ptr<Iterator> it = db_.new_iterator(ReadOptions());
    const std::string data_end = data_end_key();
    it->seek(resume_at);
    while (it->valid() && it->key() < data_end) {
      const std::string_view key = it->key();
      if (key.size() < kSlotPrefixBytes) {  // not a format-2 key
        it->next();
        continue;
      }
      const uint32_t slot = engine_key_slot(key);
      if (key[kSlotPrefixBytes - 1] < kElementTag) {
        it->seek(element_range_start(slot));  // the slot's records: on to its elements
        continue;
      }
      if (key[kSlotPrefixBytes - 1] > kElementTag) {  // past the slot's elements
        if (slot + 1 == kSlotCount) break;
        it->seek(element_range_start(slot + 1));
        continue;
      }
      if (examined == elements_max) {
        finished = false;
        break;
      }
      examined++;
      ElementKey element;
      // An element key that does not parse is reachable by no record: it is left alone.
      if (parse_element_key(key, &element)) {
        if (!have_cached || element.user_key != cached_key) {
          cached_key.assign(element.user_key);
          CAIRN_ASSIGN_OR_RETURN(cached, sampled_generation(db_, cached_key));
          have_cached = true;
        }
        if (cached.has_value() && *cached == element.generation) {
          batch.put(sample_key_of(key, element), "");
        }
      }
      last_key.assign(key);
      it->next();
    }
    CAIRN_RETURN_IF_ERROR(it->status());
  }
  // The records and the progress in one batch: a crash resumes after the last batch applied.
  if (finished) {
    batch.put(kMarkerKey, kFormatCurrent);
  } else {
    std::string marker(kFormatSampling);
    marker.append(last_key);
    marker.push_back('\0');  // the key right after the last element examined
    batch.put(kMarkerKey, marker);
  }
  CAIRN_RETURN_IF_ERROR(db_.write(batch));
  if (finished) CAIRN_RETURN_IF_ERROR(db_.sync_wal());
  return finished;
}

Status ensure_keyspace_format(Database& db) {
  KeyspaceFormatMigration migration(db);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool done, migration.step(kRecordsPerStep));
    if (done) return Status::ok();
  }
}

}  // namespace cairn
