// Proves the memtable answers point lookups as of any sequence number (values, tombstones,
// absence), iterates in internal-key order, and accounts for its memory.
#include "storage/memtable.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/iterator_walk.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

std::optional<std::string> lookup(const MemTable& memtable, std::string_view key,
                                  SequenceNumber sequence, LookupResult* outcome = nullptr) {
  std::string value;
  const LookupResult result = memtable.get(key, sequence, &value);
  if (outcome != nullptr) *outcome = result;
  if (result == LookupResult::kFound) return value;
  return std::nullopt;
}

// Proves get returns, for each sequence, the newest version at or below it.
TEST(MemTableTest, GetSeesTheVersionVisibleAtEachSequence) {
  MemTable memtable;
  memtable.add(1, ValueType::kValue, "k", "v1");
  memtable.add(5, ValueType::kValue, "k", "v5");
  memtable.add(9, ValueType::kDeletion, "k", "");
  memtable.add(12, ValueType::kValue, "k", "v12");

  LookupResult outcome;
  EXPECT_EQ(lookup(memtable, "k", 0, &outcome), std::nullopt);
  EXPECT_EQ(outcome, LookupResult::kAbsent);
  for (SequenceNumber sequence = 1; sequence <= 4; sequence++) {
    EXPECT_EQ(lookup(memtable, "k", sequence), "v1") << sequence;
  }
  for (SequenceNumber sequence = 5; sequence <= 8; sequence++) {
    EXPECT_EQ(lookup(memtable, "k", sequence), "v5") << sequence;
  }
  for (SequenceNumber sequence = 9; sequence <= 11; sequence++) {
    EXPECT_EQ(lookup(memtable, "k", sequence, &outcome), std::nullopt) << sequence;
    EXPECT_EQ(outcome, LookupResult::kDeleted) << sequence;
  }
  EXPECT_EQ(lookup(memtable, "k", 12), "v12");
  EXPECT_EQ(lookup(memtable, "k", kSequenceNumberMax), "v12");
}

// Proves a tombstone hides older values, not newer ones, and a value and a tombstone of the same
// sequence are distinct entries, the value winning (types sort descending).
TEST(MemTableTest, TombstonesHideOnlyOlderValues) {
  MemTable memtable;
  LookupResult outcome;
  memtable.add(3, ValueType::kDeletion, "gone", "");
  EXPECT_EQ(lookup(memtable, "gone", 100, &outcome), std::nullopt);
  EXPECT_EQ(outcome, LookupResult::kDeleted);
  memtable.add(2, ValueType::kValue, "gone", "older");
  EXPECT_EQ(lookup(memtable, "gone", 2), "older");
  EXPECT_EQ(lookup(memtable, "gone", 3, &outcome), std::nullopt);
  EXPECT_EQ(outcome, LookupResult::kDeleted);

  memtable.add(7, ValueType::kDeletion, "same", "");
  memtable.add(7, ValueType::kValue, "same", "value");
  EXPECT_EQ(lookup(memtable, "same", 7), "value");
  EXPECT_EQ(memtable.entry_count(), 4u);
}

// Proves keys that are prefixes of one another, empty and binary keys stay apart.
TEST(MemTableTest, PrefixEmptyAndBinaryKeysStayApart) {
  MemTable memtable;
  const std::vector<std::string> keys{"", "a", std::string("a\0", 2), "ab", std::string("\xff", 1)};
  for (size_t i = 0; i < keys.size(); i++) {
    memtable.add(i + 1, ValueType::kValue, keys[i], "value" + std::to_string(i));
  }
  for (size_t i = 0; i < keys.size(); i++) {
    EXPECT_EQ(lookup(memtable, keys[i], 100), "value" + std::to_string(i)) << i;
    EXPECT_EQ(lookup(memtable, keys[i], i), std::nullopt) << i;  // before its own write
  }
  EXPECT_EQ(lookup(memtable, "b", 100), std::nullopt);
  EXPECT_EQ(lookup(memtable, "a\x01", 100), std::nullopt);
}

// A user key of the iterator test: any first byte,
// sometimes a lone byte, sometimes empty.
std::string random_user_key(std::mt19937_64& random, int suffix_count) {
  if (random() % 50 == 0) return "";
  std::string key(1, static_cast<char>(random() % 256));
  if (random() % 10 != 0) key += std::to_string(random() % suffix_count);
  return key;
}

using InternalKeyModel = std::map<std::string, std::string, InternalKeyLess>;

// Whether a full scan of `iterator` yields exactly the model's entries, in order.
::testing::AssertionResult scan_matches(Iterator* iterator, const InternalKeyModel& model) {
  auto expected = model.begin();
  for (iterator->seek_to_first(); iterator->valid(); iterator->next(), ++expected) {
    if (expected == model.end())
      return ::testing::AssertionFailure() << "more entries than the model";
    if (iterator->key() != expected->first || iterator->value() != expected->second) {
      return ::testing::AssertionFailure() << "entry differs from the model at " << expected->first;
    }
  }
  if (expected != model.end())
    return ::testing::AssertionFailure() << "fewer entries than the model";
  return ::testing::AssertionSuccess();
}

// Proves the iterator yields every entry in internal-key order with its value, across keys of
// every first byte, and that seek lands on the first entry at or after an internal key, as a
// std::map ordered the same way.
TEST(MemTableTest, IteratorFollowsInternalKeyOrder) {
  const uint64_t seed = 0x17e4;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  MemTable memtable;
  {
    std::unique_ptr<Iterator> empty = memtable.new_iterator();
    empty->seek_to_first();
    EXPECT_FALSE(empty->valid());
    empty->seek(make_internal_key("k", 1, kValueTypeForSeek));
    EXPECT_FALSE(empty->valid());
  }
  InternalKeyModel model;
  for (SequenceNumber sequence = 1; sequence <= 2000; sequence++) {
    const std::string user_key = random_user_key(random, 10);
    const ValueType type = random() % 4 == 0 ? ValueType::kDeletion : ValueType::kValue;
    const std::string value = type == ValueType::kValue ? std::to_string(random()) : "";
    memtable.add(sequence, type, user_key, value);
    model.emplace(make_internal_key(user_key, sequence, type), value);
  }
  std::unique_ptr<Iterator> iterator = memtable.new_iterator();
  EXPECT_TRUE(scan_matches(iterator.get(), model));
  EXPECT_TRUE(iterator->status().is_ok());

  for (int i = 0; i < 500; i++) {
    const std::string target =
        make_internal_key(random_user_key(random, 12), random() % 2100, kValueTypeForSeek);
    iterator->seek(target);
    const auto lower_bound = model.lower_bound(target);
    ASSERT_EQ(iterator->valid(), lower_bound != model.end());
    if (iterator->valid()) {
      EXPECT_EQ(iterator->key(), lower_bound->first);
    }
  }
}

// Proves a run large enough to be sorted through buckets comes out in internal-key order when
// many keys share their first 8 bytes (as cairnd's slot-prefixed keys do), when keys differ only
// past the prefix or in trailing zero bytes the prefix pads with, and with many versions per key.
TEST(MemTableTest, IteratorOrdersALargeRunOfKeysSharingPrefixes) {
  const uint64_t seed = 0x5017;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const std::string heads[] = {"", "counter:", "counter:000000", std::string("ab\0", 3), "ab"};
  MemTable memtable;
  InternalKeyModel model;
  for (SequenceNumber sequence = 1; sequence <= 100000; sequence++) {
    std::string user_key;
    user_key.push_back(static_cast<char>(random() % 4));  // few distinct first bytes: big buckets
    user_key.push_back(static_cast<char>(random() % 256));
    user_key += heads[random() % std::size(heads)];
    if (random() % 8 != 0) user_key += std::to_string(random() % 300);
    if (random() % 16 == 0) user_key.push_back('\0');
    const std::string value = std::to_string(sequence);
    memtable.add(sequence, ValueType::kValue, user_key, value);
    model.emplace(make_internal_key(user_key, sequence, ValueType::kValue), value);
  }
  std::unique_ptr<Iterator> iterator = memtable.new_iterator();
  EXPECT_TRUE(scan_matches(iterator.get(), model));
}

// Proves the chunk-at-a-time sort of large groups of keys that tie on their first 8 bytes keeps
// internal-key order: collection-like keys that share 20 bytes and differ after, hundreds of
// versions of one key (a list's metadata), keys that tie only through zero padding ("k", "k\0",
// "k\0\0"), and keys sharing more bytes than the chunk sort descends (it falls back to whole
// comparisons), each in groups well past the size it sorts by comparisons alone.
TEST(MemTableTest, IteratorOrdersLargeGroupsOfKeysTiedPastTheirPrefix) {
  const uint64_t seed = 0x71ed;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const std::string collection = std::string("\x01\x02\x01\x06mylist", 10) + std::string(10, '\x07');
  const std::string long_shared(300, 'x');
  MemTable memtable;
  InternalKeyModel model;
  for (SequenceNumber sequence = 1; sequence <= 20000; sequence++) {
    std::string user_key;
    switch (random() % 5) {
      case 0:  // an element: the collection's prefix, then 8 bytes that differ
        user_key = collection + std::to_string(1000000000 + random() % 5000);
        break;
      case 1:  // the collection's metadata, rewritten again and again
        user_key = collection.substr(0, 10);
        break;
      case 2:  // ties through zero padding, at both the prefix and a later chunk
        user_key = (random() % 2 == 0 ? std::string("k") : collection.substr(0, 12)) +
                   std::string(random() % 12, '\0');
        break;
      case 3:  // deeper than the chunk sort goes
        user_key = long_shared + std::to_string(random() % 100);
        break;
      default:
        user_key = collection + std::string(random() % 3, '\0');
    }
    const ValueType type = random() % 5 == 0 ? ValueType::kDeletion : ValueType::kValue;
    const std::string value = type == ValueType::kValue ? std::to_string(sequence) : "";
    memtable.add(sequence, type, user_key, value);
    model.emplace(make_internal_key(user_key, sequence, type), value);
  }
  std::unique_ptr<Iterator> iterator = memtable.new_iterator();
  EXPECT_TRUE(scan_matches(iterator.get(), model));
}

// Proves iterators made between writes (each sorting the entries added since the last into the
// runs, which then merge) see exactly the entries added before them, in order, however many runs
// the memtable holds at the time.
TEST(MemTableTest, IteratorsBetweenWritesSeeEveryEarlierEntryInOrder) {
  const uint64_t seed = 0x5e41;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  MemTable memtable;
  InternalKeyModel model;
  SequenceNumber sequence = 0;
  for (int round = 0; round < 120; round++) {
    // Batches of 1 to ~100 entries, so runs of many sizes meet.
    const int batch = round % 7 == 0 ? 100 + static_cast<int>(random() % 50) : 1 + random() % 12;
    for (int i = 0; i < batch; i++) {
      const std::string user_key = random_user_key(random, 40);
      const std::string value = std::to_string(random());
      memtable.add(++sequence, ValueType::kValue, user_key, value);
      model.emplace(make_internal_key(user_key, sequence, ValueType::kValue), value);
    }
    std::unique_ptr<Iterator> iterator = memtable.new_iterator();
    memtable.add(++sequence, ValueType::kValue, "later", "unseen");  // after the iterator
    ASSERT_TRUE(scan_matches(iterator.get(), model));
    const std::string target = make_internal_key(random_user_key(random, 40),
                                                 random() % (sequence + 1), kValueTypeForSeek);
    iterator->seek(target);
    const auto lower_bound = model.lower_bound(target);
    model.emplace(make_internal_key("later", sequence, ValueType::kValue), "unseen");
    ASSERT_EQ(iterator->valid(), lower_bound != model.end());
    if (iterator->valid()) {
      EXPECT_EQ(iterator->key(), lower_bound->first);
    }
  }
}

// Proves runs of keys that tie on their prefixes merge in order: the elements of two collections
// and their metadata records, written in batches of many sizes with an iterator after each, so
// that small and large runs of tied entries merge (with entries loaded ahead of the merge's
// cursors) into what a model holds.
TEST(MemTableTest, RunsOfKeysTiedOnTheirPrefixesMergeInOrder) {
  const uint64_t seed = 0x3e7a;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const std::string collections[] = {std::string("\x01\x02\x01\x06myzset", 10),
                                     std::string("\x01\x02\x02\x06myzset", 10)};
  MemTable memtable;
  InternalKeyModel model;
  SequenceNumber sequence = 0;
  for (int batch = 0; batch < 60; batch++) {
    const int batch_size = 1 + static_cast<int>(random() % (batch % 5 == 0 ? 2000 : 40));
    for (int i = 0; i < batch_size; i++) {
      const std::string& collection = collections[random() % 2];
      const std::string user_key = random() % 4 == 0
                                       ? collection  // the metadata, rewritten by every write
                                       : collection + std::to_string(random() % 3000);
      const ValueType type = random() % 3 == 0 ? ValueType::kDeletion : ValueType::kValue;
      const std::string value = type == ValueType::kValue ? std::to_string(sequence) : "";
      memtable.add(++sequence, type, user_key, value);
      model.emplace(make_internal_key(user_key, sequence, type), value);
    }
    std::unique_ptr<Iterator> iterator = memtable.new_iterator();
    ASSERT_TRUE(scan_matches(iterator.get(), model)) << "after batch " << batch;
  }
}

// Proves iterators go backward over the merge of the memtable's sorted runs: from seek_to_last
// every entry comes back in reverse, and random walks mixing next, prev, seek, seek_for_prev,
// seek_to_first and seek_to_last match the model at every step, whatever runs the memtable holds
// (iterators made between batches of writes leave runs of many sizes).
TEST(MemTableTest, IteratorsWalkBothWaysOverManyRuns) {
  for (const uint64_t seed : test::test_seeds(400, 30, 300)) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (CAIRN_TEST_SEED=" + std::to_string(seed) +
                 " replays it)");
    std::mt19937_64 random(seed);
    MemTable memtable;
    InternalKeyModel model;
    SequenceNumber sequence = 0;
    const int batch_count = static_cast<int>(random() % 12);
    const int user_key_suffixes = 1 + static_cast<int>(random() % 60);
    for (int batch = 0; batch < batch_count; batch++) {
      const int batch_size = 1 + static_cast<int>(random() % (batch % 4 == 0 ? 150 : 10));
      for (int i = 0; i < batch_size; i++) {
        const std::string user_key = random_user_key(random, user_key_suffixes);
        const auto type = static_cast<ValueType>(random() % 2);  // a value or a tombstone
        const std::string value = type == ValueType::kValue ? std::to_string(random()) : "";
        memtable.add(++sequence, type, user_key, value);
        model.emplace(make_internal_key(user_key, sequence, type), value);
      }
      memtable.new_iterator();  // sorts this batch into a run of its own (or merges it)
    }
    const test::ModelEntries entries(model.begin(), model.end());
    std::unique_ptr<Iterator> iterator = memtable.new_iterator();
    test::IteratorModelWalk walk(*iterator, entries, &compare_internal_keys);
    walk.check_backward_scan();
    walk.run(random, 600, [&] {
      if (!entries.empty() && random() % 3 == 0) return entries[random() % entries.size()].first;
      return make_internal_key(random_user_key(random, user_key_suffixes + 2),
                               random() % (sequence + 2), static_cast<ValueType>(random() % 3));
    });
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Proves random writes and deletes answer get at every sequence as a simple versioned model does,
// with a point index that holds every key, one that fills up part way (4 slots), and none.
TEST(MemTableTest, RandomOperationsMatchAVersionedModel) {
  for (const size_t point_index_slots : {size_t{1} << 12, size_t{4}, size_t{0}})
    for (uint64_t seed : {11ULL, 12ULL}) {
      SCOPED_TRACE("seed=" + std::to_string(seed) + " slots=" + std::to_string(point_index_slots));
      std::mt19937_64 random(seed);
      MemTable memtable({.point_index_slot_count = point_index_slots});
      // key -> sequence -> value, or nullopt for a tombstone.
      std::map<std::string, std::map<SequenceNumber, std::optional<std::string>>> model;
      constexpr SequenceNumber kLastSequence = 1500;
      for (SequenceNumber sequence = 1; sequence <= kLastSequence; sequence++) {
        const std::string key(1 + random() % 3, static_cast<char>('a' + random() % 4));
        if (random() % 3 == 0) {
          memtable.add(sequence, ValueType::kDeletion, key, "");
          model[key][sequence] = std::nullopt;
        } else {
          const std::string value = std::to_string(sequence);
          memtable.add(sequence, ValueType::kValue, key, value);
          model[key][sequence] = value;
        }
      }
      for (int i = 0; i < 3000; i++) {
        const std::string key(1 + random() % 3, static_cast<char>('a' + random() % 5));
        const SequenceNumber sequence = random() % (kLastSequence + 10);
        LookupResult expected = LookupResult::kAbsent;
        std::optional<std::string> expected_value;
        if (auto versions = model.find(key); versions != model.end()) {
          auto newest = versions->second.upper_bound(sequence);
          if (newest != versions->second.begin()) {
            --newest;
            expected_value = newest->second;
            expected = expected_value ? LookupResult::kFound : LookupResult::kDeleted;
          }
        }
        LookupResult outcome;
        const std::optional<std::string> value = lookup(memtable, key, sequence, &outcome);
        ASSERT_EQ(outcome, expected) << key << "@" << sequence;
        ASSERT_EQ(value, expected_value) << key << "@" << sequence;
      }
    }
}

// Proves a memtable whose point index is full keeps answering for the keys past it, and says it
// should be switched.
TEST(MemTableTest, KeysPastAFullPointIndexAreStillFound) {
  MemTable memtable({.point_index_slot_count = 8});  // 6 keys before the load limit
  EXPECT_FALSE(memtable.point_index_full());
  for (SequenceNumber sequence = 1; sequence <= 40; sequence++) {
    memtable.add(sequence, ValueType::kValue, "key" + std::to_string(sequence % 20),
                 "v" + std::to_string(sequence));
  }
  EXPECT_TRUE(memtable.point_index_full());
  for (int i = 0; i < 20; i++) {
    const SequenceNumber newest = i == 0 ? 40 : 20 + i;
    EXPECT_EQ(lookup(memtable, "key" + std::to_string(i), 100), "v" + std::to_string(newest));
    EXPECT_EQ(
        lookup(memtable, "key" + std::to_string(i), newest - 20),
        newest > 20 ? std::optional<std::string>("v" + std::to_string(newest - 20)) : std::nullopt);
  }
  EXPECT_EQ(lookup(memtable, "key20", 100), std::nullopt);
}

// Proves readers on other threads, making iterators (which sort the pending entries) and reading
// old versions while one writer adds, always see a sorted memtable that holds every entry added
// before they looked.
TEST(MemTableTest, ConcurrentReadersSeeEveryEarlierEntrySorted) {
  MemTable memtable;
  constexpr SequenceNumber kEntryCount = 20000;
  std::atomic<SequenceNumber> added{0};
  std::thread writer([&] {
    std::mt19937_64 random(0xc0c0);
    for (SequenceNumber sequence = 1; sequence <= kEntryCount; sequence++) {
      memtable.add(sequence, ValueType::kValue, "k" + std::to_string(random() % 3000),
                   std::to_string(sequence));
      added.store(sequence, std::memory_order_release);
    }
  });
  std::atomic<bool> failed{false};
  std::vector<std::thread> readers;
  for (int reader = 0; reader < 2; reader++) {
    readers.emplace_back([&, reader] {
      std::mt19937_64 random(0x7ead + reader);
      while (added.load(std::memory_order_acquire) < kEntryCount && !failed) {
        const SequenceNumber before = added.load(std::memory_order_acquire);
        std::unique_ptr<Iterator> iterator = memtable.new_iterator();
        std::string previous;
        std::vector<bool> seen(kEntryCount + 1, false);
        for (iterator->seek_to_first(); iterator->valid(); iterator->next()) {
          const std::string key(iterator->key());
          if (!previous.empty() && compare_internal_keys(previous, key) >= 0) failed = true;
          ParsedInternalKey parsed;
          if (!parse_internal_key(key, &parsed)) failed = true;
          seen[parsed.sequence] = true;
          previous = key;
        }
        for (SequenceNumber sequence = 1; sequence <= before; sequence++) {
          if (!seen[sequence]) failed = true;
        }
        // An old version of some key: answered from the runs.
        std::string value;
        const SequenceNumber old = before == 0 ? 0 : 1 + random() % before;
        memtable.get("k" + std::to_string(random() % 3000), old, &value);
      }
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_FALSE(failed);
  std::unique_ptr<Iterator> iterator = memtable.new_iterator();
  SequenceNumber count = 0;
  for (iterator->seek_to_first(); iterator->valid(); iterator->next()) count++;
  EXPECT_EQ(count, kEntryCount);
}

// Proves memory usage grows with what is added, covers it, and entry_count counts the adds.
TEST(MemTableTest, MemoryUsageAndEntryCountGrow) {
  MemTable memtable;
  EXPECT_EQ(memtable.entry_count(), 0u);
  const size_t empty_bytes = memtable.memory_usage_bytes();
  size_t previous_bytes = empty_bytes;
  size_t added_bytes = 0;
  for (SequenceNumber sequence = 1; sequence <= 1000; sequence++) {
    const std::string key = "key" + std::to_string(sequence);
    const std::string value(sequence % 10 == 0 ? 5000 : 100, 'v');
    memtable.add(sequence, ValueType::kValue, key, value);
    added_bytes += key.size() + value.size();
    EXPECT_GE(memtable.memory_usage_bytes(), previous_bytes);
    previous_bytes = memtable.memory_usage_bytes();
  }
  EXPECT_EQ(memtable.entry_count(), 1000u);
  EXPECT_GE(memtable.memory_usage_bytes(), empty_bytes + added_bytes);
}

}  // namespace
}  // namespace cairn
