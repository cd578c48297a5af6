#include "storage/compaction_job.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>

#include "common/assert.h"
#include "io/env.h"
#include "storage/blob_format.h"
#include "storage/build_table.h"
#include "storage/file_names.h"
#include "storage/merging_iterator.h"
#include "storage/table_builder.h"
#include "storage/table_cache.h"

namespace cairn {
namespace {

// How often (in entries) the job checks whether the database is closing.
constexpr uint64_t kStopCheckIntervalEntries = 1024;

// Writes the surviving entries into output files, cutting them as the header describes.
class OutputFiles {
 public:
  OutputFiles(const Compaction& compaction, const CompactionJobContext& context)
      : compaction_(compaction), context_(context) {}

  // `type` and `user_key` are those of `internal_key`.
  Status add(std::string_view internal_key, std::string_view user_key, ValueType type,
             std::string_view value) {
    const bool overlaps_too_much = advance_grandparents(internal_key);
    if (builder_ != nullptr && user_key != last_user_key_ &&
        (builder_->file_size_bytes() >= context_.options->target_file_size_bytes ||
         overlaps_too_much)) {
      CAIRN_RETURN_IF_ERROR(finish_file());
    }
    if (builder_ == nullptr) CAIRN_RETURN_IF_ERROR(open_file());
    CAIRN_RETURN_IF_ERROR(collector_.add(type, value));
    builder_->add(internal_key, value);
    last_user_key_.assign(user_key);
    return Status::ok();
  }

  Status finish(CompactionJobResult* result) {
    if (builder_ != nullptr) CAIRN_RETURN_IF_ERROR(finish_file());
    if (!result_.outputs.empty()) CAIRN_RETURN_IF_ERROR(context_.env->sync_dir(context_.directory));
    result->outputs = std::move(result_.outputs);
    result->bytes_written = result_.bytes_written;
    return Status::ok();
  }

  // Removes every file this job created (after a failure). A builder destroyed unfinished
  // abandons its table.
  void remove_all() {
    builder_.reset();
    file_.reset();
    for (const uint64_t number : created_) {
      (void)context_.env->remove_file(table_file_name(context_.directory, number));
    }
  }

 private:
  Status open_file() {
    const uint64_t number = context_.new_output_number();
    created_.push_back(number);
    CAIRN_ASSIGN_OR_RETURN(
        file_, context_.env->new_writable_file(table_file_name(context_.directory, number)));
    builder_ = std::make_unique<TableBuilder>(context_.table, file_.get());
    current_.number = number;
    grandparent_overlap_bytes_ = 0;
    return Status::ok();
  }

  Status finish_file() {
    CAIRN_RETURN_IF_ERROR(builder_->finish());
    CAIRN_RETURN_IF_ERROR(file_->sync());
    CAIRN_RETURN_IF_ERROR(file_->close());
    current_.size_bytes = builder_->file_size_bytes();
    current_.smallest_key = builder_->smallest_key();
    current_.largest_key = builder_->largest_key();
    collector_.take(&current_);
    result_.bytes_written += current_.size_bytes;
    result_.outputs.push_back(std::move(current_));
    current_ = FileMetaData();
    builder_.reset();
    file_.reset();
    return Status::ok();
  }

  // Accounts for the grandparent files wholly before `internal_key`; true once the current output
  // overlaps more of them than allowed.
  bool advance_grandparents(std::string_view internal_key) {
    const auto& grandparents = compaction_.grandparents;
    while (grandparent_index_ < grandparents.size() &&
           compare_internal_keys(internal_key, grandparents[grandparent_index_]->largest_key) > 0) {
      if (builder_ != nullptr) {
        grandparent_overlap_bytes_ += grandparents[grandparent_index_]->size_bytes;
      }
      grandparent_index_++;
    }
    return grandparent_overlap_bytes_ > grandparent_overlap_bytes_max(*context_.options);
  }

  const Compaction& compaction_;
  const CompactionJobContext& context_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  FileMetaData current_;
  TableEntryCollector collector_;  // of the file being written
  std::string last_user_key_;
  size_t grandparent_index_ = 0;
  uint64_t grandparent_overlap_bytes_ = 0;
  std::vector<uint64_t> created_;
  CompactionJobResult result_;
};

Result<std::unique_ptr<Iterator>> open_inputs(const Compaction& compaction,
                                              const CompactionJobContext& context,
                                              uint64_t* bytes_read) {
  std::vector<std::unique_ptr<Iterator>> children;
  for (const Version::FileList* files : {&compaction.inputs, &compaction.next_inputs}) {
    for (const auto& file : *files) {
      CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Table> table, context.tables->find(*file));
      children.push_back(table->new_iterator(BlockCacheFill::kSkip));
      children.back()->keep_alive(std::move(table));
      *bytes_read += file->size_bytes;
    }
  }
  return new_merging_iterator(std::move(children));
}

// Counts a dropped blob reference's value as garbage in its blob file.
Status count_blob_garbage(std::string_view encoded_reference, CompactionJobResult* result) {
  BlobReference reference;
  if (!decode_blob_reference(encoded_reference, &reference)) {
    return Status::corruption("compaction input: malformed blob reference");
  }
  result->blob_garbage_bytes[reference.file_number] += reference.value_size_bytes;
  return Status::ok();
}

// The value to write for a surviving blob reference: a new reference if its file is being
// relocated, else the same one (empty `*relocated`).
Status relocate_if_collected(const Compaction& compaction, const CompactionJobContext& context,
                             std::string_view user_key, std::string_view encoded_reference,
                             std::string* relocated, CompactionJobResult* result) {
  relocated->clear();
  if (compaction.relocated_blob_files.empty()) return Status::ok();
  BlobReference reference;
  if (!decode_blob_reference(encoded_reference, &reference)) {
    return Status::corruption("compaction input: malformed blob reference");
  }
  if (!compaction.relocated_blob_files.contains(reference.file_number)) return Status::ok();
  CAIRN_ASSERT(context.relocate_blob != nullptr);
  CAIRN_ASSIGN_OR_RETURN(*relocated, context.relocate_blob(user_key, reference));
  result->blob_relocated_bytes += reference.value_size_bytes;
  return Status::ok();
}

// Merges and filters the inputs into `outputs`.
Status merge(const Compaction& compaction, const CompactionJobContext& context, Iterator& input,
             OutputFiles& outputs, CompactionJobResult* result) {
  const int output_level = compaction.output_level;
  const std::vector<SequenceNumber>& snapshots = context.snapshots;
  const std::unique_ptr<CompactionFilter::Job> filter =
      context.options->filter != nullptr ? context.options->filter->start_job() : nullptr;
  std::string user_key;
  bool has_user_key = false;
  size_t newer_stripe = 0;
  std::string rewritten_key;
  std::string relocated_value;
  for (input.seek_to_first(); input.valid(); input.next()) {
    if (++result->entries_read % kStopCheckIntervalEntries == 0 && context.stop != nullptr &&
        context.stop->load(std::memory_order_relaxed)) {
      return Status::busy("compaction stopped: the database is closing");
    }
    ParsedInternalKey parsed;
    if (!parse_internal_key(input.key(), &parsed)) {
      return Status::corruption("compaction input: malformed internal key");
    }
    const bool first_of_key = !has_user_key || parsed.user_key != user_key;
    if (first_of_key) {
      user_key.assign(parsed.user_key);
      has_user_key = true;
    }
    const size_t stripe = snapshot_stripe(snapshots, parsed.sequence);
    bool drop = !first_of_key && stripe == newer_stripe;
    newer_stripe = stripe;

    ValueType type = parsed.type;
    // A blob reference is not the value: the filter decides from the key alone (options.h).
    const bool has_value = type == ValueType::kValue || type == ValueType::kBlobReference;
    if (!drop && first_of_key && has_value && stripe == snapshots.size() && filter != nullptr &&
        filter->should_drop(parsed.user_key,
                            type == ValueType::kValue
                                ? std::optional<std::string_view>(input.value())
                                : std::nullopt)) {
      type = ValueType::kDeletion;
    }
    if (!drop && type == ValueType::kDeletion && stripe == 0 &&
        !compaction.version->may_hold_key_below(output_level, parsed.user_key)) {
      drop = true;
    }
    // A reference dropped or filtered out leaves its bytes as garbage of its blob file.
    if (parsed.type == ValueType::kBlobReference && (drop || type == ValueType::kDeletion)) {
      CAIRN_RETURN_IF_ERROR(count_blob_garbage(input.value(), result));
    }
    if (drop) {
      result->entries_dropped++;
      continue;
    }
    if (type == ValueType::kBlobReference) {
      CAIRN_RETURN_IF_ERROR(relocate_if_collected(compaction, context, parsed.user_key,
                                                  input.value(), &relocated_value, result));
      const std::string_view value = relocated_value.empty() ? input.value() : relocated_value;
      CAIRN_RETURN_IF_ERROR(outputs.add(input.key(), parsed.user_key, type, value));
    } else if (type == parsed.type) {
      CAIRN_RETURN_IF_ERROR(outputs.add(input.key(), parsed.user_key, type, input.value()));
    } else {
      rewritten_key = make_internal_key(parsed.user_key, parsed.sequence, type);
      CAIRN_RETURN_IF_ERROR(outputs.add(rewritten_key, parsed.user_key, type, ""));
    }
  }
  return input.status();
}

}  // namespace

Result<CompactionJobResult> run_compaction_job(const Compaction& compaction,
                                               const CompactionJobContext& context) {
  CAIRN_ASSERT(!compaction.trivial_move);
  CompactionJobResult result;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input,
                         open_inputs(compaction, context, &result.bytes_read));
  OutputFiles outputs(compaction, context);
  Status status = merge(compaction, context, *input, outputs, &result);
  if (status.is_ok()) status = outputs.finish(&result);
  if (!status.is_ok()) {
    outputs.remove_all();
    return status;
  }
  // Each blob garbage collection must free its table of the collected files, or the same
  // rewrite would be picked forever.
  for (const FileMetaData& output : result.outputs) {
    for (const BlobFileUse& use : output.blob_files) {
      CAIRN_ASSERT(!compaction.relocated_blob_files.contains(use.file_number));
    }
  }
  return result;
}

}  // namespace cairn
