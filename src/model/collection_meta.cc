#include "model/collection_meta.h"

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {
namespace {

size_t meta_bytes(RecordType type) { return type == RecordType::kList ? 24 : 16; }

void put_index_bound(std::string* out, std::string_view bound) {
  CAIRN_ASSERT(bound.size() <= kIndexBoundBytesMax);
  out->push_back(static_cast<char>(bound.size() & 0xFF));
  out->push_back(static_cast<char>(bound.size() >> 8));
  out->append(bound);
}

bool get_index_bound(std::string_view* in, std::string* bound) {
  if (in->size() < 2) return false;
  const size_t size = static_cast<uint8_t>((*in)[0]) | (size_t{static_cast<uint8_t>((*in)[1])} << 8);
  in->remove_prefix(2);
  if (size > kIndexBoundBytesMax || in->size() < size) return false;
  bound->assign(in->substr(0, size));
  in->remove_prefix(size);
  return true;
}

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
  if (type == RecordType::kSortedSet) {
    put_index_bound(&out, meta.index_floor);
    put_index_bound(&out, meta.index_ceiling);
  }
  return out;
}

Result<CollectionMeta> decode_collection_meta(RecordType type, std::string_view payload) {
  CAIRN_ASSERT(is_collection(type));
  const Status wrong_size = Status::corruption("collection metadata of the wrong size");
  if (type == RecordType::kSortedSet ? payload.size() < meta_bytes(type)
                                     : payload.size() != meta_bytes(type)) {
    return wrong_size;
  }
  CollectionMeta meta;
  bool ok = get_fixed64(&payload, &meta.generation) && get_fixed64(&payload, &meta.count);
  if (type == RecordType::kList) ok = ok && get_fixed64(&payload, &meta.list_head);
  CAIRN_ASSERT(ok);
  if (type == RecordType::kSortedSet &&
      !(get_index_bound(&payload, &meta.index_floor) &&
        get_index_bound(&payload, &meta.index_ceiling))) {
    return wrong_size;
  }
  if (!payload.empty()) return wrong_size;
  return meta;
}

}  // namespace cairn
