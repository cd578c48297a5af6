// Proves a node's side of the keyspace-wide commands on a real engine (FaultEnv): a slot scan
// lists the live keys of its ranges in key order (slot, then bytes), skipping deleted and expired
// keys and the keyspace's own records in the same slots, filters by pattern and type, counts,
// and cut short by its limits resumes exactly where it stopped; INFO's counts see the same keys;
// and a flush drops what is older than it, durably, and keeps later writes while late older
// ones are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cluster/hint_store.h"
#include "cluster/replica_store.h"
#include "common/coding.h"
#include "io/fault_env.h"
#include "io/scheduler.h"
#include "support/database_test_helpers.h"

namespace cairn {
namespace {

constexpr int64_t kNowMs = 1'000'000;

WriteVersion version(uint64_t ms, uint64_t node = 1) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

SlotScan whole_keyspace() {
  SlotScan scan;
  scan.ranges = {ScanRange{0, kSlotCount - 1}};
  scan.now_unix_ms = kNowMs;
  return scan;
}

// The keys in the cluster's key order.
std::vector<std::string> in_key_order(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(key_slot(a), a) < std::make_pair(key_slot(b), b);
  });
  return keys;
}

class ReplicaScanTest : public ::testing::Test {
 protected:
  ReplicaScanTest() {
    options_.env = &env_;
    options_.scheduler = &scheduler_;
    database_ = test::open_database(options_);
    store_ = ReplicaStore::open(database_.get()).value();
  }
  void reopen() {
    store_.reset();
    database_.reset();
    database_ = test::open_database(options_);
    store_ = ReplicaStore::open(database_.get()).value();
  }
  void set(const std::string& key, uint64_t ms = 10, int64_t expiry = 0) {
    ASSERT_TRUE(store_->apply(key, KeyState::string_set(version(ms), "v", expiry)).is_ok());
  }
  // Every key of `scan`, page after page of the given limits.
  std::vector<std::string> scan_all(SlotScan scan, size_t* pages) {
    std::vector<std::string> keys;
    *pages = 0;
    while (true) {
      Result<SlotScanResult> page = store_->scan(scan);
      EXPECT_TRUE(page.is_ok()) << page.status().to_string();
      if (!page.is_ok() || ++*pages > 10'000) return keys;
      EXPECT_LE(page->keys.size(), scan.keys_max);
      keys.insert(keys.end(), page->keys.begin(), page->keys.end());
      if (!page->resume) return keys;
      scan.start = *page->resume;
      std::erase_if(scan.ranges, [&](const ScanRange& r) { return r.last < scan.start.slot; });
    }
  }

  FaultEnv env_{7};
  InlineScheduler scheduler_;
  Options options_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<ReplicaStore> store_;
};

// Proves a scan lists every live key once, in key order, and skips deleted and expired keys and
// the keyspace's records that share the slots.
TEST_F(ReplicaScanTest, ListsLiveKeysInKeyOrder) {
  std::vector<std::string> live;
  for (int i = 0; i < 300; i++) {
    live.push_back("key:" + std::to_string(i));
    set(live.back());
  }
  set("gone");
  ASSERT_TRUE(store_->apply("gone", KeyState::deleted(version(20))).is_ok());
  set("expired", 10, kNowMs - 1);
  set("later", 10, kNowMs + 1);
  live.push_back("later");
  // Records of other tags in a replica's slot: one before the replicas' tag, one after it.
  const uint16_t slot = key_slot("key:7");
  ASSERT_TRUE(database_->put(std::string{char(slot >> 8), char(slot & 0xFF), 0, 'x'}, "r").is_ok());
  ASSERT_TRUE(database_->put(std::string{char(slot >> 8), char(slot & 0xFF), 9, 'y'}, "e").is_ok());

  const Result<SlotScanResult> all = store_->scan(whole_keyspace());
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  EXPECT_EQ(all->keys, in_key_order(live));
  EXPECT_EQ(all->matched, live.size());
  EXPECT_FALSE(all->resume.has_value());
  const Result<ReplicaKeyCounts> counts = count_replica_keys(database_.get(), kNowMs);
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts->keys, live.size());
  EXPECT_EQ(counts->keys_with_expiry, 1u);
  const Result<ReplicaKeyCounts> any = count_replica_keys(database_.get(), kNowMs, 1);
  ASSERT_TRUE(any.is_ok());
  EXPECT_EQ(any->keys, 1u);  // stops at the first live key
}

// Proves a scan cut short by its record, key or byte limits resumes after the last record it
// visited, so the pages together list every key exactly once, in order.
TEST_F(ReplicaScanTest, PagesResumeWhereTheyStopped) {
  std::vector<std::string> live;
  for (int i = 0; i < 200; i++) {
    live.push_back("{same}:" + std::to_string(i));  // one slot: resumes inside it
    set(live.back());
    live.push_back("spread:" + std::to_string(i));
    set(live.back());
    set("dead:" + std::to_string(i));
    ASSERT_TRUE(store_->apply("dead:" + std::to_string(i), KeyState::deleted(version(20))).is_ok());
  }
  for (const uint64_t limit : {1, 7, 64}) {
    SlotScan scan = whole_keyspace();
    scan.records_max = limit;
    scan.keys_max = limit;
    size_t pages = 0;
    EXPECT_EQ(scan_all(scan, &pages), in_key_order(live)) << "limit " << limit;
    EXPECT_GE(pages, 600 / limit) << "limit " << limit;
  }
  // A long key list is cut by the reply's byte bound.
  const std::string big(60'000, 'b');
  for (int i = 0; i < 40; i++) set(big + std::to_string(i));
  const Result<SlotScanResult> page = store_->scan(whole_keyspace());
  ASSERT_TRUE(page.is_ok());
  EXPECT_TRUE(page->resume.has_value());
  size_t bytes = 0;
  for (const std::string& key : page->keys) bytes += key.size();
  EXPECT_GE(bytes, kSlotScanReplyBytesMax);
  EXPECT_LT(bytes, kSlotScanReplyBytesMax + 64 * 1024);
}

// Proves a scan covers only its ranges (from its start), and filters by pattern and type.
TEST_F(ReplicaScanTest, RangesPatternAndTypeFilter) {
  std::set<std::string> in_range;
  for (int i = 0; i < 400; i++) {
    const std::string key = "k" + std::to_string(i);
    set(key);
    if (key_slot(key) >= 4000 && key_slot(key) <= 9000) in_range.insert(key);
  }
  ASSERT_TRUE(store_->apply("h1", KeyState::hash_set(version(10), {{"f", "v"}})).is_ok());
  ASSERT_TRUE(store_->apply("s1", KeyState::set_add(version(10), {"m"})).is_ok());
  SlotScan scan = whole_keyspace();
  scan.ranges = {ScanRange{4000, 6000}, ScanRange{6001, 9000}};
  scan.start = ScanPosition{4000, std::nullopt};
  const Result<SlotScanResult> ranged = store_->scan(scan);
  ASSERT_TRUE(ranged.is_ok());
  EXPECT_EQ(std::set<std::string>(ranged->keys.begin(), ranged->keys.end()), in_range);

  scan = whole_keyspace();
  scan.pattern = "k1?";
  EXPECT_EQ(store_->scan(scan)->keys,
            in_key_order({"k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17", "k18", "k19"}));
  scan.pattern = "*";
  scan.type = KeyStateType::kHash;
  EXPECT_EQ(store_->scan(scan)->keys, std::vector<std::string>{"h1"});
  scan.type = KeyStateType::kNone;
  EXPECT_TRUE(store_->scan(scan)->keys.empty());
  scan.type = std::nullopt;
  scan.count_only = true;
  const Result<SlotScanResult> counted = store_->scan(scan);
  EXPECT_EQ(counted->matched, 402u);
  EXPECT_TRUE(counted->keys.empty());
}

// Proves a flush drops every state wholly older than it and merges its tombstone into newer ones;
// later deltas older than it are refused and newer ones kept; the horizon survives a reopen; and
// the hints it makes pointless are dropped.
TEST_F(ReplicaScanTest, FlushDropsOlderVersionsDurably) {
  set("old", 10);
  set("mixed", 10);
  ASSERT_TRUE(store_->apply("mixed", KeyState::hash_set(version(30), {{"f", "new"}})).is_ok());
  ASSERT_TRUE(store_->apply("mixed", KeyState::deleted(version(5))).is_ok());
  set("newer", 40);
  const WriteVersion flush = version(20, 9);
  ASSERT_TRUE(store_->flush_older_than(flush).is_ok());
  EXPECT_EQ(store_->flush_version(), flush);
  EXPECT_EQ(store_->scan(whole_keyspace())->keys, in_key_order({"mixed", "newer"}));
  EXPECT_EQ(store_->read("old")->type(kNowMs), KeyStateType::kNone);

  // A late write from before the flush (a hint, a read repair) does not bring a key back.
  EXPECT_FALSE(store_->apply("old", KeyState::string_set(version(15), "back", 0))->changed);
  KeyState mixed_late = KeyState::string_set(version(12), "stale", 0);
  mixed_late.merge(KeyState::hash_set(version(50), {{"g", "1"}}));
  ASSERT_TRUE(store_->apply("late", mixed_late).is_ok());
  EXPECT_EQ(store_->read("late")->type(kNowMs), KeyStateType::kHash);
  // A write after the flush survives it.
  set("after", 25);
  reopen();
  EXPECT_EQ(store_->flush_version(), flush);
  EXPECT_FALSE(store_->apply("old", KeyState::string_set(version(19), "back", 0))->changed);
  EXPECT_EQ(store_->scan(whole_keyspace())->keys,
            in_key_order({"mixed", "newer", "late", "after"}));
  // An older or repeated flush changes nothing.
  ASSERT_TRUE(store_->flush_older_than(version(15, 9)).is_ok());
  EXPECT_EQ(store_->flush_version(), flush);

  auto hints = HintStore::open(database_.get(), HintLimits{}).value();
  ASSERT_TRUE(hints->add(NodeId{2}, "a", KeyState::string_set(version(30), "x", 0), 0).is_ok());
  ASSERT_TRUE(hints->add(NodeId{2}, "b", KeyState::string_set(version(60), "x", 0), 0).is_ok());
  ASSERT_TRUE(hints->drop_older_than(version(40, 9)).is_ok());
  EXPECT_EQ(hints->count(NodeId{2}), 1u);
  EXPECT_EQ(hints->oldest(NodeId{2}, 10, 0)->front().key, "b");
}

// Proves a flush whose rewrite a crash interrupted (its record says not done) is finished when
// the store next opens, before anything reads.
TEST_F(ReplicaScanTest, AnInterruptedFlushIsFinishedAtOpen) {
  set("old", 10);
  set("new", 30);
  std::string record;
  put_fixed64(&record, HlcTimestamp::of(20, 0).value);
  put_fixed64(&record, 9);
  record.push_back(0);  // the rewrite did not finish
  ASSERT_TRUE(database_
                  ->put("\xFF"
                        "Fflush",
                        record)
                  .is_ok());
  reopen();
  EXPECT_EQ(store_->flush_version(), version(20, 9));
  EXPECT_EQ(store_->scan(whole_keyspace())->keys, std::vector<std::string>{"new"});
}

// Proves the cleanup's walk over one slot (partition_cleanup.h): a few states at a time, it deletes
// those whose newest write is older than the bound and keeps the rest, the empty key included;
// the cursor ends done; other slots are untouched.
TEST_F(ReplicaScanTest, DropStatesOlderThanWalksOneSlotInSteps) {
  // Keys of one slot through a hash tag, old and new alternating, and the empty key.
  std::vector<std::string> old_keys;
  std::vector<std::string> new_keys;
  for (int i = 0; i < 7; i++) {
    old_keys.push_back("{t}old" + std::to_string(i));
    new_keys.push_back("{t}new" + std::to_string(i));
    set(old_keys.back(), 10);
    set(new_keys.back(), 30);
  }
  const uint16_t slot = key_slot("{t}");
  const std::string empty_key;  // a key too, alone in its slot, and new
  set(empty_key, 30);
  set("elsewhere", 10);
  ASSERT_NE(key_slot("elsewhere"), slot);
  ASSERT_NE(key_slot(empty_key), slot);

  ReplicaStore::SlotCursor cursor;
  int steps = 0;
  while (!cursor.done) {
    ASSERT_TRUE(store_->drop_states_older_than(slot, HlcTimestamp::of(20, 0), 3, &cursor).is_ok());
    ASSERT_LT(++steps, 20);
  }
  EXPECT_EQ(cursor.looked, 14u);
  EXPECT_EQ(cursor.dropped, 7u);
  EXPECT_GE(steps, 5);
  std::vector<std::string> left = new_keys;
  left.push_back(empty_key);
  left.push_back("elsewhere");
  EXPECT_EQ(store_->scan(whole_keyspace())->keys, in_key_order(left));

  ReplicaStore::SlotCursor alone;
  ASSERT_TRUE(
      store_->drop_states_older_than(key_slot(empty_key), HlcTimestamp::of(20, 0), 1, &alone)
          .is_ok());
  EXPECT_TRUE(alone.done);
  EXPECT_EQ(alone.looked, 1u);
  EXPECT_EQ(alone.dropped, 0u);
  ASSERT_TRUE(alone.after.has_value());
  EXPECT_EQ(*alone.after, empty_key);
}

}  // namespace
}  // namespace cairn
