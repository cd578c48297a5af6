#include "storage/memtable.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/coding.h"
#include "io/memory.h"
#include "storage/blob_format.h"

namespace cairn {
namespace {

// Entries were encoded by add(), so decoding them cannot fail. get_varint32 reads only up to the
// varint's last byte, so the view may claim kVarint32LengthMax bytes near the arena's edge.
std::string_view decode_length_prefixed(const char* data) {
  std::string_view input(data, kVarint32LengthMax);
  uint32_t length = 0;
  const bool decoded = get_varint32(&input, &length);
  CAIRN_ASSERT(decoded);
  return std::string_view(input.data(), length);
}

std::string_view entry_internal_key(const char* entry) { return decode_length_prefixed(entry); }

std::string_view entry_value(const char* entry) {
  const std::string_view internal_key = decode_length_prefixed(entry);
  return decode_length_prefixed(internal_key.data() + internal_key.size());
}

char* copy_bytes(char* destination, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(destination, bytes.data(), bytes.size());
  return destination + bytes.size();
}

// A seek target in the entry encoding: the length-prefixed internal key, no value.
void encode_seek_target(std::string_view internal_key, std::string* destination) {
  CAIRN_ASSERT(internal_key.size() >= kInternalKeyTrailerBytes);
  destination->clear();
  put_length_prefixed(destination, internal_key);
}

// The first 8 bytes of user_key as a big-endian number, zero-padded. Zero padding keeps order:
// when two keys' padded prefixes differ, the keys compare as their prefixes do.
uint64_t user_key_prefix(std::string_view user_key) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, user_key.data(), std::min(user_key.size(), sizeof(bytes)));
  uint64_t prefix = 0;
  for (const unsigned char byte : bytes) prefix = (prefix << 8) | byte;
  return prefix;
}

// The 8 bytes of user_key from `offset` on, as user_key_prefix reads the first 8.
uint64_t user_key_chunk(std::string_view user_key, size_t offset) {
  return offset >= user_key.size() ? 0 : user_key_prefix(user_key.substr(offset));
}

std::string_view entry_user_key(const char* entry) {
  return extract_user_key(entry_internal_key(entry));
}

// Internal-key order puts the newer version of a user key first.
bool entry_is_newer(const char* a, const char* b) {
  return compare_internal_keys(entry_internal_key(a), entry_internal_key(b)) < 0;
}

// Entries were encoded by add(), so parsing them cannot fail.
ParsedInternalKey parse_entry(const char* entry) {
  ParsedInternalKey parsed;
  const bool parsed_ok = parse_internal_key(entry_internal_key(entry), &parsed);
  CAIRN_ASSERT(parsed_ok);
  return parsed;
}

// What a lookup finds at `entry`: its value unless it is a tombstone.
LookupResult entry_lookup_result(const char* entry, const ParsedInternalKey& parsed,
                                 std::string* value) {
  if (parsed.type == ValueType::kDeletion) return LookupResult::kDeleted;
  value->assign(entry_value(entry));
  return parsed.type == ValueType::kBlobReference ? LookupResult::kBlobReference
                                                  : LookupResult::kFound;
}

}  // namespace

size_t memtable_point_index_slots(size_t write_buffer_bytes) {
  constexpr size_t kBytesPerSlot = 32;
  constexpr size_t kSlotCountMin = 1 << 10;
  return std::max(kSlotCountMin, write_buffer_bytes / kBytesPerSlot);
}

bool MemTable::EntryKeyLess::operator()(const EntryKey& a, const EntryKey& b) const {
  if (a.user_key_prefix != b.user_key_prefix) return a.user_key_prefix < b.user_key_prefix;
  return compare_internal_keys(entry_internal_key(a.entry), entry_internal_key(b.entry)) < 0;
}

MemTable::MemTable(const MemTableOptions& options)
    : point_index_(options.point_index_slot_count, &entry_user_key, &entry_is_newer),
      point_index_complete_(options.point_index_slot_count > 0),
      runs_(std::make_shared<const Runs>()) {}

MemTable::~MemTable() { freed_memory_returner_.freed_bytes = memory_usage_bytes(); }

MemTable::FreedMemoryReturner::~FreedMemoryReturner() {
  // A small memtable's blocks are reused by the allocator soon enough.
  constexpr size_t kFreedBytesMin = size_t{1} << 20;
  if (freed_bytes >= kFreedBytesMin) return_free_heap_memory_to_os();
}

void MemTable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  CAIRN_ASSERT(type <= kValueTypeMax);
  CAIRN_ASSERT(user_key.size() <= UINT32_MAX - kInternalKeyTrailerBytes);
  CAIRN_ASSERT(value.size() <= UINT32_MAX);
  const size_t internal_key_bytes = user_key.size() + kInternalKeyTrailerBytes;
  const size_t entry_bytes = static_cast<size_t>(varint_length(internal_key_bytes)) +
                             internal_key_bytes + static_cast<size_t>(varint_length(value.size())) +
                             value.size();
  char* const entry = arena_.allocate(entry_bytes);
  char* cursor = entry;
  cursor += encode_varint64(cursor, internal_key_bytes);
  cursor = copy_bytes(cursor, user_key);
  encode_fixed64(cursor, pack_sequence_and_type(sequence, type));
  cursor += kInternalKeyTrailerBytes;
  cursor += encode_varint64(cursor, value.size());
  cursor = copy_bytes(cursor, value);
  CAIRN_ASSERT(cursor == entry + entry_bytes);

  if (type == ValueType::kBlobReference) {
    BlobReference reference;
    const bool decoded = decode_blob_reference(value, &reference);
    CAIRN_ASSERT(decoded);
    std::lock_guard lock(blob_files_mutex_);
    blob_file_numbers_.insert(reference.file_number);
  }
  {
    std::lock_guard lock(pending_mutex_);
    pending_.push_back(EntryKey{entry, user_key_prefix(user_key)});
    pending_count_.store(pending_.size(), std::memory_order_relaxed);
  }
  // After the pending list: a reader sent to the runs by a refused key must find the entry there.
  if (!point_index_.put(user_key, entry)) {
    point_index_complete_.store(false, std::memory_order_release);
  }
  entry_count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> MemTable::blob_file_numbers() const {
  std::lock_guard lock(blob_files_mutex_);
  return {blob_file_numbers_.begin(), blob_file_numbers_.end()};
}

// By the prefixes' top 16 bits into buckets (one counting pass and one scatter), then each bucket
// by whole prefixes: keys that begin with a slot or another well-spread pair of bytes fall into
// buckets of a few entries each.
void MemTable::sort_by_prefix(EntryKey* first, EntryKey* last) {
  const auto by_prefix = [](const EntryKey& a, const EntryKey& b) {
    return a.user_key_prefix < b.user_key_prefix;
  };
  constexpr int kBucketBits = 16;
  // Below this the buckets outnumber the entries.
  constexpr size_t kBucketedEntriesMin = size_t{1} << kBucketBits;
  const size_t count = static_cast<size_t>(last - first);
  if (count < kBucketedEntriesMin) {
    std::sort(first, last, by_prefix);
    return;
  }
  const auto bucket_of = [](const EntryKey& key) {
    return static_cast<size_t>(key.user_key_prefix >> (64 - kBucketBits));
  };
  std::vector<size_t> bucket_starts((size_t{1} << kBucketBits) + 1, 0);
  for (const EntryKey* key = first; key != last; ++key) bucket_starts[bucket_of(*key) + 1]++;
  for (size_t bucket = 1; bucket < bucket_starts.size(); bucket++) {
    bucket_starts[bucket] += bucket_starts[bucket - 1];
  }
  Run sorted(count);
  std::vector<size_t> next(bucket_starts.begin(), bucket_starts.end() - 1);
  for (const EntryKey* key = first; key != last; ++key) sorted[next[bucket_of(*key)]++] = *key;
  for (size_t bucket = 0; bucket + 1 < bucket_starts.size(); bucket++) {
    if (bucket_starts[bucket + 1] - bucket_starts[bucket] > 1) {
      std::sort(sorted.begin() + bucket_starts[bucket], sorted.begin() + bucket_starts[bucket + 1],
                by_prefix);
    }
  }
  std::copy(sorted.begin(), sorted.end(), first);
}

// Two passes: by the prefixes alone, which reads only the run's own array, then each group of
// equal prefixes (EntryKeyLess orders by prefix first, so this is its order): a small group by
// whole internal keys, a large one by sort_tied_entry_keys. A single std::sort with EntryKeyLess
// interleaves the two kinds of comparison and reads each group's entries while they are cold.
// Measured on 900 k entries of cairnd counters (keys sharing their first 8 bytes in groups of
// about 55): about 300 ms before, about 125 ms with both passes, the prefetching and the buckets
// of sort_by_prefix.
void MemTable::sort_entry_keys(Run* run) {
  sort_by_prefix(run->data(), run->data() + run->size());
  // Entries are read from here on: ask for those of the next groups while one group sorts, so
  // their cache misses overlap instead of stalling the comparisons one at a time.
  constexpr size_t kPrefetchDistance = 64;
  size_t prefetched = 0;
  const size_t count = run->size();
  for (size_t group = 0; group < count;) {
    size_t group_end = group + 1;
    const uint64_t prefix = (*run)[group].user_key_prefix;
    while (group_end < count && (*run)[group_end].user_key_prefix == prefix) group_end++;
    for (const size_t limit = std::min(count, group_end + kPrefetchDistance); prefetched < limit;
         prefetched++) {
      __builtin_prefetch((*run)[prefetched].entry);
    }
    if (group_end - group > 1) {
      sort_tied_entry_keys(run->data() + group, run->data() + group_end, sizeof(prefix), prefix);
    }
    group = group_end;
  }
}

// A large group is sorted a chunk at a time, as a radix sort by 8-byte digits: each entry is read
// once per chunk (its next 8 bytes go in its prefix field, and the array is sorted by them), where
// comparison sorting reads two cold entries at each of about log2(group) comparisons per entry.
// The elements of one collection share their first 20 bytes or more, and the versions of one
// record (a list's metadata, rewritten by every push) share the whole key, so such groups are
// common and large.
void MemTable::sort_tied_entry_keys(EntryKey* first, EntryKey* last, size_t depth,
                                    uint64_t prefix) {
  // Below this, comparisons cost less than the passes; past the depth, long shared prefixes (keys
  // are at most 64 KiB) would recurse too deep.
  constexpr size_t kChunkSortedEntriesMin = 32;
  constexpr size_t kChunkDepthMax = 256;
  if (static_cast<size_t>(last - first) < kChunkSortedEntriesMin || depth > kChunkDepthMax) {
    std::sort(first, last, EntryKeyLess());  // prefixes tie: whole keys decide
    return;
  }
  for (EntryKey* key = first; key != last; ++key) {
    key->user_key_prefix = user_key_chunk(entry_user_key(key->entry), depth);
  }
  // Keys whose zero-padded forms agree on their first `depth` bytes compare as their next 8 do
  // (zero padding keeps order, as for prefixes), then as wholes: for this group EntryKeyLess
  // stays the internal-key order with chunks in the prefix fields.
  sort_by_prefix(first, last);
  for (EntryKey* group = first; group != last;) {
    EntryKey* group_end = group + 1;
    while (group_end != last && group_end->user_key_prefix == group->user_key_prefix) ++group_end;
    if (group_end - group > 1) sort_tied_chunks(group, group_end, depth + sizeof(prefix), prefix);
    group = group_end;
  }
  for (EntryKey* key = first; key != last; ++key) key->user_key_prefix = prefix;
}

// Entries whose zero-padded keys agree on their first `depth` bytes: when every key is longer,
// the next chunk decides; when all are as long, they are versions of one user key, newest first;
// otherwise (a key that zero padding made tie with a longer one) whole keys decide.
void MemTable::sort_tied_chunks(EntryKey* first, EntryKey* last, size_t depth, uint64_t prefix) {
  size_t size_min = SIZE_MAX;
  size_t size_max = 0;
  for (const EntryKey* key = first; key != last; ++key) {
    const size_t size = entry_user_key(key->entry).size();
    size_min = std::min(size_min, size);
    size_max = std::max(size_max, size);
  }
  if (size_min > depth) return sort_tied_entry_keys(first, last, depth, prefix);
  if (size_min != size_max) return std::sort(first, last, EntryKeyLess());
  for (EntryKey* key = first; key != last; ++key) {
    const ParsedInternalKey parsed = parse_entry(key->entry);
    key->user_key_prefix = ~pack_sequence_and_type(parsed.sequence, parsed.type);
  }
  sort_by_prefix(first, last);
}

// As std::merge with EntryKeyLess, but with the entries a few steps ahead in each run loaded
// early. Entries whose prefixes tie compare by their whole keys, two cold entries per step, and
// the elements of one collection all tie: merged one after another, those misses stalled the
// merge at every step.
void MemTable::merge_runs(const Run& first, const Run& second, Run* out) {
  constexpr size_t kPrefetchDistance = 16;
  constexpr size_t kKeyPrefetchBytes = 48;
  out->reserve(out->size() + first.size() + second.size());
  // The entry kPrefetchDistance steps ahead of the cursor that moved is loaded when its prefix
  // ties with the one before it: an entry whose prefix differs from its neighbours' is most
  // likely ordered by its prefix alone. (Written out, not in a helper: GCC drops calls to a
  // function whose only effect is a prefetch.)
  const EntryKey* const first_end = first.data() + first.size();
  const EntryKey* const second_end = second.data() + second.size();
  const EntryKey* a = first.data();
  const EntryKey* b = second.data();
  for (size_t ahead = 0; ahead < kPrefetchDistance; ahead++) {
    if (ahead < first.size()) __builtin_prefetch(a[ahead].entry);
    if (ahead < second.size()) __builtin_prefetch(b[ahead].entry);
  }
  while (a != first_end && b != second_end) {
    // Ties go to `first`, as std::merge's do (entries are unique, so none occur).
    const bool take_second = EntryKeyLess()(*b, *a);
    const EntryKey*& taken = take_second ? b : a;
    const EntryKey* const taken_end = take_second ? second_end : first_end;
    out->push_back(*taken++);
    if (static_cast<size_t>(taken_end - taken) > kPrefetchDistance) {
      const EntryKey& ahead = taken[kPrefetchDistance];
      if (ahead.user_key_prefix == taken[kPrefetchDistance - 1].user_key_prefix) {
        // Its key may cross into the next cache line.
        __builtin_prefetch(ahead.entry);
        __builtin_prefetch(ahead.entry + kKeyPrefetchBytes);
      }
    }
  }
  out->insert(out->end(), a, first_end);
  out->insert(out->end(), b, second_end);
}

std::shared_ptr<const MemTable::Runs> MemTable::sorted_runs() const {
  std::lock_guard runs_lock(runs_mutex_);
  Run fresh;
  {
    std::lock_guard lock(pending_mutex_);
    fresh.swap(pending_);
    pending_count_.store(0, std::memory_order_relaxed);
  }
  if (fresh.empty()) return runs_;
  sort_entry_keys(&fresh);
  // Merging the newest run into its predecessor while that is at most kRunSizeRatio times its
  // size keeps each run more than kRunSizeRatio times the next: fewer than log8(entries) + 1
  // runs, each entry copied up to about kRunSizeRatio times per run size it passes through. A
  // seek binary-searches every run, and within one collection each step compares whole keys in
  // cold entries, so fewer runs pay for the copies where commands alternate writes and seeks:
  // with a ratio of 8 rather than 2, SPOP on a large set cost 0.65x the CPU per request and
  // ZPOPMIN 0.93x (bench/cairnd_ab.py); 32 gained nothing more.
  constexpr size_t kRunSizeRatio = 8;
  auto merged = std::make_shared<const Run>(std::move(fresh));
  auto runs = std::make_shared<Runs>(*runs_);
  while (!runs->empty() && runs->back()->size() <= kRunSizeRatio * merged->size()) {
    const Run& older = *runs->back();
    auto both = std::make_shared<Run>();
    merge_runs(older, *merged, both.get());
    runs->pop_back();
    merged = std::move(both);
  }
  runs->push_back(std::move(merged));
  runs_ = std::move(runs);
  return runs_;
}

LookupResult MemTable::get(std::string_view user_key, SequenceNumber sequence,
                           std::string* value) const {
  CAIRN_ASSERT(sequence <= kSequenceNumberMax);
  // Read before the index: entries a reader may see at `sequence` were added (and indexed, or
  // this flag cleared) before that sequence was published to it.
  const bool complete = point_index_complete_.load(std::memory_order_acquire);
  const char* const newest = point_index_.find(user_key);
  if (newest == nullptr) {
    return complete ? LookupResult::kAbsent : get_from_runs(user_key, sequence, value);
  }
  const ParsedInternalKey parsed = parse_entry(newest);
  // A snapshot older than the newest entry needs the runs' older versions.
  if (parsed.sequence > sequence) return get_from_runs(user_key, sequence, value);
  return entry_lookup_result(newest, parsed, value);
}

LookupResult MemTable::get_from_runs(std::string_view user_key, SequenceNumber sequence,
                                     std::string* value) const {
  // The first entry at or after (user_key, sequence) over all runs is the newest one visible at
  // `sequence`, if it is for user_key at all.
  const std::shared_ptr<const Runs> runs = sorted_runs();
  const LookupKey target(user_key, sequence);
  const EntryKey target_key{target.memtable_key().data(), user_key_prefix(user_key)};
  const EntryKey* first = nullptr;
  for (const std::shared_ptr<const Run>& run : *runs) {
    const auto found = std::lower_bound(run->begin(), run->end(), target_key, EntryKeyLess());
    if (found != run->end() && (first == nullptr || EntryKeyLess()(*found, *first))) {
      first = &*found;
    }
  }
  if (first == nullptr) return LookupResult::kAbsent;
  const ParsedInternalKey parsed = parse_entry(first->entry);
  if (parsed.user_key != user_key) return LookupResult::kAbsent;
  CAIRN_ASSERT(parsed.sequence <= sequence);
  return entry_lookup_result(first->entry, parsed, value);
}

// Merges the runs of one moment: at each step the smallest (going forward) or largest (going
// backward) entry under the runs' positions. The runs are few (about log8 of the entries), so a
// linear pass finds it. Entries are unique across runs, so on a change of direction each other
// run's position moves to its first entry after (or last entry before) the current one.
class MemTableIterator final : public Iterator {
 public:
  explicit MemTableIterator(std::shared_ptr<const MemTable::Runs> runs)
      : runs_(std::move(runs)), positions_(runs_->size(), 0) {}

  bool valid() const override { return current_ != kNone; }
  void seek_to_first() override {
    std::fill(positions_.begin(), positions_.end(), 0);
    forward_ = true;
    pick_smallest();
  }
  void seek_to_last() override {
    for (size_t i = 0; i < positions_.size(); i++) positions_[i] = last_position(i);
    forward_ = false;
    pick_largest();
  }
  void seek(std::string_view target) override {
    const MemTable::EntryKey key = seek_key(target);
    for (size_t i = 0; i < positions_.size(); i++) positions_[i] = first_at_or_after(i, key);
    forward_ = true;
    pick_smallest();
  }
  void seek_for_prev(std::string_view target) override {
    const MemTable::EntryKey key = seek_key(target);
    for (size_t i = 0; i < positions_.size(); i++) positions_[i] = last_at_or_before(i, key);
    forward_ = false;
    pick_largest();
  }
  void next() override {
    CAIRN_ASSERT(valid());
    if (!forward_) turn_forward();
    const size_t position = ++positions_[current_];
    // A flush reads every entry in key order, which is random order in the arena: ask for the
    // entries a little ahead so their cache misses overlap.
    const MemTable::Run& run = *(*runs_)[current_];
    if (position + kPrefetchDistance < run.size()) {
      __builtin_prefetch(run[position + kPrefetchDistance].entry);
    }
    pick_smallest();
  }
  void prev() override {
    CAIRN_ASSERT(valid());
    if (forward_) turn_backward();
    size_t& position = positions_[current_];
    position = position == 0 ? (*runs_)[current_]->size() : position - 1;
    pick_largest();
  }
  std::string_view key() const override { return entry_internal_key(entry_at(current_).entry); }
  std::string_view value() const override { return entry_value(entry_at(current_).entry); }
  Status status() const override { return Status::ok(); }

 private:
  static constexpr size_t kNone = SIZE_MAX;
  static constexpr size_t kPrefetchDistance = 16;

  // A run's position is its size when the run has no entry left in the current direction, in
  // both directions, so that exhausted() and entry_at() need not know the direction.
  bool exhausted(size_t run) const { return positions_[run] == (*runs_)[run]->size(); }
  const MemTable::EntryKey& entry_at(size_t run) const { return (*(*runs_)[run])[positions_[run]]; }

  MemTable::EntryKey seek_key(std::string_view target) {
    encode_seek_target(target, &seek_target_);
    return MemTable::EntryKey{seek_target_.data(), user_key_prefix(extract_user_key(target))};
  }
  size_t last_position(size_t i) const {
    const size_t size = (*runs_)[i]->size();
    return size == 0 ? 0 : size - 1;
  }
  size_t first_at_or_after(size_t i, const MemTable::EntryKey& key) const {
    const MemTable::Run& run = *(*runs_)[i];
    return static_cast<size_t>(
        std::lower_bound(run.begin(), run.end(), key, MemTable::EntryKeyLess()) - run.begin());
  }
  // The last entry <= key, or the run's size when there is none.
  size_t last_at_or_before(size_t i, const MemTable::EntryKey& key) const {
    const MemTable::Run& run = *(*runs_)[i];
    const auto after =
        std::upper_bound(run.begin(), run.end(), key, MemTable::EntryKeyLess()) - run.begin();
    return after == 0 ? run.size() : static_cast<size_t>(after - 1);
  }
  // Each other run moves to its first entry after the current one (none equals it).
  void turn_forward() {
    const MemTable::EntryKey current = entry_at(current_);
    for (size_t i = 0; i < positions_.size(); i++) {
      if (i != current_) positions_[i] = first_at_or_after(i, current);
    }
    forward_ = true;
  }
  // Each other run moves to its last entry before the current one (none equals it).
  void turn_backward() {
    const MemTable::EntryKey current = entry_at(current_);
    for (size_t i = 0; i < positions_.size(); i++) {
      if (i != current_) positions_[i] = last_at_or_before(i, current);
    }
    forward_ = false;
  }
  void pick_smallest() {
    current_ = kNone;
    for (size_t i = 0; i < positions_.size(); i++) {
      if (exhausted(i)) continue;
      if (current_ == kNone || MemTable::EntryKeyLess()(entry_at(i), entry_at(current_))) {
        current_ = i;
      }
    }
  }
  void pick_largest() {
    current_ = kNone;
    for (size_t i = 0; i < positions_.size(); i++) {
      if (exhausted(i)) continue;
      if (current_ == kNone || MemTable::EntryKeyLess()(entry_at(current_), entry_at(i))) {
        current_ = i;
      }
    }
  }

  const std::shared_ptr<const MemTable::Runs> runs_;
  // Per run: the entry under its cursor, or its size when it has none left in this direction.
  std::vector<size_t> positions_;
  size_t current_ = kNone;   // the run whose entry is the iterator's, or kNone
  bool forward_ = true;      // the direction of the last move: which way positions_ look
  std::string seek_target_;  // reused across seeks
};

std::unique_ptr<Iterator> MemTable::new_iterator() const {
  return std::make_unique<MemTableIterator>(sorted_runs());
}

}  // namespace cairn
