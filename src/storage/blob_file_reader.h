// BlobFileReader: reads the records of one blob file (blob_format.h, docs/blob-format.md): a
// whole value, a streamed value or a byte range of one, by BlobReference; or every record in
// order, for garbage collection.
//
// Trust: the file's bytes and the references are untrusted. A reference is first checked
// against the record it points at (file number, bounds, header checksum, key and value sizes,
// the key's checksum), and every chunk is verified before any of its bytes is handed out.
// Any mismatch is Corruption naming the file and the record's offset; wrong data is never
// returned and nothing is allocated on an unverified size.
//
// Memory: read_value holds the value it returns; a BlobValueReader holds one chunk; a
// BlobRecordIterator one chunk and one key. Neither grows with the value size.
//
// Ownership: the reader owns its file. BlobValueReader and BlobRecordIterator each hold a
// shared_ptr to their reader, so they stay valid after the caller drops its own.
// Thread-safety: BlobFileReader is immutable after open and safe for concurrent use
// (RandomAccessFile::read is). A BlobValueReader or BlobRecordIterator is used by one thread
// at a time; distinct ones may run concurrently over the same reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "io/env.h"
#include "storage/blob_format.h"

namespace cairn {

class BlobValueReader;
class BlobRecordIterator;

class BlobFileReader : public std::enable_shared_from_this<BlobFileReader> {
 public:
  // Reads and verifies the file header. `file_size_bytes` is the size to read up to (records
  // beyond it are not seen); `file_name` names the file in errors. Corruption if the file is
  // shorter than the header or its header is damaged; NotSupported for another format version.
  static Result<std::shared_ptr<BlobFileReader>> open(std::unique_ptr<RandomAccessFile> file,
                                                      uint64_t file_size_bytes,
                                                      std::string file_name);
  BlobFileReader(const BlobFileReader&) = delete;
  BlobFileReader& operator=(const BlobFileReader&) = delete;

  // The whole value, every chunk verified. Corruption on any mismatch (see above); the file's
  // errors pass through with the file name as context.
  Result<std::string> read_value(const BlobReference& reference) const;

  // A streaming reader over the whole value. The reference and the record's header and key are
  // verified here; each chunk as the reader reaches it.
  Result<std::unique_ptr<BlobValueReader>> open_value(const BlobReference& reference) const;
  // A streaming reader over bytes [offset, offset + length) of the value; it starts at the
  // chunk holding `offset`. InvalidArgument if the range does not lie within the value.
  Result<std::unique_ptr<BlobValueReader>> open_value_range(const BlobReference& reference,
                                                            uint64_t offset, uint64_t length) const;

  // Iterates the file's records in order, from the first.
  std::unique_ptr<BlobRecordIterator> new_record_iterator() const;

  // The file number the file header names.
  uint64_t file_number() const { return file_number_; }
  uint64_t file_size_bytes() const { return file_size_bytes_; }
  const std::string& file_name() const { return file_name_; }

 private:
  friend class BlobValueReader;
  friend class BlobRecordIterator;

  BlobFileReader(std::unique_ptr<RandomAccessFile> file, uint64_t file_size_bytes,
                 std::string file_name, uint64_t file_number);

  // Checks that `reference` names a whole, intact record header and key of this file, and
  // returns the record's layout.
  Result<BlobRecordLayout> locate(const BlobReference& reference) const;
  // Reads exactly n bytes at `offset` into scratch (room for n); *result points at them.
  // Corruption if the file ends first (it is shorter than file_size_bytes()).
  Status read_exact(uint64_t offset, size_t n, char* scratch, std::string_view* result,
                    uint64_t record_offset) const;
  // Reads chunk `index` of the record and its checksum into scratch (room for the chunk's
  // value bytes + kBlobChecksumBytes) and points *chunk at its value bytes. true if the checksum
  // matches; Corruption if the file is shorter than stated.
  Result<bool> read_chunk(const BlobRecordLayout& layout, uint64_t index, char* scratch,
                          std::string_view* chunk) const;
  // read_chunk, with a checksum mismatch as Corruption (and *chunk then empty).
  Status read_verified_chunk(const BlobRecordLayout& layout, uint64_t index, char* scratch,
                             std::string_view* chunk) const;
  // True if every byte of the file from `offset` to file_size_bytes() is zero.
  Result<bool> is_zero_from(uint64_t offset) const;
  Status corruption(std::string_view what, uint64_t record_offset) const;

  const std::unique_ptr<RandomAccessFile> file_;
  const uint64_t file_size_bytes_;
  const std::string file_name_;
  const uint64_t file_number_;
};

// Streams (a range of) one value. read() hands out the bytes of one chunk at a time, each
// verified before any of its bytes is returned. After an error every call returns that error.
class BlobValueReader {
 public:
  BlobValueReader(const BlobValueReader&) = delete;
  BlobValueReader& operator=(const BlobValueReader&) = delete;

  // Copies up to `n` of the next bytes of the range into `buffer` (room for n) and returns how
  // many: 0 only at the end of the range (or when n is 0). May return fewer than n before the
  // end (it stops at a chunk boundary). Corruption if the chunk it reaches is damaged.
  Result<size_t> read(char* buffer, size_t n);

  // The size of the whole value, and the range this reader covers.
  uint64_t value_size_bytes() const { return layout_.value_size_bytes; }
  uint64_t range_end() const { return end_; }
  // The value offset of the next byte read() returns.
  uint64_t position() const { return position_; }
  uint64_t remaining_bytes() const { return end_ - position_; }

 private:
  friend class BlobFileReader;

  BlobValueReader(std::shared_ptr<const BlobFileReader> reader, const BlobRecordLayout& layout,
                  uint64_t begin, uint64_t end);

  const std::shared_ptr<const BlobFileReader> reader_;
  const BlobRecordLayout layout_;
  const uint64_t end_;
  uint64_t position_;
  const std::unique_ptr<char[]> buffer_;  // chunk bytes ++ checksum
  uint64_t loaded_chunk_index_ = UINT64_MAX;
  std::string_view loaded_chunk_;  // the verified value bytes of loaded_chunk_index_
  Status failure_;
};

// Visits the records of a blob file in order, verifying each one whole (header, key, every
// chunk) before returning it.
//
// Where the file ends: the file ending exactly where a record would start ends the iteration
// cleanly. A final record that the file ends inside of (a crash cut the file) ends it quietly
// as a torn tail; so does a record whose failing checksum and every byte after it are zero (the
// file system extended the file but the data never landed). Any other damaged record is
// Corruption naming the file and offset, and so is a header that verifies but is out of limits.
// After the end or an error every call to next() returns the same.
class BlobRecordIterator {
 public:
  BlobRecordIterator(const BlobRecordIterator&) = delete;
  BlobRecordIterator& operator=(const BlobRecordIterator&) = delete;

  // Moves to the next record. true: key() and reference() describe it. false: the file ended,
  // cleanly or in a torn tail (torn_tail() tells).
  Result<bool> next();

  // The current record's key and reference. REQUIRES: the last next() returned true. The key
  // stays valid until the next call to next().
  std::string_view key() const;
  const BlobReference& reference() const;

  // True when the file ended in a torn final record (see above).
  bool torn_tail() const { return torn_tail_; }
  // The offset just past the last record returned (the file header's end before the first):
  // where the good part of the file ends.
  uint64_t valid_bytes() const { return valid_bytes_; }

 private:
  friend class BlobFileReader;
  enum class State { kBeforeFirst, kOnRecord, kEnded, kFailed };

  explicit BlobRecordIterator(std::shared_ptr<const BlobFileReader> reader);

  Result<bool> read_record();
  // A checksum stored at `checksum_offset` did not match: a torn tail if it and the rest of
  // the file are zero, else Corruption (`what`) of the record at `record_offset`.
  Result<bool> damaged(uint64_t checksum_offset, std::string_view what, uint64_t record_offset);
  Result<bool> end(bool torn);

  const std::shared_ptr<const BlobFileReader> reader_;
  State state_ = State::kBeforeFirst;
  Status failure_;
  bool torn_tail_ = false;
  uint64_t valid_bytes_ = kBlobFileHeaderBytes;
  std::string key_;
  BlobReference reference_;
  std::string scratch_;  // the record header, then one chunk and its checksum at a time
};

}  // namespace cairn
