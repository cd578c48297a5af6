// Engine keys: how the keyspace lays user keys out in the storage engine (docs/keyspace-format.md,
// format 3).
//   data key:         [slot: u16 big-endian][0x00][user key bytes]   (slot < 16384: 0x0000-0x3FFF)
//   element key:      [slot][tag 0x01, 0x02 or 0x03][user key length: varint][user key bytes]
//                     [generation: u64 big-endian][element bytes]
//   sample key:       an element key of tag 0x03 whose element bytes are
//                     [sample position: u64 big-endian][member bytes], empty value
//   expiry index key: [0xFF]['E'][expiry unix ms: u64 big-endian][user key bytes], empty value
// After the slot comes a tag: 0x00 for a user key's record (its metadata, which for a string is
// the whole value), 0x01 for a collection's elements, 0x02 for a sorted set's score index, 0x03
// for the sample index of a set, hash or sorted set (a draw of a random member is one seek there;
// docs/keyspace-format.md, "Sample index"), so that every engine key of one slot, of any type,
// lies in one contiguous range. The length prefix keeps two user keys' elements apart (no key's
// prefix is another's); the generation keeps a deleted collection's elements apart from those of
// a later one under the same key. All index entries sort after every data key and among
// themselves by expiry time, so active expiry reads them from the start up to now.
// keyspace_format.h holds the format's version marker and the migrations from formats 1 and 2.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn {

// The largest user key the server accepts (DESIGN.md: keys up to 64 KiB).
constexpr size_t kUserKeyBytesMax = 64 * 1024;
// The bytes before the user key in a data key: the slot and the record tag.
constexpr size_t kSlotPrefixBytes = 3;
// The tag after the slot of a user key's record.
constexpr char kRecordTag = 0x00;

using DataKeyPrefix = std::array<char, kSlotPrefixBytes>;

std::string data_key(std::string_view user_key);
// The bytes data_key(user_key) puts before the user key (its slot and the record tag).
DataKeyPrefix data_key_prefix(std::string_view user_key);
// Writes data_key(user_key) into *out (reusing its buffer).
void data_key_into(std::string_view user_key, std::string* out);
// Appends data_key(user_key) to *out.
void append_data_key(std::string_view user_key, std::string* out);
// The first engine key of slot `slot` (REQUIRES: slot <= kSlotCount), and the first one past the
// last slot's data.
std::string slot_start_key(uint16_t slot);
std::string data_end_key();
// Whether `engine_key` is a data key; if so *user_key gets its user key.
bool parse_data_key(std::string_view engine_key, std::string_view* user_key);
// The slot of an engine key in the data range (any tag); REQUIRES: engine_key < data_end_key()
// and at least 2 bytes long.
uint16_t engine_key_slot(std::string_view engine_key);

// Element keys (collection_meta.h says which generation is live).
// The largest hash field, set member or sorted-set member: its element key (with a user key of
// up to kUserKeyBytesMax) must stay within the engine's key limit.
constexpr size_t kElementBytesMax = 512 * 1024;
constexpr char kElementTag = 0x01;  // hash field, set member, list position, sorted-set member
constexpr char kScoreTag = 0x02;    // a sorted set's (score, member) index
constexpr char kSampleTag = 0x03;   // a set's, hash's or sorted set's (position, member) index
// Appends [slot][tag][varint length][user key][generation BE]: every element key of one
// collection generation begins with it. REQUIRES: tag is kElementTag, kScoreTag or kSampleTag.
void append_element_key_prefix(char tag, std::string_view user_key, uint64_t generation,
                               std::string* out);
std::string element_key_prefix(char tag, std::string_view user_key, uint64_t generation);

struct ElementKey {
  char tag = 0;
  std::string_view user_key;
  uint64_t generation = 0;
  std::string_view element;
};
// Whether `engine_key` is an element key (of any of the three tags); if so fills *out (views
// into engine_key).
bool parse_element_key(std::string_view engine_key, ElementKey* out);

// The sample index: for every member of a set, hash or sorted set (collection_meta.h,
// has_sample_index) a record under kSampleTag whose element bytes are
// [sample_position(member, generation) BE][member]. The position is a keyed hash of the member,
// so removing a member recomputes it and nothing else is stored; seeding it with the generation
// makes each incarnation of a collection lay its members out afresh. Stable: XXH3's output is
// frozen (common/checksum.h), so positions written by one build are found by the next.
constexpr size_t kSamplePositionBytes = 8;
uint64_t sample_position(std::string_view member, uint64_t generation);
// Appends [sample_position(member, generation) BE][member] (the element bytes of a sample key).
void append_sample_element(std::string_view member, uint64_t generation, std::string* out);
// Appends `position` big-endian (a draw's seek target within a sample prefix).
void append_sample_position(uint64_t position, std::string* out);
// The member of a sample key's element bytes; false if they are shorter than a position.
bool parse_sample_element(std::string_view element, std::string_view* member);

// Whether the keyspace reads `engine_key` with point lookups: a user key's record and an
// element do; the score index, the sample index and the expiry index are only walked by
// iterators. The engine's row cache admits only these keys (Options::row_cache_admits), so
// writes to the indexes skip its probe.
bool is_point_read_key(std::string_view engine_key);

std::string expiry_index_key(uint64_t expiry_ms, std::string_view user_key);
std::string expiry_index_prefix();
// Whether `engine_key` is an expiry index entry; if so fills its time and user key.
bool parse_expiry_index_key(std::string_view engine_key, uint64_t* expiry_ms,
                            std::string_view* user_key);

}  // namespace cairn
