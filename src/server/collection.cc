#include "server/collection.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"
#include "common/glob_match.h"
#include "server/scan_cursors.h"

namespace cairn {
namespace {

Result<FoundCollection> decode_found(std::string_view key, RecordType type,
                                     std::optional<KeyEntry> entry) {
  FoundCollection found;
  found.entry = std::move(entry);
  if (!found.entry.has_value() || found.entry->type() != type) return found;
  // Metadata is a few bytes: a collection's record in a blob file is damage.
  if (!found.entry->is_inline()) return Status::corruption("collection record in a blob file");
  CAIRN_ASSIGN_OR_RETURN(const CollectionMeta meta,
                         decode_collection_meta(type, found.entry->inline_payload()));
  if (meta.count == 0) return Status::corruption("collection record with no elements");
  found.collection.emplace(key, type, meta, found.entry->trailer.expiry_ms);
  return found;
}

}  // namespace

Collection::Collection(std::string_view key, RecordType type, const CollectionMeta& meta,
                       uint64_t expiry_ms)
    : key_(key),
      type_(type),
      meta_(meta),
      expiry_ms_(expiry_ms),
      prefix_(element_key_prefix(kElementTag, key, meta.generation)) {
  CAIRN_ASSERT(is_collection(type));
}

std::string Collection::element_key(std::string_view element, char tag) const {
  std::string out;
  if (tag == kElementTag) {
    out.reserve(prefix_.size() + element.size());
    out.append(prefix_);
  } else {
    append_element_key_prefix(tag, key_, meta_.generation, &out);
  }
  out.append(element);
  return out;
}

std::string Collection::element_prefix(char tag) const {
  return tag == kElementTag ? prefix_ : element_key_prefix(tag, key_, meta_.generation);
}

std::string Collection::sample_key(std::string_view member) const {
  CAIRN_ASSERT(sampled());
  // The element prefix with the sample tag: the two differ only in that byte.
  std::string out;
  out.reserve(prefix_.size() + kSamplePositionBytes + member.size());
  out.append(prefix_);
  out[kSlotPrefixBytes - 1] = kSampleTag;
  append_sample_element(member, meta_.generation, &out);
  return out;
}

void Collection::put_element(KeyspaceWrite& batch, std::string_view element, std::string_view value,
                             char tag) const {
  CAIRN_ASSERT(tag == kElementTag || tag == kScoreTag);
  batch.put_element(key_, element_key(element, tag), value);
  if (tag == kElementTag && sampled()) batch.put_element(key_, sample_key(element), "");
}

void Collection::overwrite_element(KeyspaceWrite& batch, std::string_view element,
                                   std::string_view value) const {
  batch.put_element(key_, element_key(element), value);
}

void Collection::remove_element(KeyspaceWrite& batch, std::string_view element, char tag) const {
  CAIRN_ASSERT(tag == kElementTag || tag == kScoreTag);
  batch.remove_element(key_, element_key(element, tag));
  if (tag == kElementTag && sampled()) batch.remove_element(key_, sample_key(element));
}

Result<FoundCollection> find_collection(Keyspace& keyspace, std::string_view key, RecordType type,
                                        bool locked) {
  // A write path does not count keyspace hits and misses (Redis counts reads only).
  CAIRN_ASSIGN_OR_RETURN(std::optional<KeyEntry> entry, keyspace.find(key, locked, !locked));
  return decode_found(key, type, std::move(entry));
}

Result<FoundCollection> find_collection_at(Keyspace& keyspace, std::string_view key,
                                           RecordType type, const KeyspaceSnapshot& snapshot) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<KeyEntry> entry, keyspace.find_at(key, snapshot.get()));
  return decode_found(key, type, std::move(entry));
}

Result<Collection> collection_for_write(Keyspace& keyspace, std::string_view key, RecordType type,
                                        const FoundCollection& found) {
  CAIRN_ASSERT(!found.wrong_type());
  if (found.collection.has_value()) return *found.collection;
  CollectionMeta meta;
  CAIRN_ASSIGN_OR_RETURN(meta.generation, keyspace.new_generation());
  if (type == RecordType::kList) meta.list_head = kListInitialHead;
  return Collection(key, type, meta, 0);
}

Status write_collection(KeyspaceWrite& write, const Collection& collection,
                        const FoundCollection& found) {
  return write.put_collection(collection.key(), collection.type(), collection.meta(),
                              collection.expiry_ms(), found.entry);
}

Result<CollectionBuilder> CollectionBuilder::start(Keyspace& keyspace, std::string_view key,
                                                   RecordType type, uint64_t expiry_ms) {
  // The builder writes its own batches: they must follow what a run of commands holds.
  CAIRN_RETURN_IF_ERROR(keyspace.end_fusion());
  CollectionMeta meta;
  CAIRN_ASSIGN_OR_RETURN(meta.generation, keyspace.new_generation());
  if (type == RecordType::kList) meta.list_head = kListInitialHead;
  Collection collection(key, type, meta, expiry_ms);
  collection.build_hold_ = keyspace.building_generations().hold(meta.generation);
  return CollectionBuilder(keyspace, std::move(collection));
}

Status CollectionBuilder::add(std::string_view element, std::string_view value, char tag) {
  CAIRN_ASSERT(tag == kElementTag || tag == kScoreTag);
  batch_.put(collection_.element_key(element, tag), value);
  if (tag == kElementTag) {
    if (has_sample_index(collection_.type())) batch_.put(collection_.sample_key(element), "");
    collection_.meta().count++;
  }
  if (batch_.size_bytes() < kBatchBytes) return Status::ok();
  const Status written = keyspace_->database().write(batch_);
  batch_.clear();
  return written;
}

Result<Collection> CollectionBuilder::finish() {
  if (batch_.count() > 0) CAIRN_RETURN_IF_ERROR(keyspace_->database().write(batch_));
  batch_.clear();
  return collection_;
}

Result<Collection> copy_collection(Keyspace& keyspace, const Collection& source,
                                   std::string_view target_key, uint64_t expiry_ms) {
  CAIRN_ASSIGN_OR_RETURN(CollectionBuilder builder,
                         CollectionBuilder::start(keyspace, target_key, source.type(), expiry_ms));
  for (const char tag : {kElementTag, kScoreTag}) {
    if (tag == kScoreTag && source.type() != RecordType::kSortedSet) continue;
    ElementIterator it(keyspace, source, nullptr, tag);
    for (it.seek(""); it.valid(); it.next()) {
      CAIRN_RETURN_IF_ERROR(builder.add(it.element(), it.value(), tag));
    }
    CAIRN_RETURN_IF_ERROR(it.status());
  }
  CAIRN_ASSIGN_OR_RETURN(Collection copy, builder.finish());
  copy.meta().list_head = source.meta().list_head;  // a list's positions are copied as they are
  if (copy.meta().count != source.meta().count) {
    return Status::corruption("collection holds another number of elements than it counts");
  }
  return copy;
}

ElementIterator::ElementIterator(Keyspace& keyspace, const Collection& collection,
                                 const KeyspaceSnapshot* snapshot, char tag)
    : iterator_(keyspace.new_iterator(snapshot != nullptr ? snapshot->get() : nullptr)),
      prefix_(collection.element_prefix(tag)),
      prefix_end_(prefix_) {
  // An element prefix ends in its generation and begins with a slot below 0x4000: some byte is
  // below 0xFF, so the prefix has a successor.
  while (!prefix_end_.empty() && static_cast<uint8_t>(prefix_end_.back()) == 0xFF) {
    prefix_end_.pop_back();
  }
  CAIRN_ASSERT(!prefix_end_.empty());
  prefix_end_.back() = static_cast<char>(static_cast<uint8_t>(prefix_end_.back()) + 1);
}

void ElementIterator::seek(std::string_view element) {
  target_.assign(prefix_);
  target_.append(element);
  iterator_->seek(target_);
  settle();
}

void ElementIterator::seek_for_prev(std::string_view element) {
  target_.assign(prefix_);
  target_.append(element);
  iterator_->seek_for_prev(target_);
  settle();
}

void ElementIterator::seek_to_last() {
  iterator_->seek_for_prev(prefix_end_);
  if (iterator_->valid() && iterator_->key() == prefix_end_) iterator_->prev();
  settle();
}

void ElementIterator::next() {
  CAIRN_ASSERT(valid_);
  iterator_->next();
  settle();
}

void ElementIterator::prev() {
  CAIRN_ASSERT(valid_);
  iterator_->prev();
  settle();
}

void ElementIterator::settle() {
  valid_ = iterator_->valid() && iterator_->key().starts_with(prefix_);
}

std::string_view ElementIterator::element() const {
  CAIRN_ASSERT(valid_);
  return iterator_->key().substr(prefix_.size());
}

std::string_view ElementIterator::value() const {
  CAIRN_ASSERT(valid_);
  return iterator_->value();
}

Result<ElementValues> all_elements(Keyspace& keyspace, const Collection& collection,
                                   const KeyspaceSnapshot& snapshot) {
  ElementValues out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(collection.meta().count, 1u << 20)));
  ElementIterator it(keyspace, collection, &snapshot);
  for (it.seek(""); it.valid(); it.next()) out.emplace_back(it.element(), it.value());
  CAIRN_RETURN_IF_ERROR(it.status());
  if (out.size() != collection.meta().count) {
    return Status::corruption("collection holds another number of elements than it counts");
  }
  return out;
}

Result<ElementScanPage> scan_elements(Keyspace& keyspace, const Collection& collection,
                                      const KeyspaceSnapshot& snapshot, uint64_t cursor,
                                      std::string_view pattern, uint64_t count) {
  ElementScanPage page;
  const std::string prefix = collection.element_prefix();
  std::string resume;
  bool after = false;
  if (cursor != 0) resume = keyspace.scan_cursors().resume_point(cursor, &after);
  ElementIterator it(keyspace, collection, &snapshot);
  // The prefix ends with the generation (u64). A cursor of another generation of the same key
  // (the collection was deleted and made again, as cluster mode's scratch keyspace does for
  // every command) resumes at its element too.
  const std::string_view key_prefix = std::string_view(prefix).substr(0, prefix.size() - 8);
  if (resume.starts_with(key_prefix) && resume.size() >= prefix.size()) {
    it.seek(std::string_view(resume).substr(prefix.size()));
    if (after && it.valid() && it.element() == std::string_view(resume).substr(prefix.size())) {
      it.next();
    }
  } else if (resume > prefix) {
    return page;  // a cursor past this collection: nothing left
  } else {
    it.seek("");  // the first page, or a cursor the table forgot
  }
  const uint64_t examined_max = std::max<uint64_t>(count, 1);
  const bool all = pattern == "*";
  std::string last_element;
  for (uint64_t examined = 0; it.valid(); it.next()) {
    if (examined == examined_max) {  // more remain after last_element
      const std::string last_key = collection.element_key(last_element);
      page.cursor = keyspace.scan_cursors().remember(last_key, engine_key_slot(last_key));
      break;
    }
    examined++;
    last_element.assign(it.element());
    if (all || glob_match(pattern, it.element())) {
      page.elements.emplace_back(last_element, std::string(it.value()));
    }
  }
  CAIRN_RETURN_IF_ERROR(it.status());
  return page;
}

}  // namespace cairn
