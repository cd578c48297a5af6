// Keys, values, sessions and quantiles for the engine benchmark (bench_support.h).
#include "bench_support.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/assert.h"

namespace cairn::bench {

KeyBuffer::KeyBuffer(size_t key_bytes) : text_(key_bytes, '0') {
  CAIRN_ASSERT(key_bytes >= 10 && key_bytes <= 64);
}

std::string_view KeyBuffer::at(uint64_t index) {
  for (size_t position = text_.size(); position-- > 0;) {
    text_[position] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
  CAIRN_ASSERT(index == 0);  // the index fits in the key
  return text_;
}

ValueSource::ValueSource(uint64_t seed) : pool_(kValuePoolBytes) {
  constexpr size_t kRunBytes = 16;
  static_assert(kValuePoolBytes % (2 * kRunBytes) == 0);
  std::mt19937_64 random(seed);
  for (size_t start = 0; start < pool_.size(); start += 2 * kRunBytes) {
    for (size_t i = 0; i < kRunBytes; i++) pool_[start + i] = static_cast<char>(random());
    std::memcpy(&pool_[start + kRunBytes], &pool_[start], kRunBytes);
  }
}

std::string_view ValueSource::small(uint64_t n, size_t bytes) const {
  CAIRN_ASSERT(bytes <= kValuePoolBytes / 2);
  const size_t offset = static_cast<size_t>((n * 7919) % (kValuePoolBytes - bytes));
  return std::string_view(pool_.data() + offset, bytes);
}

void ValueSource::large_chunk(uint64_t value_number, uint64_t offset, std::span<char> out) const {
  static_assert((kValuePoolBytes & (kValuePoolBytes - 1)) == 0, "a power of two");
  uint64_t position = value_number * 104729 + offset;
  size_t filled = 0;
  while (filled < out.size()) {
    const size_t start = static_cast<size_t>(position & (kValuePoolBytes - 1));
    const size_t length = std::min(out.size() - filled, kValuePoolBytes - start);
    std::memcpy(out.data() + filled, pool_.data() + start, length);
    filled += length;
    position += length;
  }
}

Session::Session(Engine& engine, std::string directory)
    : engine_(engine), directory_(std::move(directory)) {}

Session::~Session() {
  if (open_) (void)engine_.close();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

Status Session::open(const EngineOptions& options) {
  CAIRN_ASSERT(!open_);
  std::error_code error;
  if (!std::filesystem::create_directory(directory_, error)) {
    return Status::io_error("cannot create " + directory_ + ": " +
                            (error ? error.message() : "it exists"));
  }
  CAIRN_RETURN_IF_ERROR(engine_.open(directory_, options));
  open_ = true;
  return Status::ok();
}

Status Session::close() {
  CAIRN_ASSERT(open_);
  open_ = false;
  return engine_.close();
}

uint64_t quantile(std::vector<uint64_t>& samples, double q) {
  CAIRN_ASSERT(!samples.empty() && q >= 0 && q <= 1);
  const size_t rank = static_cast<size_t>(q * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank),
                   samples.end());
  return samples[rank];
}

}  // namespace cairn::bench
