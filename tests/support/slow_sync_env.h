// SlowSyncEnv: an Env whose file syncs take a while (sleeping the given time) and are counted.
// It widens race windows (a background flush that is still running while writers go on) and
// makes group commit observable (concurrent writers share one slow WAL sync).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "io/env_wrapper.h"

namespace cairn::test {

class SlowSyncEnv final : public EnvWrapper {
 public:
  // Syncs of files whose path contains `path_substring` sleep `delay` first.
  SlowSyncEnv(Env* target, std::string path_substring, std::chrono::microseconds delay)
      : EnvWrapper(target), path_substring_(std::move(path_substring)), delay_(delay) {}

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(auto file, target()->new_writable_file(path));
    if (path.find(path_substring_) == std::string::npos) return file;
    return std::unique_ptr<WritableFile>(std::make_unique<SlowFile>(std::move(file), this));
  }

  uint64_t slow_sync_count() const { return slow_sync_count_.load(); }

 private:
  class SlowFile final : public WritableFile {
   public:
    SlowFile(std::unique_ptr<WritableFile> file, SlowSyncEnv* env)
        : file_(std::move(file)), env_(env) {}
    Status append(std::string_view data) override { return file_->append(data); }
    Status flush() override { return file_->flush(); }
    Status sync() override {
      std::this_thread::sleep_for(env_->delay_);
      env_->slow_sync_count_.fetch_add(1);
      return file_->sync();
    }
    Status close() override { return file_->close(); }

   private:
    std::unique_ptr<WritableFile> file_;
    SlowSyncEnv* env_;
  };

  const std::string path_substring_;
  const std::chrono::microseconds delay_;
  std::atomic<uint64_t> slow_sync_count_{0};
};

}  // namespace cairn::test
