// A fixture for tests of a Keyspace on a real engine in a fresh directory: a manual wall clock,
// an observer that records notifications, and helpers to write and read strings.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/clock.h"
#include "model/engine_key.h"
#include "server/keyspace.h"
#include "support/test_directory.h"

namespace cairn::test {

constexpr uint64_t kStartMicros = 1700000000000000;  // a unix time

class RecordingObserver : public KeyspaceObserver {
 public:
  void key_modified(std::string_view key) override {
    std::lock_guard lock(mutex);
    keys.emplace_back(key);
  }
  void all_keys_modified() override { all++; }
  std::mutex mutex;
  std::vector<std::string> keys;
  int all = 0;
};

class KeyspaceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.dir = test::fresh_test_directory("keyspace_");
    config_.blob_threshold_bytes = 4096;
    reopen();
  }
  void TearDown() override {
    keyspace_.reset();
    std::filesystem::remove_all(config_.dir);
  }
  void reopen() {
    keyspace_.reset();
    KeyspaceOptions options;
    options.wall_clock = &clock_;
    auto opened = Keyspace::open(config_, options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    keyspace_ = std::move(opened).value();
    keyspace_->add_observer(&observer_);
  }
  void set(std::string_view key, std::string_view value, uint64_t expiry_ms = 0) {
    KeyLockGuard guard = keyspace_->lock_key(key);
    auto old = keyspace_->find(key, true);
    ASSERT_TRUE(old.is_ok());
    KeyspaceWrite write(*keyspace_);
    ASSERT_TRUE(write.put_string(key, value, expiry_ms, *old).is_ok());
    ASSERT_TRUE(write.commit().is_ok());
  }
  std::optional<std::string> get(std::string_view key) {
    auto entry = keyspace_->find(key, false);
    EXPECT_TRUE(entry.is_ok());
    if (!entry.is_ok() || !entry->has_value()) return std::nullopt;
    auto payload = keyspace_->read_payload(**entry);
    EXPECT_TRUE(payload.is_ok());
    return *payload;
  }
  uint64_t index_entries() {
    auto it = keyspace_->database().new_iterator(ReadOptions());
    uint64_t n = 0;
    for (it->seek(expiry_index_prefix()); it->valid(); it->next()) {
      uint64_t expiry_ms = 0;
      std::string_view user_key;
      if (!parse_expiry_index_key(it->key(), &expiry_ms, &user_key)) break;  // the index ends
      n++;
    }
    return n;
  }

  ServerConfig config_;
  ManualClock clock_{kStartMicros};
  RecordingObserver observer_;
  std::unique_ptr<Keyspace> keyspace_;
};

}  // namespace cairn::test
