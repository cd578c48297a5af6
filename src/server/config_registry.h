// ConfigRegistry: the parameters CONFIG GET reports and CONFIG SET changes. Two kinds: Cairn's
// own settings (port, dir, appendfsync, proto-max-bulk-len, maxclients, ...), some of which
// apply at once (ProtocolLimits, maxclients) and some of which are fixed at start-up
// (read-only here); and Redis tuning parameters that tools and client libraries set although
// they mean nothing to Cairn (encoding thresholds, hz, lazyfree-*, ...): accepted, validated
// as Redis validates them, and reported back, so those tools keep working.
//
// Thread-safety: every method may be called from any thread (one mutex). A CONFIG SET of
// several parameters is atomic: every value is validated before any is applied.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/session.h"
#include "server/server_config.h"

namespace cairn {

class ClientRegistry;

enum class ConfigKind : uint8_t { kString, kInteger, kMemory, kBool, kEnum, kOutputLimit };

struct ConfigParameter {
  std::string name;
  ConfigKind kind = ConfigKind::kString;
  bool read_only = false;
  int64_t min = 0;  // kInteger / kMemory bounds, inclusive
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // kEnum
  std::string alias_of;              // shares the value of another parameter
  // Called with the normalized value after a successful CONFIG SET (under the lock).
  std::function<void(const std::string&)> apply;
};

class ConfigRegistry {
 public:
  // Fills the parameters from `config`; the run-time ones act on `limits` and `clients`.
  // REQUIRES: both outlive the registry.
  ConfigRegistry(const ServerConfig& config, ProtocolLimits& limits, ClientRegistry& clients);

  // Name/value pairs of the parameters matching any of the glob patterns (case-insensitive),
  // each once, sorted by name.
  std::vector<std::pair<std::string, std::string>> get(
      std::span<const std::string_view> patterns) const;
  // The value of one parameter ("" if unknown).
  std::string value(std::string_view name) const;

  // CONFIG SET: pairs name, value. The error is the whole Redis message ("ERR ..." text).
  // Nothing changes unless every pair is valid.
  Result<bool> set(std::span<const std::string_view> name_value_pairs);

 private:
  void add(ConfigParameter parameter, std::string value);
  // Index of a parameter (alias resolved to its target's value slot), or -1.
  int find(std::string_view name) const;
  // Validates and normalizes `value` for `parameter`; the error is Redis's reason text.
  static Result<std::string> normalize(const ConfigParameter& parameter, std::string_view value);

  mutable std::mutex mutex_;
  std::vector<ConfigParameter> parameters_;
  std::vector<size_t> value_slot_;  // per parameter: index into values_
  std::vector<std::string> values_;
  // (name, initial value) pairs while the constructor adds parameters.
  std::vector<std::pair<std::string, std::string>> pending_;
};

// "1gb", "512mb", "100" → bytes (Redis's memtoull: k=1000, kb=1024, m, mb, g, gb); nullopt if
// not a non-negative memory value.
std::optional<uint64_t> parse_memory(std::string_view text);

}  // namespace cairn
