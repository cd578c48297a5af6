// Proves the BlockingRegistry: a write to a key wakes exactly the clients waiting on it, in the
// order they blocked; a client registered again keeps its place; unblock removes a client from
// every key and the count follows; the flag CLIENT LIST shows is set and cleared.
#include "server/blocking_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string_view>
#include <vector>

#include "server/client.h"

namespace cairn {
namespace {

// Records the order in which the clients it belongs to were woken.
class RecordingControl final : public ConnectionControl {
 public:
  RecordingControl(uint64_t id, std::vector<uint64_t>* woken) : id_(id), woken_(woken) {}
  void close() override {}
  void wake_blocked() override { woken_->push_back(id_); }
  void end_block(BlockEnd) override {}
  uint64_t query_buffer_bytes() const override { return 0; }
  uint64_t output_buffer_bytes() const override { return 0; }

 private:
  uint64_t id_;
  std::vector<uint64_t>* woken_;
};

class BlockingRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> make_client(uint64_t id) {
    ConnectionInfo info;
    info.id = id;
    return std::make_unique<Client>(info, std::make_shared<RecordingControl>(id, &woken_), 0);
  }
  std::vector<uint64_t> woken_;
  BlockingRegistry registry_;
};

TEST_F(BlockingRegistryTest, WakesTheWaitersOfAKeyInTheOrderTheyBlocked) {
  auto a = make_client(1), b = make_client(2), c = make_client(3);
  const std::string_view xy[] = {"x", "y"};
  const std::string_view x[] = {"x"};
  const std::string_view y[] = {"y"};
  registry_.block(*b, x);
  registry_.block(*a, xy);
  registry_.block(*c, y);
  EXPECT_EQ(registry_.blocked_count(), 3u);
  EXPECT_TRUE(a->blocked());
  registry_.key_modified("x");
  EXPECT_EQ(woken_, (std::vector<uint64_t>{2, 1}));
  woken_.clear();
  registry_.key_modified("y");
  EXPECT_EQ(woken_, (std::vector<uint64_t>{1, 3}));
  woken_.clear();
  registry_.key_modified("z");
  EXPECT_TRUE(woken_.empty());
}

TEST_F(BlockingRegistryTest, BlockingAgainKeepsTheClientsPlace) {
  auto a = make_client(1), b = make_client(2);
  const std::string_view x[] = {"x", "x"};  // a repeated key counts once
  registry_.block(*a, x);
  registry_.block(*b, x);
  registry_.block(*a, x);  // a retry that waits on
  registry_.key_modified("x");
  EXPECT_EQ(woken_, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(registry_.blocked_count(), 2u);
}

TEST_F(BlockingRegistryTest, UnblockRemovesTheClientFromEveryKey) {
  auto a = make_client(1), b = make_client(2);
  const std::string_view xy[] = {"x", "y"};
  registry_.block(*a, xy);
  registry_.block(*b, xy);
  registry_.unblock(*a);
  registry_.unblock(*a);  // twice: nothing more
  EXPECT_FALSE(a->blocked());
  EXPECT_EQ(registry_.blocked_count(), 1u);
  registry_.key_modified("x");
  registry_.key_modified("y");
  EXPECT_EQ(woken_, (std::vector<uint64_t>{2, 2}));
  registry_.unblock(*b);
  EXPECT_EQ(registry_.blocked_count(), 0u);
  woken_.clear();
  registry_.key_modified("x");
  EXPECT_TRUE(woken_.empty());
}

}  // namespace
}  // namespace cairn
