// In-memory file doubles over a std::string, for unit tests of file formats (tables, logs) that
// need no directory, no power loss and no injected errors. Crash and fault tests use FaultEnv.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "io/env.h"

namespace cairn::test {

// Appends to a string the test owns.
class StringWritableFile final : public WritableFile {
 public:
  explicit StringWritableFile(std::string* contents) : contents_(contents) {}
  Status append(std::string_view data) override {
    contents_->append(data);
    return Status::ok();
  }
  Status flush() override { return Status::ok(); }
  Status sync() override { return Status::ok(); }
  Status close() override { return Status::ok(); }

 private:
  std::string* contents_;
};

// Reads a copy of the contents from the front.
class StringSequentialFile final : public SequentialFile {
 public:
  explicit StringSequentialFile(std::string contents) : contents_(std::move(contents)) {}
  Status read(size_t n, std::string_view* result, char* scratch) override {
    const size_t length = std::min(n, contents_.size() - position_);
    std::memcpy(scratch, contents_.data() + position_, length);
    position_ += length;
    *result = std::string_view(scratch, length);
    return Status::ok();
  }
  Status skip(uint64_t n) override {
    position_ += static_cast<size_t>(std::min<uint64_t>(n, contents_.size() - position_));
    return Status::ok();
  }

 private:
  std::string contents_;
  size_t position_ = 0;
};

// Reads a copy of the contents at any offset.
class StringRandomAccessFile final : public RandomAccessFile {
 public:
  explicit StringRandomAccessFile(std::string contents) : contents_(std::move(contents)) {}
  Status read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    if (offset > contents_.size()) return Status::io_error("read past the end of the file");
    const size_t length = std::min<size_t>(n, contents_.size() - static_cast<size_t>(offset));
    std::memcpy(scratch, contents_.data() + offset, length);
    *result = std::string_view(scratch, length);
    return Status::ok();
  }

 private:
  std::string contents_;
};

}  // namespace cairn::test
