// Proves FaultEnv keeps exactly what the env.h durability contract promises across a power loss
// (synced bytes, synced directory entries), tears unsynced appends to a prefix, kills old handles,
// crashes at a chosen operation, injects EIO/ENOSPC by rule, and corrupts single bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "io/fault_env.h"
#include "io/random.h"

namespace cairn {
namespace {

// Creates `path` holding `data` (synced if `sync`), and makes its entry durable.
void write_durable(FaultEnv& env, const std::string& path, std::string_view data, bool sync) {
  auto file = env.new_writable_file(path);
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  ASSERT_TRUE((*file)->append(data).is_ok());
  if (sync) {
    ASSERT_TRUE((*file)->sync().is_ok());
  }
  ASSERT_TRUE((*file)->close().is_ok());
  const size_t slash = path.rfind('/');
  ASSERT_TRUE(env.sync_dir(slash == std::string::npos ? "" : path.substr(0, slash)).is_ok());
}

FaultEnv::FaultRule make_rule(uint32_t ops, std::string path_substring = "",
                              Status::Code code = Status::Code::kIOError, uint64_t skip = 0,
                              uint64_t times = UINT64_MAX) {
  FaultEnv::FaultRule rule;
  rule.ops = ops;
  rule.path_substring = std::move(path_substring);
  rule.code = code;
  rule.skip = skip;
  rule.times = times;
  return rule;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Proves synced bytes always survive a power loss and unsynced ones survive only as a prefix,
// sometimes not at all.
TEST(FaultEnvTest, SyncedBytesKeptUnsyncedMayBeLost) {
  int lost_all_unsynced = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultEnv env(seed);
    ASSERT_TRUE(env.create_dir("db").is_ok());
    auto file = env.new_writable_file("db/log");
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE(env.sync_dir("db").is_ok());
    ASSERT_TRUE((*file)->append("synced").is_ok());
    ASSERT_TRUE((*file)->sync().is_ok());
    ASSERT_TRUE((*file)->append("+unsynced").is_ok());
    EXPECT_EQ(*env.durable_size("db/log"), 6u);
    EXPECT_EQ(*env.contents("db/log"), "synced+unsynced");
    env.power_loss();
    const std::string after = *env.contents("db/log");
    ASSERT_TRUE(starts_with(after, "synced")) << "seed " << seed;
    ASSERT_TRUE(starts_with("synced+unsynced", after)) << "seed " << seed;
    EXPECT_EQ(*env.durable_size("db/log"), after.size());  // what survived is on disk now
    lost_all_unsynced += after == "synced" ? 1 : 0;
  }
  EXPECT_GT(lost_all_unsynced, 0);
}

// Proves sync_file makes durable what a writer left unsynced, after its handle is gone (as an
// earlier process would have), counts as a mutating operation, and fails as a kSync.
TEST(FaultEnvTest, SyncFileMakesAnotherWritersBytesDurable) {
  FaultEnv env(3);
  write_durable(env, "f", "left unsynced", /*sync=*/false);
  EXPECT_EQ(*env.durable_size("f"), 0u);
  env.inject(make_rule(FaultEnv::kSync, "f", Status::Code::kIOError, /*skip=*/0, /*times=*/1));
  EXPECT_TRUE(env.sync_file("f").is_io_error());
  EXPECT_EQ(*env.durable_size("f"), 0u);
  const uint64_t ops = env.mutating_op_count();
  ASSERT_TRUE(env.sync_file("f").is_ok());
  EXPECT_EQ(env.mutating_op_count(), ops + 1);
  EXPECT_TRUE(env.sync_file("missing").is_not_found());
  env.power_loss();
  EXPECT_EQ(*env.contents("f"), "left unsynced");
}

// Proves a torn write leaves a prefix of the unsynced bytes, and that over many seeds all three
// outcomes happen: none of them, part of them, all of them.
TEST(FaultEnvTest, TornWriteIsPrefixWithAllOutcomes) {
  int none = 0, partial = 0, all = 0;
  const std::string unsynced = Random(99).bytes(100);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    FaultEnv env(seed);
    write_durable(env, "f", "", /*sync=*/true);
    auto file = env.new_writable_file("f");
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->append(unsynced).is_ok());
    env.power_loss();
    const std::string after = *env.contents("f");
    ASSERT_TRUE(starts_with(unsynced, after)) << "seed " << seed;
    if (after.empty())
      ++none;
    else if (after.size() == unsynced.size())
      ++all;
    else
      ++partial;
  }
  EXPECT_GT(none, 0);
  EXPECT_GT(partial, 0);
  EXPECT_GT(all, 0);
}

// Proves a power loss replays identically for one seed (same torn lengths).
TEST(FaultEnvTest, SameSeedSameTear) {
  auto run = [](uint64_t seed) {
    FaultEnv env(seed);
    for (int i = 0; i < 5; ++i) {
      const std::string path = "f" + std::to_string(i);
      write_durable(env, path, std::string(50, 'a'), /*sync=*/false);
    }
    env.power_loss();
    std::string sizes;
    for (int i = 0; i < 5; ++i) {
      sizes += std::to_string(*env.file_size("f" + std::to_string(i))) + ",";
    }
    return sizes;
  };
  EXPECT_EQ(run(7), run(7));
}

// Proves a file created (even with its data synced) but whose directory was never synced
// vanishes, and that sync_dir makes it stay.
TEST(FaultEnvTest, CreationNeedsSyncDir) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir("db").is_ok());
  auto file = env.new_writable_file("db/new");
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE((*file)->append("data").is_ok());
  ASSERT_TRUE((*file)->sync().is_ok());
  env.power_loss();
  EXPECT_FALSE(env.file_exists("db/new"));
  EXPECT_TRUE(env.list_dir("db")->empty());
  EXPECT_TRUE(env.file_exists("db"));  // create_dir is durable at once

  write_durable(env, "db/kept", "data", /*sync=*/true);
  env.power_loss();
  EXPECT_EQ(*env.contents("db/kept"), "data");
}

// Proves a rename (here over an existing file, as CURRENT is replaced) is undone by a power loss
// unless the directory is synced after it.
TEST(FaultEnvTest, RenameNeedsSyncDir) {
  FaultEnv env(2);
  ASSERT_TRUE(env.create_dir("db").is_ok());
  write_durable(env, "db/CURRENT", "v1", true);
  write_durable(env, "db/tmp", "v2", true);
  ASSERT_TRUE(env.rename_file("db/tmp", "db/CURRENT").is_ok());
  EXPECT_EQ(*env.contents("db/CURRENT"), "v2");
  env.power_loss();
  EXPECT_EQ(*env.contents("db/CURRENT"), "v1");
  EXPECT_EQ(*env.contents("db/tmp"), "v2");

  ASSERT_TRUE(env.rename_file("db/tmp", "db/CURRENT").is_ok());
  ASSERT_TRUE(env.sync_dir("db").is_ok());
  env.power_loss();
  EXPECT_EQ(*env.contents("db/CURRENT"), "v2");
  EXPECT_FALSE(env.file_exists("db/tmp"));
}

// Proves a removal is undone by a power loss unless the directory is synced after it.
TEST(FaultEnvTest, RemoveNeedsSyncDir) {
  FaultEnv env(3);
  ASSERT_TRUE(env.create_dir("db").is_ok());
  write_durable(env, "db/old.sst", "table", true);
  ASSERT_TRUE(env.remove_file("db/old.sst").is_ok());
  EXPECT_FALSE(env.file_exists("db/old.sst"));
  env.power_loss();
  EXPECT_EQ(*env.contents("db/old.sst"), "table");

  ASSERT_TRUE(env.remove_file("db/old.sst").is_ok());
  ASSERT_TRUE(env.sync_dir("db").is_ok());
  env.power_loss();
  EXPECT_FALSE(env.file_exists("db/old.sst"));
}

// Proves every handle opened before a power loss fails with IOError naming its path, while
// handles opened afterwards work.
TEST(FaultEnvTest, OldHandlesDeadAfterPowerLoss) {
  FaultEnv env(4);
  write_durable(env, "f", "abc", true);
  auto writer = env.new_writable_file("g");
  auto sequential = env.new_sequential_file("f");
  auto random = env.new_random_access_file("f");
  ASSERT_TRUE(writer.is_ok() && sequential.is_ok() && random.is_ok());
  env.power_loss();
  EXPECT_FALSE(env.crashed());
  char scratch[8];
  std::string_view chunk;
  const Status append = (*writer)->append("x");
  EXPECT_TRUE(append.is_io_error());
  EXPECT_NE(append.message().find("g"), std::string::npos);
  EXPECT_TRUE((*writer)->flush().is_io_error());
  EXPECT_TRUE((*writer)->sync().is_io_error());
  EXPECT_TRUE((*writer)->close().is_io_error());
  EXPECT_TRUE((*sequential)->read(3, &chunk, scratch).is_io_error());
  EXPECT_TRUE((*sequential)->skip(1).is_io_error());
  EXPECT_TRUE((*random)->read(0, 3, &chunk, scratch).is_io_error());

  auto fresh = env.new_random_access_file("f");
  ASSERT_TRUE(fresh.is_ok());
  ASSERT_TRUE((*fresh)->read(0, 8, &chunk, scratch).is_ok());
  EXPECT_EQ(chunk, "abc");
}

// A fixed script of mutating operations that all succeed when nothing is injected.
std::vector<std::function<Status()>> mutating_script(FaultEnv& env,
                                                     std::unique_ptr<WritableFile>& handle) {
  return {
      [&] { return env.create_dir("db"); },
      [&] {
        auto file = env.new_writable_file("db/a");
        if (!file.is_ok()) return file.status();
        handle = std::move(*file);
        return Status::ok();
      },
      [&] { return handle->append("hello"); },
      [&] { return handle->sync(); },
      [&] { return env.sync_dir("db"); },
      [&] { return env.rename_file("db/a", "db/b"); },
      [&] { return env.new_writable_file("db/c").status(); },
      [&] { return env.remove_file("db/c"); },
      [&] { return env.sync_dir("db"); },
      [&] { return env.create_dir("db/sub"); },
      [&] { return env.remove_dir("db/sub"); },
  };
}

// Proves the counted operations are exactly the mutating ones: reads, flush, close, lookups and
// lock_file leave the count alone.
TEST(FaultEnvTest, CountsOnlyMutatingOperations) {
  FaultEnv env(5);
  std::unique_ptr<WritableFile> handle;
  const auto script = mutating_script(env, handle);
  for (const auto& operation : script) ASSERT_TRUE(operation().is_ok());
  EXPECT_EQ(env.mutating_op_count(), script.size());
  ASSERT_TRUE(handle->flush().is_ok());
  EXPECT_TRUE(env.file_exists("db/b"));
  EXPECT_TRUE(read_file_to_string(&env, "db/b").is_ok());
  EXPECT_TRUE(env.list_dir("db").is_ok());
  EXPECT_TRUE(env.lock_file("db/LOCK").is_ok());
  ASSERT_TRUE(handle->close().is_ok());
  EXPECT_EQ(env.mutating_op_count(), script.size());
}

// Proves crash_after_mutating_ops(k) fails exactly the k-th mutating operation (for every k of
// the script), that everything fails until restart(), and that restart() works on the state
// the power loss left.
TEST(FaultEnvTest, CrashAfterMutatingOpsFiresAtExactlyKthOp) {
  const size_t script_size = [] {
    FaultEnv env(0);
    std::unique_ptr<WritableFile> handle;
    return mutating_script(env, handle).size();
  }();
  for (uint64_t k = 1; k <= script_size; ++k) {
    FaultEnv env(k);
    std::unique_ptr<WritableFile> handle;
    const auto script = mutating_script(env, handle);
    env.crash_after_mutating_ops(k);
    size_t failed_at = 0;
    Status failure;
    while (failed_at < script.size() && (failure = script[failed_at]()).is_ok()) ++failed_at;
    ASSERT_EQ(failed_at + 1, k);
    EXPECT_TRUE(failure.is_io_error());
    EXPECT_NE(failure.message().find("power lost"), std::string::npos);
    EXPECT_TRUE(env.crashed());
    EXPECT_EQ(env.mutating_op_count(), k);

    // Everything fails while crashed, reads included.
    EXPECT_TRUE(env.new_sequential_file("db/a").status().is_io_error());
    EXPECT_TRUE(env.new_writable_file("x").status().is_io_error());
    EXPECT_TRUE(env.file_size("db/a").status().is_io_error());
    EXPECT_TRUE(env.list_dir("").status().is_io_error());
    EXPECT_TRUE(env.sync_dir("").is_io_error());
    EXPECT_TRUE(env.lock_file("LOCK").status().is_io_error());
    EXPECT_FALSE(env.file_exists(""));
    if (handle != nullptr) {
      EXPECT_TRUE(handle->flush().is_io_error());
    }

    env.restart();
    EXPECT_FALSE(env.crashed());
    // The state is what the power loss left: the synced, dir-synced file survives from op 5 on.
    const bool a_durable = k > 5;
    EXPECT_EQ(env.file_exists("db/a") || env.file_exists("db/b"), a_durable) << "k=" << k;
    if (handle != nullptr) {
      EXPECT_TRUE(handle->append("x").is_io_error());
    }
    EXPECT_TRUE(env.create_dir("again").is_ok());
  }
}

// Proves an append that is the crashing operation may land a prefix of its bytes, never more.
TEST(FaultEnvTest, CrashDuringAppendTearsIt) {
  bool saw_some = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    FaultEnv env(seed);
    write_durable(env, "log", "base", true);
    auto file = env.new_writable_file("log2");
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE(env.sync_dir("").is_ok());
    env.crash_after_mutating_ops(1);
    EXPECT_TRUE((*file)->append("0123456789").is_io_error());
    env.restart();
    const std::string after = *env.contents("log2");
    ASSERT_TRUE(starts_with("0123456789", after)) << "seed " << seed;
    saw_some |= !after.empty();
    EXPECT_EQ(*env.contents("log"), "base");
  }
  EXPECT_TRUE(saw_some);
}

// Proves a rule lets `skip` matching operations through, fails the next `times`, then stops,
// and that the path filter spares other files.
TEST(FaultEnvTest, InjectedEioWithSkipTimesAndPathFilter) {
  FaultEnv env(6);
  auto log = env.new_writable_file("db/000001.log");
  EXPECT_TRUE(log.status().is_not_found());  // no such directory yet
  ASSERT_TRUE(env.create_dir("db").is_ok());
  log = env.new_writable_file("db/000001.log");
  auto other = env.new_writable_file("db/MANIFEST");
  ASSERT_TRUE(log.is_ok() && other.is_ok());
  env.inject(make_rule(FaultEnv::kAppend, ".log", Status::Code::kIOError, /*skip=*/2,
                       /*times=*/2));
  std::string outcomes;
  for (char c = '1'; c <= '5'; ++c) {
    const Status status = (*log)->append(std::string(1, c));
    outcomes += status.is_ok() ? 'o' : (status.is_io_error() ? 'E' : '?');
    if (!status.is_ok()) {
      EXPECT_NE(status.message().find("000001.log"), std::string::npos);
    }
    ASSERT_TRUE((*other)->append(std::string(1, c)).is_ok());
  }
  EXPECT_EQ(outcomes, "ooEEo");
  EXPECT_EQ(*env.contents("db/000001.log"), "125");  // failed appends had no effect
  EXPECT_EQ(*env.contents("db/MANIFEST"), "12345");
}

// Proves an injected ENOSPC append reports NoSpace, appends nothing, and stops with clear_faults;
// write_string_to_file leaves no partial file behind.
TEST(FaultEnvTest, InjectedEnospcAppendsNothing) {
  FaultEnv env(7);
  auto file = env.new_writable_file("f");
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE((*file)->append("ab").is_ok());
  env.inject(make_rule(FaultEnv::kAppend, "", Status::Code::kNoSpace));
  EXPECT_TRUE((*file)->append("cd").is_no_space());
  EXPECT_EQ(*env.contents("f"), "ab");
  EXPECT_TRUE(write_string_to_file(&env, "data", "g", true).is_no_space());
  EXPECT_FALSE(env.file_exists("g"));
  env.clear_faults();
  EXPECT_TRUE((*file)->append("cd").is_ok());
  EXPECT_EQ(*env.contents("f"), "abcd");
}

// Proves each FaultOp class hits its operations, and that a failed operation changes nothing.
TEST(FaultEnvTest, InjectedFaultsPerOperationKind) {
  FaultEnv env(8);
  write_durable(env, "f", "abc", true);
  auto rule = [&env](uint32_t ops) {
    env.clear_faults();
    env.inject(make_rule(ops, "", Status::Code::kIOError, /*skip=*/0, /*times=*/1));
  };
  char scratch[4];
  std::string_view chunk;
  rule(FaultEnv::kOpenRead);
  EXPECT_TRUE(env.new_sequential_file("f").status().is_io_error());
  EXPECT_TRUE(env.new_random_access_file("f").is_ok());  // times = 1: used up
  rule(FaultEnv::kRead);
  auto reader = env.new_random_access_file("f");
  EXPECT_TRUE((*reader)->read(0, 3, &chunk, scratch).is_io_error());
  rule(FaultEnv::kCreate);
  EXPECT_TRUE(env.new_writable_file("new").status().is_io_error());
  EXPECT_FALSE(env.file_exists("new"));
  rule(FaultEnv::kCreate);
  EXPECT_TRUE(env.create_dir("dir").is_io_error());
  EXPECT_FALSE(env.file_exists("dir"));
  rule(FaultEnv::kSync);
  auto writer = env.new_writable_file("w");
  ASSERT_TRUE((*writer)->append("xyz").is_ok());
  EXPECT_TRUE((*writer)->sync().is_io_error());
  EXPECT_EQ(*env.durable_size("w"), 0u);
  rule(FaultEnv::kRename);
  EXPECT_TRUE(env.rename_file("f", "renamed").is_io_error());
  EXPECT_TRUE(env.file_exists("f"));
  rule(FaultEnv::kRemove);
  EXPECT_TRUE(env.remove_file("f").is_io_error());
  EXPECT_TRUE(env.file_exists("f"));
  rule(FaultEnv::kSyncDir);
  EXPECT_TRUE(env.sync_dir("").is_io_error());
  env.power_loss();
  EXPECT_FALSE(env.file_exists("w"));  // the failed sync_dir made nothing durable
  EXPECT_TRUE(env.file_exists("f"));
}

// Proves a rename rule's path filter matches the target path too.
TEST(FaultEnvTest, RenameRuleMatchesEitherPath) {
  FaultEnv env(9);
  write_durable(env, "tmp", "x", true);
  env.inject(make_rule(FaultEnv::kRename, "CURRENT"));
  const Status status = env.rename_file("tmp", "CURRENT");
  EXPECT_TRUE(status.is_io_error());
  EXPECT_NE(status.message().find("tmp -> CURRENT"), std::string::npos);
}

// Proves corrupt_byte flips exactly the bits of the mask in exactly one byte, in the durable
// copy too, and rejects missing files and offsets past the end.
TEST(FaultEnvTest, CorruptByteChangesExactlyOneByte) {
  FaultEnv env(10);
  const std::string original = Random(10).bytes(64);
  write_durable(env, "t.sst", original, true);
  ASSERT_TRUE(env.corrupt_byte("t.sst", 17, 0x24).is_ok());
  const std::string corrupted = *env.contents("t.sst");
  ASSERT_EQ(corrupted.size(), original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    const uint8_t expected = static_cast<uint8_t>(original[i]) ^ (i == 17 ? 0x24 : 0);
    EXPECT_EQ(static_cast<uint8_t>(corrupted[i]), expected) << i;
  }
  env.power_loss();
  EXPECT_EQ(*env.contents("t.sst"), corrupted);
  EXPECT_TRUE(env.corrupt_byte("missing", 0).is_not_found());
  EXPECT_TRUE(env.corrupt_byte("t.sst", 64).is_invalid_argument());
}

// Proves lock_file is Busy while held, free after destruction, and that a power loss releases
// every lock without a stale FileLock later releasing someone else's.
TEST(FaultEnvTest, LocksAndPowerLoss) {
  FaultEnv env(11);
  ASSERT_TRUE(env.create_dir("db").is_ok());
  EXPECT_TRUE(env.lock_file("nodir/LOCK").status().is_not_found());
  auto first = env.lock_file("db/LOCK");
  ASSERT_TRUE(first.is_ok());
  const auto busy = env.lock_file("/db//LOCK");  // the same file, spelled differently
  ASSERT_TRUE(busy.status().is_busy());
  EXPECT_NE(busy.status().message().find("LOCK"), std::string::npos);
  first->reset();
  auto second = env.lock_file("db/LOCK");
  ASSERT_TRUE(second.is_ok());
  ASSERT_TRUE(env.sync_dir("db").is_ok());

  env.power_loss();
  auto after = env.lock_file("db/LOCK");
  ASSERT_TRUE(after.is_ok());
  second->reset();  // stale: must not release `after`
  EXPECT_TRUE(env.lock_file("db/LOCK").status().is_busy());
}

// Proves the namespace: paths ignore empty components, list_dir shows files and subdirectories,
// missing directories are NotFound, and remove_dir refuses a non-empty directory.
TEST(FaultEnvTest, DirectoriesAndPaths) {
  FaultEnv env(12);
  ASSERT_TRUE(env.create_dir("/db//x/").is_ok());
  ASSERT_TRUE(env.create_dir("db-2").is_ok());
  write_durable(env, "/db/x/f", "1", true);
  write_durable(env, "db/g", "2", true);
  auto names = *env.list_dir("db");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"g", "x"}));
  names = *env.list_dir("/");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"db", "db-2"}));
  EXPECT_EQ(*env.contents("db/x/f"), "1");
  EXPECT_TRUE(env.new_writable_file("nodir/f").status().is_not_found());
  EXPECT_TRUE(env.list_dir("nodir").status().is_not_found());
  EXPECT_TRUE(env.list_dir("db/g").status().is_io_error());
  EXPECT_TRUE(env.create_dir("db/g/h").is_io_error());
  EXPECT_TRUE(env.new_writable_file("db/x").status().is_io_error());
  EXPECT_TRUE(env.remove_dir("db").is_io_error());  // x and g inside
  ASSERT_TRUE(env.remove_file("db/x/f").is_ok());
  ASSERT_TRUE(env.remove_dir("db/x").is_ok());
  EXPECT_TRUE(env.remove_dir("db/x").is_not_found());
  env.power_loss();
  EXPECT_FALSE(env.file_exists("db/x"));  // remove_dir is durable at once
  EXPECT_TRUE(env.file_exists("db-2"));
}

// Proves handles follow the inode as on POSIX: a writer keeps appending to a renamed file, a
// reader keeps reading a removed one, and re-creating a file truncates it under its readers.
TEST(FaultEnvTest, HandlesFollowTheInode) {
  FaultEnv env(13);
  auto writer = env.new_writable_file("a");
  ASSERT_TRUE(writer.is_ok());
  ASSERT_TRUE((*writer)->append("12").is_ok());
  ASSERT_TRUE(env.rename_file("a", "b").is_ok());
  ASSERT_TRUE((*writer)->append("34").is_ok());
  EXPECT_EQ(*env.contents("b"), "1234");

  auto reader = env.new_sequential_file("b");
  ASSERT_TRUE(env.remove_file("b").is_ok());
  char scratch[8];
  std::string_view chunk;
  ASSERT_TRUE((*reader)->read(8, &chunk, scratch).is_ok());
  EXPECT_EQ(chunk, "1234");

  write_durable(env, "c", "long contents", true);
  auto random = env.new_random_access_file("c");
  ASSERT_TRUE(env.new_writable_file("c").is_ok());
  ASSERT_TRUE((*random)->read(0, 8, &chunk, scratch).is_ok());
  EXPECT_TRUE(chunk.empty());
  EXPECT_EQ(*env.durable_size("c"), 0u);
}

// Proves concurrent writers and readers on one FaultEnv see consistent files.
TEST(FaultEnvTest, ConcurrentUse) {
  FaultEnv env(14);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&env, t] {
      const std::string path = "file" + std::to_string(t);
      auto file = env.new_writable_file(path);
      ASSERT_TRUE(file.is_ok());
      for (int i = 0; i < 500; ++i) {
        ASSERT_TRUE((*file)->append("x").is_ok());
        if (i % 50 == 0) {
          ASSERT_TRUE((*file)->sync().is_ok());
        }
        ASSERT_TRUE(env.list_dir("").is_ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(*env.file_size("file" + std::to_string(t)), 500u);
}

}  // namespace
}  // namespace cairn
