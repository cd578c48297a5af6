#include "storage/version_set.h"

#include <algorithm>

#include "io/env.h"
#include "storage/file_names.h"
#include "storage/log_reader.h"

namespace cairn {

VersionSet::VersionSet(Env* env, std::string directory)
    : env_(env), directory_(std::move(directory)), current_(std::make_shared<const Version>()) {
  versions_.push_back(current_);
}

VersionSet::~VersionSet() {
  if (manifest_file_ != nullptr) {
    (void)manifest_file_->close();  // every edit was synced when applied; nothing to lose
  }
}

bool VersionSet::exists() const { return env_->file_exists(current_file_name(directory_)); }

Status VersionSet::recover() {
  const std::string current_name = current_file_name(directory_);
  CAIRN_ASSIGN_OR_RETURN(std::string current, read_file_to_string(env_, current_name));
  uint64_t manifest_number = 0;
  FileKind kind;
  if (current.empty() || current.back() != '\n' ||
      !parse_file_name(std::string_view(current).substr(0, current.size() - 1), &manifest_number,
                       &kind) ||
      kind != FileKind::kManifest) {
    return Status::corruption(current_name + ": does not name a MANIFEST");
  }
  const std::string manifest_name = manifest_file_name(directory_, manifest_number);
  CAIRN_ASSIGN_OR_RETURN(auto file, env_->new_sequential_file(manifest_name));
  LogReader reader(std::move(file), manifest_name, LogTail::kOnlyIncompleteLastRecord);
  std::string record;
  bool any_record = false;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(const bool read, reader.read_record(&record));
    if (!read) break;
    VersionEdit edit;
    CAIRN_RETURN_IF_ERROR(edit.decode_from(record).with_context(manifest_name));
    CAIRN_RETURN_IF_ERROR(apply_recovered_edit(edit, manifest_name));
    any_record = true;
  }
  // The snapshot record is synced before CURRENT names the MANIFEST, so it cannot be missing.
  if (!any_record) return Status::corruption(manifest_name + ": no snapshot record");
  std::lock_guard lock(mutex_);
  manifest_file_number_ = manifest_number;
  next_file_number_ = std::max(next_file_number_, manifest_number + 1);
  versions_.push_back(current_);
  return Status::ok();
}

Status VersionSet::apply_recovered_edit(const VersionEdit& edit, const std::string& manifest_name) {
  Result<std::shared_ptr<const Version>> next = current_->apply(edit);
  if (!next.is_ok()) return next.status().with_context(manifest_name);
  std::lock_guard lock(mutex_);
  if (edit.log_number()) log_number_ = *edit.log_number();
  if (edit.next_file_number()) next_file_number_ = *edit.next_file_number();
  if (edit.last_sequence()) last_sequence_ = *edit.last_sequence();
  current_ = std::move(next).value();
  return Status::ok();
}

Status VersionSet::log_and_apply(VersionEdit* edit) {
  // One edit at a time, each applied to the version the previous one installed.
  std::lock_guard apply_lock(apply_mutex_);
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const Version> next, current()->apply(*edit));
  uint64_t log_number = 0;
  uint64_t last_sequence = 0;
  {
    std::lock_guard lock(mutex_);
    log_number = edit->log_number().value_or(log_number_);
    last_sequence = std::max(edit->last_sequence().value_or(0), last_sequence_);
  }
  if (manifest_log_ == nullptr) {
    CAIRN_RETURN_IF_ERROR(write_new_manifest(*next, log_number, last_sequence));
  } else {
    {
      std::lock_guard lock(mutex_);
      edit->set_next_file_number(next_file_number_);
    }
    const Status appended = append_to_manifest(*edit);
    if (!appended.is_ok()) {
      // The MANIFEST may end in a partial record now; the next edit starts a new one.
      (void)manifest_file_->close();
      manifest_file_.reset();
      manifest_log_.reset();
      return appended;
    }
  }
  std::lock_guard lock(mutex_);
  log_number_ = log_number;
  last_sequence_ = last_sequence;
  current_ = std::move(next);
  std::erase_if(versions_, [](const auto& version) { return version.expired(); });
  versions_.push_back(current_);
  return Status::ok();
}

Status VersionSet::append_to_manifest(const VersionEdit& edit) {
  std::string record;
  edit.encode_to(&record);
  CAIRN_RETURN_IF_ERROR(manifest_log_->add_record(record));
  return manifest_file_->sync();
}

Status VersionSet::write_new_manifest(const Version& version, uint64_t log_number,
                                      uint64_t last_sequence) {
  const uint64_t manifest_number = new_file_number();
  const std::string manifest_name = manifest_file_name(directory_, manifest_number);
  VersionEdit snapshot;
  version.append_snapshot(&snapshot);
  snapshot.set_log_number(log_number);
  snapshot.set_last_sequence(last_sequence);
  {
    std::lock_guard lock(mutex_);
    snapshot.set_next_file_number(next_file_number_);
  }
  std::string record;
  snapshot.encode_to(&record);

  CAIRN_ASSIGN_OR_RETURN(auto file, env_->new_writable_file(manifest_name));
  auto log = std::make_unique<LogWriter>(file.get());
  CAIRN_RETURN_IF_ERROR(log->add_record(record));
  CAIRN_RETURN_IF_ERROR(file->sync());
  // CURRENT switches only once the MANIFEST it names is durable, entry included.
  CAIRN_RETURN_IF_ERROR(env_->sync_dir(directory_));
  const std::string temp_name = temp_file_name(directory_, manifest_number);
  const std::string pointer = manifest_file_name("", manifest_number).substr(1) + "\n";
  CAIRN_RETURN_IF_ERROR(write_string_to_file(env_, pointer, temp_name, /*sync=*/true));
  CAIRN_RETURN_IF_ERROR(env_->rename_file(temp_name, current_file_name(directory_)));
  CAIRN_RETURN_IF_ERROR(env_->sync_dir(directory_));

  if (manifest_file_ != nullptr) (void)manifest_file_->close();
  manifest_file_ = std::move(file);
  manifest_log_ = std::move(log);
  std::lock_guard lock(mutex_);
  manifest_file_number_ = manifest_number;
  return Status::ok();
}

std::shared_ptr<const Version> VersionSet::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

uint64_t VersionSet::new_file_number() {
  std::lock_guard lock(mutex_);
  return next_file_number_++;
}

uint64_t VersionSet::next_file_number() const {
  std::lock_guard lock(mutex_);
  return next_file_number_;
}

void VersionSet::mark_file_number_used(uint64_t number) {
  std::lock_guard lock(mutex_);
  next_file_number_ = std::max(next_file_number_, number + 1);
}

uint64_t VersionSet::log_number() const {
  std::lock_guard lock(mutex_);
  return log_number_;
}

uint64_t VersionSet::last_sequence() const {
  std::lock_guard lock(mutex_);
  return last_sequence_;
}

uint64_t VersionSet::manifest_file_number() const {
  std::lock_guard lock(mutex_);
  return manifest_file_number_;
}

std::set<uint64_t> VersionSet::live_table_numbers() const {
  std::lock_guard lock(mutex_);
  std::set<uint64_t> live;
  for (const auto& weak : versions_) {
    if (std::shared_ptr<const Version> version = weak.lock()) {
      for (int level = 0; level < kLevelCount; level++) {
        for (const auto& file : version->files(level)) live.insert(file->number);
      }
    }
  }
  return live;
}

std::set<uint64_t> VersionSet::live_blob_file_numbers() const {
  std::lock_guard lock(mutex_);
  std::set<uint64_t> live;
  for (const auto& weak : versions_) {
    if (std::shared_ptr<const Version> version = weak.lock()) {
      for (int level = 0; level < kLevelCount; level++) {
        for (const auto& file : version->files(level)) {
          for (const BlobFileUse& use : file->blob_files) live.insert(use.file_number);
        }
      }
    }
  }
  return live;
}

}  // namespace cairn
