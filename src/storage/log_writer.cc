#include "storage/log_writer.h"

#include "common/assert.h"
#include "storage/log_format.h"

namespace cairn {

LogWriter::LogWriter(WritableFile* file) : file_(file) { CAIRN_ASSERT(file_ != nullptr); }

Status LogWriter::add_record(std::string_view payload) {
  CAIRN_RETURN_IF_ERROR(failure_);
  if (payload.size() > kLogRecordBytesMax) {
    return Status::invalid_argument("log record payload of " + std::to_string(payload.size()) +
                                    " bytes exceeds the maximum of " +
                                    std::to_string(kLogRecordBytesMax));
  }
  char header[kLogHeaderBytes];
  encode_log_header(payload, header);

  Status status;
  if (payload.size() <= kLogWriterCoalesceBytesMax) {
    scratch_.assign(header, kLogHeaderBytes);
    scratch_.append(payload);
    status = file_->append(scratch_);
  } else {
    status = file_->append(std::string_view(header, kLogHeaderBytes));
    if (status.is_ok()) status = file_->append(payload);
  }
  if (!status.is_ok()) {
    failure_ = status;
    return status;
  }
  size_bytes_ += kLogHeaderBytes + payload.size();
  return Status::ok();
}

}  // namespace cairn
