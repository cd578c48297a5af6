#include "storage/file_names.h"

#include <cstdio>

namespace cairn {
namespace {

std::string numbered(const std::string& directory, uint64_t number, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof(name), "/%06llu.%s", static_cast<unsigned long long>(number), suffix);
  return directory + name;
}

// Parses a whole string of decimal digits; false for empty, non-digits or overflow.
bool parse_number(std::string_view digits, uint64_t* number) {
  if (digits.empty() || digits.size() > 19) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = value;
  return true;
}

}  // namespace

std::string log_file_name(const std::string& directory, uint64_t number) {
  return numbered(directory, number, "log");
}
std::string table_file_name(const std::string& directory, uint64_t number) {
  return numbered(directory, number, "sst");
}
std::string blob_file_name(const std::string& directory, uint64_t number) {
  return numbered(directory, number, "blob");
}
std::string temp_file_name(const std::string& directory, uint64_t number) {
  return numbered(directory, number, "tmp");
}
std::string manifest_file_name(const std::string& directory, uint64_t number) {
  char name[64];
  std::snprintf(name, sizeof(name), "/MANIFEST-%06llu", static_cast<unsigned long long>(number));
  return directory + name;
}
std::string current_file_name(const std::string& directory) { return directory + "/CURRENT"; }
std::string lock_file_name(const std::string& directory) { return directory + "/LOCK"; }

bool parse_file_name(std::string_view name, uint64_t* number, FileKind* kind) {
  if (name == "CURRENT") {
    *number = 0;
    *kind = FileKind::kCurrent;
    return true;
  }
  if (name == "LOCK") {
    *number = 0;
    *kind = FileKind::kLock;
    return true;
  }
  constexpr std::string_view kManifestPrefix = "MANIFEST-";
  if (name.starts_with(kManifestPrefix)) {
    *kind = FileKind::kManifest;
    return parse_number(name.substr(kManifestPrefix.size()), number);
  }
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view suffix = name.substr(dot + 1);
  if (suffix == "log") {
    *kind = FileKind::kLog;
  } else if (suffix == "sst") {
    *kind = FileKind::kTable;
  } else if (suffix == "blob") {
    *kind = FileKind::kBlob;
  } else if (suffix == "tmp") {
    *kind = FileKind::kTemp;
  } else {
    return false;
  }
  return parse_number(name.substr(0, dot), number);
}

}  // namespace cairn
