// SkipList<Key, Comparator>: the ordered set under the memtable. Nodes live in an Arena and are
// never removed, so a node once reachable stays valid as long as the arena.
//
// Comparator: `int operator()(const Key& a, const Key& b) const`, <0, 0, >0 as a sorts before,
// equal to, or after b. Key: copyable, default-constructible (the head node's key, never compared)
// and trivially destructible (the arena never runs destructors), e.g. a pointer into the arena.
//
// Thread-safety: insert() by ONE writer at a time (external synchronization); any number of
// readers (contains, iterators) concurrently with it and with each other, without locks. A node
// is fully built before a release store links it in, and readers follow links with acquire
// loads, so a reader that reaches a node sees its key and its lower links.
// Invariants: level 0 holds every key in strictly ascending order; every level i > 0 is a
// subsequence of level i - 1; max_height_ only grows, up to kSkipListHeightMax.
// Determinism: node heights come from a generator seeded in the constructor, no global RNG.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "common/assert.h"
#include "storage/arena.h"

namespace cairn {

constexpr int kSkipListHeightMax = 12;
// A node reaches level i + 1 with probability 1 / kSkipListBranching given it reaches level i.
constexpr uint64_t kSkipListBranching = 4;
static_assert(kSkipListHeightMax >= 1 && kSkipListBranching >= 2);

template <typename Key, typename Comparator>
class SkipList {
  static_assert(std::is_trivially_destructible_v<Key>, "the arena never runs destructors");

  struct Node;

 public:
  // Allocates the head node from `arena`, which must outlive the list.
  SkipList(Comparator comparator, Arena* arena, uint64_t seed);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: no key equal to `key` is in the list; one writer at a time.
  void insert(const Key& key);
  // Allocates `payload_bytes` in the node itself, right after its links, and inserts the key that
  // `fill(char* payload)` writes there and returns (e.g. a pointer to it). A key that points into
  // its own node shares the node's cache lines, so each comparison of a search costs one cache
  // miss instead of two. REQUIRES: as insert() for the returned key.
  template <typename Fill>
  void insert_with_payload(size_t payload_bytes, Fill&& fill);
  bool contains(const Key& key) const;

  // A forward cursor. Sees every key inserted before it was positioned and possibly later ones.
  // REQUIRES: the list outlives it. One thread at a time per iterator.
  class Iterator {
   public:
    // Not valid until positioned.
    explicit Iterator(const SkipList* list) : list_(list) {}
    bool valid() const { return node_ != nullptr; }
    // REQUIRES: valid().
    const Key& key() const {
      CAIRN_ASSERT(valid());
      return node_->key;
    }
    // REQUIRES: valid().
    void next() {
      CAIRN_ASSERT(valid());
      node_ = node_->next(0);
    }
    // Positions at the first key >= target.
    void seek(const Key& target) { node_ = list_->find_greater_or_equal(target, nullptr); }
    void seek_to_first() { node_ = list_->head_->next(0); }

   private:
    const SkipList* const list_;
    Node* node_ = nullptr;
  };

 private:
  // A node's `height` links follow it in the same arena allocation; sizeof(Node) is a multiple of
  // its alignment, which is at least the links', so they are aligned.
  struct alignas(std::atomic<void*>) Node {
    explicit Node(const Key& node_key) : key(node_key) {}
    std::atomic<Node*>* links() {
      return std::launder(reinterpret_cast<std::atomic<Node*>*>(this + 1));
    }
    Node* next(int level) { return links()[level].load(std::memory_order_acquire); }
    // Publishes: whatever this thread wrote before is visible to a reader that loads the link.
    void set_next(int level, Node* node) { links()[level].store(node, std::memory_order_release); }
    // For links not yet published, or read by the writer itself.
    Node* next_relaxed(int level) { return links()[level].load(std::memory_order_relaxed); }
    void set_next_relaxed(int level, Node* node) {
      links()[level].store(node, std::memory_order_relaxed);
    }

    const Key key;
  };

  Node* new_node(const Key& key, int height);
  // Builds a node and its `height` null links in `memory` (aligned, large enough).
  static Node* construct_node(char* memory, const Key& key, int height);
  // Links `node` of `height` in after prev[0..height), raising max_height_ if needed.
  void link(Node* node, int height, Node** prev);
  int random_height();
  int max_height() const { return max_height_.load(std::memory_order_relaxed); }
  // The first node whose key is >= key, or null; fills prev[level] with the node before it at
  // each level below max_height() when prev is not null.
  Node* find_greater_or_equal(const Key& key, Node** prev) const;

  const Comparator comparator_;
  Arena* const arena_;
  Node* const head_;
  // Read relaxed: a reader that sees a new height early finds null head links there and drops
  // down a level; one that sees it late starts lower. Both are correct.
  std::atomic<int> max_height_{1};
  uint64_t random_state_;  // the writer's only
};

template <typename Key, typename Comparator>
SkipList<Key, Comparator>::SkipList(Comparator comparator, Arena* arena, uint64_t seed)
    : comparator_(comparator),
      arena_(arena),
      head_(new_node(Key(), kSkipListHeightMax)),
      random_state_(seed) {}

template <typename Key, typename Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::new_node(const Key& key,
                                                                              int height) {
  static_assert(alignof(Node) <= kArenaAlignmentBytes);
  static_assert(sizeof(Node) % alignof(std::atomic<Node*>) == 0);
  CAIRN_ASSERT(height >= 1 && height <= kSkipListHeightMax);
  return construct_node(
      arena_->allocate_aligned(sizeof(Node) + sizeof(std::atomic<Node*>) * height), key, height);
}

template <typename Key, typename Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::construct_node(char* memory,
                                                                                    const Key& key,
                                                                                    int height) {
  Node* node = new (memory) Node(key);
  auto* links = reinterpret_cast<std::atomic<Node*>*>(memory + sizeof(Node));
  for (int level = 0; level < height; level++) new (links + level) std::atomic<Node*>(nullptr);
  return node;
}

// Geometric with ratio 1/kSkipListBranching, capped at kSkipListHeightMax. The generator is
// splitmix64: any seed (0 included) gives a full-period, well-mixed sequence.
template <typename Key, typename Comparator>
int SkipList<Key, Comparator>::random_height() {
  random_state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t bits = random_state_;
  bits = (bits ^ (bits >> 30)) * 0xbf58476d1ce4e5b9ULL;
  bits = (bits ^ (bits >> 27)) * 0x94d049bb133111ebULL;
  bits ^= bits >> 31;
  // log2(4) = 2 bits a level; 64 bits cover the 11 possible promotions.
  int height = 1;
  while (height < kSkipListHeightMax && bits % kSkipListBranching == 0) {
    height++;
    bits /= kSkipListBranching;
  }
  return height;
}

template <typename Key, typename Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::find_greater_or_equal(
    const Key& key, Node** prev) const {
  Node* node = head_;
  // The node that stopped the search one level up, known to be >= key: when the walk meets it
  // again one level down, which is common, it stops there without comparing again.
  const Node* not_before_key = nullptr;
  int level = max_height() - 1;
  while (true) {
    Node* next = node->next(level);
    if (next != nullptr && next != not_before_key && comparator_(next->key, key) < 0) {
      node = next;  // still before key: move right
      continue;
    }
    if (prev != nullptr) prev[level] = node;
    if (level == 0) return next;
    not_before_key = next;
    level--;
  }
}

template <typename Key, typename Comparator>
void SkipList<Key, Comparator>::insert(const Key& key) {
  Node* prev[kSkipListHeightMax];
  Node* successor = find_greater_or_equal(key, prev);
  CAIRN_ASSERT(successor == nullptr || comparator_(successor->key, key) != 0);
  const int height = random_height();
  link(new_node(key, height), height, prev);
}

template <typename Key, typename Comparator>
template <typename Fill>
void SkipList<Key, Comparator>::insert_with_payload(size_t payload_bytes, Fill&& fill) {
  const int height = random_height();
  const size_t node_bytes = sizeof(Node) + sizeof(std::atomic<Node*>) * height;
  char* const memory = arena_->allocate_aligned(node_bytes + payload_bytes);
  const Key key = fill(memory + node_bytes);
  Node* const node = construct_node(memory, key, height);

  Node* prev[kSkipListHeightMax];
  Node* successor = find_greater_or_equal(key, prev);
  CAIRN_ASSERT(successor == nullptr || comparator_(successor->key, key) != 0);
  link(node, height, prev);
}

template <typename Key, typename Comparator>
void SkipList<Key, Comparator>::link(Node* node, int height, Node** prev) {
  const int old_max_height = max_height();
  if (height > old_max_height) {
    for (int level = old_max_height; level < height; level++) prev[level] = head_;
    max_height_.store(height, std::memory_order_relaxed);
  }
  for (int level = 0; level < height; level++) {
    // The new node is unpublished, so its own links need no ordering; the store that links it
    // in is the release that publishes it (bottom level first, so it is reachable in order).
    node->set_next_relaxed(level, prev[level]->next_relaxed(level));
    prev[level]->set_next(level, node);
  }
}

template <typename Key, typename Comparator>
bool SkipList<Key, Comparator>::contains(const Key& key) const {
  Node* node = find_greater_or_equal(key, nullptr);
  return node != nullptr && comparator_(node->key, key) == 0;
}

}  // namespace cairn
