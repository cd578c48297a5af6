#include "storage/iterator.h"

#include "common/assert.h"

namespace cairn {
namespace {

class EmptyIterator final : public Iterator {
 public:
  explicit EmptyIterator(Status status) : status_(std::move(status)) {}
  bool valid() const override { return false; }
  void seek_to_first() override {}
  void seek_to_last() override {}
  void seek(std::string_view) override {}
  void seek_for_prev(std::string_view) override {}
  void next() override { CAIRN_ASSERT(false); }
  void prev() override { CAIRN_ASSERT(false); }
  std::string_view key() const override {
    CAIRN_ASSERT(false);
    return {};
  }
  std::string_view value() const override {
    CAIRN_ASSERT(false);
    return {};
  }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_empty_iterator(Status status) {
  return std::make_unique<EmptyIterator>(std::move(status));
}

}  // namespace cairn
