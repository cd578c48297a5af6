// The cairnd config loader: TOML keys land in ServerConfig, mistakes are reported with file,
// line and key, and validate_config rejects values out of range.
#include "server/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cairn {
namespace {

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("cairn_config_test_" + std::to_string(::getpid()) + ".toml"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }

  Status load(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    return load_config_file(path_, config_);
  }

  std::string path_;
  ServerConfig config_;
};

// Every key the file may hold is read into its field; the file's path is recorded.
TEST_F(ConfigLoaderTest, ReadsEveryKey) {
  ASSERT_TRUE(load("bind = \"0.0.0.0\"\n"
                   "port = 7400\n"
                   "dir = \"/tmp/x\"\n"
                   "fsync = \"always\"\n"
                   "threads = 4\n"
                   "log_level = \"debug\"\n"
                   "proto_max_bulk_len = 1073741824\n"
                   "client_query_buffer_limit = 2097152\n"
                   "client_output_buffer_limit = 0\n"
                   "maxclients = 50\n"
                   "block_cache_bytes = 1048576\n"
                   "row_cache_bytes = 2097152\n"
                   "write_buffer_bytes = 4194304\n"
                   "blob_threshold_bytes = 4096\n"
                   "expiry_cycle_interval_ms = 200\n"
                   "expiry_cycle_budget_ms = 10\n"
                   "repair_bytes_per_second = 1000\n"
                   "repair_interval_ms = 0\n"
                   "hint_window_ms = 60000\n"
                   "ring_settle_ms = 1000\n")
                  .is_ok());
  EXPECT_EQ(config_.repair_bytes_per_second, 1000u);
  EXPECT_EQ(config_.repair_interval_ms, 0u);
  EXPECT_EQ(config_.hint_window_ms, 60000u);
  EXPECT_EQ(config_.ring_settle_ms, 1000u);
  EXPECT_EQ(config_.bind, "0.0.0.0");
  EXPECT_EQ(config_.port, 7400);
  EXPECT_EQ(config_.dir, "/tmp/x");
  EXPECT_EQ(config_.fsync, ServerFsync::kAlways);
  EXPECT_EQ(config_.threads, 4);
  EXPECT_EQ(config_.log_level, "debug");
  EXPECT_EQ(config_.proto_max_bulk_len, uint64_t{1} << 30);
  EXPECT_EQ(config_.client_query_buffer_limit, 2097152u);
  EXPECT_EQ(config_.client_output_buffer_limit, 0u);
  EXPECT_EQ(config_.maxclients, 50u);
  EXPECT_EQ(config_.block_cache_bytes, 1048576u);
  EXPECT_EQ(config_.row_cache_bytes, 2097152u);
  EXPECT_EQ(config_.write_buffer_bytes, 4194304u);
  EXPECT_EQ(config_.blob_threshold_bytes, 4096u);
  EXPECT_EQ(config_.expiry_cycle_interval_ms, 200u);
  EXPECT_EQ(config_.expiry_cycle_budget_ms, 10u);
  EXPECT_EQ(config_.config_file, path_);
  EXPECT_TRUE(validate_config(config_).is_ok());
}

// Keys the file does not name keep the value they had (the defaults, or earlier settings).
TEST_F(ConfigLoaderTest, AbsentKeysKeepTheirValue) {
  config_.threads = 3;
  ASSERT_TRUE(load("# only the port\nport = 9000\n").is_ok());
  EXPECT_EQ(config_.port, 9000);
  EXPECT_EQ(config_.threads, 3);
  EXPECT_EQ(config_.dir, ServerConfig().dir);
}

// An unknown key is an error naming the file, the line and the key.
TEST_F(ConfigLoaderTest, UnknownKeyNamesFileLineAndKey) {
  const Status status = load("port = 9000\n\nprot = 1\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_EQ(std::string(status.message()), path_ + ":3: unknown key 'prot'");
}

// A value of the wrong type names the key, the expected and the found type.
TEST_F(ConfigLoaderTest, WrongTypeNamesKeyAndTypes) {
  Status status = load("port = \"7379\"\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_EQ(std::string(status.message()),
            path_ + ":1: key 'port' must be an integer, not a string");
  status = load("threads = 2\ndir = 5\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_EQ(std::string(status.message()),
            path_ + ":2: key 'dir' must be a string, not an integer");
  status = load("[server]\nport = 1\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_NE(status.message().find("unknown key 'server'"), std::string_view::npos);
}

// Values out of range for their field's type are caught while reading.
TEST_F(ConfigLoaderTest, OutOfRangeWhileReading) {
  Status status = load("port = 70000\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_NE(status.message().find(":1: key 'port' = 70000 is out of range 0..65535"),
            std::string_view::npos);
  status = load("maxclients = -1\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_NE(status.message().find("'maxclients'"), std::string_view::npos);
  status = load("fsync = \"sometimes\"\n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_NE(status.message().find(":1: key 'fsync': fsync must be always, everysec or no"),
            std::string_view::npos);
  status = load("threads = 65\n");
  ASSERT_TRUE(status.is_invalid_argument());
}

// A TOML syntax error reports the file and line; a missing file is an I/O error.
TEST_F(ConfigLoaderTest, SyntaxErrorAndMissingFile) {
  const Status status = load("port = 1\nbind = \n");
  ASSERT_TRUE(status.is_invalid_argument());
  EXPECT_EQ(status.message().substr(0, path_.size() + 3), path_ + ":2:");
  ServerConfig config;
  EXPECT_TRUE(load_config_file(path_ + ".missing", config).is_io_error());
}

TEST(ConfigValidateTest, DefaultsAreValid) { EXPECT_TRUE(validate_config(ServerConfig()).is_ok()); }

// Each range check rejects the first value past its bound and accepts the bound.
TEST(ConfigValidateTest, RangesAreChecked) {
  auto invalid = [](auto change) {
    ServerConfig config;
    change(config);
    return validate_config(config).is_invalid_argument();
  };
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.threads = 0; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.threads = 65; }));
  EXPECT_FALSE(invalid([](ServerConfig& c) { c.threads = 64; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.proto_max_bulk_len = (uint64_t{1} << 30) + 1; }));
  EXPECT_FALSE(invalid([](ServerConfig& c) { c.proto_max_bulk_len = uint64_t{1} << 30; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.proto_max_bulk_len = 0; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.client_query_buffer_limit = 1000; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.maxclients = 0; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.write_buffer_bytes = 1000; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.blob_threshold_bytes = 10; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.expiry_cycle_interval_ms = 0; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) {
    c.expiry_cycle_interval_ms = 10;
    c.expiry_cycle_budget_ms = 11;
  }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.log_level = "verbose"; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.bind = ""; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.dir = ""; }));
  // The hint window must end before the tombstone grace period (4 hours).
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.hint_window_ms = 4 * 60 * 60 * 1000; }));
  EXPECT_FALSE(invalid([](ServerConfig& c) { c.hint_window_ms = 4 * 60 * 60 * 1000 - 1; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.ring_settle_ms = kRingSettleMsMin - 1; }));
  EXPECT_FALSE(invalid([](ServerConfig& c) { c.ring_settle_ms = kRingSettleMsMin; }));
  EXPECT_TRUE(invalid([](ServerConfig& c) { c.ring_settle_ms = kRingSettleMsMax + 1; }));
}

TEST(ConfigFsyncTest, NamesRoundTrip) {
  for (ServerFsync fsync : {ServerFsync::kAlways, ServerFsync::kEverySec, ServerFsync::kNo}) {
    auto parsed = parse_fsync(fsync_name(fsync));
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_EQ(*parsed, fsync);
  }
  EXPECT_FALSE(parse_fsync("Always").is_ok());
}

}  // namespace
}  // namespace cairn
