// EnvWrapper: an Env that forwards every call to another, so a test can override just the calls
// it wants to slow down, count or fail (and so can production, e.g. for rate limiting).
// Thread-safety: as the target's.
#pragma once

#include "io/env.h"

namespace cairn {

class EnvWrapper : public Env {
 public:
  // REQUIRES: `target` outlives this wrapper.
  explicit EnvWrapper(Env* target) : target_(target) {}

  Env* target() const { return target_; }

  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override {
    return target_->new_sequential_file(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::string& path) override {
    return target_->new_random_access_file(path);
  }
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override {
    return target_->new_writable_file(path);
  }
  bool file_exists(const std::string& path) override { return target_->file_exists(path); }
  Result<uint64_t> file_size(const std::string& path) override { return target_->file_size(path); }
  Result<std::vector<std::string>> list_dir(const std::string& directory) override {
    return target_->list_dir(directory);
  }
  Status remove_file(const std::string& path) override { return target_->remove_file(path); }
  Status create_dir(const std::string& directory) override {
    return target_->create_dir(directory);
  }
  Status remove_dir(const std::string& directory) override {
    return target_->remove_dir(directory);
  }
  Status rename_file(const std::string& from, const std::string& to) override {
    return target_->rename_file(from, to);
  }
  Status sync_dir(const std::string& directory) override { return target_->sync_dir(directory); }
  Status sync_file(const std::string& path) override { return target_->sync_file(path); }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    return target_->lock_file(path);
  }

 private:
  Env* const target_;
};

}  // namespace cairn
