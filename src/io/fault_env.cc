#include "io/fault_env.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/assert.h"

namespace cairn {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The path with empty components dropped: "/db//x/" -> "db/x". The root is "".
std::string canonical(const std::string& path) {
  std::string result;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string::npos) end = path.size();
    if (end > begin) {
      if (!result.empty()) result += '/';
      result.append(path, begin, end - begin);
    }
    begin = end + 1;
  }
  return result;
}

Status power_lost(const std::string& path) { return Status::io_error(path + ": power lost"); }

}  // namespace

// ---- Handles -------------------------------------------------------------------------------
// Each holds its inode, so it keeps working on a renamed or removed file, and the epoch it was
// opened in, so that it dies at the next power loss.

class FaultEnv::SequentialHandle final : public SequentialFile {
 public:
  SequentialHandle(FaultEnv* env, std::shared_ptr<Inode> inode, std::string path, uint64_t epoch)
      : env_(env), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Status read(size_t n, std::string_view* result, char* scratch) override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    CAIRN_RETURN_IF_ERROR(env_->check_handle_locked(epoch_, path_));
    CAIRN_RETURN_IF_ERROR(env_->admit_locked({kRead, false, path_}));
    const std::string& data = inode_->data;
    const size_t start = std::min<size_t>(position_, data.size());  // a truncate may shrink it
    const size_t length = std::min(n, data.size() - start);
    std::memcpy(scratch, data.data() + start, length);
    position_ = start + length;
    *result = std::string_view(scratch, length);
    return Status::ok();
  }

  Status skip(uint64_t n) override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    CAIRN_RETURN_IF_ERROR(env_->check_handle_locked(epoch_, path_));
    CAIRN_RETURN_IF_ERROR(env_->admit_locked({kRead, false, path_}));
    const uint64_t size = inode_->data.size();
    const uint64_t start = std::min(position_, size);
    position_ = start + std::min(n, size - start);
    return Status::ok();
  }

 private:
  FaultEnv* const env_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t epoch_;
  uint64_t position_ = 0;
};

class FaultEnv::RandomAccessHandle final : public RandomAccessFile {
 public:
  RandomAccessHandle(FaultEnv* env, std::shared_ptr<Inode> inode, std::string path, uint64_t epoch)
      : env_(env), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Status read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    CAIRN_RETURN_IF_ERROR(env_->check_handle_locked(epoch_, path_));
    CAIRN_RETURN_IF_ERROR(env_->admit_locked({kRead, false, path_}));
    const std::string& data = inode_->data;
    // As pread: at or past the end there is nothing to read, which is not an error.
    const size_t start = static_cast<size_t>(std::min<uint64_t>(offset, data.size()));
    const size_t length = std::min(n, data.size() - start);
    std::memcpy(scratch, data.data() + start, length);
    *result = std::string_view(scratch, length);
    return Status::ok();
  }

 private:
  FaultEnv* const env_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t epoch_;
};

// No buffer: an append reaches the inode (the "page cache") at once, so flush() has no work.
class FaultEnv::WritableHandle final : public WritableFile {
 public:
  WritableHandle(FaultEnv* env, std::shared_ptr<Inode> inode, std::string path, uint64_t epoch)
      : env_(env), inode_(std::move(inode)), path_(std::move(path)), epoch_(epoch) {}

  Status append(std::string_view data) override {
    CAIRN_ASSERT(!closed_);
    std::lock_guard<std::mutex> lock(env_->mutex_);
    CAIRN_RETURN_IF_ERROR(env_->check_handle_locked(epoch_, path_));
    CAIRN_RETURN_IF_ERROR(env_->admit_locked({kAppend, true, path_}, inode_.get(), data));
    inode_->data.append(data);
    return Status::ok();
  }

  Status flush() override {
    CAIRN_ASSERT(!closed_);
    std::lock_guard<std::mutex> lock(env_->mutex_);
    return env_->check_handle_locked(epoch_, path_);
  }

  Status sync() override {
    CAIRN_ASSERT(!closed_);
    std::lock_guard<std::mutex> lock(env_->mutex_);
    CAIRN_RETURN_IF_ERROR(env_->check_handle_locked(epoch_, path_));
    CAIRN_RETURN_IF_ERROR(env_->admit_locked({kSync, true, path_}));
    inode_->synced_size = inode_->data.size();
    return Status::ok();
  }

  Status close() override {
    CAIRN_ASSERT(!closed_);
    closed_ = true;
    std::lock_guard<std::mutex> lock(env_->mutex_);
    return env_->check_handle_locked(epoch_, path_);
  }

 private:
  FaultEnv* const env_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t epoch_;
  bool closed_ = false;
};

class FaultEnv::LockHandle final : public FileLock {
 public:
  LockHandle(FaultEnv* env, std::string canonical_path, uint64_t epoch)
      : env_(env), canonical_path_(std::move(canonical_path)), epoch_(epoch) {}
  ~LockHandle() override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    // A power loss released every lock; the path may have been locked again since.
    if (epoch_ == env_->epoch_) env_->locked_paths_.erase(canonical_path_);
  }

 private:
  FaultEnv* const env_;
  const std::string canonical_path_;
  const uint64_t epoch_;
};

// ---- Construction, lookup, the gate --------------------------------------------------------

FaultEnv::FaultEnv(uint64_t seed) : random_(seed) { directories_[""] = Directory(); }

FaultEnv::~FaultEnv() = default;

FaultEnv::SplitPath FaultEnv::split(const std::string& path) {
  std::string full = canonical(path);
  const size_t slash = full.rfind('/');
  if (slash == std::string::npos) return {"", std::move(full)};
  return {full.substr(0, slash), full.substr(slash + 1)};
}

FaultEnv::Directory* FaultEnv::find_directory_locked(const std::string& canonical_path) {
  const auto it = directories_.find(canonical_path);
  return it == directories_.end() ? nullptr : &it->second;
}

const FaultEnv::Directory* FaultEnv::find_directory_locked(
    const std::string& canonical_path) const {
  const auto it = directories_.find(canonical_path);
  return it == directories_.end() ? nullptr : &it->second;
}

Result<std::shared_ptr<FaultEnv::Inode>> FaultEnv::find_file_locked(const std::string& path) const {
  const SplitPath split_path = split(path);
  const Directory* directory = find_directory_locked(split_path.directory);
  if (directory != nullptr) {
    const auto it = directory->entries.find(split_path.name);
    if (it != directory->entries.end()) return it->second;
  }
  if (directories_.count(canonical(path)) != 0) return Status::io_error(path + ": is a directory");
  return Status::not_found(path + ": no such file or directory");
}

Status FaultEnv::check_handle_locked(uint64_t epoch, const std::string& path) const {
  if (crashed_) return power_lost(path);
  if (epoch != epoch_) return Status::io_error(path + ": handle died in a power loss");
  return Status::ok();
}

Status FaultEnv::admit_locked(const Operation& operation, Inode* torn_inode,
                              std::string_view torn_append) {
  if (crashed_) return power_lost(operation.path);
  if (operation.mutating) {
    ++mutating_op_count_;
    if (mutating_op_count_ == crash_at_op_count_) {
      // Power fails during this operation: a write may have reached the page cache in part.
      if (torn_inode != nullptr) {
        torn_inode->data.append(torn_append.substr(0, random_.uniform(torn_append.size() + 1)));
      }
      crash_at_op_count_ = 0;
      power_loss_locked();
      crashed_ = true;
      return power_lost(operation.path);
    }
  }
  return injected_fault_locked(operation);
}

Status FaultEnv::injected_fault_locked(const Operation& operation) {
  Status fault;
  for (ActiveRule& active : rules_) {
    const FaultRule& rule = active.rule;
    if ((rule.ops & operation.op) == 0) continue;
    const bool path_matches =
        operation.path.find(rule.path_substring) != std::string::npos ||
        (operation.other_path != nullptr &&
         operation.other_path->find(rule.path_substring) != std::string::npos);
    if (!path_matches) continue;
    ++active.matched;  // every matching rule counts, even when an earlier one fired
    const bool fires = active.matched > rule.skip && active.matched - rule.skip <= rule.times;
    if (!fires || !fault.is_ok()) continue;
    std::string message = operation.path;
    if (operation.other_path != nullptr) message += " -> " + *operation.other_path;
    fault = rule.code == Status::Code::kNoSpace ? Status::no_space(message + ": injected ENOSPC")
                                                : Status::io_error(message + ": injected EIO");
  }
  return fault;
}

// ---- Power -------------------------------------------------------------------------------

void FaultEnv::power_loss_locked() {
  for (auto& [name, directory] : directories_) directory.entries = directory.durable_entries;
  // Maps are ordered, so inodes are torn in the same order, with the same draws, on every run.
  std::set<const Inode*> torn;
  for (auto& [name, directory] : directories_) {
    for (auto& [entry_name, inode] : directory.entries) {
      if (!torn.insert(inode.get()).second) continue;  // named twice: tear once
      const uint64_t unsynced = inode->data.size() - inode->synced_size;
      if (unsynced == 0) continue;
      // Bias toward the edges: "nothing reached the disk" and "all of it did" are the cases a
      // recovery most often gets wrong, and a plain uniform draw would rarely produce them.
      uint64_t kept = 0;
      switch (random_.uniform(4)) {
        case 0:
          kept = 0;
          break;
        case 1:
          kept = unsynced;
          break;
        default:
          kept = random_.range(0, unsynced);
          break;
      }
      inode->data.resize(inode->synced_size + kept);
      inode->synced_size = inode->data.size();
    }
  }
  locked_paths_.clear();
  ++epoch_;
}

void FaultEnv::power_loss() {
  std::lock_guard<std::mutex> lock(mutex_);
  power_loss_locked();
}

void FaultEnv::crash_after_mutating_ops(uint64_t count) {
  CAIRN_ASSERT(count >= 1);
  std::lock_guard<std::mutex> lock(mutex_);
  crash_at_op_count_ = mutating_op_count_ + count;
}

bool FaultEnv::crashed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return crashed_;
}

void FaultEnv::restart() {
  std::lock_guard<std::mutex> lock(mutex_);
  crashed_ = false;
  crash_at_op_count_ = 0;
}

uint64_t FaultEnv::mutating_op_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return mutating_op_count_;
}

void FaultEnv::inject(FaultRule rule) {
  CAIRN_ASSERT(rule.code == Status::Code::kIOError || rule.code == Status::Code::kNoSpace);
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.push_back(ActiveRule{std::move(rule), 0});
}

void FaultEnv::clear_faults() {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.clear();
}

// ---- Test helpers ----------------------------------------------------------------------------

Status FaultEnv::corrupt_byte(const std::string& path, uint64_t offset, uint8_t mask) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Inode> inode, find_file_locked(path));
  if (offset >= inode->data.size()) {
    return Status::invalid_argument(path + ": offset " + std::to_string(offset) +
                                    " is past the end (size " + std::to_string(inode->data.size()) +
                                    ")");
  }
  // The synced bytes are a prefix of data, so this changes the durable copy too when it is there.
  inode->data[offset] = static_cast<char>(static_cast<uint8_t>(inode->data[offset]) ^ mask);
  return Status::ok();
}

Result<std::string> FaultEnv::contents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Inode> inode, find_file_locked(path));
  return inode->data;
}

Result<uint64_t> FaultEnv::durable_size(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Inode> inode, find_file_locked(path));
  return inode->synced_size;
}

// ---- Env: files ------------------------------------------------------------------------------

Result<std::unique_ptr<SequentialFile>> FaultEnv::new_sequential_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kOpenRead, false, path}));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, find_file_locked(path));
  return std::unique_ptr<SequentialFile>(
      new SequentialHandle(this, std::move(inode), path, epoch_));
}

Result<std::unique_ptr<RandomAccessFile>> FaultEnv::new_random_access_file(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kOpenRead, false, path}));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, find_file_locked(path));
  return std::unique_ptr<RandomAccessFile>(
      new RandomAccessHandle(this, std::move(inode), path, epoch_));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::new_writable_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kCreate, true, path}));
  const SplitPath split_path = split(path);
  Directory* directory = find_directory_locked(split_path.directory);
  if (directory == nullptr) return Status::not_found(path + ": no such directory");
  if (split_path.name.empty() || directories_.count(canonical(path)) != 0) {
    return Status::io_error(path + ": is a directory");
  }
  std::shared_ptr<Inode>& inode = directory->entries[split_path.name];
  if (inode == nullptr) {
    inode = std::make_shared<Inode>();
  } else {
    // Same inode, as O_TRUNC: other handles see the truncation. Durable at once (see header).
    inode->data.clear();
    inode->synced_size = 0;
  }
  return std::unique_ptr<WritableFile>(new WritableHandle(this, inode, path, epoch_));
}

bool FaultEnv::file_exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (crashed_) return false;
  return find_file_locked(path).is_ok() || directories_.count(canonical(path)) != 0;
}

Result<uint64_t> FaultEnv::file_size(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (crashed_) return power_lost(path);
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Inode> inode, find_file_locked(path));
  return static_cast<uint64_t>(inode->data.size());
}

Status FaultEnv::remove_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kRemove, true, path}));
  CAIRN_RETURN_IF_ERROR(find_file_locked(path).status());
  const SplitPath split_path = split(path);
  find_directory_locked(split_path.directory)->entries.erase(split_path.name);
  return Status::ok();
}

Status FaultEnv::rename_file(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kRename, true, from, &to}));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, find_file_locked(from));
  const SplitPath target = split(to);
  Directory* target_directory = find_directory_locked(target.directory);
  if (target_directory == nullptr) return Status::not_found(to + ": no such directory");
  if (target.name.empty() || directories_.count(canonical(to)) != 0) {
    return Status::io_error(to + ": is a directory");
  }
  const SplitPath source = split(from);
  find_directory_locked(source.directory)->entries.erase(source.name);
  target_directory->entries[target.name] = std::move(inode);  // replaces any old `to`
  return Status::ok();
}

Result<std::unique_ptr<FileLock>> FaultEnv::lock_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kCreate, false, path}));
  const SplitPath split_path = split(path);
  Directory* directory = find_directory_locked(split_path.directory);
  if (directory == nullptr) return Status::not_found(path + ": no such directory");
  if (split_path.name.empty() || directories_.count(canonical(path)) != 0) {
    return Status::io_error(path + ": is a directory");
  }
  std::string canonical_path = canonical(path);
  if (!locked_paths_.insert(canonical_path).second) {
    return Status::busy(path + ": already locked");
  }
  std::shared_ptr<Inode>& inode = directory->entries[split_path.name];
  if (inode == nullptr) inode = std::make_shared<Inode>();  // created, durable after sync_dir
  return std::unique_ptr<FileLock>(new LockHandle(this, std::move(canonical_path), epoch_));
}

// ---- Env: directories ----------------------------------------------------------------------

Result<std::vector<std::string>> FaultEnv::list_dir(const std::string& directory_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (crashed_) return power_lost(directory_path);
  const std::string path = canonical(directory_path);
  const Directory* directory = find_directory_locked(path);
  if (directory == nullptr) {
    if (find_file_locked(directory_path).is_ok()) {
      return Status::io_error(directory_path + ": not a directory");
    }
    return Status::not_found(directory_path + ": no such directory");
  }
  std::vector<std::string> names;
  for (const auto& [name, inode] : directory->entries) names.push_back(name);
  // Subdirectories are keys of directories_ one component below this one.
  const std::string prefix = path.empty() ? "" : path + "/";
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && starts_with(it->first, prefix); ++it) {
    const std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  }
  return names;
}

Status FaultEnv::create_dir(const std::string& directory_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kCreate, true, directory_path}));
  const std::string path = canonical(directory_path);
  // Each prefix in turn, parents first; its parent exists by the time it is made.
  size_t end = 0;
  while (end < path.size()) {
    end = path.find('/', end + 1);
    if (end == std::string::npos) end = path.size();
    const std::string prefix = path.substr(0, end);
    if (directories_.count(prefix) != 0) continue;
    const SplitPath split_path = split(prefix);
    if (directories_.at(split_path.directory).entries.count(split_path.name) != 0) {
      return Status::io_error(directory_path + ": " + prefix + " exists and is not a directory");
    }
    directories_[prefix] = Directory();  // durable at once (see header)
  }
  return Status::ok();
}

Status FaultEnv::remove_dir(const std::string& directory_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kRemove, true, directory_path}));
  const std::string path = canonical(directory_path);
  if (path.empty()) return Status::invalid_argument(directory_path + ": cannot remove the root");
  const auto it = directories_.find(path);
  if (it == directories_.end()) return Status::not_found(directory_path + ": no such directory");
  // Not simply the next key: "a-b" sorts between "a" and "a/c".
  const auto child = directories_.lower_bound(path + "/");
  const bool has_subdirectory =
      child != directories_.end() && starts_with(child->first, path + "/");
  if (!it->second.entries.empty() || has_subdirectory) {
    return Status::io_error(directory_path + ": directory not empty");
  }
  // Durable at once, with it the unsynced removals of its entries (a journal commits in order).
  directories_.erase(it);
  return Status::ok();
}

Status FaultEnv::sync_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kSync, true, path}));
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<Inode> inode, find_file_locked(path));
  inode->synced_size = inode->data.size();
  return Status::ok();
}

Status FaultEnv::sync_dir(const std::string& directory_path) {
  std::lock_guard<std::mutex> lock(mutex_);
  CAIRN_RETURN_IF_ERROR(admit_locked({kSyncDir, true, directory_path}));
  Directory* directory = find_directory_locked(canonical(directory_path));
  if (directory == nullptr) return Status::not_found(directory_path + ": no such directory");
  directory->durable_entries = directory->entries;
  return Status::ok();
}

}  // namespace cairn
