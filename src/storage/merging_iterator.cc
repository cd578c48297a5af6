#include "storage/merging_iterator.h"

#include <algorithm>

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

// Merge order: internal-key order, equal keys in child order. Going backward yields exactly the
// reverse: the largest key first, equal keys in reverse child order. Forward, every child not at
// the front sits at its first entry after the front's in merge order; backward, at its last entry
// before it. A change of direction repositions the other children so (LevelDB's MergingIterator),
// and the heap is rebuilt in the new order; moves in one direction cost what they did before.
class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)) {}

  bool valid() const override { return status_.is_ok() && !heap_.empty(); }

  void seek_to_first() override {
    for (auto& child : children_) child->seek_to_first();
    rebuild_heap<After>();
  }

  void seek_to_last() override {
    for (auto& child : children_) child->seek_to_last();
    rebuild_heap<Before>();
  }

  void seek(std::string_view target) override {
    for (auto& child : children_) child->seek(target);
    rebuild_heap<After>();
  }

  void seek_for_prev(std::string_view target) override {
    for (auto& child : children_) child->seek_for_prev(target);
    rebuild_heap<Before>();
  }

  // The child at the front moves on; only it can have left its place, so it sinks from the
  // root (one sift, not a pop and a push).
  void next() override {
    CAIRN_ASSERT(valid());
    if (!forward_) turn_forward();
    step_front<After>([](Iterator& child) { child.next(); });
  }

  void prev() override {
    CAIRN_ASSERT(valid());
    if (forward_) turn_backward();
    step_front<Before>([](Iterator& child) { child.prev(); });
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
  // key stays valid until the child moves, and every move of a child refreshes its key.
  struct HeapEntry {
    std::string_view key;
    size_t child;
  };

  // Forward heap order: the smallest key (ties: the lowest child index) at the front. std heaps
  // keep the largest element first, so the comparison says whether a should come after b.
  struct After {
    static constexpr bool kForward = true;
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      const int order = compare_internal_keys(a.key, b.key);
      return order != 0 ? order > 0 : a.child > b.child;
    }
  };
  // Backward heap order, the mirror: the largest key (ties: the highest child index) at the front.
  struct Before {
    static constexpr bool kForward = false;
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      const int order = compare_internal_keys(a.key, b.key);
      return order != 0 ? order < 0 : a.child < b.child;
    }
  };

  // Moves the front child one step with `move` and restores heap order `Order`.
  template <typename Order, typename Move>
  void step_front(Move move) {
    Iterator* child = children_[heap_.front().child].get();
    move(*child);
    if (child->valid()) {
      heap_.front().key = child->key();
      sift_down_from_root<Order>();
    } else {
      status_ = child->status();
      std::pop_heap(heap_.begin(), heap_.end(), Order());
      heap_.pop_back();
    }
  }

  // From backward to forward at the front's entry (K, c): a child i < c moves to its first key
  // > K, a child i > c to its first key >= K — its first entry after (K, c) in merge order.
  void turn_forward() {
    const HeapEntry front = heap_.front();
    for (size_t i = 0; i < children_.size(); i++) {
      if (i == front.child) continue;
      Iterator& child = *children_[i];
      child.seek(front.key);
      if (i < front.child && child.valid() && compare_internal_keys(child.key(), front.key) == 0) {
        child.next();
      }
    }
    rebuild_heap<After>();
  }

  // From forward to backward at (K, c): a child i < c moves to its last key <= K, a child i > c
  // to its last key < K — its last entry before (K, c) in merge order.
  void turn_backward() {
    const HeapEntry front = heap_.front();
    for (size_t i = 0; i < children_.size(); i++) {
      if (i == front.child) continue;
      Iterator& child = *children_[i];
      child.seek_for_prev(front.key);
      if (i > front.child && child.valid() && compare_internal_keys(child.key(), front.key) == 0) {
        child.prev();
      }
    }
    rebuild_heap<Before>();
  }

  template <typename Order>
  void sift_down_from_root() {
    const Order after;
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

  template <typename Order>
  void rebuild_heap() {
    forward_ = Order::kForward;
    heap_.clear();
    status_ = Status::ok();
    for (size_t i = 0; i < children_.size(); i++) {
      if (children_[i]->valid()) {
        heap_.push_back(HeapEntry{children_[i]->key(), i});
      } else if (status_.is_ok()) {
        status_ = children_[i]->status();
      }
    }
    std::make_heap(heap_.begin(), heap_.end(), Order());
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  std::vector<HeapEntry> heap_;  // the valid children, in the order of the current direction
  bool forward_ = true;          // which order heap_ is in, and which way the children look
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_merging_iterator(std::vector<std::unique_ptr<Iterator>> children) {
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace cairn
