// ClusterScratch: where a cluster-mode command runs the single node's own implementation. The
// cluster reads the merged states of the command's keys from their replicas; the scratch loads
// their images into a private single-node keyspace held in memory (a Server on an in-memory Env,
// never on disk), runs the command's handler there exactly as a single node would (its reply is
// Redis's, in the client's protocol), reads the keys back and empties itself again. The cluster
// then writes each key's change as a CRDT delta (model/key_image.h). So every command keeps one
// implementation, and replicas still merge by the rules of docs/cluster-versions.md.
//
// Keys are loaded and read back through commands (SET, HSET, SADD, ZADD, RPUSH, PEXPIREAT; TYPE,
// GET, HGETALL, SMEMBERS, ZRANGE, LRANGE, PEXPIRETIME): the scratch depends on no more of the
// keyspace than any client does.
//
// A Run holds the scratch from begin() until it is destroyed: it loads the keys, runs one command
// (or a transaction's commands, EXEC) on them and reads them back.
//
// Thread-safety: begin() may be called from any thread; runs take turns (a Run holds the
// scratch's mutex). A Run is used by one thread.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "io/fault_env.h"
#include "model/key_image.h"
#include "net/reply_writer.h"
#include "net/resp_value.h"
#include "server/command_table.h"

namespace cairn {

class Server;
class Client;

class ClusterScratch {
 public:
  static Result<std::unique_ptr<ClusterScratch>> open();
  ~ClusterScratch();
  ClusterScratch(const ClusterScratch&) = delete;
  ClusterScratch& operator=(const ClusterScratch&) = delete;

  // The scratch, held from begin() until destroyed; destroying it empties the scratch again.
  class Run {
   public:
    ~Run();
    Run(Run&& other) = default;
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    Run& operator=(Run&&) = delete;

    // Loads keys[i] as images[i]. REQUIRES: called once, keys distinct, images.size() ==
    // keys.size().
    Status load(std::span<const std::string> keys, std::span<const KeyImage> images);
    // Runs argv as `entry`'s handler, which must not block (it answers as if it timed out),
    // appending its reply to `reply` in reply's protocol.
    void execute(const CommandEntry& entry, std::span<const std::string_view> argv,
                 ReplyWriter& reply);
    // Each loaded key as it is now, in load()'s order.
    Result<std::vector<KeyImage>> read_back();

   private:
    friend class ClusterScratch;
    explicit Run(ClusterScratch* scratch);

    ClusterScratch* scratch_;
    std::unique_lock<std::mutex> lock_;
    std::vector<std::string> keys_;  // loaded, to empty the scratch of
  };
  // Waits for the runs before to end.
  Run begin();

 private:
  ClusterScratch();
  // Runs an internal command (RESP2) and returns its reply parsed.
  Result<RespValue> call(std::vector<std::string> argv);
  Status load(const std::string& key, const KeyImage& image);
  Result<KeyImage> read_back(const std::string& key);

  std::mutex mutex_;
  FaultEnv env_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
};

}  // namespace cairn
