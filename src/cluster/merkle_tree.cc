#include "cluster/merkle_tree.h"

#include <algorithm>
#include <string_view>

#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

MerkleTree::MerkleTree(uint32_t depth) : depth_(depth) {
  CAIRN_ASSERT(depth <= kMerkleDepthMax);
  nodes_.assign(2 * leaf_count(), 0);
  for (size_t node = leaf_count() - 1; node >= 1; node--) {
    nodes_[node] = parent_hash(nodes_[2 * node], nodes_[2 * node + 1]);
  }
}

MerkleTree MerkleTree::of_leaves(const std::vector<uint64_t>& leaves) {
  uint32_t depth = 0;
  while ((size_t{1} << depth) < leaves.size()) depth++;
  CAIRN_ASSERT((size_t{1} << depth) == leaves.size());
  MerkleTree tree(depth);
  std::copy(leaves.begin(), leaves.end(),
            tree.nodes_.begin() + static_cast<ptrdiff_t>(leaves.size()));
  for (size_t node = tree.leaf_count() - 1; node >= 1; node--) {
    tree.nodes_[node] = parent_hash(tree.nodes_[2 * node], tree.nodes_[2 * node + 1]);
  }
  return tree;
}

void MerkleTree::set_leaf(size_t index, uint64_t digest) {
  CAIRN_ASSERT(index < leaf_count());
  size_t node = leaf_count() + index;
  nodes_[node] = digest;
  for (node /= 2; node >= 1; node /= 2) {
    nodes_[node] = parent_hash(nodes_[2 * node], nodes_[2 * node + 1]);
  }
}

uint64_t MerkleTree::hash(uint32_t level, size_t index) const {
  CAIRN_ASSERT(level <= depth_ && index < (size_t{1} << level));
  return nodes_[(size_t{1} << level) + index];
}

std::vector<size_t> MerkleTree::differing_leaves(const MerkleTree& a, const MerkleTree& b) {
  CAIRN_ASSERT(a.depth_ == b.depth_);
  std::vector<size_t> differing;
  // Depth-first, left child first, so the leaves come out ascending. The stack holds at most
  // one pending right sibling per level.
  std::vector<size_t> pending = {1};
  while (!pending.empty()) {
    const size_t node = pending.back();
    pending.pop_back();
    if (a.nodes_[node] == b.nodes_[node]) continue;
    if (node >= a.leaf_count()) {
      differing.push_back(node - a.leaf_count());
      continue;
    }
    pending.push_back(2 * node + 1);
    pending.push_back(2 * node);
  }
  return differing;
}

uint64_t MerkleTree::parent_hash(uint64_t left, uint64_t right) {
  // Little-endian, as every node must compute the same hash.
  char bytes[2 * sizeof(uint64_t)];
  encode_fixed64(bytes, left);
  encode_fixed64(bytes + sizeof(uint64_t), right);
  return hash64(std::string_view(bytes, sizeof(bytes)));
}

}  // namespace cairn
