// Numbers in string values, parsed and printed exactly as Redis does, so INCR, INCRBYFLOAT and
// OBJECT ENCODING agree with redis-server:
// - parse_int64 is Redis's string2ll: optional '-', then "0" or a digit 1-9 followed by digits,
//   nothing else (no '+', spaces, leading zeros or "-0"), within int64.
// - parse_long_double is string2ld: strtold over the whole string, no leading space, no NaN,
//   no overflow to +-HUGE_VAL.
// - format_long_double_human is ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros (and a
//   trailing '.') removed, "-0" printed as "0".
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

std::optional<int64_t> parse_int64(std::string_view text);
std::optional<long double> parse_long_double(std::string_view text);
std::string format_long_double_human(long double value);

}  // namespace cairn
