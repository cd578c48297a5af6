#include "io/env.h"

#include <memory>

namespace cairn {

Status write_string_to_file(Env* env, std::string_view data, const std::string& path, bool sync) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->new_writable_file(path));
  Status status = file->append(data);
  if (status.is_ok() && sync) status = file->sync();
  if (status.is_ok()) status = file->close();
  if (!status.is_ok()) {
    // A partial file is worse than none: a reader could take it for the whole. The write's error
    // is the one worth reporting, so the removal's own outcome is dropped.
    file.reset();
    static_cast<void>(env->remove_file(path));
  }
  return status;
}

Result<std::string> read_file_to_string(Env* env, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, env->new_sequential_file(path));
  constexpr size_t kChunkSizeBytes = 64 * 1024;
  const auto scratch = std::make_unique<char[]>(kChunkSizeBytes);
  std::string contents;
  for (;;) {
    std::string_view chunk;
    CAIRN_RETURN_IF_ERROR(file->read(kChunkSizeBytes, &chunk, scratch.get()));
    if (chunk.empty()) return contents;
    contents.append(chunk);
  }
}

}  // namespace cairn
