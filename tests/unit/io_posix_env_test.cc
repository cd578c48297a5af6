// Proves PosixEnv against a real file system: every Env method round-trips in a fresh temporary
// directory, errors map to the documented codes and name the path, and lock_file excludes both
// this process and others.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "io/env.h"

namespace cairn {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn_io_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string path(const std::string& name) const { return root_ + "/" + name; }

  Env* env_ = Env::posix();
  std::string root_;
};

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

// Proves writes through the buffer (small appends, one larger than the buffer) read back whole
// through both reader kinds, and that skip and short reads at the end behave as documented.
TEST_F(PosixEnvTest, WriteThenReadBack) {
  std::string expected;
  {
    auto file = env_->new_writable_file(path("data"));
    ASSERT_TRUE(file.is_ok()) << file.status().to_string();
    for (int i = 0; i < 1000; ++i) {
      const std::string record = "record-" + std::to_string(i) + ";";
      ASSERT_TRUE((*file)->append(record).is_ok());
      expected += record;
    }
    const std::string large(200 * 1024, 'x');
    ASSERT_TRUE((*file)->append(large).is_ok());
    expected += large;
    ASSERT_TRUE((*file)->append("tail").is_ok());
    expected += "tail";
    ASSERT_TRUE((*file)->sync().is_ok());
    ASSERT_TRUE((*file)->close().is_ok());
  }
  ASSERT_TRUE(env_->file_exists(path("data")));
  ASSERT_TRUE(env_->sync_file(path("data")).is_ok());  // by name, without a handle
  EXPECT_EQ(*env_->file_size(path("data")), expected.size());
  EXPECT_EQ(*read_file_to_string(env_, path("data")), expected);

  auto sequential = env_->new_sequential_file(path("data"));
  ASSERT_TRUE(sequential.is_ok());
  char scratch[16];
  std::string_view chunk;
  ASSERT_TRUE((*sequential)->skip(7).is_ok());
  ASSERT_TRUE((*sequential)->read(3, &chunk, scratch).is_ok());
  EXPECT_EQ(chunk, "0;r");
  ASSERT_TRUE((*sequential)->skip(expected.size()).is_ok());
  ASSERT_TRUE((*sequential)->read(3, &chunk, scratch).is_ok());
  EXPECT_TRUE(chunk.empty());

  auto random = env_->new_random_access_file(path("data"));
  ASSERT_TRUE(random.is_ok());
  ASSERT_TRUE((*random)->read(expected.size() - 6, 16, &chunk, scratch).is_ok());
  EXPECT_EQ(chunk, "xxtail");  // short only because the file ends
  ASSERT_TRUE((*random)->read(expected.size() + 10, 4, &chunk, scratch).is_ok());
  EXPECT_TRUE(chunk.empty());
}

// Proves small appends wait in the user-space buffer until flush() hands them to the kernel.
TEST_F(PosixEnvTest, AppendsBufferedUntilFlush) {
  auto file = env_->new_writable_file(path("buffered"));
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE((*file)->append("hello").is_ok());
  EXPECT_EQ(*env_->file_size(path("buffered")), 0u);
  ASSERT_TRUE((*file)->flush().is_ok());
  EXPECT_EQ(*env_->file_size(path("buffered")), 5u);
  // new_writable_file truncates an existing file.
  ASSERT_TRUE(write_string_to_file(env_, "x", path("buffered"), /*sync=*/false).is_ok());
  EXPECT_EQ(*read_file_to_string(env_, path("buffered")), "x");
}

// Proves appends of every size — below, across and far past the 64 KiB buffer, with flushes in
// between — land in order and whole, and that an append too big for the buffer is written at
// once together with what was buffered.
TEST_F(PosixEnvTest, AppendsOfAnySizeLandInOrder) {
  auto file = env_->new_writable_file(path("mixed"));
  ASSERT_TRUE(file.is_ok());
  std::string expected;
  uint64_t state = 12345;
  for (int i = 0; i < 300; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const size_t size = i % 7 == 0 ? 70000 + (state >> 40) % 200000 : (state >> 33) % 9000;
    const std::string piece(size, static_cast<char>('a' + i % 26));
    ASSERT_TRUE((*file)->append(piece).is_ok());
    expected += piece;
    if (size > (64 << 10)) {
      EXPECT_EQ(*env_->file_size(path("mixed")), expected.size()) << "a big append is not held";
    }
    if (i % 50 == 0) {
      ASSERT_TRUE((*file)->flush().is_ok());
    }
  }
  ASSERT_TRUE((*file)->close().is_ok());
  EXPECT_EQ(*read_file_to_string(env_, path("mixed")), expected);
}

// Proves the namespace operations: nested create_dir, list_dir, rename over an existing file,
// remove_file, sync_dir and remove_dir.
TEST_F(PosixEnvTest, DirectoryOperations) {
  ASSERT_TRUE(env_->create_dir(path("a/b/c/")).is_ok());
  ASSERT_TRUE(env_->create_dir(path("a/b")).is_ok());  // exists already: OK
  ASSERT_TRUE(write_string_to_file(env_, "one", path("a/b/one"), true).is_ok());
  ASSERT_TRUE(write_string_to_file(env_, "two", path("a/b/two"), true).is_ok());
  ASSERT_TRUE(env_->sync_dir(path("a/b")).is_ok());
  EXPECT_EQ(sorted(*env_->list_dir(path("a/b"))), (std::vector<std::string>{"c", "one", "two"}));

  ASSERT_TRUE(env_->rename_file(path("a/b/one"), path("a/b/two")).is_ok());
  EXPECT_FALSE(env_->file_exists(path("a/b/one")));
  EXPECT_EQ(*read_file_to_string(env_, path("a/b/two")), "one");

  ASSERT_TRUE(env_->remove_file(path("a/b/two")).is_ok());
  EXPECT_FALSE(env_->file_exists(path("a/b/two")));
  EXPECT_FALSE(env_->remove_dir(path("a/b")).is_ok());  // c is still in it
  ASSERT_TRUE(env_->remove_dir(path("a/b/c")).is_ok());
  ASSERT_TRUE(env_->remove_dir(path("a/b")).is_ok());
  EXPECT_EQ(*env_->list_dir(path("a")), std::vector<std::string>{});

  ASSERT_TRUE(write_string_to_file(env_, "f", path("file"), false).is_ok());
  EXPECT_TRUE(env_->create_dir(path("file/sub")).is_io_error());
}

// Proves ENOENT becomes NotFound with the path in the message, for opens and for other calls.
TEST_F(PosixEnvTest, MissingFilesAreNotFound) {
  const std::string missing = path("missing");
  const auto sequential = env_->new_sequential_file(missing);
  ASSERT_TRUE(sequential.status().is_not_found());
  EXPECT_NE(sequential.status().message().find(missing), std::string::npos);
  EXPECT_NE(sequential.status().message().find("No such file"), std::string::npos);
  EXPECT_TRUE(env_->new_random_access_file(missing).status().is_not_found());
  EXPECT_TRUE(env_->new_writable_file(path("no_dir/file")).status().is_not_found());
  EXPECT_TRUE(env_->file_size(missing).status().is_not_found());
  EXPECT_TRUE(env_->remove_file(missing).is_not_found());
  EXPECT_TRUE(env_->list_dir(missing).status().is_not_found());
  EXPECT_TRUE(env_->rename_file(missing, path("x")).is_not_found());
  EXPECT_TRUE(env_->sync_dir(missing).is_not_found());
  EXPECT_TRUE(env_->sync_file(missing).is_not_found());
  EXPECT_FALSE(env_->file_exists(missing));
}

// Proves a second lock_file in the same process is Busy (naming the path) until the first lock
// is destroyed, after which it succeeds.
TEST_F(PosixEnvTest, LockFileBusyInProcessAndReleasedOnDestruction) {
  const std::string lock_path = path("LOCK");
  auto first = env_->lock_file(lock_path);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  const auto second = env_->lock_file(lock_path);
  ASSERT_TRUE(second.status().is_busy());
  EXPECT_NE(second.status().message().find(lock_path), std::string::npos);
  first->reset();  // destroys the lock
  auto third = env_->lock_file(lock_path);
  EXPECT_TRUE(third.is_ok()) << third.status().to_string();
}

// Whether another process can take a write lock on `path` right now.
bool other_process_can_lock(const std::string& path) {
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct flock request {};
    request.l_type = F_WRLCK;
    request.l_whence = SEEK_SET;
    _exit(fd >= 0 && ::fcntl(fd, F_SETLK, &request) == 0 ? 0 : 1);
  }
  int wait_status = 0;
  ::waitpid(child, &wait_status, 0);
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

// Proves the fcntl lock excludes other processes, survives a refused second lock_file in this
// process (which must not open and close the file: that would drop the fcntl lock), and is
// released on destruction.
TEST_F(PosixEnvTest, LockFileExcludesOtherProcesses) {
  const std::string lock_path = path("LOCK");
  auto lock = env_->lock_file(lock_path);
  ASSERT_TRUE(lock.is_ok());
  EXPECT_FALSE(other_process_can_lock(lock_path));
  EXPECT_TRUE(env_->lock_file(lock_path).status().is_busy());
  EXPECT_FALSE(other_process_can_lock(lock_path));
  lock->reset();
  EXPECT_TRUE(other_process_can_lock(lock_path));
}

// Proves write_string_to_file and read_file_to_string round-trip an empty and a binary string.
TEST_F(PosixEnvTest, StringHelpersRoundTrip) {
  ASSERT_TRUE(write_string_to_file(env_, "", path("empty"), true).is_ok());
  EXPECT_EQ(*read_file_to_string(env_, path("empty")), "");
  std::string binary(100000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(write_string_to_file(env_, binary, path("binary"), true).is_ok());
  EXPECT_EQ(*read_file_to_string(env_, path("binary")), binary);
  EXPECT_TRUE(read_file_to_string(env_, path("missing")).status().is_not_found());
}

}  // namespace
}  // namespace cairn
