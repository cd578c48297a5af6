// Proves the point index maps each key to the last entry put for it, refuses new keys past its
// load limit without losing the ones it has, and answers readers while a writer adds keys.
#include "storage/point_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/assert.h"

namespace cairn {
namespace {

// Test entries are NUL-terminated strings whose text is the user key; a later address is newer
// (Entries hands them out in order).
std::string_view entry_key(const char* entry) { return std::string_view(entry); }
bool entry_is_newer(const char* a, const char* b) { return std::less<const char*>()(b, a); }

// Owns entries, handed out at ascending addresses in one buffer that never moves.
class Entries {
 public:
  Entries() { buffer_.reserve(kBufferBytes); }
  const char* make(const std::string& key) {
    CAIRN_ASSERT(buffer_.size() + key.size() + 1 <= kBufferBytes);
    const size_t offset = buffer_.size();
    buffer_.insert(buffer_.end(), key.begin(), key.end());
    buffer_.push_back('\0');
    return buffer_.data() + offset;
  }

 private:
  static constexpr size_t kBufferBytes = 4 << 20;
  std::vector<char> buffer_;
};

// Proves find returns the last entry put for a key and nothing for keys never put.
TEST(PointIndexTest, FindsTheLastEntryPutForEachKey) {
  Entries entries;
  PointIndex index(64, &entry_key, &entry_is_newer);
  const char* a1 = entries.make("a");
  const char* b1 = entries.make("b");
  ASSERT_TRUE(index.put("a", a1));
  ASSERT_TRUE(index.put("b", b1));
  EXPECT_EQ(index.find("a"), a1);
  EXPECT_EQ(index.find("b"), b1);
  EXPECT_EQ(index.find("c"), nullptr);
  EXPECT_EQ(index.find(""), nullptr);
  const char* a2 = entries.make("a");
  ASSERT_TRUE(index.put("a", a2));
  EXPECT_EQ(index.find("a"), a2);
  // An older version offered later (a memtable may receive versions out of order) is ignored.
  ASSERT_TRUE(index.put("a", a1));
  EXPECT_EQ(index.find("a"), a2);
  EXPECT_EQ(index.memory_usage_bytes(), 64 * sizeof(uint64_t));
}

// Proves an index of 0 slots holds nothing and refuses every key.
TEST(PointIndexTest, EmptyIndexRefusesEveryKey) {
  Entries entries;
  PointIndex index(0, &entry_key, &entry_is_newer);
  EXPECT_FALSE(index.put("a", entries.make("a")));
  EXPECT_EQ(index.find("a"), nullptr);
  EXPECT_TRUE(index.at_load_limit());
}

// Proves a prefetch target stays usable after its index is destroyed (the database prefetches
// for a memtable a flush may have freed meanwhile), and that an empty index's target is inert.
TEST(PointIndexTest, PrefetchTargetOutlivesItsIndex) {
  PointIndex::PrefetchTarget target;
  {
    PointIndex index(1 << 16, &entry_key, &entry_is_newer);
    target = index.prefetch_target();
    EXPECT_NE(target.slots, nullptr);
    EXPECT_EQ(target.mask, (size_t{1} << 16) - 1);
  }
  for (int i = 0; i < 1000; i++) PointIndex::prefetch(target, "key" + std::to_string(i));
  const PointIndex empty(0, &entry_key, &entry_is_newer);
  EXPECT_EQ(empty.prefetch_target().slots, nullptr);
  PointIndex::prefetch(empty.prefetch_target(), "key");
}

// Proves that past the load limit a new key is refused while the keys already in the index can
// still be found and re-pointed; the slot count rounds up to a power of two.
TEST(PointIndexTest, RefusesNewKeysPastTheLoadLimit) {
  Entries entries;
  PointIndex index(5, &entry_key, &entry_is_newer);  // 8 slots, 6 usable
  std::map<std::string, const char*> model;
  int accepted = 0;
  for (int i = 0; i < 20; i++) {
    const std::string key = "key" + std::to_string(i);
    const char* entry = entries.make(key);
    if (index.put(key, entry)) {
      model[key] = entry;
      accepted++;
    } else {
      EXPECT_EQ(index.find(key), nullptr) << key;
    }
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_TRUE(index.at_load_limit());
  for (const auto& [key, entry] : model) {
    EXPECT_EQ(index.find(key), entry) << key;
    const char* newer = entries.make(key);
    EXPECT_TRUE(index.put(key, newer)) << key;
    EXPECT_EQ(index.find(key), newer) << key;
  }
}

// Proves many random keys (colliding in home slot and in tag) are all found, against a map.
TEST(PointIndexTest, RandomKeysMatchAMap) {
  for (const uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::mt19937_64 random(seed);
    Entries entries;
    PointIndex index(1 << 12, &entry_key, &entry_is_newer);
    std::map<std::string, const char*> model;
    for (int i = 0; i < 20000 && !index.at_load_limit(); i++) {
      const std::string key = "k" + std::to_string(random() % 5000);
      const char* entry = entries.make(key);
      ASSERT_TRUE(index.put(key, entry));
      model[key] = entry;
    }
    for (int i = 0; i < 6000; i++) {
      const std::string key = "k" + std::to_string(i);
      const auto expected = model.find(key);
      EXPECT_EQ(index.find(key), expected == model.end() ? nullptr : expected->second) << key;
    }
  }
}

// Proves a reader running beside the writer only ever sees, for a key, nothing or an entry for
// that key, and sees every key the writer had put before the reader started looking for it.
TEST(PointIndexTest, ReaderSeesConsistentEntriesBesideTheWriter) {
  constexpr int kKeyCount = 20000;
  Entries entries;
  std::vector<std::string> keys;
  std::vector<const char*> first_entries;
  for (int i = 0; i < kKeyCount; i++) {
    keys.push_back("key" + std::to_string(i));
    first_entries.push_back(entries.make(keys.back()));
  }
  std::vector<const char*> second_entries;
  for (int i = 0; i < kKeyCount; i++) second_entries.push_back(entries.make(keys[i]));

  PointIndex index(kKeyCount * 2, &entry_key, &entry_is_newer);
  std::atomic<int> published{0};
  std::thread writer([&] {
    for (int i = 0; i < kKeyCount; i++) {
      ASSERT_TRUE(index.put(keys[i], first_entries[i]));
      published.store(i + 1, std::memory_order_release);
    }
    for (int i = 0; i < kKeyCount; i++) ASSERT_TRUE(index.put(keys[i], second_entries[i]));
  });
  std::mt19937_64 random(7);
  int checked = 0;
  while (checked < 200000) {
    const int known = published.load(std::memory_order_acquire);
    const int i = static_cast<int>(random() % kKeyCount);
    const char* found = index.find(keys[i]);
    if (i < known) {
      ASSERT_NE(found, nullptr) << keys[i];
    }
    if (found != nullptr) {
      ASSERT_EQ(std::string_view(found), keys[i]);
    }
    checked++;
  }
  writer.join();
  for (int i = 0; i < kKeyCount; i++) EXPECT_EQ(index.find(keys[i]), second_entries[i]);
}

}  // namespace
}  // namespace cairn
