// Linux probes for the engine benchmark (system_probe.h).
#include "system_probe.h"

#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace cairn::bench {
namespace {

constexpr size_t kSequentialChunkBytes = size_t{1} << 20;

Status errno_status(const std::string& what) {
  return Status::io_error(what + ": " + std::strerror(errno));
}

// The value of "name: value ..." in a /proc file of such lines.
Result<uint64_t> proc_field(const char* path, std::string_view name) {
  std::ifstream file(path);
  if (!file) return Status::io_error(std::string("cannot read ") + path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ':') {
      return std::stoull(line.substr(name.size() + 1));
    }
  }
  return Status::not_found(std::string(path) + " has no field " + std::string(name));
}

std::string first_match(const char* path, std::string_view prefix) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// A file descriptor closed on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<double> measure_sequential_write(const std::string& path, uint64_t bytes) {
  std::vector<char> chunk(kSequentialChunkBytes);
  std::mt19937_64 random(1);
  for (char& byte : chunk) byte = static_cast<char>(random());
  FileDescriptor file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  if (file.get() < 0) return errno_status("open " + path);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t written = 0; written < bytes; written += chunk.size()) {
    if (::write(file.get(), chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
      return errno_status("write " + path);
    }
  }
  if (::fsync(file.get()) != 0) return errno_status("fsync " + path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (::posix_fadvise(file.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
    return errno_status("posix_fadvise " + path);
  }
  return static_cast<double>(bytes) / 1e6 / seconds;
}

Result<double> measure_sequential_read(const std::string& path, uint64_t bytes) {
  std::vector<char> chunk(kSequentialChunkBytes);
  FileDescriptor file(::open(path.c_str(), O_RDONLY));
  if (file.get() < 0) return errno_status("open " + path);
  const auto start = std::chrono::steady_clock::now();
  uint64_t read_bytes = 0;
  while (read_bytes < bytes) {
    const ssize_t got = ::read(file.get(), chunk.data(), chunk.size());
    if (got <= 0) return errno_status("read " + path);
    read_bytes += static_cast<uint64_t>(got);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(read_bytes) / 1e6 / seconds;
}

}  // namespace

int available_cpus() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (::sched_getaffinity(0, sizeof(cpus), &cpus) != 0) {
    return static_cast<int>(std::thread::hardware_concurrency());
  }
  return CPU_COUNT(&cpus);
}

Result<uint64_t> process_disk_bytes_written() { return proc_field("/proc/self/io", "write_bytes"); }

Result<uint64_t> reset_peak_rss() {
  ::malloc_trim(0);
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.close();
  if (!clear_refs) return Status::io_error("cannot write /proc/self/clear_refs");
  CAIRN_ASSIGN_OR_RETURN(const uint64_t rss_kib, proc_field("/proc/self/status", "VmRSS"));
  return rss_kib * 1024;
}

Result<uint64_t> peak_rss_bytes() {
  CAIRN_ASSIGN_OR_RETURN(const uint64_t peak_kib, proc_field("/proc/self/status", "VmHWM"));
  return peak_kib * 1024;
}

Result<uint64_t> directory_bytes(const std::string& directory) {
  std::error_code error;
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
    if (error) break;
  }
  if (error) return Status::io_error(directory + ": " + error.message());
  return total;
}

Status drop_page_cache(const std::string& directory) {
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory, error)) {
    if (!entry.is_regular_file(error)) continue;
    const std::string path = entry.path().string();
    FileDescriptor file(::open(path.c_str(), O_RDONLY));
    if (file.get() < 0) {
      if (errno == ENOENT) continue;  // deleted by the engine meanwhile
      return errno_status("open " + path);
    }
    if (::fdatasync(file.get()) != 0) return errno_status("fdatasync " + path);
    if (::posix_fadvise(file.get(), 0, 0, POSIX_FADV_DONTNEED) != 0) {
      return errno_status("posix_fadvise " + path);
    }
  }
  if (error) return Status::io_error(directory + ": " + error.message());
  return Status::ok();
}

Result<std::unique_ptr<FdatasyncProbe>> FdatasyncProbe::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) return errno_status("open " + path);
  return std::unique_ptr<FdatasyncProbe>(new FdatasyncProbe(path, fd));
}

FdatasyncProbe::~FdatasyncProbe() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

Result<uint64_t> FdatasyncProbe::run_for(std::chrono::nanoseconds duration) {
  const std::string record(kFdatasyncAppendBytes, 'r');
  const auto end = std::chrono::steady_clock::now() + duration;
  uint64_t syncs = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (::write(fd_, record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
      return errno_status("write " + path_);
    }
    if (::fdatasync(fd_) != 0) return errno_status("fdatasync " + path_);
    syncs++;
  }
  return syncs;
}

Result<SequentialBandwidth> measure_sequential_bandwidth(const std::string& directory,
                                                         uint64_t bytes) {
  const std::string path = directory + "/disk-baseline.sequential";
  SequentialBandwidth bandwidth;
  Status status;
  if (Result<double> write = measure_sequential_write(path, bytes); write.is_ok()) {
    bandwidth.write_mb_per_s = *write;
    if (Result<double> read = measure_sequential_read(path, bytes); read.is_ok()) {
      bandwidth.read_mb_per_s = *read;
    } else {
      status = read.status();
    }
  } else {
    status = write.status();
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (!status.is_ok()) return status;
  return bandwidth;
}

std::string describe_machine(const std::string& directory) {
  std::ostringstream out;
  utsname system{};
  ::uname(&system);
  auto memory_kib = proc_field("/proc/meminfo", "MemTotal");
  out << "  cpus: " << available_cpus() << " (" << first_match("/proc/cpuinfo", "model name")
      << ")\n"
      << "  memory: " << (memory_kib.is_ok() ? *memory_kib / 1024 : 0) << " MiB\n"
      << "  kernel: " << system.sysname << " " << system.release << "\n";
  std::ifstream mounts("/proc/self/mounts");
  std::string device, mount_point, type, best_type = "unknown", best_device;
  size_t best_length = 0;
  std::string rest;
  const std::string absolute = std::filesystem::absolute(directory).string();
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    if (absolute.rfind(mount_point, 0) == 0 && mount_point.size() >= best_length) {
      best_length = mount_point.size();
      best_type = type;
      best_device = device;
    }
  }
  out << "  data directory: " << absolute << " (" << best_type << " on " << best_device << ")\n";
  return out.str();
}

}  // namespace cairn::bench
