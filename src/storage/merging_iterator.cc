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

  // The child at the front moves on; only it can have left its place, so it sinks from the
  // root (one sift, not a pop and a push).
  void next() override {
    CAIRN_ASSERT(valid());
    Iterator* child = children_[heap_.front().child].get();
    child->next();
    if (child->valid()) {
      heap_.front().key = child->key();
      sift_down_from_root();
    } else {
      status_ = child->status();
      std::pop_heap(heap_.begin(), heap_.end(), After());
      heap_.pop_back();
    }
  }

  std::string_view key() const override {
    CAIRN_ASSERT(valid());
    return heap_.front().key;
  }

  std::string_view value() const override {
    CAIRN_ASSERT(valid());
    return children_[heap_.front().child]->value();
  }

  Status status() const override { return status_; }

 private:
  // A valid child and its current key, kept here so that comparisons make no virtual calls. The
  // key stays valid until the child moves, and only next() moves it, refreshing the key.
  struct HeapEntry {
    std::string_view key;
    size_t child;
  };

  // Heap order: the smallest key (ties: the lowest child index) at the front. std heaps keep the
  // largest element first, so the comparison says whether a should come after b.
  struct After {
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      const int order = compare_internal_keys(a.key, b.key);
      return order != 0 ? order > 0 : a.child > b.child;
    }
  };

  void sift_down_from_root() {
    const After after;
    size_t parent = 0;
    while (true) {
      const size_t left = 2 * parent + 1;
      if (left >= heap_.size()) return;
      size_t first = left;  // the child that should come first
      if (left + 1 < heap_.size() && after(heap_[left], heap_[left + 1])) first = left + 1;
      if (!after(heap_[parent], heap_[first])) return;
      std::swap(heap_[parent], heap_[first]);
      parent = first;
    }
  }

  void rebuild_heap() {
    heap_.clear();
    status_ = Status::ok();
    for (size_t i = 0; i < children_.size(); i++) {
      if (children_[i]->valid()) {
        heap_.push_back(HeapEntry{children_[i]->key(), i});
      } else if (status_.is_ok()) {
        status_ = children_[i]->status();
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), After());
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  std::vector<HeapEntry> heap_;  // the valid children
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_merging_iterator(std::vector<std::unique_ptr<Iterator>> children) {
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace cairn
