// A merge of several internal iterators into one, in internal-key order. Children are the
// memtables and tables of a read; an internal key appears in at most one child, and on a tie
// the child listed first wins, so the merge is deterministic. Backward moves yield the same
// sequence reversed (on a tie the child listed last first), with directions mixed freely.
// Thread-safety: as Iterator. The first child error stops the merge and is its status().
#pragma once

#include <memory>
#include <vector>

#include "storage/iterator.h"

namespace cairn {

std::unique_ptr<Iterator> new_merging_iterator(std::vector<std::unique_ptr<Iterator>> children);

}  // namespace cairn
