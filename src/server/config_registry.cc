#include "server/config_registry.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "common/assert.h"
#include "common/glob_match.h"
#include "server/client_registry.h"
#include "server/config_loader.h"

namespace cairn {
namespace {

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Redis's client-output-buffer-limit value: "class hard soft seconds" groups.
struct OutputLimits {
  std::map<std::string, std::array<uint64_t, 3>> classes;
};

std::optional<OutputLimits> parse_output_limits(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  if (words.empty() || words.size() % 4 != 0) return std::nullopt;
  OutputLimits limits;
  for (size_t w = 0; w < words.size(); w += 4) {
    std::string klass = to_lower(words[w]);
    if (klass == "slave") klass = "replica";
    if (klass != "normal" && klass != "replica" && klass != "pubsub") return std::nullopt;
    auto hard = parse_memory(words[w + 1]);
    auto soft = parse_memory(words[w + 2]);
    auto seconds = parse_integer(words[w + 3]);
    if (!hard || !soft || !seconds || *seconds < 0) return std::nullopt;
    limits.classes[klass] = {*hard, *soft, static_cast<uint64_t>(*seconds)};
  }
  return limits;
}

std::string format_output_limits(const OutputLimits& limits) {
  std::string out;
  for (const char* klass : {"normal", "slave", "pubsub"}) {
    std::string key = std::string(klass) == "slave" ? "replica" : klass;
    auto it = limits.classes.find(key);
    if (it == limits.classes.end()) continue;
    if (!out.empty()) out += ' ';
    out += std::string(klass) + " " + std::to_string(it->second[0]) + " " +
           std::to_string(it->second[1]) + " " + std::to_string(it->second[2]);
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_memory(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + digits, number);
  if (error != std::errc()) return std::nullopt;
  std::string unit = to_lower(text.substr(digits));
  uint64_t multiplier = 1;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "k") multiplier = 1000;
  else if (unit == "kb") multiplier = 1024;
  else if (unit == "m") multiplier = 1000 * 1000;
  else if (unit == "mb") multiplier = 1024 * 1024;
  else if (unit == "g") multiplier = 1000ull * 1000 * 1000;
  else if (unit == "gb") multiplier = 1024ull * 1024 * 1024;
  else return std::nullopt;
  if (number > UINT64_MAX / multiplier) return std::nullopt;
  return number * multiplier;
}

ConfigRegistry::ConfigRegistry(const ServerConfig& config, ProtocolLimits& limits,
                               ClientRegistry& clients) {
  auto ro = [](std::string name, ConfigKind kind = ConfigKind::kString) {
    ConfigParameter p;
    p.name = std::move(name);
    p.kind = kind;
    p.read_only = true;
    return p;
  };
  auto integer = [](std::string name, int64_t min, int64_t max) {
    ConfigParameter p;
    p.name = std::move(name);
    p.kind = ConfigKind::kInteger;
    p.min = min;
    p.max = max;
    return p;
  };
  auto memory = [](std::string name, int64_t min, int64_t max) {
    ConfigParameter p;
    p.name = std::move(name);
    p.kind = ConfigKind::kMemory;
    p.min = min;
    p.max = max;
    return p;
  };
  auto boolean = [](std::string name) {
    ConfigParameter p;
    p.name = std::move(name);
    p.kind = ConfigKind::kBool;
    return p;
  };
  auto choice = [](std::string name, std::vector<std::string> choices) {
    ConfigParameter p;
    p.name = std::move(name);
    p.kind = ConfigKind::kEnum;
    p.choices = std::move(choices);
    return p;
  };
  auto text = [](std::string name) {
    ConfigParameter p;
    p.name = std::move(name);
    return p;
  };
  auto alias = [](ConfigParameter p, std::string target) {
    p.alias_of = std::move(target);
    return p;
  };

  // Cairn's own settings. Fixed at start-up: the listener, the directory, the fsync policy and
  // the threads (cairnd's flags and config file set them).
  add(ro("bind"), config.bind);
  add(ro("port", ConfigKind::kInteger), std::to_string(config.port));
  add(ro("dir"), config.dir);
  ConfigParameter appendfsync = choice("appendfsync", {"always", "everysec", "no"});
  appendfsync.read_only = true;
  add(appendfsync, std::string(fsync_name(config.fsync)));
  add(ro("io-threads", ConfigKind::kInteger), std::to_string(config.threads));
  add(ro("databases", ConfigKind::kInteger), "1");
  add(ro("appendonly", ConfigKind::kBool), "yes");
  add(ro("cluster-enabled", ConfigKind::kBool), "no");
  add(ro("daemonize", ConfigKind::kBool), "no");
  add(ro("logfile"), "");
  add(ro("pidfile"), "");
  add(ro("config-file"), config.config_file);

  // Applied at once.
  ConfigParameter bulk = memory("proto-max-bulk-len", 1024 * 1024, int64_t{1} << 30);
  bulk.apply = [&limits](const std::string& v) { limits.bulk_bytes_max = *parse_memory(v); };
  add(bulk, std::to_string(config.proto_max_bulk_len));
  ConfigParameter query = memory("client-query-buffer-limit", 1024 * 1024, INT64_MAX);
  query.apply = [&limits](const std::string& v) {
    limits.query_buffer_bytes_max = *parse_memory(v);
  };
  add(query, std::to_string(config.client_query_buffer_limit));
  ConfigParameter output;
  output.name = "client-output-buffer-limit";
  output.kind = ConfigKind::kOutputLimit;
  output.apply = [&limits](const std::string& v) {
    auto parsed = parse_output_limits(v);
    auto it = parsed->classes.find("normal");
    if (it != parsed->classes.end()) limits.output_buffer_bytes_max = it->second[0];
  };
  add(output, "normal " + std::to_string(config.client_output_buffer_limit) +
                  " 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  ConfigParameter maxclients = integer("maxclients", 1, INT64_MAX);
  maxclients.apply = [&clients](const std::string& v) {
    clients.set_maxclients(static_cast<uint64_t>(*parse_integer(v)));
  };
  add(maxclients, std::to_string(config.maxclients));

  // Accepted and reported; Cairn does not act on them (yet).
  add(memory("maxmemory", 0, INT64_MAX), "0");
  add(text("save"), "");
  add(integer("timeout", 0, INT32_MAX), "0");
  add(choice("loglevel", {"debug", "verbose", "notice", "warning", "nothing"}), "notice");
  add(integer("tcp-keepalive", 0, INT32_MAX), "300");
  add(text("requirepass"), "");
  add(choice("protected-mode", {"yes", "no"}), "no");
  add(text("dbfilename"), "dump.rdb");
  add(text("appendfilename"), "appendonly.aof");
  add(integer("hash-max-listpack-entries", 0, INT64_MAX), "128");
  add(memory("hash-max-listpack-value", 0, INT64_MAX), "64");
  add(alias(integer("hash-max-ziplist-entries", 0, INT64_MAX), "hash-max-listpack-entries"), "");
  add(alias(memory("hash-max-ziplist-value", 0, INT64_MAX), "hash-max-listpack-value"), "");
  add(integer("set-max-intset-entries", 0, INT64_MAX), "512");
  add(integer("set-max-listpack-entries", 0, INT64_MAX), "128");
  add(memory("set-max-listpack-value", 0, INT64_MAX), "64");
  add(integer("zset-max-listpack-entries", 0, INT64_MAX), "128");
  add(memory("zset-max-listpack-value", 0, INT64_MAX), "64");
  add(alias(integer("zset-max-ziplist-entries", 0, INT64_MAX), "zset-max-listpack-entries"), "");
  add(alias(memory("zset-max-ziplist-value", 0, INT64_MAX), "zset-max-listpack-value"), "");
  add(integer("list-max-listpack-size", INT32_MIN, INT32_MAX), "-2");
  add(alias(integer("list-max-ziplist-size", INT32_MIN, INT32_MAX), "list-max-listpack-size"), "");
  add(integer("list-compress-depth", 0, INT32_MAX), "0");
  add(text("notify-keyspace-events"), "");
  add(integer("lua-time-limit", 0, INT64_MAX), "5000");
  add(alias(integer("busy-reply-threshold", 0, INT64_MAX), "lua-time-limit"), "");
  add(integer("slowlog-log-slower-than", -1, INT64_MAX), "10000");
  add(integer("slowlog-max-len", 0, INT64_MAX), "128");
  add(integer("latency-monitor-threshold", 0, INT64_MAX), "0");
  add(boolean("latency-tracking"), "yes");
  add(integer("hz", 0, INT32_MAX), "10");
  add(boolean("dynamic-hz"), "yes");
  add(boolean("activerehashing"), "yes");
  add(boolean("activedefrag"), "no");
  add(boolean("lazyfree-lazy-eviction"), "no");
  add(boolean("lazyfree-lazy-expire"), "no");
  add(boolean("lazyfree-lazy-server-del"), "no");
  add(boolean("lazyfree-lazy-user-del"), "no");
  add(boolean("lazyfree-lazy-user-flush"), "no");
  add(boolean("replica-lazy-flush"), "no");
  add(choice("maxmemory-policy", {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                  "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}),
      "noeviction");
  add(integer("maxmemory-samples", 1, 64), "5");
  add(memory("maxmemory-clients", 0, INT64_MAX), "0");
  add(integer("lfu-log-factor", 0, INT32_MAX), "10");
  add(integer("lfu-decay-time", 0, INT32_MAX), "1");
  add(integer("active-expire-effort", 1, 10), "1");
  add(memory("stream-node-max-bytes", 0, INT64_MAX), "4096");
  add(integer("stream-node-max-entries", 0, INT64_MAX), "100");
  add(integer("tracking-table-max-keys", 0, INT64_MAX), "1000000");
  add(memory("hll-sparse-max-bytes", 0, INT64_MAX), "3000");
  std::sort(parameters_.begin(), parameters_.end(), [](const auto& a, const auto& b) {
    return a.name < b.name;
  });
  // Resolve the value slots now that the order is final: aliases share their target's slot.
  std::vector<std::string> values(parameters_.size());
  std::map<std::string, size_t> slot_by_name;
  // add() stored each value in values_ under the parameter's original position; rebuild.
  std::map<std::string, std::string> initial;
  for (size_t i = 0; i < pending_.size(); ++i) initial[pending_[i].first] = pending_[i].second;
  value_slot_.assign(parameters_.size(), 0);
  values_.clear();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (!parameters_[i].alias_of.empty()) continue;
    value_slot_[i] = values_.size();
    slot_by_name[parameters_[i].name] = values_.size();
    values_.push_back(initial[parameters_[i].name]);
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (parameters_[i].alias_of.empty()) continue;
    auto it = slot_by_name.find(parameters_[i].alias_of);
    CAIRN_ASSERT(it != slot_by_name.end());
    value_slot_[i] = it->second;
  }
  pending_.clear();
}

void ConfigRegistry::add(ConfigParameter parameter, std::string value) {
  pending_.emplace_back(parameter.name, std::move(value));
  parameters_.push_back(std::move(parameter));
}

int ConfigRegistry::find(std::string_view name) const {
  std::string lowered = to_lower(name);
  auto it = std::lower_bound(parameters_.begin(), parameters_.end(), lowered,
                             [](const ConfigParameter& p, const std::string& n) { return p.name < n; });
  if (it == parameters_.end() || it->name != lowered) return -1;
  return static_cast<int>(it - parameters_.begin());
}

std::vector<std::pair<std::string, std::string>> ConfigRegistry::get(
    std::span<const std::string_view> patterns) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    for (std::string_view pattern : patterns) {
      if (glob_match(pattern, parameters_[i].name, /*nocase=*/true)) {
        out.emplace_back(parameters_[i].name, values_[value_slot_[i]]);
        break;
      }
    }
  }
  return out;
}

std::string ConfigRegistry::value(std::string_view name) const {
  int index = find(name);
  if (index < 0) return "";
  std::lock_guard lock(mutex_);
  return values_[value_slot_[static_cast<size_t>(index)]];
}

Result<std::string> ConfigRegistry::normalize(const ConfigParameter& parameter,
                                              std::string_view value) {
  auto range_error = [&]() {
    return Status::invalid_argument("argument must be between " + std::to_string(parameter.min) +
                                    " and " + std::to_string(parameter.max) + " inclusive");
  };
  switch (parameter.kind) {
    case ConfigKind::kString:
      return std::string(value);
    case ConfigKind::kInteger: {
      auto number = parse_integer(value);
      if (!number) return Status::invalid_argument("argument couldn't be parsed into an integer");
      if (*number < parameter.min || *number > parameter.max) return range_error();
      return std::to_string(*number);
    }
    case ConfigKind::kMemory: {
      bool negative = !value.empty() && value[0] == '-';
      auto bytes = parse_memory(negative ? value.substr(1) : value);
      if (!bytes) return Status::invalid_argument("argument must be a memory value");
      if (negative || *bytes > static_cast<uint64_t>(parameter.max) ||
          static_cast<int64_t>(*bytes) < parameter.min) {
        return range_error();
      }
      return std::to_string(*bytes);
    }
    case ConfigKind::kBool: {
      std::string lowered = to_lower(value);
      if (lowered != "yes" && lowered != "no") {
        return Status::invalid_argument("argument must be 'yes' or 'no'");
      }
      return lowered;
    }
    case ConfigKind::kEnum: {
      std::string lowered = to_lower(value);
      for (const std::string& choice : parameter.choices) {
        if (choice == lowered) return lowered;
      }
      std::string list;
      for (const std::string& choice : parameter.choices) list += (list.empty() ? "" : ", ") + choice;
      return Status::invalid_argument("argument(s) must be one of the following: " + list);
    }
    case ConfigKind::kOutputLimit: {
      auto limits = parse_output_limits(value);
      if (!limits) return Status::invalid_argument("Wrong number of arguments in buffer limit configuration.");
      return std::string(value);
    }
  }
  return std::string(value);
}

Result<bool> ConfigRegistry::set(std::span<const std::string_view> pairs) {
  CAIRN_ASSERT(pairs.size() % 2 == 0 && !pairs.empty());
  struct Change {
    size_t index;
    std::string value;
  };
  std::vector<Change> changes;
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < pairs.size(); i += 2) {
    int index = find(pairs[i]);
    if (index < 0) {
      return Status::invalid_argument("ERR Unknown option or number of arguments for CONFIG SET - '" +
                                      std::string(pairs[i]) + "'");
    }
    const ConfigParameter& parameter = parameters_[static_cast<size_t>(index)];
    auto failed = [&](std::string_view reason) {
      return Status::invalid_argument("ERR CONFIG SET failed (possibly related to argument '" +
                                      std::string(pairs[i]) + "') - " + std::string(reason));
    };
    for (const Change& change : changes) {
      if (value_slot_[change.index] == value_slot_[static_cast<size_t>(index)]) {
        return failed("duplicate parameter");
      }
    }
    if (parameter.read_only) return failed("can't set immutable config");
    Result<std::string> normalized = normalize(parameter, pairs[i + 1]);
    if (!normalized.is_ok()) return failed(normalized.status().message());
    changes.push_back({static_cast<size_t>(index), std::move(normalized).value()});
  }
  for (Change& change : changes) {
    const ConfigParameter& parameter = parameters_[change.index];
    std::string& slot = values_[value_slot_[change.index]];
    if (parameter.kind == ConfigKind::kOutputLimit) {
      // Classes not named keep their limits, as in Redis.
      OutputLimits merged = *parse_output_limits(slot);
      OutputLimits given = *parse_output_limits(change.value);
      for (const auto& [klass, limit] : given.classes) merged.classes[klass] = limit;
      change.value = format_output_limits(merged);
    }
    slot = change.value;
    if (parameter.apply) parameter.apply(slot);
  }
  return true;
}

}  // namespace cairn
