// VersionSet: the database's list of versions and the MANIFEST that makes changes to it durable.
//
// On disk: CURRENT names the live MANIFEST; the MANIFEST is a log (log_format.h) of VersionEdits
// whose first record is a snapshot of the whole state. Opening a database writes a new MANIFEST
// and switches CURRENT to it atomically (temp file, fsync, rename, directory fsync), so a crash
// at any point leaves CURRENT naming a complete MANIFEST.
//
// Thread-safety: every method may be called concurrently, except recover(), which must run
// before any other. Concurrent log_and_apply() calls are applied one after the other.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/log_writer.h"
#include "storage/version.h"
#include "storage/version_edit.h"

namespace cairn {

class Env;
class WritableFile;

class VersionSet {
 public:
  VersionSet(Env* env, std::string directory);
  ~VersionSet();
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;

  // True if the directory holds a database (a CURRENT file).
  bool exists() const;

  // Reads CURRENT and replays the MANIFEST it names. Corruption names the file. A torn final
  // record of the MANIFEST is ignored: it is an edit that was never acknowledged.
  Status recover();

  // Applies `edit` and makes it durable: appended to the open MANIFEST, or, if none is open
  // (first call after recover(), or after a failed write), written as a snapshot into a new
  // MANIFEST that CURRENT is switched to. Fills in the edit's next file number. On error the
  // current version is unchanged.
  Status log_and_apply(VersionEdit* edit);

  std::shared_ptr<const Version> current() const;
  uint64_t new_file_number();
  // The number new_file_number() would return next.
  uint64_t next_file_number() const;
  // Makes sure future numbers exceed `number` (for files found during recovery).
  void mark_file_number_used(uint64_t number);
  // The oldest write-ahead log still needed: older logs are fully in tables.
  uint64_t log_number() const;
  // The largest sequence number recorded in the MANIFEST.
  uint64_t last_sequence() const;
  uint64_t manifest_file_number() const;

  // Table numbers listed by any version that is still referenced (by readers or current()).
  std::set<uint64_t> live_table_numbers() const;
  // Blob files named by a table of any version that is still referenced (docs/blob-format.md).
  std::set<uint64_t> live_blob_file_numbers() const;

 private:
  Status apply_recovered_edit(const VersionEdit& edit, const std::string& manifest_name);
  Status write_new_manifest(const Version& version, uint64_t log_number, uint64_t last_sequence);
  Status append_to_manifest(const VersionEdit& edit);

  Env* const env_;
  const std::string directory_;

  mutable std::mutex mutex_;
  std::shared_ptr<const Version> current_;
  std::vector<std::weak_ptr<const Version>> versions_;  // every installed version, maybe expired
  uint64_t next_file_number_ = 2;                       // 1 is the first MANIFEST's
  uint64_t log_number_ = 0;
  uint64_t last_sequence_ = 0;
  uint64_t manifest_file_number_ = 0;

  // Serializes log_and_apply(); guards the MANIFEST handle below.
  std::mutex apply_mutex_;
  std::unique_ptr<WritableFile> manifest_file_;
  std::unique_ptr<LogWriter> manifest_log_;
};

}  // namespace cairn
