#include "storage/table_builder.h"

#include "common/assert.h"
#include "storage/internal_key.h"

namespace cairn {
namespace {

// Index entries are looked up by binary search alone, so every one is a restart point; their
// keys share little anyway since consecutive blocks end far apart.
constexpr int kIndexBlockRestartInterval = 1;

}  // namespace

TableBuilder::TableBuilder(const TableOptions& options, WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.block_restart_interval),
      index_block_(kIndexBlockRestartInterval),
      compressor_(options.zstd_level) {
  CAIRN_ASSERT(file_ != nullptr);
  CAIRN_ASSERT(options_.block_size_bytes >= 1);
  CAIRN_ASSERT(options_.bloom_bits_per_key >= 0);
  CAIRN_ASSERT(is_known_compression_type(static_cast<uint8_t>(options_.compression)));
  if (options_.bloom_bits_per_key > 0) filter_.emplace(options_.bloom_bits_per_key);
}

void TableBuilder::add(std::string_view internal_key, std::string_view value) {
  CAIRN_ASSERT(!closed_);
  CAIRN_ASSERT(internal_key.size() >= kInternalKeyTrailerBytes);
  CAIRN_ASSERT(entry_count_ == 0 || compare_internal_keys(largest_key_, internal_key) < 0);
  if (!status_.is_ok()) return;
  if (!make_room_for(internal_key.size() + value.size())) return;

  if (filter_.has_value()) {
    // Versions of one user key are adjacent; adding it once keeps the filter sized for the
    // number of distinct keys.
    const std::string_view user_key = extract_user_key(internal_key);
    if (entry_count_ == 0 || extract_user_key(largest_key_) != user_key) filter_->add_key(user_key);
  }
  if (entry_count_ == 0) smallest_key_.assign(internal_key);
  largest_key_.assign(internal_key);
  entry_count_++;

  data_block_.add(internal_key, value);
  if (data_block_.size_estimate_bytes() >= options_.block_size_bytes) flush_data_block();
}

bool TableBuilder::make_room_for(uint64_t key_and_value_bytes) {
  // What BlockBuilder::add may need at most: three varints, the bytes, one more restart offset.
  const uint64_t entry_bytes_max = 3 * kVarint32LengthMax + key_and_value_bytes + 4;
  if (data_block_.size_estimate_bytes() + entry_bytes_max < kBlockContentsBytesMax) return true;
  flush_data_block();
  if (status_.is_ok() &&
      data_block_.size_estimate_bytes() + entry_bytes_max >= kBlockContentsBytesMax) {
    status_ = Status::invalid_argument("an entry of " + std::to_string(key_and_value_bytes) +
                                       " bytes does not fit in a table block");
  }
  return status_.is_ok();
}

void TableBuilder::flush_data_block() {
  if (data_block_.empty() || !status_.is_ok()) return;
  const BlockHandle handle = write_block(data_block_.finish(), options_.compression);
  data_block_.reset();
  std::string encoded_handle;
  encode_block_handle(&encoded_handle, handle);
  // largest_key_ is the last key of the block just written.
  index_block_.add(largest_key_, encoded_handle);
}

BlockHandle TableBuilder::write_block(std::string_view contents, CompressionType compression) {
  CAIRN_ASSERT(contents.size() <= kBlockContentsBytesMax);
  std::string_view stored = contents;
  CompressionType type = CompressionType::kNone;
  // As LevelDB and RocksDB do: a block that shrinks by less than 1/8 is not worth the cost of
  // decompressing it at every read.
  if (compression != CompressionType::kNone &&
      compressor_.compress(compression, contents, &compressed_) &&
      compressed_.size() < contents.size() - contents.size() / 8) {
    stored = compressed_;
    type = compression;
  }
  const BlockHandle handle{offset_bytes_, stored.size()};
  std::string trailer;
  append_block_trailer(&trailer, stored, type);
  status_ = file_->append(stored);
  if (status_.is_ok()) status_ = file_->append(trailer);
  if (status_.is_ok()) offset_bytes_ += stored.size() + trailer.size();
  return handle;
}

Status TableBuilder::finish() {
  CAIRN_ASSERT(!closed_);
  closed_ = true;
  flush_data_block();
  Footer footer;  // a filter handle of size 0 means "no filter"
  if (filter_.has_value() && status_.is_ok()) {
    const std::string filter = filter_->finish();
    // Bloom filter bits are random: compression could not save 1/8 of them.
    footer.filter_handle = write_block(filter, CompressionType::kNone);
  }
  if (status_.is_ok()) {
    footer.index_handle = write_block(index_block_.finish(), options_.compression);
  }
  if (status_.is_ok()) {
    std::string encoded;
    encode_footer(&encoded, footer);
    status_ = file_->append(encoded);
    if (status_.is_ok()) offset_bytes_ += encoded.size();
  }
  return status_;
}

void TableBuilder::abandon() {
  CAIRN_ASSERT(!closed_);
  closed_ = true;
}

}  // namespace cairn
