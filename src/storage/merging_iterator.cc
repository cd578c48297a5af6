#include "storage/merging_iterator.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool valid() const override { return status_.is_ok() && !heap_.empty(); }

  void seek_to_first() override {
    for (auto& child : children_) child->seek_to_first();
    rebuild_heap();
  }

  void seek(std::string_view target) override {
    for (auto& child : children_) child->seek(target);
    rebuild_heap();
  }

  void next() override {
    CAIRN_ASSERT(valid());
    std::pop_heap(heap_.begin(), heap_.end(), after_);
    Iterator* child = children_[heap_.back()].get();
    child->next();
    if (child->valid()) {
      std::push_heap(heap_.begin(), heap_.end(), after_);
    } else {
      status_ = child->status();
      heap_.pop_back();
    }
  }

  std::string_view key() const override {
    CAIRN_ASSERT(valid());
    return children_[heap_.front()]->key();
  }

  std::string_view value() const override {
    CAIRN_ASSERT(valid());
    return children_[heap_.front()]->value();
  }

  Status status() const override { return status_; }

 private:
  // Heap order: the smallest key (ties: the lowest child index) at the front. std heaps keep the
  // largest element first, so the comparison says whether a should come after b.
  struct After {
    const MergingIterator* merge;
    bool operator()(size_t a, size_t b) const {
      const int order =
          compare_internal_keys(merge->children_[a]->key(), merge->children_[b]->key());
      return order != 0 ? order > 0 : a > b;
    }
  };

  void rebuild_heap() {
    heap_.clear();
    status_ = Status::ok();
    for (size_t i = 0; i < children_.size(); i++) {
      if (children_[i]->valid()) {
        heap_.push_back(i);
      } else if (status_.is_ok()) {
        status_ = children_[i]->status();
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), after_);
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  std::vector<size_t> heap_;  // indexes of the valid children
  After after_{this};
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_merging_iterator(std::vector<std::unique_ptr<Iterator>> children) {
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace cairn
