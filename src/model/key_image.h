// KeyImage: what a reader sees of one key at one moment (its type, value or elements, and its
// expiry), without the versions and tombstones of its KeyState. The cluster front end runs a
// command on the images of its keys (server/cluster_scratch.h) and turns each key's change into
// a KeyState delta with change_delta(), so that every Redis command's semantics live in one
// place (the single node's handlers) while replicas merge by the CRDT rules.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/key_state.h"

namespace cairn {

struct KeyImage {
  KeyStateType type = KeyStateType::kNone;
  std::string string_value;
  std::vector<std::pair<std::string, std::string>> hash_fields;    // ascending by field
  std::vector<std::string> set_members;                            // ascending
  std::vector<std::pair<std::string, double>> sorted_set_members;  // ascending by member
  std::vector<std::string> list_elements;                          // head first
  int64_t expires_at_unix_ms = 0;                                  // 0: none

  bool operator==(const KeyImage&) const = default;
};

// The key as a reader whose clock says now_unix_ms sees `state`.
KeyImage image_of(const KeyState& state, int64_t now_unix_ms);

// The delta, versioned `version`, that turns `before` (a key's merged state, read at now_unix_ms)
// into one whose image is `after`; nullopt when the image does not change. Elements are written
// as they changed: hash fields and sorted set members one by one (set or deleted), set members
// added or removed (removing the additions `before` holds), a list or a string whole. A key that
// changes type, or that `before` holds only expired or deleted, is written whole.
// REQUIRES: version is newer than before.newest_version().
std::optional<KeyState> change_delta(const KeyState& before, int64_t now_unix_ms,
                                     const KeyImage& after, WriteVersion version);

}  // namespace cairn
