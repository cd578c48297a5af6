// Checks of the LSM tree's shape that must hold after every flush and compaction: level 0 is
// ordered newest first; every deeper level is sorted by key and its files share no user key;
// every file's smallest key is at most its largest.
#pragma once

#include <gtest/gtest.h>

#include "storage/internal_key.h"
#include "storage/version.h"

namespace cairn::test {

inline void expect_tree_invariants(const Version& version) {
  for (int level = 0; level < kLevelCount; level++) {
    const Version::FileList& files = version.files(level);
    for (size_t i = 0; i < files.size(); i++) {
      EXPECT_LE(compare_internal_keys(files[i]->smallest_key, files[i]->largest_key), 0)
          << "level " << level << " file " << files[i]->number;
      if (i == 0) continue;
      if (level == 0) {
        EXPECT_GT(files[i - 1]->number, files[i]->number) << "level 0 not newest first";
      } else {
        EXPECT_LT(extract_user_key(files[i - 1]->largest_key),
                  extract_user_key(files[i]->smallest_key))
            << "level " << level << ": files " << files[i - 1]->number << " and "
            << files[i]->number << " overlap";
      }
    }
  }
}

}  // namespace cairn::test
