// Helpers shared by the string, key and TTL command handlers: argument parsing with Redis's
// error replies, replying a stored value (streamed when it lives in a blob file), and the
// expiry options of SET and GETEX.
//
// Thread-safety: pure functions over the handler's own context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/command.h"
#include "server/collection.h"
#include "server/keyspace.h"

namespace cairn {

inline constexpr std::string_view kWrongTypeError =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotIntegerError = "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxError = "ERR syntax error";
inline constexpr std::string_view kStringTooLongError =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

Keyspace& keyspace_of(CommandContext& context);

bool equals_ignore_case(std::string_view a, std::string_view b);
// "ERR <message>" for an InvalidArgument (e.g. key too large), "ERR <code>: <message>" else.
void reply_status(ReplyWriter& reply, const Status& status);
// Parses a Redis integer argument; on failure replies kNotIntegerError and returns nullopt.
std::optional<int64_t> parse_integer_argument(ReplyWriter& reply, std::string_view text);
// Whether the entry holds a string (WRONGTYPE otherwise, once other types exist).
inline bool is_string(const KeyEntry& entry) { return entry.trailer.type == RecordType::kString; }

// For a collection command's lookup: replies its error, or WRONGTYPE when the key holds another
// type, and returns false; true when the command goes on.
bool collection_usable(CommandContext& context, const Result<FoundCollection>& found);
// "ERR wrong number of arguments for '<name>' command" (name as the command table has it).
void reply_wrong_arity(CommandContext& context, std::string_view name);

// Replies the payload of `entry` as a bulk string: inline from memory, a blob value streamed
// through context.reply_body (its header written now). Errors are replied.
void reply_payload(CommandContext& context, const KeyEntry& entry);
// As reply_payload but always buffered (for arrays such as MGET, where no body can follow).
void reply_payload_buffered(CommandContext& context, const KeyEntry& entry);

// The timeout of a blocking command (BLPOP ... timeout): seconds as a decimal, 0 = wait forever.
// Returns it in ms (rounded up), or nullopt after replying Redis 7.0's error ("ERR timeout is not
// a float or out of range"; "ERR timeout is negative", also for one past the 64-bit range of ms;
// "ERR timeout is out of range" when now plus the timeout is).
std::optional<uint64_t> parse_block_timeout(CommandContext& context, std::string_view text);

// SCAN-family arguments: the cursor ("ERR invalid cursor" unless decimal digits within u64)
// and the options [MATCH pattern] [COUNT count] (and [TYPE type] for SCAN, lower-cased into
// `type_lower`). Each replies Redis's error and returns nullopt on failure.
struct ScanOptions {
  std::string_view pattern = "*";
  uint64_t count = 10;
  std::string type_lower;  // empty: every type
};
std::optional<uint64_t> parse_scan_cursor(ReplyWriter& reply, std::string_view text);
std::optional<ScanOptions> parse_scan_options(CommandContext& context, size_t first,
                                              bool allow_type);

// The expiry options of SET / GETEX (Redis's parseExtendedStringArgumentsOrReply).
struct StringOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keepttl = false;
  bool persist = false;
  // The unit and base of `expire`: EX, PX relative to now, EXAT, PXAT absolute.
  enum class Expire { kNone, kEx, kPx, kExat, kPxat } expire_kind = Expire::kNone;
  std::string_view expire_text;
};
enum class StringCommandKind { kSet, kGetex };
// Parses argv[first..] as options; replies "ERR syntax error" and returns nullopt on error.
std::optional<StringOptions> parse_string_options(CommandContext& context, size_t first,
                                                  StringCommandKind kind);
// The absolute expiry in unix ms the options ask for (0 if none), or nullopt after replying
// Redis's error ("invalid expire time in '<command>' command", or not an integer).
std::optional<uint64_t> resolve_expiry(CommandContext& context, const StringOptions& options,
                                       std::string_view command);
// As resolve_expiry for a value of `unit_ms` (1000: seconds) relative to now (SETEX/PSETEX).
std::optional<uint64_t> relative_expiry(CommandContext& context, std::string_view text,
                                        int64_t unit_ms, std::string_view command);

}  // namespace cairn
