#include "server/config_loader.h"

#include <toml++/toml.h>

#include <array>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "cluster/cluster_node.h"
#include "cluster/consistency.h"
#include "cluster/ring.h"
#include "server/cluster_seeds.h"

namespace cairn {
namespace {

// Where an error in the file points: "FILE:LINE".
std::string where(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

Status wrong_type(const std::string& path, std::string_view key, const toml::node& node,
                  std::string_view expected) {
  return Status::invalid_argument(where(path, node) + ": key '" + std::string(key) + "' must be " +
                                  std::string(expected) + ", not " + std::string(type_name(node)));
}

// Reads a non-negative integer no larger than `max` from `node`.
Status read_unsigned(const std::string& path, std::string_view key, const toml::node& node,
                     uint64_t max, uint64_t& out) {
  const auto* integer = node.as_integer();
  if (integer == nullptr) return wrong_type(path, key, node, "an integer");
  const int64_t value = integer->get();
  if (value < 0 || static_cast<uint64_t>(value) > max) {
    return Status::invalid_argument(where(path, node) + ": key '" + std::string(key) +
                                    "' = " + std::to_string(value) + " is out of range 0.." +
                                    std::to_string(max));
  }
  out = static_cast<uint64_t>(value);
  return Status::ok();
}

Status read_string(const std::string& path, std::string_view key, const toml::node& node,
                   std::string& out) {
  const auto* text = node.as_string();
  if (text == nullptr) return wrong_type(path, key, node, "a string");
  out = text->get();
  return Status::ok();
}

using Setter = Status (*)(const std::string& path, std::string_view key, const toml::node& node,
                          ServerConfig& config);

struct Field {
  std::string_view key;
  Setter set;
};

template <uint64_t ServerConfig::*member>
Status set_unsigned(const std::string& path, std::string_view key, const toml::node& node,
                    ServerConfig& config) {
  return read_unsigned(path, key, node, std::numeric_limits<int64_t>::max(), config.*member);
}

template <std::string ServerConfig::*member>
Status set_string(const std::string& path, std::string_view key, const toml::node& node,
                  ServerConfig& config) {
  return read_string(path, key, node, config.*member);
}

Status set_bool(const std::string& path, std::string_view key, const toml::node& node, bool& out) {
  const auto* value = node.as_boolean();
  if (value == nullptr) return wrong_type(path, key, node, "a boolean");
  out = value->get();
  return Status::ok();
}

Status set_cluster_enabled(const std::string& path, std::string_view key, const toml::node& node,
                           ServerConfig& config) {
  return set_bool(path, key, node, config.cluster_enabled);
}

Status set_enable_fault_commands(const std::string& path, std::string_view key,
                                 const toml::node& node, ServerConfig& config) {
  return set_bool(path, key, node, config.enable_fault_commands);
}

Status set_port(const std::string& path, std::string_view key, const toml::node& node,
                ServerConfig& config) {
  uint64_t port = 0;
  CAIRN_RETURN_IF_ERROR(read_unsigned(path, key, node, 65535, port));
  config.port = static_cast<uint16_t>(port);
  return Status::ok();
}

Status set_threads(const std::string& path, std::string_view key, const toml::node& node,
                   ServerConfig& config) {
  uint64_t threads = 0;
  CAIRN_RETURN_IF_ERROR(read_unsigned(path, key, node, kThreadsMax, threads));
  config.threads = static_cast<int>(threads);
  return Status::ok();
}

Status set_fsync(const std::string& path, std::string_view key, const toml::node& node,
                 ServerConfig& config) {
  std::string name;
  CAIRN_RETURN_IF_ERROR(read_string(path, key, node, name));
  auto fsync = parse_fsync(name);
  if (!fsync.is_ok()) {
    return Status::invalid_argument(where(path, node) +
                                    ": key 'fsync': " + std::string(fsync.status().message()));
  }
  config.fsync = *fsync;
  return Status::ok();
}

constexpr std::array kFields = {
    Field{"bind", &set_string<&ServerConfig::bind>},
    Field{"port", &set_port},
    Field{"dir", &set_string<&ServerConfig::dir>},
    Field{"fsync", &set_fsync},
    Field{"threads", &set_threads},
    Field{"log_level", &set_string<&ServerConfig::log_level>},
    Field{"proto_max_bulk_len", &set_unsigned<&ServerConfig::proto_max_bulk_len>},
    Field{"client_query_buffer_limit", &set_unsigned<&ServerConfig::client_query_buffer_limit>},
    Field{"client_output_buffer_limit", &set_unsigned<&ServerConfig::client_output_buffer_limit>},
    Field{"maxclients", &set_unsigned<&ServerConfig::maxclients>},
    Field{"block_cache_bytes", &set_unsigned<&ServerConfig::block_cache_bytes>},
    Field{"row_cache_bytes", &set_unsigned<&ServerConfig::row_cache_bytes>},
    Field{"write_buffer_bytes", &set_unsigned<&ServerConfig::write_buffer_bytes>},
    Field{"blob_threshold_bytes", &set_unsigned<&ServerConfig::blob_threshold_bytes>},
    Field{"expiry_cycle_interval_ms", &set_unsigned<&ServerConfig::expiry_cycle_interval_ms>},
    Field{"expiry_cycle_budget_ms", &set_unsigned<&ServerConfig::expiry_cycle_budget_ms>},
    Field{"cluster_enabled", &set_cluster_enabled},
    Field{"seeds", &set_string<&ServerConfig::seeds>},
    Field{"bus_port", &set_unsigned<&ServerConfig::bus_port>},
    Field{"rack", &set_string<&ServerConfig::rack>},
    Field{"replicas", &set_unsigned<&ServerConfig::replicas>},
    Field{"repair_bytes_per_second", &set_unsigned<&ServerConfig::repair_bytes_per_second>},
    Field{"repair_interval_ms", &set_unsigned<&ServerConfig::repair_interval_ms>},
    Field{"hint_window_ms", &set_unsigned<&ServerConfig::hint_window_ms>},
    Field{"ring_settle_ms", &set_unsigned<&ServerConfig::ring_settle_ms>},
    Field{"consistency", &set_string<&ServerConfig::consistency>},
    Field{"enable_fault_commands", &set_enable_fault_commands},
};

const Field* find_field(std::string_view key) {
  for (const Field& field : kFields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

Status out_of_range(std::string_view field, uint64_t value, std::string_view range) {
  return Status::invalid_argument(std::string(field) + " = " + std::to_string(value) +
                                  " is out of range " + std::string(range));
}

Status validate_cluster_config(const ServerConfig& config) {
  if (config.replicas < 1 || config.replicas > kReplicaCountMax) {
    return out_of_range("replicas", config.replicas, "1..7");
  }
  if (config.bus_port > 65535) return out_of_range("bus_port", config.bus_port, "0..65535");
  // Members announce their client port to the cluster.
  if (config.cluster_mode() && config.port == 0) {
    return Status::invalid_argument("port must not be 0 in cluster mode");
  }
  if (config.cluster_mode() && config.bus_port == 0 && config.port + 10000 > 65535) {
    return Status::invalid_argument("bus_port must be set when port + 10000 is above 65535");
  }
  if (config.cluster_mode() && config.effective_bus_port() == config.port) {
    return Status::invalid_argument("bus_port must differ from port");
  }
  if (config.rack.size() > kRackNameBytesMax) {
    return Status::invalid_argument("rack must be at most 255 bytes");
  }
  const uint64_t grace_ms = static_cast<uint64_t>(ClusterNodeConfig{}.tombstone_grace_ms);
  if (config.hint_window_ms >= grace_ms) {
    return out_of_range(
        "hint_window_ms", config.hint_window_ms,
        "0.." + std::to_string(grace_ms - 1) + " (less than the tombstone grace period)");
  }
  if (config.ring_settle_ms < kRingSettleMsMin || config.ring_settle_ms > kRingSettleMsMax) {
    return out_of_range("ring_settle_ms", config.ring_settle_ms,
                        std::to_string(kRingSettleMsMin) + ".." + std::to_string(kRingSettleMsMax));
  }
  if (!parse_consistency(config.consistency).has_value()) {
    return Status::invalid_argument(
        "consistency must be one, quorum, all, sloppy-one, sloppy-quorum or sloppy-all, not '" +
        config.consistency + "'");
  }
  if (!config.seeds.empty()) {
    CAIRN_RETURN_IF_ERROR(parse_seeds(config.seeds).status());
  }
  return Status::ok();
}

}  // namespace

Result<ServerFsync> parse_fsync(std::string_view name) {
  if (name == "always") return ServerFsync::kAlways;
  if (name == "everysec") return ServerFsync::kEverySec;
  if (name == "no") return ServerFsync::kNo;
  return Status::invalid_argument("fsync must be always, everysec or no, not '" +
                                  std::string(name) + "'");
}

std::string_view fsync_name(ServerFsync fsync) {
  switch (fsync) {
    case ServerFsync::kAlways:
      return "always";
    case ServerFsync::kEverySec:
      return "everysec";
    case ServerFsync::kNo:
      return "no";
  }
  return "?";
}

Status load_config_file(const std::string& path, ServerConfig& config) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::io_error("cannot read config file " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return Status::io_error("cannot read config file " + path);

  toml::table table;
  try {
    table = toml::parse(contents.str(), std::string_view(path));
  } catch (const toml::parse_error& error) {
    return Status::invalid_argument(path + ":" + std::to_string(error.source().begin.line) + ": " +
                                    std::string(error.description()));
  }
  for (const auto& [key, node] : table) {
    const Field* field = find_field(key.str());
    if (field == nullptr) {
      return Status::invalid_argument(where(path, node) + ": unknown key '" +
                                      std::string(key.str()) + "'");
    }
    CAIRN_RETURN_IF_ERROR(field->set(path, key.str(), node, config));
  }
  config.config_file = path;
  return Status::ok();
}

Status validate_config(const ServerConfig& config) {
  if (config.bind.empty()) return Status::invalid_argument("bind must not be empty");
  if (config.dir.empty()) return Status::invalid_argument("dir must not be empty");
  if (config.threads < 1 || config.threads > kThreadsMax) {
    return out_of_range("threads", static_cast<uint64_t>(config.threads), "1..64");
  }
  static constexpr std::array kLevels = {"trace", "debug",    "info", "warn",
                                         "error", "critical", "off"};
  bool level_known = false;
  for (const char* level : kLevels) level_known = level_known || config.log_level == level;
  if (!level_known) {
    return Status::invalid_argument(
        "log_level must be one of trace, debug, info, warn, error, "
        "critical, off, not '" +
        config.log_level + "'");
  }
  if (config.proto_max_bulk_len < 1 || config.proto_max_bulk_len > kProtoMaxBulkLenMax) {
    return out_of_range("proto_max_bulk_len", config.proto_max_bulk_len, "1..1073741824 (1 GiB)");
  }
  if (config.client_query_buffer_limit < kQueryBufferLimitMin) {
    return out_of_range("client_query_buffer_limit", config.client_query_buffer_limit,
                        ">= 1048576 (1 MiB)");
  }
  if (config.maxclients < 1 || config.maxclients > kMaxClientsMax) {
    return out_of_range("maxclients", config.maxclients, "1..1000000");
  }
  if (config.write_buffer_bytes < kWriteBufferBytesMin) {
    return out_of_range("write_buffer_bytes", config.write_buffer_bytes, ">= 65536 (64 KiB)");
  }
  if (config.blob_threshold_bytes < kBlobThresholdBytesMin) {
    return out_of_range("blob_threshold_bytes", config.blob_threshold_bytes, ">= 1024");
  }
  if (config.expiry_cycle_interval_ms < 1 ||
      config.expiry_cycle_interval_ms > kExpiryCycleIntervalMsMax) {
    return out_of_range("expiry_cycle_interval_ms", config.expiry_cycle_interval_ms, "1..60000");
  }
  if (config.expiry_cycle_budget_ms < 1 ||
      config.expiry_cycle_budget_ms > config.expiry_cycle_interval_ms) {
    return out_of_range("expiry_cycle_budget_ms", config.expiry_cycle_budget_ms,
                        "1..expiry_cycle_interval_ms");
  }
  return validate_cluster_config(config);
}

}  // namespace cairn
