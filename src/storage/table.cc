#include "storage/table.h"

#include "common/assert.h"
#include "storage/block_cache.h"
#include "storage/bloom_filter.h"
#include "storage/internal_key.h"

namespace cairn {

// A two-level cursor: a position in the index picks a data block, a block cursor walks it.
// Going backwards mirrors going forwards: past the start of a block, the cursor moves to the
// last entry of the block before it (through the block cache, as any block read).
// Invariant: data_ holds a cursor only while position_ < the block count and data_ walks the
// block at position_.
class Table::TableIterator final : public Iterator {
 public:
  TableIterator(const Table& table, BlockCacheFill fill) : table_(table), fill_(fill) {}

  bool valid() const override { return status_.is_ok() && data_.has_value() && data_->valid(); }
  void seek_to_first() override {
    if (!status_.is_ok()) return;
    position_ = 0;
    load_data_block();
    if (data_.has_value()) data_->seek_to_first();
    skip_exhausted_blocks();
  }
  void seek_to_last() override {
    if (!status_.is_ok()) return;
    if (table_.index_.block_count() == 0) {
      data_.reset();
      return;
    }
    position_ = table_.index_.block_count() - 1;
    load_data_block();
    if (data_.has_value()) data_->seek_to_last();
    skip_exhausted_blocks_backward();
  }
  // The index key of a block is its last key, so the first block whose index key is >= target
  // holds the first entry >= target.
  void seek(std::string_view target) override {
    if (!status_.is_ok()) return;
    position_ = table_.index_.find(target);
    load_data_block();
    if (data_.has_value()) data_->seek(target);
    skip_exhausted_blocks();
  }
  // The last entry <= target is in the block seek() would pick (every entry of the blocks before
  // it is < target), or, when that block starts after target, the block before it. No such block
  // means every entry is < target.
  void seek_for_prev(std::string_view target) override {
    if (!status_.is_ok()) return;
    position_ = table_.index_.find(target);
    if (position_ >= table_.index_.block_count()) {
      seek_to_last();
      return;
    }
    load_data_block();
    if (data_.has_value()) data_->seek_for_prev(target);
    skip_exhausted_blocks_backward();
  }
  void next() override {
    CAIRN_ASSERT(valid());
    data_->next();
    skip_exhausted_blocks();
  }
  void prev() override {
    CAIRN_ASSERT(valid());
    data_->prev();
    skip_exhausted_blocks_backward();
  }
  std::string_view key() const override {
    CAIRN_ASSERT(valid());
    return data_->key();
  }
  std::string_view value() const override {
    CAIRN_ASSERT(valid());
    return data_->value();
  }
  Status status() const override { return status_; }

 private:
  // Points data_ (unpositioned) at the block at position_, or clears it past the last block or
  // on error.
  void load_data_block();
  // Moves past the ends of data blocks into the next non-empty block.
  void skip_exhausted_blocks();
  // Moves back past the starts of data blocks into the last entry of the previous non-empty block;
  // before the first block the iterator is invalid.
  void skip_exhausted_blocks_backward();
  void fail(Status status);

  const Table& table_;
  const BlockCacheFill fill_;
  size_t position_ = 0;  // in table_.index_
  std::shared_ptr<const Block> data_block_;
  std::optional<BlockCursor> data_;  // over *data_block_, so declared (and destroyed) after it
  size_t data_block_position_ = 0;   // where in the index *data_block_ is
  Status status_;                    // once an error, always an error
};

void Table::TableIterator::load_data_block() {
  if (position_ >= table_.index_.block_count()) {
    data_.reset();
    data_block_.reset();
    return;
  }
  if (data_block_ != nullptr && data_block_position_ == position_) {
    data_.emplace(*data_block_);  // a seek within the block already read
    return;
  }
  data_.reset();
  data_block_.reset();
  Result<std::shared_ptr<const Block>> block =
      table_.read_data_block(table_.index_.handle(position_), fill_);
  if (!block.is_ok()) {
    fail(block.status());
    return;
  }
  data_block_ = std::move(block).value();
  data_block_position_ = position_;
  data_.emplace(*data_block_);
}

void Table::TableIterator::skip_exhausted_blocks() {
  while (status_.is_ok() && data_.has_value() && !data_->valid()) {
    if (!data_->status().is_ok()) {
      fail(data_->status());
      return;
    }
    position_++;
    load_data_block();
    if (data_.has_value()) data_->seek_to_first();
  }
}

void Table::TableIterator::skip_exhausted_blocks_backward() {
  while (status_.is_ok() && data_.has_value() && !data_->valid()) {
    if (!data_->status().is_ok()) {
      fail(data_->status());
      return;
    }
    if (position_ == 0) {
      data_.reset();  // before the first entry; the block stays held for a seek back into it
      return;
    }
    position_--;
    load_data_block();
    if (data_.has_value()) data_->seek_to_last();
  }
}

void Table::TableIterator::fail(Status status) {
  CAIRN_ASSERT(!status.is_ok());
  status_ = std::move(status);
  data_.reset();
  data_block_.reset();
}

Result<std::shared_ptr<Table>> Table::open(const TableOptions& options,
                                           std::unique_ptr<RandomAccessFile> file,
                                           uint64_t file_size_bytes, std::string file_name) {
  CAIRN_ASSERT(file != nullptr);
  if (file_size_bytes < kFooterBytes) {
    return Status::corruption(file_name + ": " + std::to_string(file_size_bytes) +
                              " bytes is too short for an SSTable");
  }
  char scratch[kFooterBytes];
  std::string_view footer_bytes;
  const Status read_status =
      file->read(file_size_bytes - kFooterBytes, kFooterBytes, &footer_bytes, scratch);
  if (!read_status.is_ok()) return read_status.with_context(file_name);
  CAIRN_ASSIGN_OR_RETURN(const Footer footer, decode_footer(footer_bytes, file_name));

  std::shared_ptr<Table> table(
      new Table(options, std::move(file), file_size_bytes, std::move(file_name)));
  CAIRN_RETURN_IF_ERROR(table->read_metadata(footer));
  return table;
}

Table::Table(const TableOptions& options, std::unique_ptr<RandomAccessFile> file,
             uint64_t file_size_bytes, std::string file_name)
    : options_(options),
      cache_id_(options.block_cache != nullptr ? options.block_cache->new_cache_id() : 0),
      file_(std::move(file)),
      file_size_bytes_(file_size_bytes),
      file_name_(std::make_shared<const std::string>(std::move(file_name))) {
  CAIRN_ASSERT(file_size_bytes_ >= kFooterBytes);
}

Status Table::read_metadata(const Footer& footer) {
  const uint64_t blocks_end_bytes = file_size_bytes_ - kFooterBytes;
  CAIRN_RETURN_IF_ERROR(check_block_handle(footer.index_handle, blocks_end_bytes, *file_name_));
  CAIRN_ASSIGN_OR_RETURN(std::string index_contents,
                         read_block(*file_, footer.index_handle, *file_name_));
  CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<const Block> index_block,
                         Block::parse(std::move(index_contents), file_name_));
  CAIRN_ASSIGN_OR_RETURN(index_, TableIndex::build(*index_block, blocks_end_bytes, *file_name_));
  if (footer.filter_handle.size > 0) {
    CAIRN_RETURN_IF_ERROR(check_block_handle(footer.filter_handle, blocks_end_bytes, *file_name_));
    CAIRN_ASSIGN_OR_RETURN(filter_, read_block(*file_, footer.filter_handle, *file_name_));
  }
  return Status::ok();
}

Result<std::shared_ptr<const Block>> Table::read_data_block(const BlockHandle& handle,
                                                            BlockCacheFill fill) const {
  BlockCache* const cache = options_.block_cache.get();
  if (cache != nullptr) {
    std::shared_ptr<const Block> cached = cache->lookup(cache_id_, handle.offset);
    if (cached != nullptr) return cached;
  }
  CAIRN_RETURN_IF_ERROR(check_block_handle(handle, file_size_bytes_ - kFooterBytes, *file_name_));
  CAIRN_ASSIGN_OR_RETURN(std::string contents, read_block(*file_, handle, *file_name_));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block,
                         Block::parse(std::move(contents), file_name_));
  if (cache != nullptr && fill == BlockCacheFill::kFill) {
    cache->insert(cache_id_, handle.offset, block);
  }
  return block;
}

// A cursor on the stack rather than a TableIterator: no allocation, no virtual call. Like the
// iterator, it moves on to the next block when a block holds no entry >= target, which an
// honest index never needs (a block's index key is its last key).
template <typename Visit>
Status Table::visit_first_at_or_after(std::string_view target, Visit&& visit) const {
  for (size_t position = index_.find(target); position < index_.block_count(); position++) {
    CAIRN_ASSIGN_OR_RETURN(const std::shared_ptr<const Block> block,
                           read_data_block(index_.handle(position)));
    BlockCursor data(*block);
    data.seek(target);
    if (data.valid()) {
      visit(data.key(), data.value());
      return Status::ok();
    }
    CAIRN_RETURN_IF_ERROR(data.status());
  }
  return Status::ok();
}

Result<std::optional<TableEntry>> Table::find_first_at_or_after(std::string_view target) const {
  CAIRN_ASSERT(target.size() >= kInternalKeyTrailerBytes);
  std::optional<TableEntry> found;
  if (filter_.has_value() && !bloom_filter_may_contain(*filter_, extract_user_key(target))) {
    return found;
  }
  CAIRN_RETURN_IF_ERROR(
      visit_first_at_or_after(target, [&](std::string_view key, std::string_view value) {
        found = TableEntry{std::string(key), std::string(value)};
      }));
  return found;
}

Result<LookupResult> Table::get(const LookupKey& key, uint64_t filter_hash,
                                std::string* value) const {
  if (filter_.has_value() && !bloom_filter_may_contain_hash(*filter_, filter_hash)) {
    return LookupResult::kAbsent;
  }
  LookupResult result = LookupResult::kAbsent;
  bool malformed = false;
  CAIRN_RETURN_IF_ERROR(visit_first_at_or_after(
      key.internal_key(), [&](std::string_view entry_key, std::string_view entry_value) {
        ParsedInternalKey parsed;
        if (!parse_internal_key(entry_key, &parsed)) {
          malformed = true;
          return;
        }
        if (parsed.user_key != key.user_key()) return;
        if (parsed.type == ValueType::kDeletion) {
          result = LookupResult::kDeleted;
          return;
        }
        value->assign(entry_value);
        result = parsed.type == ValueType::kBlobReference ? LookupResult::kBlobReference
                                                          : LookupResult::kFound;
      }));
  if (malformed) return Status::corruption(*file_name_ + ": malformed internal key");
  return result;
}

std::unique_ptr<Iterator> Table::new_iterator(BlockCacheFill fill) const {
  return std::make_unique<TableIterator>(*this, fill);
}

}  // namespace cairn
