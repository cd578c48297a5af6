// Proves SCAN's cluster-mode cursors: a cursor is slot << 49 | token, always below 2^63; a
// slot's start needs no table entry; a remembered key resumes after it on the node that issued
// the cursor; a cursor unknown here (another node's, an evicted one) or naming the wrong slot
// resumes at its slot's start, never later; one past the last slot ends the scan; and the table
// stays within its bound.
#include <gtest/gtest.h>

#include <set>

#include "server/cluster_scan_cursors.h"

namespace cairn {
namespace {

// Proves the layout: the slot in the high bits, the token in the low 49, below 2^63.
TEST(ClusterScanCursorsTest, EncodesSlotAndToken) {
  EXPECT_EQ(ClusterScanCursors::encode(0, 0), 0u);
  EXPECT_EQ(ClusterScanCursors::encode(1, 0), uint64_t{1} << 49);
  const uint64_t cursor =
      ClusterScanCursors::encode(kSlotCount - 1, ClusterScanCursors::kTokenMask);
  EXPECT_LT(cursor, uint64_t{1} << 63);
  EXPECT_EQ(ClusterScanCursors::slot_of(cursor), kSlotCount - 1u);
  EXPECT_EQ(ClusterScanCursors::token_of(cursor), ClusterScanCursors::kTokenMask);
}

// Proves a slot's start round-trips without the table, and a key resumes after itself.
TEST(ClusterScanCursorsTest, RemembersWhereToResume) {
  ClusterScanCursors cursors(42);
  EXPECT_EQ(cursors.remember(ScanPosition{0, std::nullopt}), 0u);
  EXPECT_EQ(cursors.remember(ScanPosition{77, std::nullopt}), ClusterScanCursors::encode(77, 0));
  EXPECT_EQ(cursors.resume(0), (ScanPosition{0, std::nullopt}));
  EXPECT_EQ(cursors.resume(ClusterScanCursors::encode(77, 0)), (ScanPosition{77, std::nullopt}));
  const ScanPosition inside{1234, std::string("user:\0:9", 8)};
  const uint64_t cursor = cursors.remember(inside);
  EXPECT_EQ(ClusterScanCursors::slot_of(cursor), 1234u);
  EXPECT_NE(ClusterScanCursors::token_of(cursor), 0u);
  EXPECT_EQ(cursors.resume(cursor), inside);
  EXPECT_NE(cursors.remember(inside), cursor) << "each page gets its own cursor";
}

// Proves a cursor this node does not know, or whose token names another slot, starts at its
// slot's start (some keys again, none skipped), and one past the last slot ends the scan.
TEST(ClusterScanCursorsTest, UnknownCursorsResumeAtTheirSlotsStart) {
  ClusterScanCursors issuer(1);
  ClusterScanCursors other(2);
  const uint64_t cursor = issuer.remember(ScanPosition{500, "k"});
  EXPECT_EQ(other.resume(cursor), (ScanPosition{500, std::nullopt}));
  const uint64_t token = ClusterScanCursors::token_of(cursor);
  EXPECT_EQ(issuer.resume(ClusterScanCursors::encode(501, token)),
            (ScanPosition{501, std::nullopt}));
  EXPECT_EQ(issuer.resume(uint64_t{kSlotCount} << 49), std::nullopt);
  EXPECT_EQ(issuer.resume(UINT64_MAX), std::nullopt);
}

// Proves the table evicts its oldest cursors past kEntriesMax (they then resume at their slot's
// start) and two nodes' token sequences differ.
TEST(ClusterScanCursorsTest, TheTableIsBounded) {
  ClusterScanCursors cursors(7);
  const uint64_t first = cursors.remember(ScanPosition{9, "first"});
  uint64_t last = 0;
  for (size_t i = 0; i < ClusterScanCursors::kEntriesMax; i++) {
    last = cursors.remember(ScanPosition{9, "k" + std::to_string(i)});
  }
  EXPECT_EQ(cursors.resume(first), (ScanPosition{9, std::nullopt}));
  EXPECT_EQ(cursors.resume(last),
            (ScanPosition{9, "k" + std::to_string(ClusterScanCursors::kEntriesMax - 1)}));
  ClusterScanCursors a(100);
  ClusterScanCursors b(101);
  std::set<uint64_t> tokens;
  for (int i = 0; i < 100; i++) {
    tokens.insert(a.remember(ScanPosition{0, "x"}));
    tokens.insert(b.remember(ScanPosition{0, "x"}));
  }
  EXPECT_EQ(tokens.size(), 200u);
}

}  // namespace
}  // namespace cairn
