// Glob matching as Redis does it (KEYS, SCAN MATCH, CONFIG GET): `*` any run of bytes, `?` one
// byte, `[abc]` one byte of a set, `[^abc]` one byte not in it, `[a-z]` ranges (ends in either
// order), `\x` the byte x literally (also inside brackets). Binary-safe: both pattern and text
// are byte strings and may hold NUL. An unterminated `[` set ends at the end of the pattern, as
// in Redis.
//
// Cost: O(pattern * text) at worst (backtracking only to the last `*`), never exponential.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace cairn {

// Whether `text` matches `pattern` as a whole. With `nocase`, ASCII letters match either case.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace cairn
