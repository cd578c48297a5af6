// Proves the Keyspace on a real engine in a temp dir: records round-trip with their expiry,
// lazy and active expiry (fake wall clock), counts, scans, remove_all, observer notifications,
// no lost updates under concurrent read-modify-write, streamed values with their trailer, and
// the compaction filter dropping expired records.
#include "server/keyspace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "model/engine_key.h"
#include "model/keyspace_format.h"
#include "model/slot.h"
#include "model/key_record.h"
#include "model/string_number.h"
#include "server/streamed_value.h"
#include "support/keyspace_fixture.h"

namespace cairn {
namespace {

using test::kStartMicros;

class KeyspaceTest : public test::KeyspaceFixture {};

TEST_F(KeyspaceTest, SetGetAndPersistAcrossReopen) {
  set("a", "1");
  set(std::string("b\0in", 4), std::string("v\0al", 4));
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get(std::string("b\0in", 4)), std::string("v\0al", 4));
  EXPECT_EQ(get("missing"), std::nullopt);
  reopen();
  EXPECT_EQ(get("a"), "1");
  auto stats = keyspace_->stats();
  EXPECT_EQ(stats.keyspace_hits, 1u);
}

// Proves a prefetch, of present, absent, empty and over-long keys alike, changes no answer and
// counts no lookup.
TEST_F(KeyspaceTest, PrefetchChangesNothing) {
  set("a", "1");
  const std::string long_key(Keyspace::kPrefetchKeyBytesMax + 1, 'k');
  set(long_key, "2");
  const std::string_view keys[] = {"a", "missing", "", long_key};
  keyspace_->prefetch(keys);
  EXPECT_EQ(keyspace_->stats().keyspace_hits + keyspace_->stats().keyspace_misses, 2u);
  EXPECT_EQ(get("a"), "1");
  EXPECT_EQ(get(long_key), "2");
  EXPECT_EQ(get("missing"), std::nullopt);
}

TEST_F(KeyspaceTest, KeyTooLargeIsRefused) {
  KeyspaceWrite write(*keyspace_);
  const std::string big(kUserKeyBytesMax + 1, 'k');
  const Status status = write.put_string(big, "v", 0, std::nullopt);
  EXPECT_TRUE(status.is_invalid_argument());
  EXPECT_NE(status.to_string().find("key too large"), std::string::npos);
}

TEST_F(KeyspaceTest, LazyExpiry) {
  const uint64_t now = keyspace_->now_ms();
  set("k", "v", now + 1000);
  EXPECT_EQ(get("k"), "v");
  clock_.advance_micros(999 * 1000);
  EXPECT_EQ(get("k"), "v");
  observer_.keys.clear();
  clock_.advance_micros(1000);
  EXPECT_EQ(get("k"), std::nullopt);
  EXPECT_EQ(keyspace_->stats().expired_keys, 1u);
  EXPECT_EQ(observer_.keys, std::vector<std::string>{"k"});
  EXPECT_EQ(index_entries(), 0u);  // the lazy delete took the index entry too
  auto raw = keyspace_->database().get(ReadOptions(), data_key("k"));
  ASSERT_TRUE(raw.is_ok());
  EXPECT_FALSE(raw->has_value());
}

TEST_F(KeyspaceTest, ActiveExpiryCycle) {
  const uint64_t now = keyspace_->now_ms();
  for (int i = 0; i < 50; i++) set("short" + std::to_string(i), "v", now + 100);
  set("long", "v", now + 100000);
  set("forever", "v");
  set("rewritten", "v", now + 50);
  set("rewritten", "v2", now + 100000);  // its old index entry is replaced
  EXPECT_EQ(index_entries(), 52u);
  clock_.advance_micros(200 * 1000);
  observer_.keys.clear();
  auto removed = keyspace_->expire_cycle(1000);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 50u);
  EXPECT_EQ(observer_.keys.size(), 50u);
  EXPECT_EQ(keyspace_->stats().expired_keys, 50u);
  EXPECT_EQ(index_entries(), 2u);
  auto counts = keyspace_->counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts->keys, 3u);
  EXPECT_EQ(counts->keys_with_expiry, 2u);
  EXPECT_EQ(get("rewritten"), "v2");
}

// Proves the cycle's bound: with nothing due it skips the engine, a TTL written after a cycle
// lowers the bound so the next due cycle still finds it, and a pass cut short by its budget
// leaves the bound at "due now".
TEST_F(KeyspaceTest, ActiveExpiryBoundTracksTheEarliestEntry) {
  ASSERT_TRUE(keyspace_->expire_cycle(1000).is_ok());
  EXPECT_EQ(keyspace_->next_expiry_due_ms(), UINT64_MAX);  // an empty index: nothing ever due
  const uint64_t now = keyspace_->now_ms();
  set("later", "v", now + 5000);
  set("soon", "v", now + 1000);
  EXPECT_EQ(keyspace_->next_expiry_due_ms(), now + 1000);
  auto removed = keyspace_->expire_cycle(1000);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 0u);
  EXPECT_EQ(keyspace_->next_expiry_due_ms(), now + 1000);  // the first entry it left behind
  clock_.advance_micros(1000 * 1000);
  removed = keyspace_->expire_cycle(1000);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(keyspace_->next_expiry_due_ms(), now + 5000);

  for (int i = 0; i < 5; i++) set("due" + std::to_string(i), "v", now + 1500);
  clock_.advance_micros(1000 * 1000);
  removed = keyspace_->expire_cycle(0);  // no budget: stops before the first entry
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 0u);
  EXPECT_LE(keyspace_->next_expiry_due_ms(), keyspace_->now_ms());
  removed = keyspace_->expire_cycle(1000);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 5u);
  EXPECT_EQ(index_entries(), 1u);  // "later" is left
}

TEST_F(KeyspaceTest, ActiveExpirySkipsStaleEntries) {
  const uint64_t now = keyspace_->now_ms();
  // A stale index entry (as a crash between a streamed value's writes could leave).
  ASSERT_TRUE(keyspace_->database().put(expiry_index_key(now + 10, "k"), "").is_ok());
  set("k", "live");
  clock_.advance_micros(20 * 1000);
  auto removed = keyspace_->expire_cycle(1000);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 0u);
  EXPECT_EQ(get("k"), "live");
  EXPECT_EQ(index_entries(), 0u);
}

TEST_F(KeyspaceTest, CountsKeysScanAndRandomKey) {
  for (int i = 0; i < 100; i++) set("key:" + std::to_string(i), "v");
  set("other", "v");
  set("gone", "v", keyspace_->now_ms() + 1);
  clock_.advance_micros(5000);
  auto count = keyspace_->key_count();
  ASSERT_TRUE(count.is_ok());
  EXPECT_EQ(*count, 101u);
  auto keys = keyspace_->keys("key:1*");
  ASSERT_TRUE(keys.is_ok());
  EXPECT_EQ(keys->size(), 11u);  // key:1 and key:10 .. key:19
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int pages = 0;
  do {
    auto page = keyspace_->scan(cursor, "*", 7, "");
    ASSERT_TRUE(page.is_ok());
    for (auto& key : page->keys) seen.insert(key);
    cursor = page->cursor;
    pages++;
    ASSERT_LT(pages, 1000);
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 101u);
  EXPECT_GE(pages, 101 / 7);
  auto typed = keyspace_->scan(0, "other", 1000, "string");
  ASSERT_TRUE(typed.is_ok());
  EXPECT_EQ(typed->keys, std::vector<std::string>{"other"});
  auto none = keyspace_->scan(0, "*", 1000, "hash");
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->keys.empty());
  auto random = keyspace_->random_key();
  ASSERT_TRUE(random.is_ok());
  ASSERT_TRUE(random->has_value());
  EXPECT_NE(**random, "gone");
}

TEST_F(KeyspaceTest, ScanResumesFromSlotWhenCursorUnknown) {
  for (int i = 0; i < 30; i++) set("k" + std::to_string(i), "v");
  auto page = keyspace_->scan(0, "*", 10, "");
  ASSERT_TRUE(page.is_ok());
  ASSERT_NE(page->cursor, 0u);
  std::set<std::string> seen(page->keys.begin(), page->keys.end());
  reopen();  // the cursor table is gone: resume from the cursor's slot
  uint64_t cursor = page->cursor;
  while (cursor != 0) {
    auto next = keyspace_->scan(cursor, "*", 10, "");
    ASSERT_TRUE(next.is_ok());
    seen.insert(next->keys.begin(), next->keys.end());
    cursor = next->cursor;
  }
  EXPECT_EQ(seen.size(), 30u);
}

TEST_F(KeyspaceTest, RemoveAllNotifies) {
  for (int i = 0; i < 10; i++) set("k" + std::to_string(i), "v", keyspace_->now_ms() + 100000);
  ASSERT_TRUE(keyspace_->remove_all().is_ok());
  EXPECT_EQ(observer_.all, 1);
  EXPECT_EQ(*keyspace_->key_count(), 0u);
  EXPECT_EQ(index_entries(), 0u);
  // The layout's marker stays, so a reopen moves nothing.
  auto marker = keyspace_->database().get(ReadOptions(), keyspace_format_marker_key());
  ASSERT_TRUE(marker.is_ok());
  EXPECT_EQ(marker->value_or("none"), "3");
}

// Strings written by a cairnd of keyspace format 1 ([slot][user key]) read back after an open,
// with their expiry.
TEST_F(KeyspaceTest, Format1DirectoryIsMovedAtOpen) {
  keyspace_.reset();
  std::filesystem::remove_all(config_.dir);
  {
    auto opened = Database::open(Options(), config_.dir);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    auto& db = **opened;
    auto put_format1 = [&](std::string_view user_key, std::string_view payload,
                           uint64_t expiry_ms) {
      const uint16_t slot = key_slot(user_key);
      std::string engine_key{static_cast<char>(slot >> 8), static_cast<char>(slot & 0xFF)};
      engine_key.append(user_key);
      RecordTrailer trailer;
      trailer.expiry_ms = expiry_ms;
      ASSERT_TRUE(db.put(engine_key, encode_record(payload, trailer)).is_ok());
    };
    put_format1("plain", "old value", 0);
    put_format1(std::string("\x00zero", 5), "zero", 0);
    put_format1("expiring", "soon", kStartMicros / 1000 + 1000);
    put_format1("large", std::string(10000, 'L'), 0);  // over the 4096-byte blob threshold
    ASSERT_TRUE(db.close().is_ok());
  }
  reopen();
  EXPECT_EQ(get("plain"), "old value");
  EXPECT_EQ(get(std::string("\x00zero", 5)), "zero");
  EXPECT_EQ(get("large"), std::string(10000, 'L'));
  EXPECT_EQ(get("expiring"), "soon");
  EXPECT_EQ(*keyspace_->key_count(), 4u);
  clock_.advance_micros(2'000'000);
  EXPECT_EQ(get("expiring"), std::nullopt);
}

// Engine keys of a slot after its records (other tags: the elements collections will have) are
// not user keys: counts, KEYS and SCAN skip them and go on to the next slot.
TEST_F(KeyspaceTest, ScansSkipOtherTags) {
  std::set<std::string> names;
  std::string first;  // the key of the lowest slot: keys of later slots follow its elements
  for (int i = 0; i < 20; i++) {
    const std::string key = "k" + std::to_string(i);
    set(key, "v");
    names.insert(key);
    if (first.empty() || key_slot(key) < key_slot(first)) first = key;
  }
  std::string element = data_key(first);
  element[2] = 0x01;
  element += "element";
  ASSERT_TRUE(keyspace_->database().put(element, "x").is_ok());
  EXPECT_EQ(*keyspace_->key_count(), 20u);
  auto keys = keyspace_->keys("*");
  ASSERT_TRUE(keys.is_ok());
  EXPECT_EQ(std::set<std::string>(keys->begin(), keys->end()), names);
  auto page = keyspace_->scan(0, "*", 1000, "");
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(std::set<std::string>(page->keys.begin(), page->keys.end()), names);
}

TEST_F(KeyspaceTest, DescribeEncodings) {
  set("i", "12345");
  set("e", "hello");
  set("r", std::string(100, 'x'));
  EXPECT_EQ((*keyspace_->describe("i"))->encoding, "int");
  EXPECT_EQ((*keyspace_->describe("e"))->encoding, "embstr");
  EXPECT_EQ((*keyspace_->describe("r"))->encoding, "raw");
  EXPECT_EQ((*keyspace_->describe("r"))->type, "string");
  EXPECT_FALSE(keyspace_->describe("none")->has_value());
}

TEST_F(KeyspaceTest, ConcurrentIncrementsLoseNoUpdate) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; i++) {
        KeyLockGuard guard = keyspace_->lock_key("counter");
        auto old = keyspace_->find("counter", true);
        ASSERT_TRUE(old.is_ok());
        int64_t value = 0;
        if (old->has_value()) value = *string_to_int64((*old)->inline_payload());
        KeyspaceWrite write(*keyspace_);
        ASSERT_TRUE(write.put_string("counter", std::to_string(value + 1), 0, *old).is_ok());
        ASSERT_TRUE(write.commit().is_ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(get("counter"), std::to_string(kThreads * kIncrements));
}

TEST_F(KeyspaceTest, StreamedValueRoundTrip) {
  const uint64_t size = 8u << 20;
  auto started = StreamedValue::start(*keyspace_, "big", size);
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  std::string chunk(100000, '\0');
  uint64_t written = 0;
  while (written < size) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - written));
    for (size_t i = 0; i < n; i++) chunk[i] = static_cast<char>((written + i) * 31 % 251);
    ASSERT_TRUE((*started)->append(std::string_view(chunk.data(), n)).is_ok());
    written += n;
  }
  EXPECT_TRUE((*started)->append("x").is_invalid_argument());  // past the announced size
  // The extra byte made the value fail: start over properly.
  started = StreamedValue::start(*keyspace_, "big", size);
  ASSERT_TRUE(started.is_ok());
  written = 0;
  while (written < size) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - written));
    for (size_t i = 0; i < n; i++) chunk[i] = static_cast<char>((written + i) * 31 % 251);
    ASSERT_TRUE((*started)->append(std::string_view(chunk.data(), n)).is_ok());
    written += n;
  }
  {
    KeyLockGuard guard = keyspace_->lock_key("big");
    auto old = keyspace_->find("big", true);
    ASSERT_TRUE(old.is_ok());
    ASSERT_TRUE((*started)->commit(keyspace_->now_ms() + 60000, *old).is_ok());
  }
  auto entry = keyspace_->find("big", false);
  ASSERT_TRUE(entry.is_ok() && entry->has_value());
  EXPECT_FALSE((*entry)->is_inline());
  EXPECT_EQ((*entry)->payload_bytes, size);
  EXPECT_EQ((*entry)->trailer.expiry_ms, keyspace_->now_ms() + 60000);
  auto body = keyspace_->payload_body(**entry);
  ASSERT_TRUE(body.is_ok());
  EXPECT_EQ((*body)->size_bytes(), size + 2);
  uint64_t read = 0;
  std::string buffer(65536, '\0');
  bool same = true;
  std::string tail;
  while (true) {
    auto n = (*body)->read(buffer.data(), buffer.size());
    ASSERT_TRUE(n.is_ok());
    if (*n == 0) break;
    for (size_t i = 0; i < *n; i++) {
      if (read + i < size) {
        same = same && buffer[i] == static_cast<char>((read + i) * 31 % 251);
      } else {
        tail.push_back(buffer[i]);
      }
    }
    read += *n;
  }
  EXPECT_TRUE(same);
  EXPECT_EQ(read, size + 2);
  EXPECT_EQ(tail, "\r\n");
  // A large value is copied (RENAME-style) without being read whole, keeping the expiry.
  {
    KeyspaceWrite write(*keyspace_);
    ASSERT_TRUE(write.put_entry("copy", **entry, (*entry)->trailer.expiry_ms, std::nullopt).is_ok());
    ASSERT_TRUE(write.commit().is_ok());
  }
  auto copy = keyspace_->find("copy", false);
  ASSERT_TRUE(copy.is_ok() && copy->has_value());
  EXPECT_EQ((*copy)->payload_bytes, size);
  auto tail_bytes = keyspace_->read_payload_range(**copy, size - 3, 10);
  ASSERT_TRUE(tail_bytes.is_ok());
  EXPECT_EQ(tail_bytes->size(), 3u);
  EXPECT_EQ((*tail_bytes)[2], static_cast<char>((size - 1) * 31 % 251));
}

// A 1 GiB user value plus its trailer fits the engine's value bound (the streamed SET of the
// largest value the protocol allows must not be refused for the 10 trailer bytes).
TEST_F(KeyspaceTest, OneGiBValueCanStart) {
  auto started = StreamedValue::start(*keyspace_, "huge", uint64_t{1} << 30);
  EXPECT_TRUE(started.is_ok()) << started.status().to_string();
  auto too_long = StreamedValue::start(*keyspace_, std::string(kUserKeyBytesMax + 1, 'k'), 10);
  EXPECT_TRUE(too_long.status().is_invalid_argument());
}

TEST_F(KeyspaceTest, CompactionFilterDropsExpiredRecords) {
  const uint64_t now = keyspace_->now_ms();
  for (int i = 0; i < 20; i++) set("e" + std::to_string(i), "v", now + 10);
  set("keep", "v");
  clock_.advance_micros(100 * 1000);
  ASSERT_TRUE(keyspace_->save().is_ok());
  // Push the table down: a second flush and a compaction of overlapping tables.
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 20; i++) set("pad" + std::to_string(i), "v");
    ASSERT_TRUE(keyspace_->save().is_ok());
  }
  ASSERT_TRUE(keyspace_->database().wait_for_compactions().is_ok());
  uint64_t raw_expired = 0;
  auto it = keyspace_->database().new_iterator(ReadOptions());
  for (it->seek_to_first(); it->valid(); it->next()) {
    std::string_view user;
    if (parse_data_key(it->key(), &user) && user.substr(0, 1) == "e") raw_expired++;
  }
  EXPECT_EQ(raw_expired, 0u);  // dropped by compaction, not by reads
  EXPECT_EQ(keyspace_->stats().expired_keys, 0u);
  EXPECT_EQ(get("keep"), "v");
}

}  // namespace
}  // namespace cairn
