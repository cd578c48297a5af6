#include "model/keyspace_format.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "model/engine_key.h"
#include "model/slot.h"
#include "storage/write_batch.h"

namespace cairn {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kMarkerKey = "\xFF" "F"sv;
constexpr std::string_view kFormatCurrent = "2"sv;
constexpr std::string_view kFormatStaged = "1-staged"sv;
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
    CAIRN_RETURN_IF_ERROR(db_.put(kMarkerKey, phase == 1 ? kFormatStaged : kFormatCurrent));
    CAIRN_RETURN_IF_ERROR(db_.sync_wal());
    return phase == 2;
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

Status ensure_keyspace_format(Database& db) {
  KeyspaceFormatMigration migration(db);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool done, migration.step(kRecordsPerStep));
    if (done) return Status::ok();
  }
}

}  // namespace cairn
