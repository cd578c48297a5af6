// Random walks over an Iterator checked step by step against a sorted model: every seek,
// seek_for_prev, seek_to_first, seek_to_last, next and prev must land where the model says, so a
// step that skips an entry, repeats one, or shows another version of a key fails at that step.
// Shared by the iterator tests of each layer (block, table, memtable, merge, database).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/iterator.h"

namespace cairn::test {

// Entries in the iterator's order. Equal keys may repeat (a merge of children that hold the same
// entry); seek lands on the first of them and seek_for_prev on the last.
using ModelEntries = std::vector<std::pair<std::string, std::string>>;
// <0, 0 or >0 as a sorts before, with or after b in the iterator's order.
using KeyCompare = int (*)(std::string_view, std::string_view);

inline int compare_bytewise(std::string_view a, std::string_view b) { return a.compare(b); }

class IteratorModelWalk {
 public:
  // REQUIRES: model is sorted by compare; iterator and model outlive the walk.
  IteratorModelWalk(Iterator& iterator, const ModelEntries& model, KeyCompare compare)
      : iterator_(iterator), model_(model), compare_(compare), position_(model.size()) {}

  void seek_to_first() {
    if (stopped()) return;
    iterator_.seek_to_first();
    position_ = 0;
    check("seek_to_first");
  }
  void seek_to_last() {
    if (stopped()) return;
    iterator_.seek_to_last();
    position_ = model_.empty() ? 0 : model_.size() - 1;
    check("seek_to_last");
  }
  void seek(const std::string& target) {
    if (stopped()) return;
    iterator_.seek(target);
    const auto before = [&](const auto& entry) { return compare_(entry.first, target) < 0; };
    position_ = count_while(before);
    check("seek " + printable(target));
  }
  void seek_for_prev(const std::string& target) {
    if (stopped()) return;
    iterator_.seek_for_prev(target);
    const auto at_or_before = [&](const auto& entry) { return compare_(entry.first, target) <= 0; };
    const size_t after = count_while(at_or_before);
    position_ = after == 0 ? model_.size() : after - 1;
    check("seek_for_prev " + printable(target));
  }
  // REQUIRES: valid().
  void next() {
    if (stopped()) return;
    ASSERT_TRUE(valid()) << "the test called next() on an invalid iterator";
    iterator_.next();
    position_++;
    check("next");
  }
  // REQUIRES: valid().
  void prev() {
    if (stopped()) return;
    ASSERT_TRUE(valid()) << "the test called prev() on an invalid iterator";
    iterator_.prev();
    position_ = position_ == 0 ? model_.size() : position_ - 1;
    check("prev");
  }

  bool valid() const { return position_ < model_.size(); }

  // After a failed check the iterator and the model disagree, so a further move might break the
  // iterator's REQUIRES (and abort the test binary): the walk stops instead.
  static bool stopped() { return ::testing::Test::HasFatalFailure(); }

  // Every entry from the last to the first, then off the front.
  void check_backward_scan() {
    seek_to_last();
    while (valid() && !stopped()) prev();
  }

  // `step_count` random moves: mostly runs of next or prev of random length (so the direction
  // changes often, at every kind of position), sometimes a seek of either kind to a target from
  // `random_target`, seek_to_first or seek_to_last.
  void run(std::mt19937_64& random, int step_count,
           const std::function<std::string()>& random_target) {
    for (int step = 0; step < step_count && !stopped(); step++) {
      const uint64_t dice = random() % 100;
      if (valid() && dice < 80) {
        const bool forward = dice < 40;
        const uint64_t run_length = 1 + random() % 4;
        for (uint64_t i = 0; i < run_length && valid() && !stopped(); i++) {
          forward ? next() : prev();
        }
      } else if (dice < 88) {
        seek(random_target());
      } else if (dice < 96) {
        seek_for_prev(random_target());
      } else if (dice < 98) {
        seek_to_first();
      } else {
        seek_to_last();
      }
    }
  }

 private:
  // How many model entries from the front satisfy `predicate` (which holds for a prefix).
  template <typename Predicate>
  size_t count_while(const Predicate& predicate) const {
    return static_cast<size_t>(std::partition_point(model_.begin(), model_.end(), predicate) -
                               model_.begin());
  }

  void check(const std::string& move) {
    history_.push_back(move);
    if (history_.size() > kHistoryMax) history_.erase(history_.begin());
    ASSERT_TRUE(iterator_.status().is_ok()) << iterator_.status().to_string() << describe();
    ASSERT_EQ(iterator_.valid(), valid()) << describe();
    if (!valid()) return;
    ASSERT_EQ(printable(iterator_.key()), printable(model_[position_].first)) << describe();
    ASSERT_EQ(iterator_.value(), model_[position_].second)
        << "value of " << printable(iterator_.key()) << describe();
  }

  std::string describe() const {
    std::string text = "\n  at model position " + std::to_string(position_) + " of " +
                       std::to_string(model_.size()) + " after:";
    for (const std::string& move : history_) text += " " + move + ";";
    return text;
  }

  // Keys hold binary trailers: show bytes outside printable ASCII as \xNN.
  static std::string printable(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    for (const char c : bytes) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
        text += c;
      } else {
        text += "\\x";
        text += kHex[byte >> 4];
        text += kHex[byte & 0xf];
      }
    }
    return text;
  }

  static constexpr size_t kHistoryMax = 12;

  Iterator& iterator_;
  const ModelEntries& model_;
  const KeyCompare compare_;
  size_t position_;  // in model_; model_.size() when the iterator should be invalid
  std::vector<std::string> history_;  // the last moves, for failure messages
};

}  // namespace cairn::test
