// Proves how the keyspace stores collections (server/collection.h): a collection's elements are
// reachable only through its record's generation, so deleting it, replacing it with another
// type or creating it again hides the old elements at once; compaction then drops exactly the
// unreachable elements and sample index records (inline or in blob files, orphaned copies too)
// and keeps the live ones; FLUSHALL keeps the generation limit so generations are never reused.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "model/generation_allocator.h"
#include "server/collection.h"
#include "support/keyspace_fixture.h"

namespace cairn {
namespace {

class KeyspaceCollectionTest : public test::KeyspaceFixture {
 protected:
  // HSET as the command does it: one batch with the elements and the record.
  void hset(std::string_view key, const std::map<std::string, std::string>& fields) {
    KeyLockGuard guard = keyspace_->lock_key(key);
    auto found = find_collection(*keyspace_, key, RecordType::kHash, true);
    ASSERT_TRUE(found.is_ok());
    ASSERT_FALSE(found->wrong_type());
    auto hash = collection_for_write(*keyspace_, key, RecordType::kHash, *found);
    ASSERT_TRUE(hash.is_ok());
    KeyspaceWrite write(*keyspace_);
    for (const auto& [field, value] : fields) {
      auto old = keyspace_->read_element(hash->element_key(field), nullptr, true);
      ASSERT_TRUE(old.is_ok());
      if (!old->has_value()) hash->meta().count++;
      hash->put_element(write, field, value);
    }
    ASSERT_TRUE(write_collection(write, *hash, *found).is_ok());
    ASSERT_TRUE(write.commit().is_ok());
  }

  // The hash's fields as HGETALL reads them; nullopt when the key holds no hash.
  std::optional<std::map<std::string, std::string>> hgetall(std::string_view key) {
    KeyspaceSnapshot snapshot(*keyspace_);
    auto found = find_collection_at(*keyspace_, key, RecordType::kHash, snapshot);
    EXPECT_TRUE(found.is_ok());
    if (!found.is_ok() || !found->collection.has_value()) return std::nullopt;
    auto all = all_elements(*keyspace_, *found->collection, snapshot);
    EXPECT_TRUE(all.is_ok()) << all.status().to_string();
    if (!all.is_ok()) return std::nullopt;
    return std::map<std::string, std::string>(all->begin(), all->end());
  }

  void del(std::string_view key) {
    KeyLockGuard guard = keyspace_->lock_key(key);
    auto entry = keyspace_->find(key, true);
    ASSERT_TRUE(entry.is_ok() && entry->has_value());
    KeyspaceWrite write(*keyspace_);
    write.remove(key, **entry);
    ASSERT_TRUE(write.commit().is_ok());
  }

  // Element records (or, with kSampleTag, sample index records) of `key` in the engine, of any
  // generation, reachable or not.
  std::map<uint64_t, int> raw_elements_by_generation(std::string_view key,
                                                     char tag = kElementTag) {
    std::map<uint64_t, int> out;
    auto it = keyspace_->database().new_iterator(ReadOptions());
    for (it->seek_to_first(); it->valid(); it->next()) {
      ElementKey element;
      if (parse_element_key(it->key(), &element) && element.user_key == key &&
          element.tag == tag) {
        out[element.generation]++;
      }
    }
    EXPECT_TRUE(it->status().is_ok());
    return out;
  }

  uint64_t generation_of(std::string_view key) {
    auto found = find_collection(*keyspace_, key, RecordType::kHash, false);
    EXPECT_TRUE(found.is_ok() && found->collection.has_value());
    return found.is_ok() && found->collection.has_value() ? found->collection->meta().generation
                                                          : 0;
  }

  // Flushes and compacts until every table was rewritten at least once.
  void compact_everything() {
    ASSERT_TRUE(keyspace_->save().is_ok());
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 20; i++) set("pad" + std::to_string(i), "v");
      ASSERT_TRUE(keyspace_->save().is_ok());
    }
    ASSERT_TRUE(keyspace_->database().wait_for_compactions().is_ok());
    ASSERT_GT(keyspace_->database().stats().compaction_count, 0u);
  }

  static std::map<std::string, std::string> fields(int count, size_t value_bytes = 8) {
    std::map<std::string, std::string> out;
    for (int i = 0; i < count; i++) {
      out["field" + std::to_string(i)] = std::string(value_bytes, static_cast<char>('a' + i % 26));
    }
    return out;
  }
};

// Proves prefetching elements (a pipeline's hint) changes nothing and counts nothing, whatever
// the key holds: a hash, a string, an expired string (not deleted by the hint), or nothing; with
// present, absent, empty and over-long elements.
TEST_F(KeyspaceCollectionTest, PrefetchingElementsChangesNothing) {
  hset("h", fields(3));
  set("s", "v");
  set("x", "v", keyspace_->now_ms() + 1000);
  clock_.advance_micros(2000 * 1000);
  const std::string long_element(Keyspace::kPrefetchKeyBytesMax + 1, 'e');
  const std::string_view elements[] = {"field1", "absent", "", long_element};
  const auto before = keyspace_->stats();
  for (const std::string_view key : {"h", "s", "x", "missing"}) {
    keyspace_->prefetch_elements(key, elements);
  }
  const auto after = keyspace_->stats();
  EXPECT_EQ(after.keyspace_hits, before.keyspace_hits);
  EXPECT_EQ(after.keyspace_misses, before.keyspace_misses);
  EXPECT_EQ(after.expired_keys, before.expired_keys);
  EXPECT_EQ(index_entries(), 1u) << "the expired key's index entry is left to expiry";
  EXPECT_EQ(hgetall("h"), fields(3));
  EXPECT_EQ(get("s"), "v");
  EXPECT_EQ(get("x"), std::nullopt);
}

TEST_F(KeyspaceCollectionTest, DeleteAndRecreateHideTheOldElementsAtOnce) {
  hset("h", fields(50));
  const uint64_t first = generation_of("h");
  EXPECT_EQ(hgetall("h"), fields(50));
  del("h");
  EXPECT_EQ(hgetall("h"), std::nullopt);
  EXPECT_EQ(raw_elements_by_generation("h")[first], 50) << "DEL rewrote only the record";
  hset("h", fields(3));
  EXPECT_NE(generation_of("h"), first);
  EXPECT_EQ(hgetall("h"), fields(3)) << "none of the 50 old fields shows through";
  reopen();
  EXPECT_EQ(hgetall("h"), fields(3));
}

TEST_F(KeyspaceCollectionTest, CompactionDropsUnreachableElementsOnly) {
  hset("deleted", fields(40));
  hset("replaced", fields(30));
  hset("recreated", fields(20));
  hset("live", fields(10));
  hset("large", fields(5, 10000));  // values over the 4096-byte blob threshold
  const uint64_t recreated_old = generation_of("recreated");
  del("deleted");
  set("replaced", "now a string");
  del("recreated");
  hset("recreated", fields(2));
  del("large");
  // A copy whose record was never written (RENAME failed after copying, its command over): an
  // orphan.
  {
    auto found = find_collection(*keyspace_, "live", RecordType::kHash, false);
    ASSERT_TRUE(found.is_ok() && found->collection.has_value());
    auto orphan = copy_collection(*keyspace_, *found->collection, "orphan", 0);
    ASSERT_TRUE(orphan.is_ok());
    EXPECT_EQ(raw_elements_by_generation("orphan")[orphan->meta().generation], 10);
    EXPECT_EQ(raw_elements_by_generation("orphan", kSampleTag)[orphan->meta().generation], 10);
  }
  EXPECT_EQ(raw_elements_by_generation("deleted", kSampleTag).size(), 1u);
  EXPECT_EQ(raw_elements_by_generation("recreated", kSampleTag)[recreated_old], 20);

  compact_everything();

  // Elements and sample records alike.
  for (const char tag : {kElementTag, kSampleTag}) {
    SCOPED_TRACE(tag == kElementTag ? "elements" : "sample records");
    EXPECT_TRUE(raw_elements_by_generation("deleted", tag).empty());
    EXPECT_TRUE(raw_elements_by_generation("replaced", tag).empty());
    EXPECT_TRUE(raw_elements_by_generation("large", tag).empty());
    EXPECT_TRUE(raw_elements_by_generation("orphan", tag).empty());
    auto recreated = raw_elements_by_generation("recreated", tag);
    EXPECT_EQ(recreated.count(recreated_old), 0u);
    EXPECT_EQ(recreated[generation_of("recreated")], 2);
    EXPECT_EQ(raw_elements_by_generation("live", tag)[generation_of("live")], 10);
  }
  EXPECT_EQ(hgetall("live"), fields(10));
  EXPECT_EQ(hgetall("recreated"), fields(2));
  EXPECT_EQ(get("replaced"), "now a string");
  EXPECT_GE(keyspace_->database().stats().blob_garbage_bytes, 5u * 10000);
}

// A collection built in batches of its own (RENAME, COPY, SUNIONSTORE...) is unreachable until
// its record is written: a compaction meanwhile keeps its elements, and drops them once the build
// is given up without a record.
TEST_F(KeyspaceCollectionTest, CompactionKeepsTheElementsOfACollectionBeingBuilt) {
  hset("source", fields(10));
  auto source = find_collection(*keyspace_, "source", RecordType::kHash, false);
  ASSERT_TRUE(source.is_ok() && source->collection.has_value());
  {
    KeyLockGuard guard = keyspace_->lock_key("copy");
    auto copy = copy_collection(*keyspace_, *source->collection, "copy", 0);
    ASSERT_TRUE(copy.is_ok());
    compact_everything();  // between the elements and the record
    auto absent = find_collection(*keyspace_, "copy", RecordType::kHash, true);
    ASSERT_TRUE(absent.is_ok());
    KeyspaceWrite write(*keyspace_);
    ASSERT_TRUE(write_collection(write, *copy, *absent).is_ok());
    ASSERT_TRUE(write.commit().is_ok());
  }
  EXPECT_EQ(hgetall("copy"), fields(10));
  uint64_t abandoned = 0;
  {
    auto orphan = copy_collection(*keyspace_, *source->collection, "orphan", 0);
    ASSERT_TRUE(orphan.is_ok());
    abandoned = orphan->meta().generation;
  }
  compact_everything();
  EXPECT_EQ(raw_elements_by_generation("orphan").count(abandoned), 0u);
  EXPECT_EQ(hgetall("copy"), fields(10));
}

// An element whose record cannot be decoded is kept: the filter never drops what it cannot read.
TEST_F(KeyspaceCollectionTest, CompactionKeepsElementsOfAnUndecodableRecord) {
  hset("h", fields(10));
  ASSERT_TRUE(keyspace_->database().put(data_key("h"), "not a record").is_ok());
  compact_everything();
  EXPECT_EQ(raw_elements_by_generation("h").begin()->second, 10);
}

TEST_F(KeyspaceCollectionTest, FlushAllKeepsTheGenerationLimit) {
  hset("h", fields(3));
  const uint64_t before = generation_of("h");
  ASSERT_TRUE(keyspace_->remove_all().is_ok());
  EXPECT_EQ(hgetall("h"), std::nullopt);
  auto limit = keyspace_->database().get(ReadOptions(), GenerationAllocator::record_key());
  ASSERT_TRUE(limit.is_ok());
  EXPECT_TRUE(limit->has_value());
  reopen();
  hset("h", fields(3));
  EXPECT_GT(generation_of("h"), before);
}

TEST_F(KeyspaceCollectionTest, TypesAndWrongType) {
  hset("h", fields(2));
  set("s", "v");
  auto description = keyspace_->describe("h");
  ASSERT_TRUE(description.is_ok() && description->has_value());
  EXPECT_EQ((*description)->type, "hash");
  EXPECT_EQ((*description)->encoding, "hashtable");
  auto as_hash = find_collection(*keyspace_, "s", RecordType::kHash, false);
  ASSERT_TRUE(as_hash.is_ok());
  EXPECT_TRUE(as_hash->wrong_type());
  auto as_set = find_collection(*keyspace_, "h", RecordType::kSet, false);
  ASSERT_TRUE(as_set.is_ok());
  EXPECT_TRUE(as_set->wrong_type());
  auto page = keyspace_->scan(0, "*", 100, "hash");
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->keys, std::vector<std::string>{"h"});
}

}  // namespace
}  // namespace cairn
