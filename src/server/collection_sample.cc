#include "server/collection_sample.h"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/assert.h"

namespace cairn {
namespace {

// Distinct draws give up (and make one exact pass) after this many draws for `count` elements.
uint64_t distinct_attempts_max(uint64_t count) { return 2 * count + 16; }

// The exact method: one pass over the elements.
Result<ElementValues> random_elements_in_one_pass(Keyspace& keyspace, const Collection& collection,
                                                  const KeyspaceSnapshot& snapshot, uint64_t count,
                                                  bool distinct) {
  const uint64_t size = collection.meta().count;
  ElementValues out;
  ElementIterator it(keyspace, collection, &snapshot);
  it.seek("");
  if (distinct) {
    // Reservoir sampling: after element i, each of the first i is in `out` with equal chance.
    CAIRN_ASSERT(count < size);
    out.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; it.valid(); it.next(), i++) {
      if (i < count) {
        out.emplace_back(it.element(), it.value());
      } else if (const uint64_t j = keyspace.random_u64() % (i + 1); j < count) {
        out[j] = {std::string(it.element()), std::string(it.value())};
      }
    }
    CAIRN_RETURN_IF_ERROR(it.status());
    if (out.size() < count) {
      return Status::corruption("collection holds fewer elements than it counts");
    }
    return out;
  }
  // Draw the positions first, then fill them in one pass; `order` keeps the draw order.
  std::vector<std::pair<uint64_t, size_t>> draws(static_cast<size_t>(count));
  for (size_t i = 0; i < draws.size(); i++) draws[i] = {keyspace.random_u64() % size, i};
  std::sort(draws.begin(), draws.end());
  out.resize(draws.size());
  size_t next_draw = 0;
  for (uint64_t position = 0; it.valid() && next_draw < draws.size(); it.next(), position++) {
    while (next_draw < draws.size() && draws[next_draw].first == position) {
      out[draws[next_draw++].second] = {std::string(it.element()), std::string(it.value())};
    }
  }
  CAIRN_RETURN_IF_ERROR(it.status());
  if (next_draw != draws.size()) {
    return Status::corruption("collection holds fewer elements than it counts");
  }
  return out;
}

// Draws by seeks; nullopt when distinct draws repeated too often to fill `count`.
Result<std::optional<ElementValues>> random_elements_by_draws(Keyspace& keyspace,
                                                              const Collection& collection,
                                                              const KeyspaceSnapshot& snapshot,
                                                              uint64_t count, bool distinct,
                                                              bool with_values) {
  SampleDrawer drawer(keyspace, collection, &snapshot);
  ElementValues out;
  out.reserve(static_cast<size_t>(count));
  std::unordered_set<std::string> drawn;  // distinct draws only
  const uint64_t attempts_max = distinct ? distinct_attempts_max(count) : count;
  for (uint64_t attempt = 0; attempt < attempts_max && out.size() < count; attempt++) {
    CAIRN_ASSIGN_OR_RETURN(std::string member, drawer.draw());
    if (distinct && !drawn.insert(member).second) continue;
    std::string value;
    if (with_values) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> read,
                             keyspace.read_element(collection.element_key(member), snapshot.get()));
      if (!read.has_value()) {
        return Status::corruption("sample index names an element the collection does not hold");
      }
      value = std::move(*read);
    }
    out.emplace_back(std::move(member), std::move(value));
  }
  if (out.size() < count) return std::optional<ElementValues>();
  return std::optional<ElementValues>(std::move(out));
}

}  // namespace

SampleDrawer::SampleDrawer(Keyspace& keyspace, const Collection& collection,
                           const KeyspaceSnapshot* snapshot)
    : keyspace_(keyspace),
      iterator_(keyspace.new_iterator(snapshot != nullptr ? snapshot->get() : nullptr)),
      prefix_(collection.element_prefix(kSampleTag)) {
  CAIRN_ASSERT(has_sample_index(collection.type()));
  CAIRN_ASSERT(collection.meta().count > kSampleWindow);
}

Result<bool> SampleDrawer::settle(bool* wrapped) {
  if (iterator_->valid() && iterator_->key().starts_with(prefix_)) return true;
  CAIRN_RETURN_IF_ERROR(iterator_->status());
  if (*wrapped) return false;
  *wrapped = true;
  iterator_->seek(prefix_);
  if (iterator_->valid() && iterator_->key().starts_with(prefix_)) return true;
  CAIRN_RETURN_IF_ERROR(iterator_->status());
  return false;
}

Status SampleDrawer::land(bool* wrapped) {
  const uint64_t position = keyspace_.random_u64();
  const uint64_t steps = keyspace_.random_u64() % kSampleWindow;
  target_.assign(prefix_);
  append_sample_position(position, &target_);
  iterator_->seek(target_);
  *wrapped = false;
  // The index holds more than kSampleWindow records, so the steps wrap at most once.
  for (uint64_t step = 0;; step++) {
    CAIRN_ASSIGN_OR_RETURN(const bool on_record, settle(wrapped));
    if (!on_record) {
      return Status::corruption("sample index holds fewer records than its collection members");
    }
    if (step == steps) return Status::ok();
    iterator_->next();
  }
}

Result<std::string> SampleDrawer::member() const {
  std::string_view member;
  if (!parse_sample_element(iterator_->key().substr(prefix_.size()), &member)) {
    return Status::corruption("sample index record shorter than its position");
  }
  return std::string(member);
}

Result<std::string> SampleDrawer::draw() {
  bool wrapped = false;
  CAIRN_RETURN_IF_ERROR(land(&wrapped));
  return member();
}

Result<std::vector<std::string>> SampleDrawer::draw_run(size_t count) {
  CAIRN_ASSERT(count > 0);
  bool wrapped = false;
  CAIRN_RETURN_IF_ERROR(land(&wrapped));
  std::vector<std::string> run;
  run.reserve(count);
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(std::string drawn, member());
    run.push_back(std::move(drawn));
    if (run.size() == count) return run;
    iterator_->next();
    CAIRN_ASSIGN_OR_RETURN(const bool on_record, settle(&wrapped));
    if (!on_record) return run;  // the end of the index, passed once already
  }
}

Result<ElementValues> random_elements(Keyspace& keyspace, const Collection& collection,
                                      const KeyspaceSnapshot& snapshot, uint64_t count,
                                      bool distinct, bool with_values) {
  const uint64_t size = collection.meta().count;
  if (distinct && count >= size) return all_elements(keyspace, collection, snapshot);
  const bool by_draws =
      has_sample_index(collection.type()) && size > kSampleWindow && count <= size / kDrawRatioMin;
  if (by_draws) {
    CAIRN_ASSIGN_OR_RETURN(
        std::optional<ElementValues> drawn,
        random_elements_by_draws(keyspace, collection, snapshot, count, distinct, with_values));
    if (drawn.has_value()) return std::move(*drawn);
  }
  return random_elements_in_one_pass(keyspace, collection, snapshot, count, distinct);
}

}  // namespace cairn
