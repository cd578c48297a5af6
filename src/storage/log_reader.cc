#include "storage/log_reader.h"

#include <algorithm>

#include "common/assert.h"
#include "common/checksum.h"
#include "storage/log_format.h"

namespace cairn {

LogReader::LogReader(std::unique_ptr<SequentialFile> file, std::string file_name, LogTail tail)
    : file_(std::move(file)),
      file_name_(std::move(file_name)),
      tail_(tail),
      buffer_(std::make_unique<char[]>(kLogReaderBufferBytes)) {
  CAIRN_ASSERT(file_ != nullptr);
}

Result<bool> LogReader::read_record(std::string* record) {
  record->clear();
  switch (state_) {
    case State::kEnded:
      return false;
    case State::kFailed:
      return failure_;
    case State::kReading:
      break;
  }
  Result<bool> result = read_next(record);
  if (!result.is_ok()) return fail(result.status());
  if (!*result) record->clear();
  return result;
}

// Applies the recovery rules of the header comment to the record at the current offset.
Result<bool> LogReader::read_next(std::string* record) {
  const uint64_t record_offset = consumed_bytes_;
  CAIRN_ASSERT(record_offset == valid_bytes_);

  header_.clear();
  CAIRN_ASSIGN_OR_RETURN(const uint64_t header_bytes, append_from_file(kLogHeaderBytes, &header_));
  if (header_bytes == 0) return end_log(/*torn=*/false);
  if (header_bytes < kLogHeaderBytes) return end_log(/*torn=*/true);

  LogHeader header;
  const bool tolerate_damage = tail_ == LogTail::kTolerateDamagedLastRecord;
  if (!decode_log_header(header_.data(), &header)) {
    if (tolerate_damage) {
      CAIRN_ASSIGN_OR_RETURN(const bool zero_tail, rest_is_zero());
      if (zero_tail) return end_log(/*torn=*/true);
    }
    return corruption("bad header checksum", record_offset);
  }

  CAIRN_ASSIGN_OR_RETURN(const uint64_t payload_bytes,
                         append_from_file(header.payload_bytes, record));
  if (payload_bytes < header.payload_bytes) return end_log(/*torn=*/true);

  if (checksum32(*record) != header.payload_checksum) {
    if (tolerate_damage) {
      CAIRN_ASSIGN_OR_RETURN(const bool zero_tail, rest_is_zero());
      if (zero_tail) return end_log(/*torn=*/true);
    }
    return corruption("bad payload checksum", record_offset);
  }
  valid_bytes_ = consumed_bytes_;
  return true;
}

Result<bool> LogReader::end_log(bool torn) {
  state_ = State::kEnded;
  torn_tail_ = torn;
  return false;
}

Status LogReader::fail(Status status) {
  CAIRN_ASSERT(!status.is_ok());
  state_ = State::kFailed;
  failure_ = std::move(status);
  return failure_;
}

Status LogReader::corruption(std::string_view what, uint64_t record_offset) const {
  return Status::corruption("log " + file_name_ + ": " + std::string(what) +
                            " in the record at offset " + std::to_string(record_offset));
}

Result<std::string_view> LogReader::peek() {
  if (pending_.empty() && !end_of_file_) {
    std::string_view result;
    CAIRN_RETURN_IF_ERROR(file_->read(kLogReaderBufferBytes, &result, buffer_.get()));
    CAIRN_ASSERT(result.size() <= kLogReaderBufferBytes);
    // Only an empty read means the end: a short read is taken at its word next time round.
    end_of_file_ = result.empty();
    pending_ = result;
  }
  return pending_;
}

void LogReader::consume(size_t bytes) {
  CAIRN_ASSERT(bytes <= pending_.size());
  pending_.remove_prefix(bytes);
  consumed_bytes_ += bytes;
}

Result<uint64_t> LogReader::append_from_file(uint64_t bytes, std::string* destination) {
  uint64_t appended = 0;
  while (appended < bytes) {
    CAIRN_ASSIGN_OR_RETURN(const std::string_view chunk, peek());
    if (chunk.empty()) break;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(chunk.size(), bytes - appended));
    destination->append(chunk.data(), take);
    consume(take);
    appended += take;
  }
  return appended;
}

Result<bool> LogReader::rest_is_zero() {
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const std::string_view chunk, peek());
    if (chunk.empty()) return true;
    if (std::any_of(chunk.begin(), chunk.end(), [](char byte) { return byte != 0; })) return false;
    consume(chunk.size());
  }
}

}  // namespace cairn
