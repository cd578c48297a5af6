// Proves the replica store's writes without a read (replica_store.h): a replacing write newer
// than everything stored for its key skips the read, any other write reads, and over random
// writes that arrive out of order and duplicated, with FLUSHALLs and reopens between them, every
// key reads exactly what merging every write into it gives.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "cluster/replica_store.h"
#include "io/fault_env.h"
#include "io/random.h"
#include "io/scheduler.h"
#include "support/database_test_helpers.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

WriteVersion version(uint64_t ms, uint64_t node) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

class ReplicaSkipReadTest : public ::testing::Test {
 protected:
  ReplicaSkipReadTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    reopen();
  }
  void reopen() {
    if (store_ != nullptr) skipped_in_closed_stores_ += store_->writes_without_read();
    store_.reset();
    database_.reset();
    database_ = test::open_database(options_);
    Result<std::unique_ptr<ReplicaStore>> store = ReplicaStore::open(database_.get());
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  FaultEnv env_{3};
  InlineScheduler scheduler_;
  Options options_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<ReplicaStore> store_;
  uint64_t skipped_in_closed_stores_ = 0;
};

// Proves which writes skip the read: replacing ones newer than the key's bound, and after a
// reopen only those past the durable bound's lead.
TEST_F(ReplicaSkipReadTest, OnlyNewerReplacingWritesSkipTheRead) {
  ASSERT_TRUE(store_->apply("k", KeyState::string_set(version(10, 1), "a", 0)).is_ok());
  ASSERT_TRUE(store_->apply("k", KeyState::deleted(version(20, 2))).is_ok());
  ASSERT_TRUE(store_->apply("k", KeyState::string_set(version(30, 1), "b", 0)).is_ok());
  EXPECT_EQ(store_->writes_without_read(), 3u);
  // Older than what the key holds: read, and it changes nothing.
  EXPECT_FALSE(store_->apply("k", KeyState::string_set(version(25, 3), "old", 0))->changed);
  // Not replacing: read and merged.
  ASSERT_TRUE(store_->apply("k", KeyState::expiry_set(version(40, 1), 99'000)).is_ok());
  EXPECT_EQ(store_->writes_without_read(), 3u);
  KeyState expected = KeyState::string_set(version(30, 1), "b", 0);
  expected.merge(KeyState::expiry_set(version(40, 1), 99'000));
  EXPECT_EQ(*store_->read("k"), expected);

  reopen();
  // The durable bound is 10 s past the newest state (40 ms): until then every write reads.
  ASSERT_TRUE(store_->apply("k", KeyState::string_set(version(5'000, 1), "c", 0)).is_ok());
  EXPECT_EQ(store_->writes_without_read(), 0u);
  ASSERT_TRUE(store_->apply("j", KeyState::string_set(version(10'100, 1), "d", 0)).is_ok());
  EXPECT_EQ(store_->writes_without_read(), 1u);
  EXPECT_EQ(store_->read("k")->string_value(0), "c");
  EXPECT_EQ(store_->read("j")->string_value(0), "d");
}

// Proves a FLUSHALL newer than the bound raises it for every key: a write between the old bound
// and the flush reads, finds itself flushed, and leaves the key deleted.
TEST_F(ReplicaSkipReadTest, AFlushRaisesTheBoundOfEveryKey) {
  ASSERT_TRUE(store_->apply("k", KeyState::string_set(version(10, 1), "a", 0)).is_ok());
  ASSERT_TRUE(store_->flush_older_than(version(50'000, 2)).is_ok());
  EXPECT_FALSE(store_->apply("other", KeyState::string_set(version(40'000, 1), "x", 0))->changed);
  EXPECT_EQ(store_->writes_without_read(), 1u);
  EXPECT_EQ(store_->read("other")->type(0), KeyStateType::kNone);
  EXPECT_EQ(store_->read("k")->type(0), KeyStateType::kNone);
}

// The store's rules over a map: merge every write, a flush deletes older writes everywhere and
// joins every later one (replica_store.h).
class ModelStore {
 public:
  void apply(const std::string& key, const KeyState& delta) {
    if (flush_ == WriteVersion{}) {
      states_[key].merge(delta);
    } else if (!(delta.newest_version() < flush_)) {
      KeyState filtered = delta;
      filtered.merge(KeyState::deleted(flush_));
      states_[key].merge(filtered);
    }
  }
  void flush_older_than(WriteVersion flush) {
    if (flush <= flush_) return;
    flush_ = flush;
    for (auto it = states_.begin(); it != states_.end();) {
      if (it->second.newest_version() < flush) {
        it = states_.erase(it);
      } else {
        it->second.merge(KeyState::deleted(flush));
        ++it;
      }
    }
  }
  KeyState read(const std::string& key) const {
    const auto found = states_.find(key);
    return found == states_.end() ? KeyState() : found->second;
  }

 private:
  std::map<std::string, KeyState> states_;
  WriteVersion flush_;
};

KeyState random_delta(Random& random, WriteVersion at) {
  switch (random.uniform(6)) {
    case 0:
      return KeyState::deleted(at);
    case 1:
      return KeyState::hash_set(at, {{"f" + std::to_string(random.uniform(3)), "v"}});
    case 2:
      return KeyState::set_add(at, {"m" + std::to_string(random.uniform(3))});
    case 3:
      return KeyState::list_replace(at, {"x", std::to_string(at.timestamp.value)});
    default:
      return KeyState::string_set(at, std::to_string(at.timestamp.value), 0);
  }
}

// Proves the store, skipping reads where it may, ends every key exactly as merging gives, over
// random writes from three coordinators with skewed clocks, re-sent writes, flushes and reopens.
TEST_F(ReplicaSkipReadTest, EveryKeyReadsWhatMergingEveryWriteGives) {
  // One store and model for all seeds: each seed writes keys of its own, with a clock that
  // starts past the previous seed's (a restarted cluster), so flushes carry over.
  ModelStore model;
  uint64_t writes = 0;
  uint64_t now_ms = 0;
  for (const uint64_t seed : test::test_seeds(100, 10, 200)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    const std::string prefix = "s" + std::to_string(seed) + "k";
    now_ms += 1'000'000;
    reopen();
    std::vector<std::pair<std::string, KeyState>> sent;
    for (int step = 0; step < 400; step++) {
      now_ms += random.uniform(20);
      if (random.one_in(150)) {
        reopen();
        now_ms += 11'000;  // past the lead, so writes skip the read again
        continue;
      }
      if (random.one_in(200)) {
        const WriteVersion flush = version(now_ms, random.range(1, 3));
        ASSERT_TRUE(store_->flush_older_than(flush).is_ok());
        model.flush_older_than(flush);
        continue;
      }
      std::pair<std::string, KeyState> write;
      if (!sent.empty() && random.one_in(5)) {
        write = sent[random.uniform(sent.size())];  // a duplicate or a late arrival
      } else {
        // Up to 30 ms of skew between coordinators: writes arrive out of version order.
        const WriteVersion at = version(now_ms + random.uniform(30), random.range(1, 3));
        write = {prefix + std::to_string(random.uniform(12)), random_delta(random, at)};
        sent.push_back(write);
      }
      ASSERT_TRUE(store_->apply(write.first, write.second).is_ok());
      model.apply(write.first, write.second);
      writes++;
      ASSERT_EQ(*store_->read(write.first), model.read(write.first)) << "step " << step;
    }
    for (int key = 0; key < 12; key++) {
      const std::string name = prefix + std::to_string(key);
      ASSERT_EQ(*store_->read(name), model.read(name)) << name;
    }
  }
  const uint64_t skipped = skipped_in_closed_stores_ + store_->writes_without_read();
  EXPECT_GT(writes, 3000u);
  EXPECT_GT(skipped, writes / 10) << "too few writes skipped the read";
  EXPECT_LT(skipped, writes) << "no write read its key";
}

}  // namespace
}  // namespace cairn
