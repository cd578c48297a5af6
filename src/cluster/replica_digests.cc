// ReplicaStore's anti-entropy digests: per key, per slot (replica_store.h). They read the
// stored bytes without decoding them.
#include <memory>
#include <string>
#include <vector>

#include "cluster/replica_store.h"
#include "common/assert.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

namespace {

// Where `slot`'s replica records begin; slot kSlotCount sorts after every slot's.
std::string replica_prefix(uint32_t slot) {
  return std::string{static_cast<char>(slot >> 8), static_cast<char>(slot & 0xFF),
                     kReplicaStateTag};
}

}  // namespace

Result<std::vector<KeyDigest>> ReplicaStore::key_digests(uint16_t slot, std::string_view after,
                                                         std::optional<std::string_view> through,
                                                         size_t count_max) {
  const std::string prefix = replica_prefix(slot);
  std::vector<KeyDigest> digests;
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  it->seek(prefix + std::string(after));
  if (!after.empty() && it->valid() && it->key().substr(prefix.size()) == after) it->next();
  for (; it->valid() && it->key().starts_with(prefix) && digests.size() < count_max; it->next()) {
    const std::string_view key = it->key().substr(prefix.size());
    if (through.has_value() && key > *through) break;
    digests.push_back(KeyDigest{std::string(key), hash64(it->value())});
    digest_bytes_read_ += it->key().size() + it->value().size();
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return digests;
}

Result<std::vector<uint64_t>> ReplicaStore::slot_digests(uint16_t first_slot, uint16_t last_slot) {
  CAIRN_ASSERT(first_slot <= last_slot && last_slot < kSlotCount);
  std::vector<uint64_t> digests(size_t{last_slot} - first_slot + 1, 0);
  std::vector<bool> held(digests.size(), false);
  // One walk over the run: a slot's replica records are contiguous, and the other records of
  // its engine range (the keyspace's, by tag) are passed by seeking.
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  it->seek(replica_prefix(first_slot));
  std::string bytes;
  while (it->valid()) {
    const std::string_view key = it->key();
    if (key.size() < 3) {
      it->next();
      continue;
    }
    const uint16_t slot =
        static_cast<uint16_t>(static_cast<uint8_t>(key[0]) << 8 | static_cast<uint8_t>(key[1]));
    if (slot > last_slot) break;
    const auto tag = static_cast<uint8_t>(key[2]);
    if (tag != kReplicaStateTag) {
      // Before the tag: on to the slot's replica records; after it: on to the next slot's.
      if (tag > kReplicaStateTag && slot == last_slot) break;
      it->seek(replica_prefix(tag < kReplicaStateTag ? slot : uint32_t{slot} + 1));
      continue;
    }
    // A chain: each key's bytes are hashed with the digest so far as the seed, so the order and
    // the boundaries between keys count.
    const std::string_view user_key = key.substr(3);
    bytes.clear();
    put_varint64(&bytes, user_key.size());
    bytes.append(user_key);
    put_fixed64(&bytes, hash64(it->value()));
    digest_bytes_read_ += key.size() + it->value().size();
    const size_t index = slot - first_slot;
    digests[index] = hash64(bytes, digests[index]);
    held[index] = true;
    it->next();
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  // A slot with keys never digests to 0, the digest of an empty one.
  for (size_t i = 0; i < digests.size(); i++) {
    if (held[i] && digests[i] == 0) digests[i] = 1;
  }
  return digests;
}

}  // namespace cairn
