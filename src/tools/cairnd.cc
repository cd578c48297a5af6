// cairnd: one Cairn node speaking the Redis protocol. Reads the configuration (defaults, then
// --config FILE, then flags), opens the Server (the keyspace in --dir) and the NetServer (the
// listening socket and event loops), and runs until SIGTERM, SIGINT or SHUTDOWN; then the
// network layer finishes in-flight replies and Server::close() syncs the WAL and closes the
// engine. Every start-up failure is one line on stderr and exit code 1.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/node_identity.h"
#include "net/net_server.h"
#include "server/command_helpers.h"
#include "server/config_loader.h"
#include "server/server.h"

// jemalloc's options, read when it starts (cairnd links jemalloc: CMakeLists.txt). A point read
// or write touches random entries of the row cache, the memtable's point index and the memtable:
// each is a cache miss and, on 4 KiB pages, a TLB miss too, whose page walk is slow in a virtual
// machine. On 2 MiB pages (the kernel's transparent huge pages, mode `madvise` or `always`) INCR
// at pipeline 16 over 1 M keys cost 7% less CPU per request, SET and GET 5% (bench/cairnd_ab.py).
extern "C" {
const char* malloc_conf = "thp:always,metadata_thp:auto";
}

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "cairnd: %s\n", message.c_str());
  return 1;
}

// The flags that may override the file: each remembers its CLI11 option and how to copy the
// parsed value into the final configuration, so only flags actually given override.
class FlagSet {
 public:
  explicit FlagSet(CLI::App& app) : app_(app) {}

  template <typename T>
  void add(const std::string& name, T cairn::ServerConfig::*member, const std::string& help) {
    CLI::Option* option = app_.add_option(name, flags_.*member, help);
    option->capture_default_str();
    appliers_.push_back([this, option, member](cairn::ServerConfig& config) {
      if (option->count() > 0) config.*member = flags_.*member;
    });
  }

  void add_flag(const std::string& name, bool cairn::ServerConfig::*member,
                const std::string& help) {
    CLI::Option* option = app_.add_flag(name, flags_.*member, help);
    appliers_.push_back([this, option, member](cairn::ServerConfig& config) {
      if (option->count() > 0) config.*member = flags_.*member;
    });
  }

  void add_fsync() {
    fsync_option_ = app_.add_option("--fsync", fsync_name_,
                                    "When acknowledged writes reach the disk: always, everysec, no")
                        ->check(CLI::IsMember({"always", "everysec", "no"}))
                        ->capture_default_str();
  }

  // Applies the given flags over `config`.
  void apply(cairn::ServerConfig& config) const {
    for (const auto& apply_one : appliers_) apply_one(config);
    if (fsync_option_->count() > 0) config.fsync = *cairn::parse_fsync(fsync_name_);
  }

 private:
  CLI::App& app_;
  cairn::ServerConfig flags_;
  std::string fsync_name_ = "everysec";
  CLI::Option* fsync_option_ = nullptr;
  std::vector<std::function<void(cairn::ServerConfig&)>> appliers_;
};

// Creates the data directory if needed and checks that a file can be created in it, so an
// unusable directory is reported before the engine starts.
cairn::Status prepare_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    return cairn::Status::io_error("cannot create data directory " + dir + ": " + error.message());
  if (!fs::is_directory(dir, error)) {
    return cairn::Status::io_error("data directory " + dir + " is not a directory");
  }
  const fs::path probe = fs::path(dir) / ".cairnd-write-probe";
  {
    std::ofstream file(probe);
    if (!file || !(file << "probe") || !file.flush()) {
      return cairn::Status::io_error("data directory " + dir + " is not writable");
    }
  }
  fs::remove(probe, error);
  return cairn::Status::ok();
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("cairnd");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Waits for SIGTERM / SIGINT (blocked in every thread, see main) and asks the network layer to
// stop. Another signal more than a second after the first exits at once (a user insisting);
// sooner, it is the same request delivered twice (a process group and its leader both signalled).
// `quitting` set + SIGUSR1 ends the thread.
class SignalThread {
 public:
  SignalThread(const sigset_t& signals, cairn::NetServer& net)
      : thread_([this, signals, &net] { wait(signals, net); }) {}
  ~SignalThread() {
    quitting_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  void wait(sigset_t signals, cairn::NetServer& net) {
    std::optional<std::chrono::steady_clock::time_point> first_signal;
    while (true) {
      int signal_number = 0;
      if (sigwait(&signals, &signal_number) != 0) continue;
      if (quitting_.load()) return;
      if (signal_number == SIGUSR1) continue;
      const auto now = std::chrono::steady_clock::now();
      if (!first_signal.has_value()) {
        first_signal = now;
        spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
        net.stop();
      } else if (now - *first_signal > std::chrono::seconds(1)) {
        spdlog::warn("another signal during shutdown: exiting now");
        std::_Exit(1);
      }
    }
  }

  std::atomic<bool> quitting_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairnd: a Cairn node speaking the Redis protocol"};
  FlagSet flags(app);
  std::string config_file;
  app.add_option("--config", config_file, "TOML file with settings (flags override it)")
      ->check(CLI::ExistingFile);
  flags.add("--port", &cairn::ServerConfig::port, "TCP port to listen on");
  flags.add("--bind", &cairn::ServerConfig::bind, "Address to listen on");
  flags.add("--dir", &cairn::ServerConfig::dir, "Data directory (created if missing)");
  flags.add_fsync();
  flags.add("--threads", &cairn::ServerConfig::threads, "Event loop threads (1..64)");
  flags.add("--log-level", &cairn::ServerConfig::log_level,
            "trace, debug, info, warn, error, critical or off");
  flags.add("--proto-max-bulk-len", &cairn::ServerConfig::proto_max_bulk_len,
            "Largest bulk argument in bytes (up to 1 GiB)");
  flags.add("--client-query-buffer-limit", &cairn::ServerConfig::client_query_buffer_limit,
            "Unparsed input a client may hold, bytes");
  flags.add("--client-output-buffer-limit", &cairn::ServerConfig::client_output_buffer_limit,
            "Reply bytes waiting for a client before it is disconnected (0 = no limit)");
  flags.add("--maxclients", &cairn::ServerConfig::maxclients, "Most connected clients");
  flags.add("--block-cache-bytes", &cairn::ServerConfig::block_cache_bytes, "Engine block cache");
  flags.add("--row-cache-bytes", &cairn::ServerConfig::row_cache_bytes,
            "Engine row cache (values of keys read)");
  flags.add("--write-buffer-bytes", &cairn::ServerConfig::write_buffer_bytes,
            "Engine memtable size");
  flags.add("--blob-threshold-bytes", &cairn::ServerConfig::blob_threshold_bytes,
            "Values above this live in blob files and are streamed");
  flags.add("--expiry-cycle-interval-ms", &cairn::ServerConfig::expiry_cycle_interval_ms,
            "How often the active expiry cycle runs");
  flags.add("--expiry-cycle-budget-ms", &cairn::ServerConfig::expiry_cycle_budget_ms,
            "CPU time one expiry cycle may use");
  flags.add_flag("--cluster-enabled", &cairn::ServerConfig::cluster_enabled,
                 "Run as a cluster node (founds a cluster unless --seeds names others)");
  flags.add("--seeds", &cairn::ServerConfig::seeds,
            "Client addresses HOST:PORT[,HOST:PORT...] of nodes to join through (cluster mode)");
  flags.add("--bus-port", &cairn::ServerConfig::bus_port,
            "Cluster bus port (0: the client port + 10000)");
  flags.add("--rack", &cairn::ServerConfig::rack, "This node's rack or zone, for placement");
  flags.add("--replicas", &cairn::ServerConfig::replicas,
            "Replicas of each key, N (cluster-wide: set by the node that founds the cluster)");
  flags.add("--repair-bytes-per-second", &cairn::ServerConfig::repair_bytes_per_second,
            "Anti-entropy bandwidth: engine bytes read plus bus bytes per second (0: no limit)");
  flags.add("--repair-interval-ms", &cairn::ServerConfig::repair_interval_ms,
            "Between background repair exchanges (0: only on demand, cairnctl repair)");
  flags.add("--hint-window-ms", &cairn::ServerConfig::hint_window_ms,
            "Hints older than this are dropped, not delivered (less than 4 hours)");
  flags.add("--ring-settle-ms", &cairn::ServerConfig::ring_settle_ms,
            "How long each step of a ring change waits for every node to hear of it");
  flags.add_flag("--enable-fault-commands", &cairn::ServerConfig::enable_fault_commands,
                 "Allow CAIRN FAULT (test-only faults, e.g. a bus partition)");
  flags.add("--consistency", &cairn::ServerConfig::consistency,
            "Default consistency: one, quorum, all, or sloppy-one/-quorum/-all");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    return fail(error.what());
  }

  cairn::ServerConfig config;
  if (!config_file.empty()) {
    const cairn::Status status = cairn::load_config_file(config_file, config);
    if (!status.is_ok()) return fail(std::string(status.message()));
  }
  flags.apply(config);
  if (const cairn::Status status = cairn::validate_config(config); !status.is_ok()) {
    return fail(std::string(status.message()));
  }
  if (const cairn::Status status = prepare_directory(config.dir); !status.is_ok()) {
    return fail(std::string(status.message()));
  }
  setup_logging(config.log_level);

  // Block the shutdown signals before any thread starts so that every thread inherits the mask
  // and only the signal thread receives them (sigwait).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A command and the cluster work it starts run on one thread (cluster_runtime.h).
  config.cluster_on_client_loop = true;
  auto server = cairn::Server::open(config);
  if (!server.is_ok()) {
    if (server.status().message().starts_with(cairn::Server::kClusterStartFailed)) {
      return fail(std::string(server.status().message()));
    }
    if (server.status().is_busy()) {
      return fail("data directory " + config.dir + " is locked by another cairnd (" +
                  std::string(server.status().message()) + ")");
    }
    return fail("cannot open data directory " + config.dir + ": " + server.status().to_string());
  }
  const std::string address = config.bind + ":" + std::to_string(config.port);
  cairn::NetOptions net_options;
  net_options.bind = config.bind;
  net_options.port = config.port;
  net_options.threads = config.threads;
  if ((*server)->cluster() != nullptr && config.cluster_on_client_loop) {
    net_options.first_loop = (*server)->cluster()->loop();
  }
  auto net = cairn::NetServer::listen(net_options, **server, (*server)->limits());
  if (!net.is_ok()) {
    (void)(*server)->close();
    if (net.status().is_busy())
      return fail("cannot listen on " + address + ": address already in use");
    return fail("cannot listen on " + address + ": " + std::string(net.status().message()));
  }
  cairn::NetServer& net_server = **net;
  (*server)->set_shutdown_handler([&net_server] { net_server.stop(); });

  const uint16_t port = net_server.port();
  if (cairn::ClusterRuntime* cluster = (*server)->cluster(); cluster != nullptr) {
    std::printf("Cairn cluster node %s, bus on %s:%u\n",
                cairn::cluster_node_name(cluster->self()).c_str(), config.bind.c_str(),
                config.effective_bus_port());
  }
  std::printf(
      "Cairn %s listening on %s:%u (data in %s, fsync %s) — connect with: redis-cli -p %u\n",
      std::string(cairn::kCairnVersion).c_str(), config.bind.c_str(), port, config.dir.c_str(),
      std::string(cairn::fsync_name(config.fsync)).c_str(), port);
  std::fflush(stdout);
  {
    SignalThread signal_thread(signals, net_server);
    net_server.run();
  }
  spdlog::info("connections closed; syncing and closing the data directory");
  net->reset();
  const cairn::Status closed = (*server)->close();
  if (!closed.is_ok()) {
    spdlog::error("close failed: {}", closed.to_string());
    return 1;
  }
  spdlog::info("bye");
  return 0;
}
