// Result<T>: either a value of T or an error Status (never an OK status without a value).
// Thread-safety: a value type, as Status.
#pragma once

#include <optional>
#include <utility>

#include "common/assert.h"
#include "common/status.h"

namespace cairn {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value and from an error, so `return value;` and `return status;` both work.
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    CAIRN_ASSERT(!status_.is_ok());
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: is_ok().
  T& value() & {
    CAIRN_ASSERT(is_ok());
    return *value_;
  }
  const T& value() const& {
    CAIRN_ASSERT(is_ok());
    return *value_;
  }
  T&& value() && {
    CAIRN_ASSERT(is_ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

// CAIRN_ASSIGN_OR_RETURN(auto file, env->new_writable_file(path));
// Evaluates the Result expression; on error returns its Status, else binds the value to `lhs`.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expression) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(cairn_result_, __LINE__), lhs, expression)
#define CAIRN_ASSIGN_OR_RETURN_IMPL(result, lhs, expression) \
  auto result = (expression);                                \
  if (!result.is_ok()) return result.status();               \
  lhs = std::move(result).value()
