// Proves WATCH bookkeeping: a modified watched key dirties exactly its watchers, FLUSHALL
// dirties every watcher, unwatch_all forgets and cleans, and unwatched keys cost nothing.
#include "server/watch_registry.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

class NullControl final : public ConnectionControl {
 public:
  void close() override { closed = true; }
  void wake_blocked() override { wakes++; }
  void end_block(BlockEnd) override {}
  uint64_t query_buffer_bytes() const override { return 0; }
  uint64_t output_buffer_bytes() const override { return 0; }
  bool closed = false;
  int wakes = 0;
};

Client make_client(uint64_t id) {
  ConnectionInfo info;
  info.id = id;
  return Client(info, std::make_shared<NullControl>(), 0);
}

TEST(ServerWatchRegistry, ModifiedKeyDirtiesItsWatchersOnly) {
  WatchRegistry registry;
  Client a = make_client(1), b = make_client(2);
  ASSERT_TRUE(registry.watch(a, "x"));
  ASSERT_TRUE(registry.watch(a, "x"));  // twice: once
  ASSERT_TRUE(registry.watch(b, "y"));
  EXPECT_EQ(a.watched_count(), 1u);
  EXPECT_EQ(registry.watched_key_count(), 2u);
  registry.key_modified("x");
  EXPECT_TRUE(a.watch_dirty());
  EXPECT_FALSE(b.watch_dirty());
  registry.key_modified("z");
  EXPECT_FALSE(b.watch_dirty());
}

TEST(ServerWatchRegistry, UnwatchAllForgetsAndCleans) {
  WatchRegistry registry;
  Client a = make_client(1), b = make_client(2);
  ASSERT_TRUE(registry.watch(a, "x"));
  ASSERT_TRUE(registry.watch(b, "x"));
  registry.key_modified("x");
  registry.unwatch_all(a);
  EXPECT_FALSE(a.watch_dirty());
  EXPECT_EQ(a.watched_count(), 0u);
  EXPECT_TRUE(b.watch_dirty());
  EXPECT_EQ(registry.watched_key_count(), 1u);
  registry.unwatch_all(b);
  EXPECT_EQ(registry.watched_key_count(), 0u);
  registry.key_modified("x");  // nobody watches: nothing to mark
  EXPECT_FALSE(a.watch_dirty());
  EXPECT_FALSE(b.watch_dirty());
}

TEST(ServerWatchRegistry, AllKeysModifiedDirtiesEveryWatcher) {
  WatchRegistry registry;
  Client a = make_client(1), b = make_client(2), c = make_client(3);
  ASSERT_TRUE(registry.watch(a, "x"));
  ASSERT_TRUE(registry.watch(b, "y"));
  registry.all_keys_modified();
  EXPECT_TRUE(a.watch_dirty());
  EXPECT_TRUE(b.watch_dirty());
  EXPECT_FALSE(c.watch_dirty());
}

}  // namespace
}  // namespace cairn
