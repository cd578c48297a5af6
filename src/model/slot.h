// Slots: Redis Cluster's partition of the keyspace into 16384 slots, slot = CRC16(key) mod 16384
// with the {hash tag} rule (only the part between the first `{` and the next `}` is hashed when
// that part is non-empty), so related keys can share a slot. Every engine key begins with its
// slot, big-endian (engine_key.h), so a slot is one contiguous range of the engine.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace cairn {

constexpr uint16_t kSlotCount = 16384;

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection; as Redis's crc16.c.
uint16_t crc16_xmodem(std::string_view bytes);

// The part of `key` that is hashed: the {hash tag} if there is a non-empty one, else the key.
std::string_view hash_tag(std::string_view key);

// The slot of a user key, in [0, kSlotCount).
uint16_t key_slot(std::string_view key);

}  // namespace cairn
