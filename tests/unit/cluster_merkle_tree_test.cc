// Proves MerkleTree: a tree kept current leaf by leaf equals one built from its leaves, any leaf
// change reaches the root, and the top-down comparison finds exactly the differing leaves.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "cluster/merkle_tree.h"
#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

// Proves an empty tree's hashes depend on its depth only, and a changed leaf changes the root.
TEST(MerkleTreeTest, EveryLeafReachesTheRoot) {
  const MerkleTree empty(4);
  EXPECT_EQ(MerkleTree(4), empty);
  EXPECT_NE(MerkleTree(5).root(), empty.root());
  std::set<uint64_t> roots = {empty.root()};
  for (size_t leaf = 0; leaf < empty.leaf_count(); leaf++) {
    MerkleTree tree = empty;
    tree.set_leaf(leaf, 42);
    EXPECT_EQ(tree.leaf(leaf), 42u);
    roots.insert(tree.root());
  }
  EXPECT_EQ(roots.size(), empty.leaf_count() + 1) << "two leaves' changes gave one root";
  const MerkleTree single = MerkleTree::of_leaves({7});
  EXPECT_EQ(single.depth(), 0u);
  EXPECT_EQ(single.root(), 7u);
}

// Proves, over random trees and changes, that leaf-by-leaf updates match a rebuild from the
// leaves, and differing_leaves answers exactly the leaves that differ, ascending.
TEST(MerkleTreeTest, TopDownComparisonFindsExactlyTheDifferingLeaves) {
  for (const uint64_t seed : test::test_seeds(1, 20, 500)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Random random(seed);
    const uint32_t depth = static_cast<uint32_t>(random.uniform(11));
    std::vector<uint64_t> leaves(size_t{1} << depth);
    for (uint64_t& leaf : leaves) leaf = random.one_in(3) ? 0 : random.next_u64();
    const MerkleTree base = MerkleTree::of_leaves(leaves);
    MerkleTree changed = base;
    std::vector<uint64_t> changed_leaves = leaves;
    const uint64_t changes = random.uniform(leaves.size() + 1);
    for (uint64_t i = 0; i < changes; i++) {
      const size_t leaf = random.uniform(leaves.size());
      // Sometimes a change back to the same digest: not a difference.
      const uint64_t digest = random.one_in(4) ? leaves[leaf] : random.next_u64();
      changed.set_leaf(leaf, digest);
      changed_leaves[leaf] = digest;
    }
    ASSERT_EQ(changed, MerkleTree::of_leaves(changed_leaves));
    std::vector<size_t> expected;
    for (size_t leaf = 0; leaf < leaves.size(); leaf++) {
      if (leaves[leaf] != changed_leaves[leaf]) expected.push_back(leaf);
    }
    EXPECT_EQ(MerkleTree::differing_leaves(base, changed), expected);
    EXPECT_EQ(MerkleTree::differing_leaves(changed, base), expected);
    EXPECT_EQ(base.root() == changed.root(), expected.empty());
  }
}

}  // namespace
}  // namespace cairn
