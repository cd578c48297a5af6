// Env: every file operation of the storage engine goes through this interface, so that tests
// can run the engine on FaultEnv (in memory, with power loss, injected errors and corruption)
// and production on PosixEnv. Paths are plain strings; "/" separates components.
//
// Thread-safety: an Env may be used from many threads at once. A RandomAccessFile may be read
// from many threads at once; a SequentialFile or WritableFile is used by one thread at a time.
//
// Durability contract (what FaultEnv enforces on power loss):
//   - bytes appended to a WritableFile survive a power loss only once sync() has returned OK;
//   - a file's creation, rename or removal survives only once sync_dir() of its parent
//     directory has returned OK after that operation;
//   - create_dir() and remove_dir() are durable when they return (no sync_dir needed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace cairn {

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `scratch` (room for n bytes) and points *result at what was read,
  // which is shorter than n only at the end of the file (empty at the end).
  virtual Status read(size_t n, std::string_view* result, char* scratch) = 0;
  // Skips `n` bytes (fewer at the end of the file).
  virtual Status skip(uint64_t n) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch` (room for n bytes); *result points at what
  // was read, which is shorter than n only when the file ends first. Safe to call concurrently.
  virtual Status read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const = 0;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends to the end of the file. Bytes may sit in a user-space buffer until flush().
  virtual Status append(std::string_view data) = 0;
  // Hands buffered bytes to the operating system (they survive a process crash, not a power loss).
  virtual Status flush() = 0;
  // Makes every byte appended so far durable (flushes first).
  virtual Status sync() = 0;
  // Flushes and closes; further calls are programming errors. The destructor closes if needed.
  virtual Status close() = 0;
};

// A held lock on a file; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment (never destroyed).
  static Env* posix();

  virtual Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::string& path) = 0;
  // Creates the file, truncating any existing one.
  virtual Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) = 0;

  virtual bool file_exists(const std::string& path) = 0;
  virtual Result<uint64_t> file_size(const std::string& path) = 0;
  // The names (not paths) of the entries of `directory`, without "." and "..", in any order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& directory) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Creates `directory` and its missing parents; OK if it exists already. Durable when it
  // returns OK (the implementation syncs the parent of each directory it creates).
  virtual Status create_dir(const std::string& directory) = 0;
  // Removes an empty directory. Durable when it returns OK.
  virtual Status remove_dir(const std::string& directory) = 0;
  // Atomically replaces `to` (if it exists) with `from`.
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  // Makes the creations, renames and removals of entries in `directory` durable.
  virtual Status sync_dir(const std::string& directory) = 0;
  // Makes the contents of the file at `path` durable, as WritableFile::sync, whoever wrote them:
  // for bytes an earlier process appended and left unsynced.
  virtual Status sync_file(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (creating the file), for one database per directory.
  // Busy if another process or another lock_file call of this Env holds it.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;
};

// Convenience helpers built on Env.
Status write_string_to_file(Env* env, std::string_view data, const std::string& path, bool sync);
Result<std::string> read_file_to_string(Env* env, const std::string& path);

}  // namespace cairn
