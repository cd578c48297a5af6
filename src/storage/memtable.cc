#include "storage/memtable.h"

#include <cstring>

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

}  // namespace

int MemTable::EntryComparator::operator()(const char* a, const char* b) const {
  return compare_internal_keys(entry_internal_key(a), entry_internal_key(b));
}

MemTable::MemTable(uint64_t skiplist_seed) : table_(EntryComparator(), &arena_, skiplist_seed) {}

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
  char* const entry = arena_.allocate(entry_bytes);
  char* cursor = entry;
  cursor += encode_varint64(cursor, internal_key_bytes);
  cursor = copy_bytes(cursor, user_key);
  encode_fixed64(cursor, pack_sequence_and_type(sequence, type));
  cursor += kInternalKeyTrailerBytes;
  cursor += encode_varint64(cursor, value.size());
  cursor = copy_bytes(cursor, value);
  CAIRN_ASSERT(cursor == entry + entry_bytes);

  if (type == ValueType::kBlobReference) {
    BlobReference reference;
    const bool decoded = decode_blob_reference(value, &reference);
    CAIRN_ASSERT(decoded);
    std::lock_guard lock(blob_files_mutex_);
    blob_file_numbers_.insert(reference.file_number);
  }
  table_.insert(entry);
  entry_count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> MemTable::blob_file_numbers() const {
  std::lock_guard lock(blob_files_mutex_);
  return {blob_file_numbers_.begin(), blob_file_numbers_.end()};
}

LookupResult MemTable::get(std::string_view user_key, SequenceNumber sequence,
                           std::string* value) const {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  // The first entry at or after (user_key, sequence) is the newest one visible at `sequence`,
  // if it is for user_key at all.
  const LookupKey target(user_key, sequence);
  Table::Iterator iterator(&table_);
  iterator.seek(target.memtable_key().data());
  if (!iterator.valid()) return LookupResult::kAbsent;

  const char* entry = iterator.key();
  ParsedInternalKey parsed;
  const bool parsed_ok = parse_internal_key(entry_internal_key(entry), &parsed);
  CAIRN_ASSERT(parsed_ok);
  if (parsed.user_key != user_key) return LookupResult::kAbsent;
  CAIRN_ASSERT(parsed.sequence <= sequence);
  if (parsed.type == ValueType::kDeletion) return LookupResult::kDeleted;
  value->assign(entry_value(entry));
  return parsed.type == ValueType::kBlobReference ? LookupResult::kBlobReference
                                                  : LookupResult::kFound;
}

class MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(const MemTable::Table* table) : iterator_(table) {}

  bool valid() const override { return iterator_.valid(); }
  void seek_to_first() override { iterator_.seek_to_first(); }
  void seek(std::string_view target) override {
    encode_seek_target(target, &seek_target_);
    iterator_.seek(seek_target_.data());
  }
  void next() override { iterator_.next(); }
  std::string_view key() const override { return entry_internal_key(iterator_.key()); }
  std::string_view value() const override { return entry_value(iterator_.key()); }
  Status status() const override { return Status::ok(); }

 private:
  MemTable::Table::Iterator iterator_;
  std::string seek_target_;  // reused across seeks
};

std::unique_ptr<Iterator> MemTable::new_iterator() const {
  return std::make_unique<MemTableIterator>(&table_);
}

}  // namespace cairn
