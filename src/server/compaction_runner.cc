#include "server/compaction_runner.h"

#include <utility>

#include "server/keyspace.h"

namespace cairn {
namespace {

Status stopped() { return Status::busy("the server is shutting down"); }

}  // namespace

CompactionRunner::CompactionRunner(Keyspace& keyspace)
    : keyspace_(keyspace), thread_([this] { run(); }) {}

CompactionRunner::~CompactionRunner() { stop(); }

void CompactionRunner::request(Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      waiting_.push_back(std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done(stopped());
}

void CompactionRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void CompactionRunner::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (stopping_) break;
    std::vector<Done> served = std::exchange(waiting_, {});
    lock.unlock();
    const Status status = keyspace_.compact();
    for (const Done& done : served) done(status);
    lock.lock();
  }
  std::vector<Done> unserved = std::exchange(waiting_, {});
  lock.unlock();
  for (const Done& done : unserved) done(stopped());
}

}  // namespace cairn
