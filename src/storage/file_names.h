// The files of a database directory and how their names encode their kind and number:
//   000123.log       a write-ahead log
//   000124.sst       a table
//   000126.blob      a blob file: large values, referred to from tables and logs
//   000125.tmp       a file being written that becomes another by rename (CURRENT)
//   MANIFEST-000007  a log of version edits: which tables make up the database
//   CURRENT          names the live MANIFEST
//   LOCK             held by the process that has the database open
// File numbers come from one counter (VersionSet::new_file_number), so numbers never repeat
// within a database and a larger log number means newer writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

enum class FileKind { kLog, kTable, kBlob, kTemp, kManifest, kCurrent, kLock };

std::string log_file_name(const std::string& directory, uint64_t number);
std::string table_file_name(const std::string& directory, uint64_t number);
std::string blob_file_name(const std::string& directory, uint64_t number);
std::string temp_file_name(const std::string& directory, uint64_t number);
std::string manifest_file_name(const std::string& directory, uint64_t number);
std::string current_file_name(const std::string& directory);
std::string lock_file_name(const std::string& directory);

// Parses a name (not a path) as produced above. False for names that are not the engine's.
[[nodiscard]] bool parse_file_name(std::string_view name, uint64_t* number, FileKind* kind);

}  // namespace cairn
