#include "common/status.h"

namespace cairn {

Status::Status(Code code, std::string_view message)
    : state_(std::make_shared<const State>(State{code, std::string(message)})) {}

std::string_view Status::message() const {
  return state_ == nullptr ? std::string_view() : std::string_view(state_->message);
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string result(code_name(code()));
  if (!state_->message.empty()) {
    result += ": ";
    result += state_->message;
  }
  return result;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string message(context);
  message += ": ";
  message += state_->message;
  return Status(state_->code, message);
}

std::string_view code_name(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kNoSpace:
      return "NoSpace";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kBusy:
      return "Busy";
  }
  return "Unknown";
}

}  // namespace cairn
