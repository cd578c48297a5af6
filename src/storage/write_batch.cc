#include "storage/write_batch.h"

#include "common/assert.h"
#include "common/coding.h"
#include "storage/blob_format.h"
#include "storage/memtable.h"

namespace cairn {
namespace {

constexpr size_t kCountOffset = sizeof(uint64_t);

Status malformed(std::string_view what, size_t offset) {
  return Status::corruption("write batch: " + std::string(what) + " at byte " +
                            std::to_string(offset));
}

// Walks the operations of untrusted `contents`, passing each to `handler`.
Status parse_operations(std::string_view contents, WriteBatch::Handler& handler) {
  if (contents.size() < kWriteBatchHeaderBytes) return malformed("header cut short", 0);
  const uint32_t count = decode_fixed32(contents.data() + kCountOffset);
  std::string_view input = contents.substr(kWriteBatchHeaderBytes);
  uint32_t found = 0;
  while (!input.empty()) {
    const size_t offset = contents.size() - input.size();
    // The count bounds the loop: bytes past the last counted operation are an error.
    if (found == count) return malformed("bytes after the last counted operation", offset);
    const auto type = static_cast<uint8_t>(input.front());
    input.remove_prefix(1);
    std::string_view key;
    if (!get_length_prefixed(&input, &key)) return malformed("bad key", offset);
    if (type == static_cast<uint8_t>(ValueType::kValue)) {
      std::string_view value;
      if (!get_length_prefixed(&input, &value)) return malformed("bad value", offset);
      handler.put(key, value);
    } else if (type == static_cast<uint8_t>(ValueType::kBlobReference)) {
      std::string_view encoded;
      BlobReference reference;
      if (!get_length_prefixed(&input, &encoded) || !decode_blob_reference(encoded, &reference)) {
        return malformed("bad blob reference", offset);
      }
      handler.put_blob_reference(key, encoded);
    } else if (type == static_cast<uint8_t>(ValueType::kDeletion)) {
      handler.remove(key);
    } else {
      return malformed("unknown operation type " + std::to_string(type), offset);
    }
    found++;
  }
  if (found != count) {
    return malformed(
        "count " + std::to_string(count) + " but " + std::to_string(found) + " operations",
        kCountOffset);
  }
  return Status::ok();
}

class IgnoringHandler final : public WriteBatch::Handler {
 public:
  void put(std::string_view, std::string_view) override {}
  void remove(std::string_view) override {}
  void put_blob_reference(std::string_view, std::string_view) override {}
};

class MemTableInserter final : public WriteBatch::Handler {
 public:
  MemTableInserter(SequenceNumber sequence, MemTable* memtable, WriteBatch::Handler* then)
      : sequence_(sequence), memtable_(memtable), then_(then) {}
  void put(std::string_view key, std::string_view value) override {
    memtable_->add(sequence_++, ValueType::kValue, key, value);
    if (then_ != nullptr) then_->put(key, value);
  }
  void remove(std::string_view key) override {
    memtable_->add(sequence_++, ValueType::kDeletion, key, std::string_view());
    if (then_ != nullptr) then_->remove(key);
  }
  void put_blob_reference(std::string_view key, std::string_view encoded_reference) override {
    memtable_->add(sequence_++, ValueType::kBlobReference, key, encoded_reference);
    if (then_ != nullptr) then_->put_blob_reference(key, encoded_reference);
  }

 private:
  SequenceNumber sequence_;
  MemTable* const memtable_;
  WriteBatch::Handler* const then_;
};

}  // namespace

WriteBatch::WriteBatch() { clear(); }

void WriteBatch::put(std::string_view key, std::string_view value) {
  put_parts({&key, 1}, {&value, 1});
}

void WriteBatch::put_parts(std::span<const std::string_view> key_parts,
                           std::span<const std::string_view> value_parts) {
  size_t key_bytes = 0;
  for (const std::string_view part : key_parts) key_bytes += part.size();
  size_t value_bytes = 0;
  for (const std::string_view part : value_parts) value_bytes += part.size();
  CAIRN_ASSERT(key_bytes <= UINT32_MAX && value_bytes <= UINT32_MAX);
  CAIRN_ASSERT(count() < UINT32_MAX);
  set_count(count() + 1);
  // One growth for the whole operation rather than one per append (libstdc++'s reserve at least
  // doubles the buffer, so a batch of many puts is still not copied once per put).
  contents_.reserve(contents_.size() + 1 + 2 * kVarint32LengthMax + key_bytes + value_bytes);
  contents_.push_back(static_cast<char>(ValueType::kValue));
  put_varint32(&contents_, static_cast<uint32_t>(key_bytes));
  for (const std::string_view part : key_parts) contents_.append(part);
  put_varint32(&contents_, static_cast<uint32_t>(value_bytes));
  for (const std::string_view part : value_parts) contents_.append(part);
}

void WriteBatch::remove(std::string_view key) {
  CAIRN_ASSERT(key.size() <= UINT32_MAX);
  CAIRN_ASSERT(count() < UINT32_MAX);
  set_count(count() + 1);
  contents_.push_back(static_cast<char>(ValueType::kDeletion));
  put_length_prefixed(&contents_, key);
}

void WriteBatch::put_blob_reference(std::string_view key, const BlobReference& reference) {
  CAIRN_ASSERT(key.size() <= UINT32_MAX);
  CAIRN_ASSERT(count() < UINT32_MAX);
  std::string encoded;
  encode_blob_reference(&encoded, reference);
  set_count(count() + 1);
  contents_.push_back(static_cast<char>(ValueType::kBlobReference));
  put_length_prefixed(&contents_, key);
  put_length_prefixed(&contents_, encoded);
}

void WriteBatch::clear() { contents_.assign(kWriteBatchHeaderBytes, '\0'); }

uint32_t WriteBatch::count() const { return decode_fixed32(contents_.data() + kCountOffset); }

void WriteBatch::set_count(uint32_t count) {
  encode_fixed32(contents_.data() + kCountOffset, count);
}

void WriteBatch::append(const WriteBatch& other) {
  CAIRN_ASSERT(&other != this);
  CAIRN_ASSERT(other.count() <= UINT32_MAX - count());
  set_count(count() + other.count());
  contents_.append(other.contents_, kWriteBatchHeaderBytes);
}

SequenceNumber WriteBatch::sequence() const { return decode_fixed64(contents_.data()); }

void WriteBatch::set_sequence(SequenceNumber sequence) {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  encode_fixed64(contents_.data(), sequence);
}

Result<WriteBatch> WriteBatch::from_contents(std::string_view contents) {
  IgnoringHandler ignoring;
  CAIRN_RETURN_IF_ERROR(parse_operations(contents, ignoring));
  const SequenceNumber sequence = decode_fixed64(contents.data());
  const uint32_t count = decode_fixed32(contents.data() + kCountOffset);
  // The last operation's sequence, sequence + count - 1, must not pass the maximum.
  if (sequence > kSequenceNumberMax || (count > 0 && count - 1 > kSequenceNumberMax - sequence)) {
    return malformed("sequence " + std::to_string(sequence) + " out of range", 0);
  }
  WriteBatch batch;
  batch.contents_.assign(contents);
  return batch;
}

Status WriteBatch::iterate(Handler& handler) const { return parse_operations(contents_, handler); }

Status insert_into_memtable(const WriteBatch& batch, MemTable* memtable,
                            WriteBatch::Handler* then) {
  CAIRN_ASSERT(memtable != nullptr);
  const SequenceNumber first = batch.sequence();
  CAIRN_ASSERT(batch.count() == 0 || batch.count() - 1 <= kSequenceNumberMax - first);
  MemTableInserter inserter(first, memtable, then);
  return batch.iterate(inserter);
}

}  // namespace cairn
