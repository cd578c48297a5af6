// Status: the outcome of a fallible operation. Success carries no allocation; an error carries
// a code and a message that names what failed (for corruption, the file and offset).
// Thread-safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cairn {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIOError,
    kNoSpace,  // the device is full (ENOSPC)
    kInvalidArgument,
    kNotSupported,
    kBusy,  // e.g. the database directory is locked by another process
  };

  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status not_found(std::string_view message) { return Status(Code::kNotFound, message); }
  static Status corruption(std::string_view message) { return Status(Code::kCorruption, message); }
  static Status io_error(std::string_view message) { return Status(Code::kIOError, message); }
  static Status no_space(std::string_view message) { return Status(Code::kNoSpace, message); }
  static Status invalid_argument(std::string_view message) {
    return Status(Code::kInvalidArgument, message);
  }
  static Status not_supported(std::string_view message) {
    return Status(Code::kNotSupported, message);
  }
  static Status busy(std::string_view message) { return Status(Code::kBusy, message); }

  bool is_ok() const { return state_ == nullptr; }
  Code code() const { return state_ == nullptr ? Code::kOk : state_->code; }
  bool is_not_found() const { return code() == Code::kNotFound; }
  bool is_corruption() const { return code() == Code::kCorruption; }
  bool is_io_error() const { return code() == Code::kIOError; }
  bool is_no_space() const { return code() == Code::kNoSpace; }
  bool is_invalid_argument() const { return code() == Code::kInvalidArgument; }
  bool is_not_supported() const { return code() == Code::kNotSupported; }
  bool is_busy() const { return code() == Code::kBusy; }

  // The message without the code; empty for OK.
  std::string_view message() const;
  // "OK" or "<Code>: <message>".
  std::string to_string() const;

  // A copy of this status with `context` prepended to the message ("context: message").
  Status with_context(std::string_view context) const;

 private:
  struct State {
    Code code;
    std::string message;
  };

  Status(Code code, std::string_view message);

  // Shared so copies are cheap; a State is never mutated after construction.
  std::shared_ptr<const State> state_;
};

std::string_view code_name(Status::Code code);

}  // namespace cairn

// Evaluates `expression` (a Status) and returns it from the enclosing function if it is an error.
#define CAIRN_RETURN_IF_ERROR(expression)             \
  do {                                                \
    ::cairn::Status cairn_status_ = (expression);     \
    if (!cairn_status_.is_ok()) return cairn_status_; \
  } while (false)
