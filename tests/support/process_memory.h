// This process's resident memory as the kernel reports it, for tests that bound peak RSS growth
// (a streamed value must not be held whole in memory).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace cairn::test {

// A field of /proc/self/status in bytes ("VmHWM", "VmRSS"), or 0 if absent.
inline uint64_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoull(line.substr(field.size() + 1)) * 1024;  // reported in kB
    }
  }
  return 0;
}

// Resets the peak RSS (VmHWM) to the current RSS; false if the kernel refuses.
inline bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return clear_refs.good();
}

}  // namespace cairn::test
