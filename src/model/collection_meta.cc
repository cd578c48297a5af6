#include "model/collection_meta.h"

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {
namespace {

size_t meta_bytes(RecordType type) { return type == RecordType::kList ? 24 : 16; }

}  // namespace

std::string encode_list_position(uint64_t position) {
  std::string out(kListPositionBytes, '\0');
  for (size_t i = 0; i < kListPositionBytes; i++) {
    out[i] = static_cast<char>(position >> (8 * (kListPositionBytes - 1 - i)));
  }
  return out;
}

bool decode_list_position(std::string_view element, uint64_t* position) {
  if (element.size() != kListPositionBytes) return false;
  uint64_t value = 0;
  for (const char byte : element) value = (value << 8) | static_cast<uint8_t>(byte);
  *position = value;
  return true;
}

std::string encode_collection_meta(RecordType type, const CollectionMeta& meta) {
  CAIRN_ASSERT(is_collection(type));
  std::string out;
  put_fixed64(&out, meta.generation);
  put_fixed64(&out, meta.count);
  if (type == RecordType::kList) put_fixed64(&out, meta.list_head);
  CAIRN_ASSERT(out.size() == meta_bytes(type));
  return out;
}

Result<CollectionMeta> decode_collection_meta(RecordType type, std::string_view payload) {
  CAIRN_ASSERT(is_collection(type));
  if (payload.size() != meta_bytes(type)) {
    return Status::corruption("collection metadata of the wrong size");
  }
  CollectionMeta meta;
  bool ok = get_fixed64(&payload, &meta.generation) && get_fixed64(&payload, &meta.count);
  if (type == RecordType::kList) ok = ok && get_fixed64(&payload, &meta.list_head);
  CAIRN_ASSERT(ok && payload.empty());
  return meta;
}

}  // namespace cairn
