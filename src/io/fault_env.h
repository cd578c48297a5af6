// FaultEnv: an in-memory Env for crash and fault tests. It owns a simulated file system that can
// lose power (dropping what was never synced, tearing unsynced appends), fail chosen operations
// with EIO or ENOSPC, and corrupt single bytes. One seed makes every run repeatable.
//
// Model. A path is split at '/': its parent directory is everything before the last '/', and
// empty components are ignored ("/db/x", "db/x" and "db//x/" name the same file; "" is the root,
// which always exists). Each directory maps names to inodes and keeps two maps: its current
// entries and its durable entries (as of its last sync_dir). Each inode holds `data` (what reads
// see, like the page cache) and `synced_size`; the synced bytes are always a prefix of `data`.
//
// Durability (the env.h contract, and nothing kinder):
//   - append() lands in `data` at once; sync() and sync_file() make all of `data` durable;
//   - creating, renaming or removing a file is durable once sync_dir() of the directory holding
//     the entry returns OK (a rename between two directories needs both synced);
//   - create_dir() and remove_dir() are durable when they return (env.h says so for every Env);
//   - new_writable_file() on an existing file truncates that inode, durably and at once.
//
// Operations are counted (see crash_after_mutating_ops): the mutating ones are append, sync,
// new_writable_file, rename_file, remove_file, create_dir, remove_dir, sync_dir and sync_file.
// Every call of one counts, including calls that then fail. flush() and close() are no-ops that are
// not counted and never fail, except on a dead handle or while crashed. lock_file is not counted.
//
// Fault rules map to operations as: kOpenRead = new_sequential_file, new_random_access_file;
// kRead = SequentialFile::read/skip, RandomAccessFile::read; kCreate = new_writable_file,
// create_dir, lock_file; kAppend; kSync = WritableFile::sync, sync_file; kRename (matches if either
// path contains the substring); kRemove = remove_file, remove_dir; kSyncDir. file_exists, file_size
// and list_dir are never injected.
//
// Thread-safety: every method may be called from any thread (one mutex guards all state).
// Handles follow env.h. REQUIRES: the FaultEnv outlives every handle and lock it returned.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "io/env.h"
#include "io/random.h"

namespace cairn {

class FaultEnv final : public Env {
 public:
  // The seed drives the torn-write lengths of power losses.
  explicit FaultEnv(uint64_t seed);
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override;
  // False while crashed (it cannot report the error).
  bool file_exists(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& directory) override;
  Status remove_file(const std::string& path) override;
  Status create_dir(const std::string& directory) override;
  Status remove_dir(const std::string& directory) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status sync_dir(const std::string& directory) override;
  Status sync_file(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;

  // Simulates a power loss, now: every directory's entries revert to its durable entries; every
  // inode still named keeps its synced bytes plus a random prefix of its unsynced ones (none,
  // all, or a torn part). Every handle and lock from before is dead: handle operations fail with
  // IOError, and a stale FileLock released later releases nothing. Does not set crashed().
  void power_loss();
  // Arms a power loss at the `count`-th mutating operation from now (REQUIRES: count >= 1). That
  // operation does not happen (except that an append may first land a random prefix of its
  // bytes), power_loss() runs, and every operation fails with IOError("power lost") until
  // restart(). Re-arming replaces the previous count.
  void crash_after_mutating_ops(uint64_t count);
  bool crashed() const;
  // The machine comes back: operations work again on the post-power-loss state. Disarms.
  void restart();
  // Mutating operations counted since construction (lets a test pick a crash point).
  uint64_t mutating_op_count() const;

  // Error injection: an operation matching a rule fails with the rule's code and has no effect.
  enum FaultOp : uint32_t {
    kOpenRead = 1,
    kRead = 2,
    kCreate = 4,
    kAppend = 8,
    kSync = 16,
    kRename = 32,
    kRemove = 64,
    kSyncDir = 128,
    kAll = 0xffffffff,
  };
  struct FaultRule {
    uint32_t ops = kAll;                         // which operations (bitmask of FaultOp)
    std::string path_substring;                  // only paths containing this ("" = all)
    Status::Code code = Status::Code::kIOError;  // kIOError (EIO) or kNoSpace (ENOSPC)
    uint64_t skip = 0;                           // let this many matching operations succeed
    uint64_t times = UINT64_MAX;                 // then fail this many, then stop matching
  };
  // Rules are independent: each counts every operation it matches, and an operation fails if
  // any rule fires for it (with the code of the first that does, in the order added).
  void inject(FaultRule rule);
  void clear_faults();

  // Test helpers. They inspect or change the state directly: they work while crashed, are not
  // counted, and are never injected.
  // XORs `mask` into the byte at `offset` (what reads see, and the durable copy if that byte is
  // synced). NotFound if there is no such file, InvalidArgument if offset >= its size.
  Status corrupt_byte(const std::string& path, uint64_t offset, uint8_t mask = 0x01);
  // The bytes a read sees now.
  Result<std::string> contents(const std::string& path) const;
  // The bytes of the file that would survive a power loss now (its synced prefix), ignoring
  // whether its directory entry is durable.
  Result<uint64_t> durable_size(const std::string& path) const;

 private:
  struct Inode {
    std::string data;          // what reads see
    uint64_t synced_size = 0;  // data[0, synced_size) survives a power loss
  };
  using Entries = std::map<std::string, std::shared_ptr<Inode>>;
  struct Directory {
    Entries entries;
    Entries durable_entries;
  };
  // A path split at its last '/', with empty components dropped.
  struct SplitPath {
    std::string directory;
    std::string name;  // empty for the root
  };
  // What a handle operation or an env operation is, for counting and injection.
  struct Operation {
    FaultOp op;
    bool mutating;
    const std::string& path;
    const std::string* other_path = nullptr;  // rename's target
  };
  struct ActiveRule {
    FaultRule rule;
    uint64_t matched = 0;
  };
  class SequentialHandle;
  class RandomAccessHandle;
  class WritableHandle;
  class LockHandle;

  static SplitPath split(const std::string& path);

  // All *_locked functions REQUIRE mutex_ held.
  // The gate every operation passes first: fails while crashed, counts a mutating operation and
  // fires an armed crash (landing `torn_append` into `torn_inode` first), then applies the rules.
  Status admit_locked(const Operation& operation, Inode* torn_inode = nullptr,
                      std::string_view torn_append = {});
  Status injected_fault_locked(const Operation& operation);
  // OK if a handle opened at `epoch` may still be used.
  Status check_handle_locked(uint64_t epoch, const std::string& path) const;
  void power_loss_locked();
  Directory* find_directory_locked(const std::string& canonical);
  const Directory* find_directory_locked(const std::string& canonical) const;
  Result<std::shared_ptr<Inode>> find_file_locked(const std::string& path) const;
  Status remove_locked(const std::string& path);
  Status rename_locked(const std::string& from, const std::string& to);

  mutable std::mutex mutex_;
  Random random_;
  std::map<std::string, Directory> directories_;  // by canonical path; "" is the root
  std::vector<ActiveRule> rules_;
  std::set<std::string> locked_paths_;  // canonical paths
  uint64_t epoch_ = 0;                  // power losses so far; handles remember theirs
  uint64_t mutating_op_count_ = 0;
  uint64_t crash_at_op_count_ = 0;  // 0 = not armed
  bool crashed_ = false;
};

}  // namespace cairn
