#include "storage/memtable.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/assert.h"
#include "common/coding.h"
#include "storage/blob_format.h"

namespace cairn {
namespace {

// Entries were encoded by add(), so decoding them cannot fail. get_varint32 reads only up to the
// varint's last byte, so the view may claim kVarint32LengthMax bytes near the arena's edge.
std::string_view decode_length_prefixed(const char* data) {
  std::string_view input(data, kVarint32LengthMax);
  uint32_t length = 0;
  const bool decoded = get_varint32(&input, &length);
  CAIRN_ASSERT(decoded);
  return std::string_view(input.data(), length);
}

std::string_view entry_internal_key(const char* entry) { return decode_length_prefixed(entry); }

std::string_view entry_value(const char* entry) {
  const std::string_view internal_key = decode_length_prefixed(entry);
  return decode_length_prefixed(internal_key.data() + internal_key.size());
}

char* copy_bytes(char* destination, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(destination, bytes.data(), bytes.size());
  return destination + bytes.size();
}

// A seek target in the entry encoding: the length-prefixed internal key, no value.
void encode_seek_target(std::string_view internal_key, std::string* destination) {
  CAIRN_ASSERT(internal_key.size() >= kInternalKeyTrailerBytes);
  destination->clear();
  put_length_prefixed(destination, internal_key);
}

// The first 8 bytes of user_key as a big-endian number, zero-padded. Zero padding keeps order:
// when two keys' padded prefixes differ, the keys compare as their prefixes do.
uint64_t user_key_prefix(std::string_view user_key) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, user_key.data(), std::min(user_key.size(), sizeof(bytes)));
  uint64_t prefix = 0;
  for (const unsigned char byte : bytes) prefix = (prefix << 8) | byte;
  return prefix;
}

std::string_view entry_user_key(const char* entry) {
  return extract_user_key(entry_internal_key(entry));
}

// Internal-key order puts the newer version of a user key first.
bool entry_is_newer(const char* a, const char* b) {
  return compare_internal_keys(entry_internal_key(a), entry_internal_key(b)) < 0;
}

// Entries were encoded by add(), so parsing them cannot fail.
ParsedInternalKey parse_entry(const char* entry) {
  ParsedInternalKey parsed;
  const bool parsed_ok = parse_internal_key(entry_internal_key(entry), &parsed);
  CAIRN_ASSERT(parsed_ok);
  return parsed;
}

// What a lookup finds at `entry`: its value unless it is a tombstone.
LookupResult entry_lookup_result(const char* entry, const ParsedInternalKey& parsed,
                                 std::string* value) {
  if (parsed.type == ValueType::kDeletion) return LookupResult::kDeleted;
  value->assign(entry_value(entry));
  return parsed.type == ValueType::kBlobReference ? LookupResult::kBlobReference
                                                  : LookupResult::kFound;
}

}  // namespace

size_t memtable_point_index_slots(size_t write_buffer_bytes) {
  constexpr size_t kBytesPerSlot = 32;
  constexpr size_t kSlotCountMin = 1 << 10;
  return std::max(kSlotCountMin, write_buffer_bytes / kBytesPerSlot);
}

int MemTable::EntryComparator::operator()(const EntryKey& a, const EntryKey& b) const {
  if (a.user_key_prefix != b.user_key_prefix) {
    return a.user_key_prefix < b.user_key_prefix ? -1 : 1;
  }
  return compare_internal_keys(entry_internal_key(a.entry), entry_internal_key(b.entry));
}

MemTable::MemTable(const MemTableOptions& options)
    : skiplist_seed_(options.skiplist_seed),
      point_index_(options.point_index_slot_count, &entry_user_key, &entry_is_newer),
      point_index_complete_(options.point_index_slot_count > 0) {}

void MemTable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  CAIRN_ASSERT(type <= kValueTypeMax);
  CAIRN_ASSERT(user_key.size() <= UINT32_MAX - kInternalKeyTrailerBytes);
  CAIRN_ASSERT(value.size() <= UINT32_MAX);
  const size_t internal_key_bytes = user_key.size() + kInternalKeyTrailerBytes;
  const size_t entry_bytes = static_cast<size_t>(varint_length(internal_key_bytes)) +
                             internal_key_bytes + static_cast<size_t>(varint_length(value.size())) +
                             value.size();
  // The entry lives in its skiplist node (SkipList::insert_with_payload).
  const char* entry = nullptr;
  const auto encode_entry = [&](char* payload) -> EntryKey {
    char* cursor = payload;
    cursor += encode_varint64(cursor, internal_key_bytes);
    cursor = copy_bytes(cursor, user_key);
    encode_fixed64(cursor, pack_sequence_and_type(sequence, type));
    cursor += kInternalKeyTrailerBytes;
    cursor += encode_varint64(cursor, value.size());
    cursor = copy_bytes(cursor, value);
    CAIRN_ASSERT(cursor == payload + entry_bytes);
    entry = payload;
    return EntryKey{entry, user_key_prefix(user_key)};
  };

  if (type == ValueType::kBlobReference) {
    BlobReference reference;
    const bool decoded = decode_blob_reference(value, &reference);
    CAIRN_ASSERT(decoded);
    std::lock_guard lock(blob_files_mutex_);
    blob_file_numbers_.insert(reference.file_number);
  }
  const size_t index = table_index(user_key);
  if (owned_tables_[index] == nullptr) {
    owned_tables_[index] =
        std::make_unique<Table>(EntryComparator(), &arena_, skiplist_seed_ + index);
    tables_[index].store(owned_tables_[index].get(), std::memory_order_release);
  }
  owned_tables_[index]->insert_with_payload(entry_bytes, encode_entry);
  // After the skiplist: a reader sent to the skiplist by a refused key must find the entry there.
  if (!point_index_.put(user_key, entry)) {
    point_index_complete_.store(false, std::memory_order_release);
  }
  entry_count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> MemTable::blob_file_numbers() const {
  std::lock_guard lock(blob_files_mutex_);
  return {blob_file_numbers_.begin(), blob_file_numbers_.end()};
}

LookupResult MemTable::get(std::string_view user_key, SequenceNumber sequence,
                           std::string* value) const {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  // Read before the index: entries a reader may see at `sequence` were added (and indexed, or
  // this flag cleared) before that sequence was published to it.
  const bool complete = point_index_complete_.load(std::memory_order_acquire);
  const char* const newest = point_index_.find(user_key);
  if (newest == nullptr) {
    return complete ? LookupResult::kAbsent : get_from_skiplist(user_key, sequence, value);
  }
  const ParsedInternalKey parsed = parse_entry(newest);
  // A snapshot older than the newest entry needs the skiplist's older versions.
  if (parsed.sequence > sequence) return get_from_skiplist(user_key, sequence, value);
  return entry_lookup_result(newest, parsed, value);
}

LookupResult MemTable::get_from_skiplist(std::string_view user_key, SequenceNumber sequence,
                                         std::string* value) const {
  // The first entry at or after (user_key, sequence) is the newest one visible at `sequence`,
  // if it is for user_key at all.
  const Table* const table = this->table(table_index(user_key));
  if (table == nullptr) return LookupResult::kAbsent;
  const LookupKey target(user_key, sequence);
  Table::Iterator iterator(table);
  iterator.seek(EntryKey{target.memtable_key().data(), user_key_prefix(user_key)});
  if (!iterator.valid()) return LookupResult::kAbsent;
  const char* const entry = iterator.key().entry;
  const ParsedInternalKey parsed = parse_entry(entry);
  if (parsed.user_key != user_key) return LookupResult::kAbsent;
  CAIRN_ASSERT(parsed.sequence <= sequence);
  return entry_lookup_result(entry, parsed, value);
}

// Walks the lists in turn; a list it finds empty may gain entries later, which this iterator
// then may or may not see, as with one list.
class MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(const MemTable& memtable) : memtable_(memtable) {}

  bool valid() const override { return iterator_.has_value() && iterator_->valid(); }
  void seek_to_first() override {
    if (start_at(0)) iterator_->seek_to_first();
    skip_exhausted_tables();
  }
  void seek(std::string_view target) override {
    encode_seek_target(target, &seek_target_);
    const std::string_view user_key = extract_user_key(target);
    if (start_at(MemTable::table_index(user_key))) {
      iterator_->seek(MemTable::EntryKey{seek_target_.data(), user_key_prefix(user_key)});
    }
    skip_exhausted_tables();
  }
  void next() override {
    CAIRN_ASSERT(valid());
    iterator_->next();
    skip_exhausted_tables();
  }
  std::string_view key() const override { return entry_internal_key(iterator_->key().entry); }
  std::string_view value() const override { return entry_value(iterator_->key().entry); }
  Status status() const override { return Status::ok(); }

 private:
  // Points at list `index`, unpositioned; false (and no iterator) if it does not exist yet.
  bool start_at(size_t index) {
    table_ = index;
    const MemTable::Table* table = memtable_.table(index);
    if (table == nullptr) {
      iterator_.reset();
      return false;
    }
    iterator_.emplace(table);
    return true;
  }
  // Moves from the end of a list (or a missing one) to the first entry of the next non-empty one.
  void skip_exhausted_tables() {
    while (!valid() && table_ + 1 < MemTable::kTableCount) {
      if (start_at(table_ + 1)) iterator_->seek_to_first();
    }
  }

  const MemTable& memtable_;
  size_t table_ = 0;
  std::optional<MemTable::Table::Iterator> iterator_;  // over tables_[table_]; set once positioned
  std::string seek_target_;                            // reused across seeks
};

std::unique_ptr<Iterator> MemTable::new_iterator() const {
  return std::make_unique<MemTableIterator>(*this);
}

}  // namespace cairn
