// Turns a firmware memory map plus the kernel's own reservations into the list of frames the
// physical allocator may hand out. Firmware maps overlap, come unsorted and carry zero-length
// or wrapping entries; the output is sorted, disjoint, page-aligned and never includes a byte
// that any entry marks as anything but available.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/static_vector.hpp"
#include "mm/frame.hpp"
#include "mm/memory_region_types.hpp"

namespace mm {

// One entry of the normalized map: disjoint from its neighbours and never adjacent to one of
// the same type, so the log shows each stretch of memory once.
struct MapRegion {
    PhysRange range;
    std::uint32_t type = 0;  // Raw firmware type; see strictness() for how overlaps resolve.
};

struct MemoryLayout {
    static constexpr std::size_t kMaxRegions = 512;

    lib::StaticVector<MapRegion, kMaxRegions> normalized;
    lib::StaticVector<PhysRange, kMaxRegions> usable;
    std::uint64_t usable_bytes = 0;

    // Available memory at or above the limit build_memory_layout was given (what the CPU can
    // address, what the direct map covers): in the normalized map, never usable.
    std::uint64_t beyond_limit_bytes = 0;

    std::size_t empty_entries = 0;    // Zero-length firmware entries, dropped.
    std::size_t clamped_entries = 0;  // Entries whose end passed 2^64, cut at 2^64 - 1.
    // On overflow the tail is dropped. That only ever loses memory, never reserves less: the
    // usable list is built from the normalized one, which is cut in address order.
    bool normalized_overflow = false;
    bool usable_overflow = false;

    bool complete() const { return !normalized_overflow && !usable_overflow; }

    // Both lists sorted, disjoint and non-empty; no two normalized neighbours that touch share
    // a type; usable ranges page-aligned, inside available normalized regions, and summing to
    // usable_bytes. Tests call this after every step.
    bool check_invariants() const;
};

// No limit: every available address up to 2^64 - 1 may be usable.
inline constexpr PhysAddr kNoAddressLimit = ~PhysAddr{0};

// Rebuilds `out` from scratch. ACPI-reclaimable memory is not made usable: the ACPI tables live
// there and the kernel does not copy them out yet, so reusing it would destroy them. Usable
// ranges end at `limit` (exclusive, rounded down to a frame): the kernel passes the lower of
// the CPU's physical address width and the end of its direct map, so that the allocator never
// hands out a frame the CPU cannot address or the kernel cannot reach.
void build_memory_layout(std::span<const MemoryMapEntry> map,
                         std::span<const ReservedRange> reserved, MemoryLayout& out,
                         PhysAddr limit = kNoAddressLimit);

// Bytes of the normalized map with exactly this raw type.
std::uint64_t bytes_of_type(const MemoryLayout& layout, std::uint32_t type);

}  // namespace mm
