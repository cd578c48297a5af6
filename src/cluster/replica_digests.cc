// ReplicaStore's anti-entropy digests: per key, per slot (replica_store.h). They read the
// stored bytes without decoding them.
#include <memory>
#include <string>
#include <vector>

#include "cluster/replica_store.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace cairn {

Result<std::vector<KeyDigest>> ReplicaStore::key_digests(uint16_t slot, std::string_view after,
                                                         std::optional<std::string_view> through,
                                                         size_t count_max) {
  std::string prefix;
  prefix.push_back(static_cast<char>(slot >> 8));
  prefix.push_back(static_cast<char>(slot & 0xFF));
  prefix.push_back(kReplicaStateTag);
  std::vector<KeyDigest> digests;
  std::unique_ptr<Iterator> it = database_->new_iterator(ReadOptions{});
  it->seek(prefix + std::string(after));
  if (!after.empty() && it->valid() && it->key().substr(prefix.size()) == after) it->next();
  for (; it->valid() && it->key().starts_with(prefix) && digests.size() < count_max; it->next()) {
    const std::string_view key = it->key().substr(prefix.size());
    if (through.has_value() && key > *through) break;
    digests.push_back(KeyDigest{std::string(key), hash64(it->value())});
  }
  CAIRN_RETURN_IF_ERROR(it->status());
  return digests;
}

Result<uint64_t> ReplicaStore::slot_digest(uint16_t slot) {
  CAIRN_ASSIGN_OR_RETURN(const std::vector<KeyDigest> digests, key_digests(slot));
  // A chain: each key's bytes are hashed with the hash so far as the seed, so the order and the
  // boundaries between keys count.
  uint64_t digest = 0;
  std::string bytes;
  for (const KeyDigest& key : digests) {
    bytes.clear();
    put_varint64(&bytes, key.key.size());
    bytes.append(key.key);
    put_fixed64(&bytes, key.digest);
    digest = hash64(bytes, digest);
  }
  // A slot with keys never digests to 0, the digest of an empty one.
  return digests.empty() || digest != 0 ? digest : 1;
}

}  // namespace cairn
