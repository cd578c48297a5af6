// MerkleTree: a binary hash tree over a fixed power-of-two number of leaves, each a 64-bit digest
// of one part of a replica's data (for anti-entropy, one slot's keys and states:
// replica_digests.cc). Two replicas find where they differ by comparing hashes from the root
// down, descending only into subtrees whose hashes differ: equal trees cost one comparison, and
// d differing leaves about 2·d·depth.
//
// Levels count from the root (level 0, one node) to the leaves (level depth, 2^depth nodes). A
// node's hash is hash64 of its two children's hashes; a leaf's is its digest. Setting a leaf
// updates the hashes on its path to the root, so a tree kept beside its data stays current at
// O(depth) per change.
//
// Thread-safety: a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cairn {

// 2^20 leaves (16 MiB of hashes) at most: a tree over the 16384 slots has depth 14.
constexpr uint32_t kMerkleDepthMax = 20;

class MerkleTree {
 public:
  // A tree of 2^depth leaves, all of digest 0. REQUIRES: depth <= kMerkleDepthMax.
  explicit MerkleTree(uint32_t depth);
  // A tree over `leaves`, built at O(leaves). REQUIRES: leaves.size() is 2^depth for a depth
  // <= kMerkleDepthMax.
  static MerkleTree of_leaves(const std::vector<uint64_t>& leaves);

  uint32_t depth() const { return depth_; }
  size_t leaf_count() const { return size_t{1} << depth_; }

  // REQUIRES: index < leaf_count().
  void set_leaf(size_t index, uint64_t digest);
  uint64_t leaf(size_t index) const { return hash(depth_, index); }
  // REQUIRES: level <= depth(), index < 2^level.
  uint64_t hash(uint32_t level, size_t index) const;
  uint64_t root() const { return hash(0, 0); }

  // The leaves whose digests differ between `a` and `b`, ascending, found top-down.
  // REQUIRES: a.depth() == b.depth().
  static std::vector<size_t> differing_leaves(const MerkleTree& a, const MerkleTree& b);

  bool operator==(const MerkleTree& other) const = default;

 private:
  static uint64_t parent_hash(uint64_t left, uint64_t right);

  uint32_t depth_;
  // Heap order: node 1 is the root, node i has children 2i and 2i + 1, the leaves are
  // [leaf_count, 2 * leaf_count). Slot 0 is unused.
  std::vector<uint64_t> nodes_;
};

}  // namespace cairn
