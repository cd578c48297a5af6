#include "server/streamed_value.h"

#include "model/engine_key.h"
#include "server/keyspace_internal.h"

namespace cairn {

Result<std::unique_ptr<StreamedValue>> StreamedValue::start(Keyspace& keyspace,
                                                            std::string_view key,
                                                            uint64_t payload_bytes) {
  CAIRN_RETURN_IF_ERROR(check_user_key(key));
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ValueWriter> writer,
      keyspace.database().put_stream(data_key(key), payload_bytes + kRecordTrailerBytes));
  return std::unique_ptr<StreamedValue>(
      new StreamedValue(keyspace, std::string(key), payload_bytes, std::move(writer)));
}

Status StreamedValue::append(std::string_view bytes) {
  if (!error_.is_ok()) return error_;
  if (bytes.size() > payload_bytes_ - received_bytes_) {
    error_ = Status::invalid_argument("streamed value longer than announced");
    return error_;
  }
  const Status status = writer_->append(bytes);
  if (!status.is_ok()) {
    error_ = status;
    return error_;
  }
  received_bytes_ += bytes.size();
  return Status::ok();
}

Status StreamedValue::commit(uint64_t expiry_ms, const std::optional<KeyEntry>& old) {
  CAIRN_ASSERT(!committed_);
  committed_ = true;
  if (!error_.is_ok()) return error_;
  if (received_bytes_ != payload_bytes_) {
    return Status::invalid_argument("streamed value shorter than announced");
  }
  RecordTrailer trailer;
  trailer.expiry_ms = expiry_ms;
  std::string trailer_bytes;
  append_record_trailer(&trailer_bytes, trailer);
  CAIRN_RETURN_IF_ERROR(writer_->append(trailer_bytes));
  Database& database = keyspace_.database();
  // The new index entry before the record, the old one removed after: a crash in between leaves
  // at worst a stale entry, which active expiry discards.
  if (expiry_ms != 0) {
    CAIRN_RETURN_IF_ERROR(database.put(expiry_index_key(expiry_ms, key_), ""));
    keyspace_.note_expiry_due(expiry_ms);
  }
  CAIRN_RETURN_IF_ERROR(writer_->commit());
  if (old.has_value() && old->trailer.expiry_ms != 0 && old->trailer.expiry_ms != expiry_ms) {
    CAIRN_RETURN_IF_ERROR(database.remove(expiry_index_key(old->trailer.expiry_ms, key_)));
  }
  keyspace_.notify(key_);
  return Status::ok();
}

}  // namespace cairn
