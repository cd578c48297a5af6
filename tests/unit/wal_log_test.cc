// Proves the log format round-trips records and that the reader applies the recovery rules of
// log_reader.h exactly: torn tails end the log quietly, damage before the tail is Corruption.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "support/string_file.h"

namespace cairn {
namespace {

constexpr char kFileName[] = "db/000007.log";

std::string random_bytes(std::mt19937_64& random, size_t size) {
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

std::string build_log(const std::vector<std::string>& payloads) {
  std::string contents;
  test::StringWritableFile file(&contents);
  LogWriter writer(&file);
  for (const std::string& payload : payloads) EXPECT_TRUE(writer.add_record(payload).is_ok());
  EXPECT_EQ(writer.size_bytes(), contents.size());
  return contents;
}

// The offset at which each record starts, plus the end of the log.
std::vector<uint64_t> record_boundaries(const std::vector<std::string>& payloads) {
  std::vector<uint64_t> boundaries{0};
  for (const std::string& payload : payloads) {
    boundaries.push_back(boundaries.back() + kLogHeaderBytes + payload.size());
  }
  return boundaries;
}

struct ReadOutcome {
  std::vector<std::string> records;
  Status status;  // the error that stopped the read, or OK
  bool torn_tail = false;
  uint64_t valid_bytes = 0;
};

ReadOutcome read_all(std::unique_ptr<SequentialFile> file,
                     LogTail tail = LogTail::kTolerateDamagedLastRecord) {
  LogReader reader(std::move(file), kFileName, tail);
  ReadOutcome outcome;
  std::string record;
  while (true) {
    Result<bool> read = reader.read_record(&record);
    if (!read.is_ok()) {
      outcome.status = read.status();
      break;
    }
    if (!*read) {
      EXPECT_TRUE(record.empty());
      // The end is sticky.
      Result<bool> again = reader.read_record(&record);
      EXPECT_TRUE(again.is_ok() && !*again);
      break;
    }
    outcome.records.push_back(record);
  }
  outcome.torn_tail = reader.torn_tail();
  outcome.valid_bytes = reader.valid_bytes();
  return outcome;
}

ReadOutcome read_all(const std::string& contents) {
  return read_all(std::make_unique<test::StringSequentialFile>(contents));
}

std::vector<std::string> first(const std::vector<std::string>& payloads, size_t count) {
  return std::vector<std::string>(payloads.begin(), payloads.begin() + count);
}

// Checks that reading `contents` cut at `length` gives the records wholly inside the cut, with a
// torn tail exactly when the cut is not at a record boundary, and never an error.
void expect_prefix_after_truncation(const std::vector<std::string>& payloads,
                                    const std::string& contents, size_t length) {
  SCOPED_TRACE("truncated at " + std::to_string(length));
  const std::vector<uint64_t> boundaries = record_boundaries(payloads);
  const size_t complete = static_cast<size_t>(
      std::upper_bound(boundaries.begin(), boundaries.end(), length) - boundaries.begin() - 1);
  const ReadOutcome outcome = read_all(contents.substr(0, length));
  ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
  ASSERT_EQ(outcome.records, first(payloads, complete));
  EXPECT_EQ(outcome.torn_tail, boundaries[complete] != length);
  EXPECT_EQ(outcome.valid_bytes, boundaries[complete]);
}

std::vector<std::string> three_records(std::mt19937_64& random) {
  return {random_bytes(random, 100), random_bytes(random, 100), random_bytes(random, 100)};
}

// Proves many records, including empty ones and a 1 MiB one, read back exactly and in order.
TEST(WalLogTest, RoundTripsManyRecordsIncludingEmptyAndLarge) {
  const uint64_t seed = 0x10ca1;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::vector<std::string> payloads{"", "a", random_bytes(random, 1 << 20), ""};
  for (int i = 0; i < 500; i++) payloads.push_back(random_bytes(random, random() % 3000));
  payloads.push_back("");

  const std::string contents = build_log(payloads);
  const ReadOutcome outcome = read_all(contents);
  ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
  EXPECT_EQ(outcome.records, payloads);
  EXPECT_FALSE(outcome.torn_tail);
  EXPECT_EQ(outcome.valid_bytes, contents.size());
  EXPECT_EQ(contents.size(), record_boundaries(payloads).back());
}

// Proves an empty file is a clean, empty log.
TEST(WalLogTest, EmptyFileIsACleanEmptyLog) {
  const ReadOutcome outcome = read_all(std::string());
  EXPECT_TRUE(outcome.status.is_ok());
  EXPECT_TRUE(outcome.records.empty());
  EXPECT_FALSE(outcome.torn_tail);
  EXPECT_EQ(outcome.valid_bytes, 0u);
}

// Proves a log cut at every byte offset reads as a prefix of its records, torn exactly when the
// cut falls inside a record, and never as an error.
TEST(WalLogTest, TruncationAtEveryOffsetYieldsAPrefix) {
  const uint64_t seed = 0x7a11;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::vector<std::string> payloads;
  for (size_t size : {0, 1, 11, 12, 13, 300, 0, 2000, 5}) {
    payloads.push_back(random_bytes(random, size));
  }
  const std::string contents = build_log(payloads);
  for (size_t length = 0; length <= contents.size(); length++) {
    expect_prefix_after_truncation(payloads, contents, length);
  }
}

// Proves truncation of a record larger than the reader's buffer is a torn tail too.
TEST(WalLogTest, TruncationInsideARecordLargerThanTheBuffer) {
  const uint64_t seed = 0xb16;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 random(seed);
  const std::vector<std::string> payloads{random_bytes(random, 10),
                                          random_bytes(random, 3 * kLogReaderBufferBytes + 7),
                                          random_bytes(random, 10)};
  const std::string contents = build_log(payloads);
  std::vector<size_t> lengths;
  for (size_t length = 0; length <= contents.size(); length += 4099) lengths.push_back(length);
  for (uint64_t boundary : record_boundaries(payloads)) {
    for (uint64_t delta = 0; delta <= 2 * kLogHeaderBytes; delta++) {
      if (boundary >= delta) lengths.push_back(boundary - delta);
      if (boundary + delta <= contents.size()) lengths.push_back(boundary + delta);
    }
  }
  for (size_t length : lengths) expect_prefix_after_truncation(payloads, contents, length);
}

// Proves a changed byte anywhere in a middle record, header or payload, is Corruption that names
// the file and the record's offset, after the records before it were returned.
TEST(WalLogTest, FlippedByteInAMiddleRecordIsCorruption) {
  std::mt19937_64 random(0xf11b);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  const std::vector<uint64_t> boundaries = record_boundaries(payloads);
  for (uint64_t offset = boundaries[1]; offset < boundaries[2]; offset++) {
    SCOPED_TRACE("flipped byte at " + std::to_string(offset));
    std::string damaged = contents;
    damaged[offset] ^= 0x5a;
    const ReadOutcome outcome = read_all(damaged);
    ASSERT_TRUE(outcome.status.is_corruption()) << outcome.status.to_string();
    EXPECT_NE(outcome.status.message().find(kFileName), std::string_view::npos);
    EXPECT_NE(outcome.status.message().find("offset " + std::to_string(boundaries[1])),
              std::string_view::npos)
        << outcome.status.to_string();
    EXPECT_EQ(outcome.records, first(payloads, 1));
    EXPECT_EQ(outcome.valid_bytes, boundaries[1]);
  }
}

// Proves a changed byte in the last record's payload is a torn tail (the record ends at EOF).
TEST(WalLogTest, FlippedByteInTheLastRecordPayloadIsATornTail) {
  std::mt19937_64 random(0x1a57);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  const std::vector<uint64_t> boundaries = record_boundaries(payloads);
  for (uint64_t offset = boundaries[2] + kLogHeaderBytes; offset < boundaries[3]; offset++) {
    SCOPED_TRACE("flipped byte at " + std::to_string(offset));
    std::string damaged = contents;
    damaged[offset] ^= 0x01;
    const ReadOutcome outcome = read_all(damaged);
    ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
    EXPECT_EQ(outcome.records, first(payloads, 2));
    EXPECT_TRUE(outcome.torn_tail);
    EXPECT_EQ(outcome.valid_bytes, boundaries[2]);
  }
}

// Proves a changed byte in the last record's header is Corruption: a non-zero payload follows
// it, so it is not a zero-filled tail (rule 3 applies, not rule 5).
TEST(WalLogTest, FlippedByteInTheLastRecordHeaderIsCorruption) {
  std::mt19937_64 random(0x1a58);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  const std::vector<uint64_t> boundaries = record_boundaries(payloads);
  for (uint64_t offset = boundaries[2]; offset < boundaries[2] + kLogHeaderBytes; offset++) {
    SCOPED_TRACE("flipped byte at " + std::to_string(offset));
    std::string damaged = contents;
    damaged[offset] ^= 0x01;
    const ReadOutcome outcome = read_all(damaged);
    EXPECT_TRUE(outcome.status.is_corruption()) << outcome.status.to_string();
    EXPECT_EQ(outcome.records, first(payloads, 2));
  }
}

// Proves zeros after the last record, of any length (inside a header, past one, past the
// reader's buffer), are a torn tail.
TEST(WalLogTest, ZeroFilledTailIsATornTail) {
  // An all-zero header must not verify, or a zero tail would read as empty records.
  LogHeader header;
  ASSERT_FALSE(decode_log_header(std::string(kLogHeaderBytes, '\0').data(), &header));
  std::mt19937_64 random(0x2e70);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  for (size_t zeros : {size_t{1}, size_t{11}, size_t{12}, size_t{13}, size_t{100}, size_t{4096},
                       kLogReaderBufferBytes + 100}) {
    SCOPED_TRACE(std::to_string(zeros) + " zero bytes");
    const ReadOutcome outcome = read_all(contents + std::string(zeros, '\0'));
    ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
    EXPECT_EQ(outcome.records, payloads);
    EXPECT_TRUE(outcome.torn_tail);
    EXPECT_EQ(outcome.valid_bytes, contents.size());
  }
}

// Proves a record whose header was cut short by zero fill (e.g. at a page boundary) is a torn
// tail: only the bytes after the bad header must be zero.
// Proves a last record whose payload was zero-filled past its good bytes (a file extended but
// not written before a crash) is a torn tail, even with more zeros after it.
TEST(WalLogTest, PayloadDamagedByZeroFillIsATornTail) {
  const std::vector<std::string> payloads = {"first", std::string(100, 'p')};
  std::string contents = build_log(payloads);
  std::fill(contents.end() - 40, contents.end(), '\0');
  contents.append(512, '\0');
  const ReadOutcome outcome = read_all(contents);
  EXPECT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
  EXPECT_TRUE(outcome.torn_tail);
  EXPECT_EQ(outcome.records, std::vector<std::string>{"first"});
}

// Proves the MANIFEST mode (LogTail::kOnlyIncompleteLastRecord) reports a bad checksum in the
// last record as Corruption, but still ends quietly at a record cut short by a crash.
TEST(WalLogTest, ManifestModeOnlyToleratesIncompleteLastRecord) {
  const std::vector<std::string> payloads = {"snapshot", "edit one", "edit two"};
  const std::string contents = build_log(payloads);
  for (size_t offset = contents.size() - payloads.back().size() - kLogHeaderBytes;
       offset < contents.size(); offset++) {
    std::string damaged = contents;
    damaged[offset] ^= 0x04;
    const ReadOutcome outcome = read_all(std::make_unique<test::StringSequentialFile>(damaged),
                                         LogTail::kOnlyIncompleteLastRecord);
    EXPECT_TRUE(outcome.status.is_corruption()) << "offset " << offset;
  }
  const ReadOutcome cut = read_all(
      std::make_unique<test::StringSequentialFile>(contents.substr(0, contents.size() - 3)),
      LogTail::kOnlyIncompleteLastRecord);
  EXPECT_TRUE(cut.status.is_ok());
  EXPECT_TRUE(cut.torn_tail);
  EXPECT_EQ(cut.records.size(), 2u);
}

TEST(WalLogTest, HeaderCutShortByZeroFillIsATornTail) {
  std::mt19937_64 random(0x2e71);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  const std::string next_record = build_log({random_bytes(random, 50)});
  const std::string damaged = contents + next_record.substr(0, 5) + std::string(4096, '\0');
  const ReadOutcome outcome = read_all(damaged);
  ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
  EXPECT_EQ(outcome.records, payloads);
  EXPECT_TRUE(outcome.torn_tail);
}

// Proves a single non-zero byte after a bad header, even far beyond the reader's buffer, makes it
// Corruption rather than a zero-filled tail.
TEST(WalLogTest, NonZeroByteAfterABadHeaderIsCorruption) {
  std::mt19937_64 random(0x2e72);
  const std::vector<std::string> payloads = three_records(random);
  const std::string contents = build_log(payloads);
  std::string tail(2 * kLogReaderBufferBytes, '\0');
  tail[0] = 1;                // the bad header
  tail[tail.size() - 3] = 1;  // the one non-zero byte after it
  const ReadOutcome outcome = read_all(contents + tail);
  ASSERT_TRUE(outcome.status.is_corruption()) << outcome.status.to_string();
  EXPECT_NE(outcome.status.message().find("offset " + std::to_string(contents.size())),
            std::string_view::npos);
  EXPECT_EQ(outcome.records, payloads);
}

// Proves a verified header claiming a 4 GiB payload in a small file ends as a torn tail without
// the reader allocating for the claimed length.
TEST(WalLogTest, HeaderClaimingFourGiBIsNotAllocated) {
  const std::string contents = build_log({"before"});
  char header[kLogHeaderBytes];
  encode_fixed32(header + kLogHeaderLengthOffset, 0xFFFFFFFF);
  encode_fixed32(header + kLogHeaderPayloadChecksumOffset, 0);
  encode_fixed32(header + kLogHeaderChecksumOffset,
                 checksum32(std::string_view(header, kLogHeaderChecksumOffset)));
  const std::string damaged =
      contents + std::string(header, kLogHeaderBytes) + std::string(1000, 'x');

  LogReader reader(std::make_unique<test::StringSequentialFile>(damaged), kFileName);
  std::string record;
  Result<bool> read = reader.read_record(&record);
  ASSERT_TRUE(read.is_ok() && *read);
  EXPECT_EQ(record, "before");
  read = reader.read_record(&record);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_FALSE(*read);
  EXPECT_TRUE(reader.torn_tail());
  EXPECT_EQ(reader.valid_bytes(), contents.size());
  EXPECT_LT(record.capacity(), size_t{64} << 10);  // grew with the 1000 bytes, not the claim
}

// Proves the reader does not take a short read for the end of the file.
TEST(WalLogTest, ShortReadsAreNotTheEnd) {
  class TrickleFile final : public SequentialFile {
   public:
    explicit TrickleFile(std::string contents) : inner_(std::move(contents)) {}
    Status read(size_t n, std::string_view* result, char* scratch) override {
      return inner_.read(std::min<size_t>(n, 7), result, scratch);
    }
    Status skip(uint64_t n) override { return inner_.skip(n); }

   private:
    test::StringSequentialFile inner_;
  };
  std::mt19937_64 random(0x7e1c);
  const std::vector<std::string> payloads{random_bytes(random, 40), "", random_bytes(random, 3)};
  const ReadOutcome outcome = read_all(std::make_unique<TrickleFile>(build_log(payloads)));
  ASSERT_TRUE(outcome.status.is_ok()) << outcome.status.to_string();
  EXPECT_EQ(outcome.records, payloads);
  EXPECT_FALSE(outcome.torn_tail);
}

// Proves an IOError from the file reaches the caller as is, and stays.
TEST(WalLogTest, ReaderPassesIOErrorsThrough) {
  class FailingFile final : public SequentialFile {
   public:
    Status read(size_t, std::string_view*, char*) override { return Status::io_error("disk"); }
    Status skip(uint64_t) override { return Status::io_error("disk"); }
  };
  LogReader reader(std::make_unique<FailingFile>(), kFileName);
  std::string record;
  for (int attempt = 0; attempt < 2; attempt++) {
    Result<bool> read = reader.read_record(&record);
    ASSERT_FALSE(read.is_ok());
    EXPECT_TRUE(read.status().is_io_error());
  }
}

// Proves the writer refuses a payload above kLogRecordBytesMax without writing, and stays usable.
TEST(WalLogTest, WriterRejectsPayloadsAboveTheLimit) {
  std::string contents;
  test::StringWritableFile file(&contents);
  LogWriter writer(&file);
  // Only the size is looked at before the rejection, so the view's bytes are never read.
  const char byte = 0;
  const std::string_view oversized(&byte, kLogRecordBytesMax + 1);
  EXPECT_TRUE(writer.add_record(oversized).is_invalid_argument());
  EXPECT_TRUE(contents.empty());
  EXPECT_EQ(writer.size_bytes(), 0u);
  EXPECT_TRUE(writer.add_record("after").is_ok());
  EXPECT_EQ(read_all(contents).records, std::vector<std::string>{"after"});
}

// Proves that after a failed append the writer writes nothing more and repeats the error, so a
// good record never follows a partial one.
TEST(WalLogTest, WriterErrorIsSticky) {
  class FailOnceFile final : public WritableFile {
   public:
    explicit FailOnceFile(std::string* contents) : contents_(contents) {}
    Status append(std::string_view data) override {
      if (appends_++ == 1) {
        contents_->append(data.substr(0, data.size() / 2));  // a torn write
        return Status::no_space("device full");
      }
      contents_->append(data);
      return Status::ok();
    }
    Status flush() override { return Status::ok(); }
    Status sync() override { return Status::ok(); }
    Status close() override { return Status::ok(); }

   private:
    std::string* contents_;
    int appends_ = 0;
  };
  std::string contents;
  FailOnceFile file(&contents);
  LogWriter writer(&file);
  ASSERT_TRUE(writer.add_record("first").is_ok());
  EXPECT_TRUE(writer.add_record("second").is_no_space());
  const size_t size_after_failure = contents.size();
  EXPECT_TRUE(writer.add_record("third").is_no_space());
  EXPECT_EQ(contents.size(), size_after_failure);
  EXPECT_EQ(writer.size_bytes(), kLogHeaderBytes + 5);

  const ReadOutcome outcome = read_all(contents);
  ASSERT_TRUE(outcome.status.is_ok());
  EXPECT_EQ(outcome.records, std::vector<std::string>{"first"});
  EXPECT_TRUE(outcome.torn_tail);
}

}  // namespace
}  // namespace cairn
