// PosixEnv: Env over POSIX file descriptors. Every error message names the operation, the path
// and strerror(errno); ENOSPC maps to NoSpace, ENOENT to NotFound, the rest to IOError.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

#include "common/assert.h"
#include "io/env.h"

namespace cairn {
namespace {

// Small appends (WAL records) are gathered here so that each does not cost a system call.
constexpr size_t kWritableBufferSizeBytes = 64 * 1024;

Status posix_error(std::string_view operation, const std::string& path, int error_number) {
  std::string message(operation);
  message += ' ';
  message += path;
  message += ": ";
  // std::generic_category().message() is strerror's text without strerror's static buffer.
  message += std::generic_category().message(error_number);
  switch (error_number) {
    case ENOSPC:
      return Status::no_space(message);
    case ENOENT:
      return Status::not_found(message);
    default:
      return Status::io_error(message);
  }
}

// The directory holding `path`, for sync_dir after creating an entry in it.
std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

Result<int> open_fd(const std::string& path, int flags, mode_t mode = 0) {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return posix_error("open", path, errno);
  }
}

// Writes all of `data`, resuming after short writes and signals.
Status write_all(int fd, const std::string& path, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return posix_error("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return Status::ok();
}

// Writes `first` then `second` with as few writev calls as the kernel allows, without joining
// them in memory.
Status write_both(int fd, const std::string& path, std::string_view first,
                  std::string_view second) {
  while (!first.empty()) {
    iovec pieces[2] = {{const_cast<char*>(first.data()), first.size()},
                       {const_cast<char*>(second.data()), second.size()}};
    const ssize_t written = ::writev(fd, pieces, second.empty() ? 1 : 2);
    if (written < 0) {
      if (errno == EINTR) continue;
      return posix_error("write", path, errno);
    }
    const size_t from_first = std::min(first.size(), static_cast<size_t>(written));
    first.remove_prefix(from_first);
    second.remove_prefix(static_cast<size_t>(written) - from_first);
  }
  return write_all(fd, path, second);
}

Status sync_fd(int fd, const std::string& path) {
#if defined(__linux__)
  // fdatasync still writes the size when it changed, which is all an append needs.
  const int rc = ::fdatasync(fd);
#else
  const int rc = ::fsync(fd);
#endif
  return rc == 0 ? Status::ok() : posix_error("sync", path, errno);
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status read(size_t n, std::string_view* result, char* scratch) override {
    size_t total = 0;
    // A read(2) may return less than asked before the end (a pipe, a signal); loop until the
    // request is met or read returns 0, so that short means "end of file" as the contract says.
    while (total < n) {
      const ssize_t got = ::read(fd_, scratch + total, n - total);
      if (got < 0) {
        if (errno == EINTR) continue;
        return posix_error("read", path_, errno);
      }
      if (got == 0) break;
      total += static_cast<size_t>(got);
    }
    *result = std::string_view(scratch, total);
    return Status::ok();
  }

  Status skip(uint64_t n) override {
    // Seeking past the end is allowed; later reads then return nothing, as the contract wants.
    const uint64_t step = std::min<uint64_t>(n, std::numeric_limits<off_t>::max());
    if (::lseek(fd_, static_cast<off_t>(step), SEEK_CUR) < 0) {
      return posix_error("seek", path_, errno);
    }
    return Status::ok();
  }

 private:
  const int fd_;
  const std::string path_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  // pread has no file position to share, so concurrent reads need no lock.
  Status read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    size_t total = 0;
    while (total < n) {
      const ssize_t got =
          ::pread(fd_, scratch + total, n - total, static_cast<off_t>(offset + total));
      if (got < 0) {
        if (errno == EINTR) continue;
        return posix_error("pread", path_, errno);
      }
      if (got == 0) break;
      total += static_cast<size_t>(got);
    }
    *result = std::string_view(scratch, total);
    return Status::ok();
  }

 private:
  const int fd_;
  const std::string path_;
};

// After an error the file's contents past its last successful sync are unspecified (part of a
// write may have landed); the caller abandons the file.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    buffer_.reserve(kWritableBufferSizeBytes);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) static_cast<void>(close());
  }

  Status append(std::string_view data) override {
    CAIRN_ASSERT(fd_ >= 0);
    const size_t room = kWritableBufferSizeBytes - buffer_.size();
    if (data.size() <= room) {
      buffer_.append(data);
      return Status::ok();
    }
    // What does not fit goes out at once with what is buffered, in one writev: a large append
    // (a blob chunk, a big record) is never copied into the buffer.
    const Status status = write_both(fd_, path_, buffer_, data);
    buffer_.clear();
    return status;
  }

  Status flush() override {
    CAIRN_ASSERT(fd_ >= 0);
    const Status status = write_all(fd_, path_, buffer_);
    buffer_.clear();
    return status;
  }

  Status sync() override {
    CAIRN_RETURN_IF_ERROR(flush());
    return sync_fd(fd_, path_);
  }

  Status close() override {
    CAIRN_ASSERT(fd_ >= 0);
    Status status = flush();
    // No retry on EINTR: on Linux the descriptor is gone either way, and a retry could close
    // a descriptor another thread just opened.
    if (::close(fd_) != 0 && status.is_ok()) status = posix_error("close", path_, errno);
    fd_ = -1;
    return status;
  }

 private:
  int fd_;
  const std::string path_;
  std::string buffer_;
};

class PosixEnv;

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(PosixEnv* env, int fd, std::string path)
      : env_(env), fd_(fd), path_(std::move(path)) {}
  ~PosixFileLock() override;

 private:
  PosixEnv* const env_;
  const int fd_;
  const std::string path_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(const int fd, open_fd(path, O_RDONLY));
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(fd, path));
  }

  Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(const int fd, open_fd(path, O_RDONLY));
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(fd, path));
  }

  Result<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(const int fd, open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  bool file_exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> file_size(const std::string& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return posix_error("stat", path, errno);
    return static_cast<uint64_t>(info.st_size);
  }

  Result<std::vector<std::string>> list_dir(const std::string& directory) override;

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return posix_error("unlink", path, errno);
    return Status::ok();
  }

  Status create_dir(const std::string& directory) override;

  Status remove_dir(const std::string& directory) override {
    const std::string path = strip_trailing_slashes(directory);
    if (::rmdir(path.c_str()) != 0) return posix_error("rmdir", path, errno);
    return sync_dir(parent_directory(path));  // env.h: the removal is durable on return
  }

  Status rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return posix_error("rename", from + " to " + to, errno);
    }
    return Status::ok();
  }

  Status sync_dir(const std::string& directory) override {
    // "" is the parent of a bare file name ("CURRENT"): the working directory.
    const std::string path = directory.empty() ? "." : directory;
    CAIRN_ASSIGN_OR_RETURN(const int fd, open_fd(path, O_RDONLY | O_DIRECTORY));
    Status status;
    if (::fsync(fd) != 0) status = posix_error("fsync directory", path, errno);
    ::close(fd);
    return status;
  }

  Status sync_file(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(const int fd, open_fd(path, O_RDONLY));
    Status status;
    if (::fdatasync(fd) != 0) status = posix_error("fdatasync", path, errno);
    ::close(fd);
    return status;
  }

  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;

  void release_lock(int fd, const std::string& path) {
    struct flock unlock {};
    unlock.l_type = F_UNLCK;
    unlock.l_whence = SEEK_SET;
    static_cast<void>(::fcntl(fd, F_SETLK, &unlock));
    ::close(fd);
    std::lock_guard<std::mutex> lock(locked_mutex_);
    locked_paths_.erase(path);
  }

 private:
  Status make_one_dir(const std::string& path);

  // fcntl locks are per process: a second F_SETLK from this process succeeds, and closing ANY
  // descriptor of the file drops the lock. This set is what makes a second lock_file in the
  // same process fail, and it is checked before the file is even opened.
  std::mutex locked_mutex_;
  std::set<std::string> locked_paths_;
};

PosixFileLock::~PosixFileLock() { env_->release_lock(fd_, path_); }

Result<std::vector<std::string>> PosixEnv::list_dir(const std::string& directory) {
  DIR* dir = ::opendir(directory.empty() ? "." : directory.c_str());
  if (dir == nullptr) return posix_error("opendir", directory, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;  // readdir returns nullptr both at the end and on error; only errno tells
    const struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error_number = errno;
  ::closedir(dir);
  if (error_number != 0) return posix_error("readdir", directory, error_number);
  return names;
}

Status PosixEnv::make_one_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) {
    return sync_dir(parent_directory(path));  // env.h: a created directory is durable on return
  }
  if (errno != EEXIST) return posix_error("mkdir", path, errno);
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return posix_error("stat", path, errno);
  if (!S_ISDIR(info.st_mode)) {
    return Status::io_error("mkdir " + path + ": exists and is not a directory");
  }
  return Status::ok();
}

Status PosixEnv::create_dir(const std::string& directory) {
  const std::string path = strip_trailing_slashes(directory);
  // Every prefix that ends before a '/', then the whole path: parents first.
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (path[slash - 1] == '/') continue;  // "a//b": the prefix "a/" was just made as "a"
    CAIRN_RETURN_IF_ERROR(make_one_dir(path.substr(0, slash)));
  }
  if (path.empty() || path == "/") return Status::ok();
  return make_one_dir(path);
}

Result<std::unique_ptr<FileLock>> PosixEnv::lock_file(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(locked_mutex_);
    if (!locked_paths_.insert(path).second) {
      return Status::busy("lock " + path + ": already held by this process");
    }
  }
  Result<int> opened = open_fd(path, O_RDWR | O_CREAT, 0644);
  Status status = opened.status();
  if (opened.is_ok()) {
    struct flock request {};
    request.l_type = F_WRLCK;
    request.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file, however long
    if (::fcntl(*opened, F_SETLK, &request) == 0) {
      return std::unique_ptr<FileLock>(new PosixFileLock(this, *opened, path));
    }
    const int error_number = errno;
    ::close(*opened);
    status = (error_number == EACCES || error_number == EAGAIN)
                 ? Status::busy("lock " + path + ": held by another process")
                 : posix_error("lock", path, error_number);
  }
  std::lock_guard<std::mutex> lock(locked_mutex_);
  locked_paths_.erase(path);
  return status;
}

}  // namespace

Env* Env::posix() {
  // Leaked on purpose: files and locks may outlive static destruction order.
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace cairn
