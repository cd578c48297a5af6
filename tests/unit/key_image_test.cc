// Proves change_delta, the step that turns a command's effect on a key into a KeyState delta:
// over random keys (every type, with and without expiry, expired, deleted, with histories from
// several writers) and random images after a command (the same type changed element by element,
// another type, gone), merging the delta into the key's state gives exactly the image wanted,
// an unchanged image gives no delta, and a set member added concurrently by another writer
// survives a delta that removed others (add-wins).
#include "model/key_image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

#include "io/random.h"
#include "support/test_seeds.h"

namespace cairn {
namespace {

constexpr int64_t kNowMs = 1'000'000;

}  // namespace

// Readable failures.
void PrintTo(const KeyImage& image, std::ostream* out) {
  *out << "{type " << static_cast<int>(image.type) << " string '" << image.string_value << "' hash";
  for (const auto& [field, value] : image.hash_fields) *out << " " << field << "=" << value;
  *out << " set";
  for (const auto& member : image.set_members) *out << " " << member;
  *out << " zset";
  for (const auto& [member, score] : image.sorted_set_members)
    *out << " " << member << ":" << score;
  *out << " list";
  for (const auto& element : image.list_elements) *out << " " << element;
  *out << " expires " << image.expires_at_unix_ms << "}";
}

namespace {

WriteVersion at(uint64_t ms, uint64_t node) {
  return WriteVersion{HlcTimestamp::of(ms, 0), NodeId{node}};
}

std::string element(Random& random) { return "e" + std::to_string(random.uniform(6)); }

// A random image of any type (none included).
KeyImage random_image(Random& random) {
  KeyImage image;
  image.type = static_cast<KeyStateType>(random.uniform(6));
  const size_t count = 1 + random.uniform(4);
  switch (image.type) {
    case KeyStateType::kNone:
      return image;
    case KeyStateType::kString:
      image.string_value = element(random);
      break;
    case KeyStateType::kHash: {
      std::map<std::string, std::string> fields;
      for (size_t i = 0; i < count; i++) fields[element(random)] = element(random);
      image.hash_fields.assign(fields.begin(), fields.end());
      break;
    }
    case KeyStateType::kSet: {
      std::set<std::string> members;
      for (size_t i = 0; i < count; i++) members.insert(element(random));
      image.set_members.assign(members.begin(), members.end());
      break;
    }
    case KeyStateType::kSortedSet: {
      std::map<std::string, double> members;
      for (size_t i = 0; i < count; i++) {
        members[element(random)] = static_cast<double>(random.uniform(5)) / 4;
      }
      image.sorted_set_members.assign(members.begin(), members.end());
      break;
    }
    case KeyStateType::kList:
      for (size_t i = 0; i < count; i++) image.list_elements.push_back(element(random));
      break;
  }
  if (random.one_in(3)) image.expires_at_unix_ms = kNowMs + 1000 + random.uniform(1000);
  return image;
}

// A state with a history: a few writes by several writers, each turning the key into a random
// image; sometimes it then expires or is deleted.
KeyState random_state(Random& random, uint64_t* clock_ms) {
  KeyState state;
  const size_t writes = random.uniform(4);
  for (size_t i = 0; i < writes; i++) {
    const WriteVersion version = at(++*clock_ms, 1 + random.uniform(3));
    const std::optional<KeyState> delta =
        change_delta(state, kNowMs, random_image(random), version);
    if (delta.has_value()) state.merge(*delta);
  }
  if (random.one_in(5)) state.merge(KeyState::expiry_set(at(++*clock_ms, 2), kNowMs - 1));
  if (random.one_in(6)) state.merge(KeyState::deleted(at(++*clock_ms, 3)));
  return state;
}

// Proves merging change_delta(before, after) into `before` reads back as `after`, for random
// befores and afters of every type.
TEST(KeyImageTest, TheDeltaTurnsTheStateIntoTheImage) {
  for (const uint64_t seed : test::test_seeds(7100, 2000, 100000)) {
    Random random(seed);
    uint64_t clock_ms = 1;
    const KeyState before = random_state(random, &clock_ms);
    KeyImage after = random_image(random);
    // Half the time, a change of the same type, as most commands make.
    const KeyImage current = image_of(before, kNowMs);
    if (random.one_in(2) && current.type != KeyStateType::kNone) {
      after = current;
      if (after.type == KeyStateType::kSet && after.set_members.size() > 1 && random.one_in(2)) {
        after.set_members.erase(after.set_members.begin());
      }
      if (after.type == KeyStateType::kHash && random.one_in(2)) {
        after.hash_fields.emplace_back("new", "v");
        std::sort(after.hash_fields.begin(), after.hash_fields.end());
      }
      if (after.type == KeyStateType::kList && random.one_in(2)) {
        after.list_elements.push_back("pushed");
      }
      if (after.type == KeyStateType::kString && random.one_in(2)) after.string_value += "+";
      if (random.one_in(3)) after.expires_at_unix_ms = random.one_in(2) ? 0 : kNowMs + 5000;
    }
    const std::optional<KeyState> delta =
        change_delta(before, kNowMs, after, at(++clock_ms, 1 + random.uniform(3)));
    KeyState result = before;
    if (delta.has_value()) result.merge(*delta);
    KeyImage expected = after;
    if (expected.type == KeyStateType::kNone) expected = KeyImage();
    ASSERT_EQ(image_of(result, kNowMs), expected) << "seed " << seed;
    if (image_of(before, kNowMs) == expected) {
      EXPECT_FALSE(delta.has_value()) << "seed " << seed;
    }
  }
}

// Proves a member another writer added concurrently (unseen by the command) survives the
// command's removal of other members: add-wins, as for SREM.
TEST(KeyImageTest, ConcurrentAdditionsSurviveRemovals) {
  KeyState before = KeyState::set_add(at(10, 1), {"a", "b"});
  KeyImage after = image_of(before, kNowMs);
  after.set_members = {"a"};  // the command removed b
  const std::optional<KeyState> delta = change_delta(before, kNowMs, after, at(20, 1));
  ASSERT_TRUE(delta.has_value());
  KeyState replica = before;
  replica.merge(KeyState::set_add(at(15, 2), {"b", "c"}));  // unseen by the command
  replica.merge(*delta);
  EXPECT_EQ(replica.set_members(kNowMs), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace cairn
