#include "server/compaction_runner.h"

#include <utility>

#include "server/keyspace.h"

namespace cairn {
namespace {

Status stopped() { return Status::busy("the server is shutting down"); }

}  // namespace

CompactionRunner::CompactionRunner(Keyspace& keyspace)
    : keyspace_(keyspace),
      thread_(std::make_unique<ThreadPoolScheduler>(1, Keyspace::kBackgroundNiceIncrement)) {}

CompactionRunner::~CompactionRunner() { stop(); }

void CompactionRunner::request(Done done) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    done(stopped());
    return;
  }
  waiting_.push_back(std::move(done));
  if (serving_) return;
  serving_ = true;
  // Under the lock: stop() cannot destroy the thread meanwhile (scheduling runs nothing here).
  thread_->schedule([this] { serve(); });
}

void CompactionRunner::stop() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  std::vector<Done> unserved = std::exchange(waiting_, {});
  std::unique_ptr<ThreadPoolScheduler> thread = std::move(thread_);
  lock.unlock();
  for (const Done& done : unserved) done(stopped());
  thread.reset();  // waits for serve() to return
}

void CompactionRunner::serve() {
  std::unique_lock lock(mutex_);
  while (!stopping_ && !waiting_.empty()) {
    std::vector<Done> served = std::exchange(waiting_, {});
    lock.unlock();
    const Status status = keyspace_.compact();
    for (const Done& done : served) done(status);
    lock.lock();
  }
  serving_ = false;
}

}  // namespace cairn
