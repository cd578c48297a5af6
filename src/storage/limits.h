// The engine's bounds, in one place. Each is enforced with InvalidArgument at the API edge.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn {

// Engine keys carry a slot and type prefix in front of the user's key (whose own limit, 64 KiB,
// the server enforces), so the engine allows more.
constexpr size_t kKeyBytesMax = size_t{1} << 20;

// A write batch is one WAL record, whose length field is 32 bits.
constexpr size_t kWriteBatchBytesMax = UINT32_MAX;

}  // namespace cairn
