#include "model/string_number.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace cairn {

std::optional<int64_t> string_to_int64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text == "0") return 0;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (text.size() == 1) return std::nullopt;
  }
  if (text[i] < '1' || text[i] > '9') return std::nullopt;
  uint64_t magnitude = 0;
  for (; i < text.size(); i++) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    if (magnitude > uint64_t{1} << 63) return std::nullopt;
    if (magnitude == uint64_t{1} << 63) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(magnitude);
  }
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

std::optional<long double> string_to_long_double(std::string_view text) {
  // Redis's bound on a long double's text (MAX_LONG_DOUBLE_CHARS).
  constexpr size_t kCharsMax = 5 * 1024;
  if (text.empty() || text.size() >= kCharsMax) return std::nullopt;
  const unsigned char first = static_cast<unsigned char>(text[0]);
  if (first == ' ' || (first >= '\t' && first <= '\r')) return std::nullopt;
  const std::string copy(text);  // NUL-terminated for strtold; an embedded NUL stops it early
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  if (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL || value == 0)) {
    return std::nullopt;
  }
  if (std::isnan(value)) return std::nullopt;
  return value;
}

std::string format_long_double_human(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[5 * 1024 + 64];
  const int length = std::snprintf(buffer, sizeof(buffer), "%.17Lf", value);
  if (length <= 0 || static_cast<size_t>(length) >= sizeof(buffer)) return "0";
  // Trims trailing zeros (and a bare point) in the buffer, then copies once: GCC 12 warns
  // falsely (-Wrestrict) about shrinking a std::string in place here under the sanitizers.
  size_t end = static_cast<size_t>(length);
  if (std::memchr(buffer, '.', end) != nullptr) {
    while (end > 0 && buffer[end - 1] == '0') end--;
    if (end > 0 && buffer[end - 1] == '.') end--;
  }
  const std::string_view text(buffer, end);
  if (text == "-0") return "0";
  return std::string(text);
}

}  // namespace cairn
