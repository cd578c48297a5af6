#include "model/key_record.h"

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {

std::string_view record_type_name(RecordType type) {
  switch (type) {
    case RecordType::kString:
      return "string";
    case RecordType::kHash:
      return "hash";
    case RecordType::kSet:
      return "set";
    case RecordType::kList:
      return "list";
    case RecordType::kSortedSet:
      return "zset";
  }
  CAIRN_ASSERT(false);
  return "";
}

EncodedRecordTrailer encode_record_trailer(const RecordTrailer& trailer) {
  EncodedRecordTrailer out;
  encode_fixed64(out.data(), trailer.expiry_ms);
  out[8] = static_cast<char>(trailer.flags);
  out[9] = static_cast<char>(trailer.type);
  static_assert(kRecordTrailerBytes == 8 + 1 + 1, "expiry, flags, type");
  return out;
}

void append_record_trailer(std::string* out, const RecordTrailer& trailer) {
  const EncodedRecordTrailer encoded = encode_record_trailer(trailer);
  out->append(encoded.data(), encoded.size());
}

std::string encode_record(std::string_view payload, const RecordTrailer& trailer) {
  std::string out;
  out.reserve(payload.size() + kRecordTrailerBytes);
  out.append(payload);
  append_record_trailer(&out, trailer);
  return out;
}

Result<RecordTrailer> decode_record_trailer(std::string_view bytes) {
  if (bytes.size() < kRecordTrailerBytes) {
    return Status::corruption("keyspace record shorter than its trailer");
  }
  std::string_view trailer_bytes = bytes.substr(bytes.size() - kRecordTrailerBytes);
  RecordTrailer trailer;
  if (!get_fixed64(&trailer_bytes, &trailer.expiry_ms)) {
    return Status::corruption("keyspace record trailer truncated");
  }
  trailer.flags = static_cast<uint8_t>(trailer_bytes[0]);
  const auto type = static_cast<RecordType>(trailer_bytes[1]);
  switch (type) {
    case RecordType::kString:
    case RecordType::kHash:
    case RecordType::kSet:
    case RecordType::kList:
    case RecordType::kSortedSet:
      trailer.type = type;
      return trailer;
  }
  return Status::corruption("keyspace record of unknown type");
}

Result<DecodedRecord> decode_record(std::string_view record) {
  CAIRN_ASSIGN_OR_RETURN(const RecordTrailer trailer, decode_record_trailer(record));
  DecodedRecord decoded;
  decoded.payload = record.substr(0, record.size() - kRecordTrailerBytes);
  decoded.trailer = trailer;
  return decoded;
}

}  // namespace cairn
