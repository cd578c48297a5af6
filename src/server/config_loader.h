// The config loader: reads a cairnd TOML file (toml++) into a ServerConfig and checks that a
// ServerConfig's values are usable. cairnd applies, in order, the defaults, the file
// (load_config_file) and the command-line flags, then validate_config() once.
//
// The file holds flat `key = value` pairs named as ServerConfig's fields (bind, port, dir,
// fsync, threads, log_level, proto_max_bulk_len, ...). An unknown key, a table, or a value of
// the wrong type is an error naming the file, the line and the key; so is a value out of range.
//
// Thread-safety: the functions are pure (load_config_file reads the file); call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "server/server_config.h"

namespace cairn {

// The bounds validate_config enforces; flags and the file share them.
inline constexpr uint64_t kProtoMaxBulkLenMax = uint64_t{1} << 30;  // Redis's 1 GiB cap
inline constexpr uint64_t kQueryBufferLimitMin = uint64_t{1} << 20;
inline constexpr int kThreadsMax = 64;
inline constexpr uint64_t kMaxClientsMax = 1000000;
inline constexpr uint64_t kWriteBufferBytesMin = uint64_t{64} << 10;
inline constexpr uint64_t kBlobThresholdBytesMin = 1024;
inline constexpr uint64_t kExpiryCycleIntervalMsMax = 60000;

// "always" | "everysec" | "no" (Redis's appendfsync names); InvalidArgument otherwise.
Result<ServerFsync> parse_fsync(std::string_view name);
std::string_view fsync_name(ServerFsync fsync);

// Reads the TOML file at `path` and sets the fields it names in `config` (the others keep their
// value); records `path` in config.config_file. InvalidArgument ("FILE:LINE: ...") for a syntax
// error, an unknown key, a wrong type or a value out of range; IOError if the file cannot be
// read. On error `config` may be partly updated.
Status load_config_file(const std::string& path, ServerConfig& config);

// Checks every field's range (port, threads 1..64, proto_max_bulk_len <= 1 GiB, fsync, log
// level name, ...). InvalidArgument naming the field and the allowed range.
Status validate_config(const ServerConfig& config);

}  // namespace cairn
