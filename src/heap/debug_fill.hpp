// The debug build's checks on objects, like the frame allocator's debug fill: the bytes between
// an object's end and the next object (its red zone) hold kRedZoneByte for the slab's whole
// life, and a freed object of a cache without a constructor is filled with kPoisonByte. Both are
// checked when an object is handed out and the red zone again when it is freed, so a write past
// an object's end or into a freed object is reported with the cache's name (P::report_corruption)
// when the heap next touches the object. A cache with a constructor keeps its objects'
// constructed state while they are free, so it gets no poison, only red zones.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heap/heap_types.hpp"

namespace heap {

inline constexpr std::uint8_t kRedZoneByte = 0xbb;
inline constexpr std::uint8_t kPoisonByte = 0x6b;
// The least red zone a debug build puts after every object.
inline constexpr std::size_t kRedZoneBytes = 8;

inline void fill_bytes(void* start, std::size_t length, std::uint8_t value) {
    auto* bytes = static_cast<std::uint8_t*>(start);
    for (std::size_t i = 0; i < length; ++i) {
        bytes[i] = value;
    }
}

// The offset of the first byte in [from, to) of the object that is not `value`, or `to`.
inline std::size_t first_changed(const void* object, std::size_t from, std::size_t to,
                                 std::uint8_t value) {
    const auto* bytes = static_cast<const std::uint8_t*>(object);
    for (std::size_t i = from; i < to; ++i) {
        if (bytes[i] != value) {
            return i;
        }
    }
    return to;
}

template <typename P>
void check_fill(const char* cache, const void* object, std::size_t from, std::size_t to,
                std::uint8_t value, CorruptionKind kind) {
    std::size_t at = first_changed(object, from, to, value);
    if (at != to) {
        P::report_corruption(
            {kind, cache, object, at, static_cast<const std::uint8_t*>(object)[at], value});
    }
}

}  // namespace heap
