#include "model/generation_allocator.h"

#include <optional>
#include <string_view>

#include "common/assert.h"
#include "common/coding.h"

namespace cairn {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kRecordKey = "\xFF" "G"sv;
// Generation 0 is never handed out: a fresh database starts at 1.
constexpr uint64_t kFirstGeneration = 1;

}  // namespace

std::string GenerationAllocator::record_key() { return std::string(kRecordKey); }

Result<std::unique_ptr<GenerationAllocator>> GenerationAllocator::open(Database& db) {
  CAIRN_ASSIGN_OR_RETURN(const std::optional<std::string> record, db.get(ReadOptions(), kRecordKey));
  uint64_t limit = kFirstGeneration;
  if (record.has_value()) {
    std::string_view bytes = *record;
    if (bytes.size() != 8 || !get_fixed64(&bytes, &limit) || limit < kFirstGeneration) {
      return Status::corruption("generation limit record malformed");
    }
  }
  return std::unique_ptr<GenerationAllocator>(new GenerationAllocator(db, limit));
}

Result<uint64_t> GenerationAllocator::next() {
  std::lock_guard lock(mutex_);
  if (next_ == limit_) {
    CAIRN_ASSERT(limit_ < UINT64_MAX - kBlockSize);
    std::string record;
    put_fixed64(&record, limit_ + kBlockSize);
    CAIRN_RETURN_IF_ERROR(db_.put(kRecordKey, record));
    limit_ += kBlockSize;
  }
  CAIRN_ASSERT(next_ < limit_);
  return next_++;
}

}  // namespace cairn
