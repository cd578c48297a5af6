// LogReader: reads the records of a log (log_format.h) front to back, for WAL and MANIFEST
// recovery, and decides where a crashed log ends. A crash may leave the last record incomplete
// (a torn tail); that ends the log quietly. Damage anywhere else is corruption and an error.
//
// Recovery rules (docs/log-format.md; the engine's crash tests rely on them exactly):
//   - the file ends inside a header                          -> torn tail;
//   - the header checksum is wrong                           -> Corruption, unless every byte of
//     the file after that header is zero (a zero-filled tail, e.g. a file extended but not
//     written before the crash)                              -> torn tail;
//   - the header is good but the payload runs past the end   -> torn tail;
//   - the payload checksum is wrong: every byte after the record is zero (or there are none: the
//     record ends the file)                                  -> torn tail,
//     otherwise                                              -> Corruption.
// Those are the rules for a WAL (LogTail::kTolerateDamagedLastRecord). A MANIFEST is read with
// LogTail::kOnlyIncompleteLastRecord: each of its records was synced before it took effect, so a
// bad checksum there is damage, not a crash, and only an incomplete last record ends it quietly.
//
// Memory: the file is read through a kLogReaderBufferBytes buffer and a payload grows only as
// its bytes actually arrive, so a length field that claims more than the file holds costs no
// allocation beyond what the file contains.
//
// Ownership: owns the file. Thread-safety: one thread at a time.
// Invariant: valid_bytes() is the offset just past the last record returned; once read_record
// has returned false or an error, every later call returns the same.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "io/env.h"

namespace cairn {

// Which damaged final records count as a torn tail rather than Corruption.
enum class LogTail {
  kTolerateDamagedLastRecord,  // the rules above: for the WAL
  kOnlyIncompleteLastRecord,   // an incomplete header or payload only: for the MANIFEST
};

class LogReader {
 public:
  // `file_name` names the file in error messages.
  LogReader(std::unique_ptr<SequentialFile> file, std::string file_name,
            LogTail tail = LogTail::kTolerateDamagedLastRecord);
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the next record into *record. true: a record was read. false: the log ended, cleanly
  // or in a torn tail (torn_tail() tells; *record is then empty). Corruption, naming the file and
  // the record's byte offset, for damage before the end of the log; the file's IOError as is.
  Result<bool> read_record(std::string* record);

  // True when the log ended in an incomplete or unverifiable final record.
  bool torn_tail() const { return torn_tail_; }
  // The offset just past the last good record (where a writer could resume the log).
  uint64_t valid_bytes() const { return valid_bytes_; }

 private:
  enum class State { kReading, kEnded, kFailed };

  Result<bool> read_next(std::string* record);
  Result<bool> end_log(bool torn);
  Status fail(Status status);
  Status corruption(std::string_view what, uint64_t record_offset) const;

  // Buffered input. The bytes not yet consumed, reading more when empty; empty at end of file.
  Result<std::string_view> peek();
  void consume(size_t bytes);
  // Appends up to `bytes` bytes of the file to *destination; fewer only at the end of the file.
  Result<uint64_t> append_from_file(uint64_t bytes, std::string* destination);
  // Consumes the rest of the file; true if every byte of it is zero.
  Result<bool> rest_is_zero();

  const std::unique_ptr<SequentialFile> file_;
  const std::string file_name_;
  const LogTail tail_;
  const std::unique_ptr<char[]> buffer_;
  std::string_view pending_;     // the unconsumed part of the last read
  bool end_of_file_ = false;     // the file returned an empty read
  uint64_t consumed_bytes_ = 0;  // file offset of pending_.front()

  State state_ = State::kReading;
  Status failure_;  // set in kFailed
  bool torn_tail_ = false;
  uint64_t valid_bytes_ = 0;
  std::string header_;  // the header being read (fits the small-string buffer)
};

}  // namespace cairn
