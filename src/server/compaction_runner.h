// CompactionRunner: runs the full manual compactions CAIRN COMPACT asks for
// (Keyspace::compact, Database::compact_range) on a thread of its own, at the engine's background
// priority (Keyspace::kBackgroundNiceIncrement), so that no event loop waits for one and the loops
// keep most of the CPU. Requests that arrive while a compaction runs wait for the next one, which
// then answers all of them: every request is answered by a compaction that started after it was
// made, so the compaction covers whatever its client had deleted before asking.
//
// Thread-safety: request() from any thread; stop() from the thread that closes the server.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "io/scheduler.h"

namespace cairn {

class Keyspace;

class CompactionRunner {
 public:
  // Called on the runner's thread (or stop()'s) with the compaction's result.
  using Done = std::function<void(const Status&)>;

  // REQUIRES: the keyspace outlives the runner (or its stop()).
  explicit CompactionRunner(Keyspace& keyspace);
  ~CompactionRunner();
  CompactionRunner(const CompactionRunner&) = delete;
  CompactionRunner& operator=(const CompactionRunner&) = delete;

  // Queues a request; `done` is called once, when a compaction that starts after this call
  // finishes, or with Busy if the runner stops first.
  void request(Done done);
  // Answers the requests still queued with Busy and joins the thread, after the compaction in
  // progress (if any) returns: disable the database's manual compaction first to make that soon.
  // Later requests are answered Busy at once.
  void stop();

 private:
  // The thread's task: compactions until no request waits.
  void serve();

  Keyspace& keyspace_;
  std::mutex mutex_;
  std::vector<Done> waiting_;  // bounded by the clients: each waits for one answer
  bool serving_ = false;       // serve() is scheduled or running
  bool stopping_ = false;
  std::unique_ptr<ThreadPoolScheduler> thread_;  // one thread; null once stopped
};

}  // namespace cairn
