// ServerConfig: how a cairnd node is set up. Filled from defaults, then a TOML file (--config),
// then command-line flags, each overriding the one before (config_loader.h).
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

// When an acknowledged write reaches the disk.
enum class ServerFsync {
  kAlways,    // a write's reply is sent only after the fsync that covers it
  kEverySec,  // the WAL (and blob files) are fsynced about once a second
  kNo,        // never by Cairn (the OS writes back when it likes)
};

// ring_settle_ms's range: below 100 ms a node on a busy machine may miss a step; above 10
// minutes a change would take most of an hour.
constexpr uint64_t kRingSettleMsMin = 100;
constexpr uint64_t kRingSettleMsMax = 10 * 60 * 1000;

struct ServerConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 7379;
  std::string dir = "./data";
  ServerFsync fsync = ServerFsync::kEverySec;
  // Event loop threads; connections are spread over them. One by default: on a 2-core machine
  // a second loop competes with the clients and the engine's background threads (measured:
  // SET at pipeline 16 fell from 210K to 122K ops/s with two); more help on more cores.
  int threads = 1;
  std::string log_level = "info";  // spdlog level names: trace debug info warn error critical off
  std::string config_file;         // the TOML file read, if any (CONFIG GET reports it)

  // Protocol limits (net/session.h ProtocolLimits, which CONFIG SET changes at run time).
  uint64_t proto_max_bulk_len = 512u << 20;  // up to 1 GiB
  uint64_t client_query_buffer_limit = 1024u << 20;
  uint64_t client_output_buffer_limit = 256u << 20;
  uint64_t maxclients = 10000;

  // Engine sizing: memory stays bounded by these, whatever the data size: up to two memtables
  // (the active one and the one being flushed) and the two caches, 352 MiB when all are full.
  // The memtable is RocksDB's default size: against 16 MiB it cut the CPU of INCR over 1 M
  // counters by a third (fewer flushes and level-0 compactions, and more of the counters read
  // back from memory). The row cache (storage/row_cache.h) holds the values of keys read from
  // the tables, answered again with one hash probe: a GET served from the block cache spent
  // half its CPU walking memtables, filters, index and block. 160 MiB holds about 910 K keys of
  // 100-byte values (when it held 870 K, 85% of GETs over 1 M keys after 3 M SETs hit it; with
  // every key cached, GET at pipeline 16 was about 55% faster once warm). The block cache holds
  // uncompressed blocks for the reads the row cache misses and for scans. 0 turns a cache off.
  // Apache Kvrocks, a Redis protocol server on RocksDB, defaults to a 4 GiB block cache.
  uint64_t block_cache_bytes = 64u << 20;
  uint64_t row_cache_bytes = 160u << 20;
  uint64_t write_buffer_bytes = 64u << 20;
  // Values above this go to blob files and are streamed (engine blob threshold).
  uint64_t blob_threshold_bytes = 64 * 1024;

  // Active expiry: how often the cycle runs and the share of one core it may use.
  uint64_t expiry_cycle_interval_ms = 100;
  uint64_t expiry_cycle_budget_ms = 25;

  // Cluster mode (docs/cluster-operations.md). Off: a single node, as before the cluster.
  bool cluster_enabled = false;
  // Client addresses ("host:port,host:port") of nodes to join the cluster through; a node given
  // none (or only itself) founds a new cluster. Setting seeds turns cluster mode on.
  std::string seeds;
  uint64_t bus_port = 0;  // the cluster bus; 0: port + 10000, as Redis Cluster
  std::string rack;       // placement: replicas go to distinct racks first
  uint64_t replicas = 3;  // N, cluster-wide: taken from the ring of the cluster joined
  // Anti-entropy's bandwidth (docs/cluster-repair.md): engine bytes read plus bus bytes, per
  // second, averaged; 0: no limit.
  uint64_t repair_bytes_per_second = 16u << 20;
  // Between the starts of two background repair exchanges; 0 turns the background cycle off,
  // leaving on-demand passes (cairnctl repair).
  uint64_t repair_interval_ms = 100;
  // Hints older than this are dropped, not delivered (hint_store.h). Less than the tombstone
  // grace period (4 hours).
  uint64_t hint_window_ms = 3 * 60 * 60 * 1000;
  // How long a ring change waits for every node to hear of it (docs/cluster-ring.md,
  // "Transitions"): a member gaining partitions waits this long before it streams them, and a
  // flipped ring takes writes for its previous lists this long before it settles.
  uint64_t ring_settle_ms = 5000;
  // A connection's consistency level until it picks one (CAIRN CONSISTENCY): one, quorum, all,
  // or sloppy-one / sloppy-quorum / sloppy-all.
  std::string consistency = "quorum";
  // CAIRN FAULT (test-only faults such as a bus partition) is refused unless this is set, as
  // Redis refuses DEBUG without enable-debug-command.
  bool enable_fault_commands = false;
  // Not a setting: whether the caller runs the cluster's loop itself, as the loop of its first
  // client thread (cairnd does; ClusterRuntimeOptions::own_thread).
  bool cluster_on_client_loop = false;

  bool cluster_mode() const { return cluster_enabled || !seeds.empty(); }
  uint16_t effective_bus_port() const {
    return static_cast<uint16_t>(bus_port != 0 ? bus_port : port + 10000);
  }
};

}  // namespace cairn
