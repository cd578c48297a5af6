#include "server/info.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "cluster/node_identity.h"
#include "cluster/replica_store.h"
#include "server/command.h"
#include "server/command_helpers.h"
#include "server/config_loader.h"
#include "server/server.h"

namespace cairn {
namespace {

constexpr std::string_view kDefaultSections[] = {
    "server", "clients", "memory",     "persistence", "stats",   "replication",
    "cpu",    "modules", "errorstats", "cluster",     "keyspace"};

// Process facts from /proc (Linux): resident bytes, pid, CPU seconds (user, system).
struct ProcessFacts {
  uint64_t rss_bytes = 0;
  uint64_t peak_rss_bytes = 0;
  int64_t pid = 0;
  double user_cpu_s = 0;
  double system_cpu_s = 0;
};

ProcessFacts read_process_facts() {
  ProcessFacts facts;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %llu kB", &kib) == 1) facts.rss_bytes = kib * 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %llu kB", &kib) == 1) facts.peak_rss_bytes = kib * 1024;
    long long pid = 0;
    if (std::sscanf(line.c_str(), "Pid: %lld", &pid) == 1) facts.pid = pid;
  }
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    // Fields after the name: state(3) ... utime(14) stime(15); the clock tick is 100 Hz on Linux.
    for (int index = 3; fields >> field; ++index) {
      if (index == 14) facts.user_cpu_s = std::stod(field) / 100.0;
      if (index == 15) {
        facts.system_cpu_s = std::stod(field) / 100.0;
        break;
      }
    }
  }
  return facts;
}

std::string human_bytes(uint64_t bytes) {
  char buffer[32];
  double value = static_cast<double>(bytes);
  if (bytes < 1024) {
    std::snprintf(buffer, sizeof(buffer), "%lluB", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1u << 20)) {
    std::snprintf(buffer, sizeof(buffer), "%.2fK", value / 1024);
  } else if (bytes < (1u << 30)) {
    std::snprintf(buffer, sizeof(buffer), "%.2fM", value / (1 << 20));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.2fG", value / (1 << 30));
  }
  return buffer;
}

class InfoWriter {
 public:
  void section(std::string_view name) {
    if (!text_.empty()) text_ += "\r\n";
    text_ += "# ";
    text_ += name;
    text_ += "\r\n";
  }
  template <typename T>
  void field(std::string_view name, const T& value) {
    text_ += name;
    text_ += ':';
    if constexpr (std::is_convertible_v<T, std::string_view>) {
      text_ += std::string_view(value);
    } else {
      text_ += std::to_string(value);
    }
    text_ += "\r\n";
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

void server_section(Server& server, InfoWriter& out, const ProcessFacts& facts) {
  int64_t uptime_s = (Server::now_ms() - server.start_time_ms()) / 1000;
  std::error_code error;
  std::string executable = std::filesystem::read_symlink("/proc/self/exe", error).string();
  out.section("Server");
  out.field("redis_version", kRedisCompatibleVersion);
  out.field("cairn_version", kCairnVersion);
  out.field("redis_mode", "standalone");
  out.field("os", "Linux");
  out.field("arch_bits", 64);
  out.field("multiplexing_api", "epoll");
  out.field("process_id", facts.pid);
  out.field("tcp_port", server.config().port);
  out.field("server_time_usec", Server::now_ms() * 1000);
  out.field("uptime_in_seconds", uptime_s);
  out.field("uptime_in_days", uptime_s / 86400);
  out.field("hz", 10);
  out.field("io_threads_active", server.config().threads > 1 ? 1 : 0);
  out.field("executable", executable);
  out.field("config_file", server.config().config_file);
}

void clients_section(Server& server, InfoWriter& out) {
  out.section("Clients");
  out.field("connected_clients", server.clients().connected());
  out.field("maxclients", server.clients().maxclients());
  out.field("blocked_clients", server.blocking().blocked_count());
  out.field("tracking_clients", 0);
  out.field("clients_in_timeout_table", 0);
}

void memory_section(Server& server, InfoWriter& out, const ProcessFacts& facts) {
  DatabaseStats stats = server.keyspace().database().stats();
  out.section("Memory");
  out.field("used_memory", facts.rss_bytes);
  out.field("used_memory_human", human_bytes(facts.rss_bytes));
  out.field("used_memory_rss", facts.rss_bytes);
  out.field("used_memory_rss_human", human_bytes(facts.rss_bytes));
  out.field("used_memory_peak", facts.peak_rss_bytes);
  out.field("used_memory_peak_human", human_bytes(facts.peak_rss_bytes));
  out.field("block_cache_usage_bytes", stats.block_cache_usage_bytes);
  out.field("block_cache_capacity_bytes", stats.block_cache_capacity_bytes);
  out.field("row_cache_usage_bytes", stats.row_cache_usage_bytes);
  out.field("maxmemory", 0);
  out.field("maxmemory_human", "0B");
  out.field("maxmemory_policy", "noeviction");
  out.field("mem_allocator", "libc");
}

void persistence_section(Server& server, InfoWriter& out) {
  out.section("Persistence");
  out.field("loading", 0);
  out.field("async_loading", 0);
  out.field("rdb_changes_since_last_save", 0);
  out.field("rdb_bgsave_in_progress", 0);
  out.field("rdb_last_save_time", server.last_save_s());
  out.field("rdb_last_bgsave_status", "ok");
  out.field("aof_enabled", 1);
  out.field("aof_rewrite_in_progress", 0);
  out.field("aof_last_write_status", "ok");
  out.field("appendfsync", fsync_name(server.config().fsync));
  out.field("wal_syncs", server.stats().wal_syncs());
}

void stats_section(Server& server, InfoWriter& out) {
  KeyspaceStats keys = server.keyspace().stats();
  DatabaseStats engine = server.keyspace().database().stats();
  out.section("Stats");
  out.field("total_connections_received", server.clients().total_connections());
  out.field("total_commands_processed", server.stats().commands_processed());
  out.field("instantaneous_ops_per_sec", server.stats().instantaneous_ops_per_sec());
  out.field("rejected_connections", server.clients().rejected_connections());
  out.field("expired_keys", keys.expired_keys);
  out.field("evicted_keys", 0);
  out.field("keyspace_hits", keys.keyspace_hits);
  out.field("keyspace_misses", keys.keyspace_misses);
  out.field("pubsub_channels", 0);
  out.field("pubsub_patterns", 0);
  out.field("total_net_input_bytes", 0);
  out.field("total_net_output_bytes", 0);
  out.field("engine_user_bytes_written", engine.user_bytes_written);
  out.field("engine_flush_count", engine.flush_count);
  out.field("engine_compaction_count", engine.compaction_count);
  out.field("engine_compaction_bytes_written", engine.compaction_bytes_written);
  out.field("engine_manual_compaction_count", engine.manual_compaction_count);
  out.field("engine_stall_micros", engine.stall_micros);
  std::string files_per_level;
  for (const DatabaseStats::Level& level : engine.levels) {
    if (!files_per_level.empty()) files_per_level += ',';
    files_per_level += std::to_string(level.file_count);
  }
  out.field("engine_files_per_level", files_per_level);
  out.field("engine_block_cache_hits", engine.block_cache_hits);
  out.field("engine_block_cache_misses", engine.block_cache_misses);
  out.field("engine_row_cache_hits", engine.row_cache_hits);
  out.field("engine_row_cache_misses", engine.row_cache_misses);
}

void cpu_section(InfoWriter& out, const ProcessFacts& facts) {
  char buffer[32];
  out.section("CPU");
  std::snprintf(buffer, sizeof(buffer), "%.6f", facts.system_cpu_s);
  out.field("used_cpu_sys", std::string_view(buffer));
  std::snprintf(buffer, sizeof(buffer), "%.6f", facts.user_cpu_s);
  out.field("used_cpu_user", std::string_view(buffer));
}

// The bytes of the files in the data directory (the engine's tables, WAL and blob files).
uint64_t data_directory_bytes(const std::string& dir) {
  std::error_code error;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += it->file_size(error);
  }
  return total;
}

void cluster_section(Server& server, InfoWriter& out) {
  ClusterRuntime* cluster = server.cluster();
  out.field("cluster_enabled", cluster != nullptr ? 1 : 0);
  out.field("cairn_disk_bytes", data_directory_bytes(server.config().dir));
  if (cluster == nullptr) return;
  const auto snapshot = cluster->snapshot();
  const ClusterMemberInfo* self = snapshot->member(snapshot->self);
  out.field("cairn_node_id", cluster_node_name(snapshot->self));
  out.field("cairn_rack", self != nullptr ? self->rack : std::string());
  out.field("cairn_joined", snapshot->joined ? 1 : 0);
  out.field("cairn_ring_epoch", snapshot->ring.epoch());
  out.field("cairn_ring_members", snapshot->ring.members().size());
  out.field("cairn_replicas", snapshot->ring.replica_count());
  out.field("cairn_requests", snapshot->coordinator.requests);
  out.field("cairn_requests_failed", snapshot->coordinator.failed);
  out.field("cairn_read_repairs", snapshot->coordinator.read_repairs);
  out.field("cairn_hints_stored", snapshot->coordinator.hints_stored);
  out.field("cairn_hints_pending", snapshot->hints_pending);
  out.field("cairn_calls_submitted_ahead", server.stats().calls_submitted_ahead());
  out.field("cairn_replica_writes_applied", snapshot->replica.writes_applied);
  out.field("cairn_concurrent_writes", snapshot->replica.concurrent_writes);
  out.field("cairn_replica_writes_without_read", snapshot->replica.writes_without_read);
  out.field("cairn_repair_exchanges", snapshot->repair.exchanges_started);
  out.field("cairn_repair_partitions_equal", snapshot->repair.partitions_equal);
  out.field("cairn_repair_slots_differing", snapshot->repair.slots_differing);
  out.field("cairn_repair_keys_fetched", snapshot->repair.keys_fetched);
  out.field("cairn_repair_keys_pushed", snapshot->repair.keys_pushed);
  out.field("cairn_repair_cycles", snapshot->repair.cycles_completed);
  out.field("cairn_repair_bytes_sent", snapshot->repair.bytes_sent);
  out.field("cairn_repair_bytes_received", snapshot->repair.bytes_received);
  out.field("cairn_repair_states_replies_cut", snapshot->repair.states_replies_cut);
  out.field("cairn_stream_exchanges", snapshot->repair.stream_exchanges);
  out.field("cairn_partitions_streamed", snapshot->repair.partitions_streamed);
  out.field("cairn_stream_partitions", snapshot->stream.partitions);
  out.field("cairn_stream_partitions_done", snapshot->stream.partitions_done);
  out.field("cairn_cleanup_states_dropped", snapshot->cleanup.states_dropped);
  out.field("cairn_cleanup_partitions_walked", snapshot->cleanup.partitions_walked);
  out.field("cairn_bus_messages_sent", snapshot->bus.messages_sent);
  out.field("cairn_bus_messages_received", snapshot->bus.messages_received);
  out.field("cairn_bus_messages_dropped",
            snapshot->bus.dropped_queue_full + snapshot->bus.dropped_unknown_peer +
                snapshot->bus.dropped_connection_lost + snapshot->bus.dropped_backing_off +
                snapshot->bus.dropped_too_large);
}

// db0: the keyspace's keys. In cluster mode, like Redis Cluster's INFO, this node's own share:
// the live keys it holds replicas of (each key is counted on each of its N replicas; DBSIZE
// counts the cluster's keys once).
void keyspace_section(Server& server, InfoWriter& out) {
  out.section("Keyspace");
  uint64_t keys = 0;
  uint64_t keys_with_expiry = 0;
  if (server.cluster() != nullptr) {
    Result<ReplicaKeyCounts> counts =
        count_replica_keys(&server.keyspace().database(), Server::now_ms());
    if (!counts.is_ok()) return;
    keys = counts->keys;
    keys_with_expiry = counts->keys_with_expiry;
  } else {
    Result<KeyspaceCounts> counts = server.keyspace().counts();
    if (!counts.is_ok()) return;
    keys = counts->keys;
    keys_with_expiry = counts->keys_with_expiry;
  }
  if (keys > 0) {
    out.field("db0", "keys=" + std::to_string(keys) +
                         ",expires=" + std::to_string(keys_with_expiry) + ",avg_ttl=0");
  }
}

void commandstats_section(Server& server, InfoWriter& out) {
  out.section("Commandstats");
  for (const CommandEntry* entry : server.table().entries()) {
    const CommandCounters& counters = server.stats().command(entry->index);
    uint64_t calls = counters.calls.load(std::memory_order_relaxed);
    uint64_t rejected = counters.rejected_calls.load(std::memory_order_relaxed);
    if (calls == 0 && rejected == 0) continue;
    uint64_t usec = counters.usec.load(std::memory_order_relaxed);
    char per_call[32];
    std::snprintf(per_call, sizeof(per_call), "%.2f",
                  calls == 0 ? 0.0 : static_cast<double>(usec) / static_cast<double>(calls));
    out.field("cmdstat_" + entry->full_name,
              "calls=" + std::to_string(calls) + ",usec=" + std::to_string(usec) +
                  ",usec_per_call=" + per_call + ",rejected_calls=" + std::to_string(rejected) +
                  ",failed_calls=" +
                  std::to_string(counters.failed_calls.load(std::memory_order_relaxed)));
  }
}

bool wants(const std::vector<std::string>& requested, std::string_view name) {
  for (const std::string& section : requested) {
    if (section == name) return true;
  }
  return false;
}

}  // namespace

std::string build_info(Server& server, std::span<const std::string_view> sections) {
  std::vector<std::string> requested;
  for (std::string_view section : sections) {
    std::string lowered(section);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool all = lowered == "all" || lowered == "everything";
    if (lowered == "default" || all) {
      requested.insert(requested.end(), std::begin(kDefaultSections), std::end(kDefaultSections));
    }
    if (all) requested.push_back("commandstats");
    if (!all && lowered != "default") requested.push_back(lowered);
  }
  if (sections.empty()) {
    requested.assign(std::begin(kDefaultSections), std::end(kDefaultSections));
  }
  ProcessFacts facts = read_process_facts();
  InfoWriter out;
  if (wants(requested, "server")) server_section(server, out, facts);
  if (wants(requested, "clients")) clients_section(server, out);
  if (wants(requested, "memory")) memory_section(server, out, facts);
  if (wants(requested, "persistence")) persistence_section(server, out);
  if (wants(requested, "stats")) stats_section(server, out);
  if (wants(requested, "replication")) {
    out.section("Replication");
    out.field("role", "master");
    out.field("connected_slaves", 0);
  }
  if (wants(requested, "cpu")) cpu_section(out, facts);
  if (wants(requested, "modules")) out.section("Modules");
  if (wants(requested, "commandstats")) commandstats_section(server, out);
  if (wants(requested, "errorstats")) out.section("Errorstats");
  if (wants(requested, "cluster")) {
    out.section("Cluster");
    cluster_section(server, out);
  }
  if (wants(requested, "keyspace")) keyspace_section(server, out);
  return out.take();
}

void info_command(CommandContext& context) {
  context.reply.verbatim("txt", build_info(context.server, context.argv.subspan(1)));
}

}  // namespace cairn
