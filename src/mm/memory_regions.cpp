#include "mm/memory_regions.hpp"

namespace mm {
namespace {

constexpr PhysAddr kLastAddress = ~PhysAddr{0};

// A half-open range cannot end at 2^64, so an entry reaching past it loses its last byte.
PhysRange clamped_range(const MemoryMapEntry& entry) {
    const PhysAddr end = entry.base + entry.length;
    return PhysRange{entry.base, end < entry.base ? kLastAddress : end};
}

// The type that governs `address`: the strictest of the entries covering it, ties going to the
// larger raw value so that the result does not depend on the order of the map.
bool stronger(std::uint32_t candidate, std::uint32_t current) {
    const int a = strictness(candidate);
    const int b = strictness(current);
    return a != b ? a > b : candidate > current;
}

// Sweeps the boundaries of all entries in address order. Between two consecutive boundaries
// the set of covering entries is fixed, so each such piece gets exactly one type; this resolves
// overlaps and sorts in one pass without scratch storage, at O(n^2) for n entries.
void normalize(std::span<const MemoryMapEntry> map, MemoryLayout& out) {
    bool any = false;
    PhysAddr cursor = kLastAddress;
    for (const MemoryMapEntry& entry : map) {
        if (entry.length == 0) {
            ++out.empty_entries;
            continue;
        }
        if (entry.base + entry.length < entry.base) {
            ++out.clamped_entries;
        }
        const PhysRange range = clamped_range(entry);
        if (!range.empty() && range.begin <= cursor) {
            cursor = range.begin;
            any = true;
        }
    }

    while (any) {
        bool covered = false;
        std::uint32_t type = 0;
        bool has_next = false;
        PhysAddr next = kLastAddress;
        for (const MemoryMapEntry& entry : map) {
            const PhysRange range = clamped_range(entry);
            if (range.empty() || range.end <= cursor) {
                continue;
            }
            const PhysAddr boundary = range.begin > cursor ? range.begin : range.end;
            if (boundary <= next) {
                next = boundary;
                has_next = true;
            }
            if (range.contains(cursor) && (!covered || stronger(entry.type, type))) {
                type = entry.type;
                covered = true;
            }
        }
        if (!has_next) {
            return;
        }
        if (covered) {
            MapRegion* last =
                out.normalized.empty() ? nullptr : &out.normalized[out.normalized.size() - 1];
            if (last != nullptr && last->range.end == cursor && last->type == type) {
                last->range.end = next;
            } else if (!out.normalized.push_back(MapRegion{PhysRange{cursor, next}, type})) {
                out.normalized_overflow = true;
                return;
            }
        }
        cursor = next;
    }
}

// Reservations cover every frame they touch, so a partly reserved frame is never handed out.
PhysRange outward(const ReservedRange& reserved) {
    if (reserved.range.empty()) {
        return PhysRange{};
    }
    return PhysRange{align_down(reserved.range.begin, kFrameSize),
                     align_up(reserved.range.end, kFrameSize)};
}

// Adds the frame-aligned [begin, end) minus every reservation. Returns false when full.
bool add_usable(PhysAddr begin, PhysAddr end, std::span<const ReservedRange> reserved,
                MemoryLayout& out) {
    PhysAddr cursor = begin;
    while (cursor < end) {
        for (bool moved = true; moved;) {
            moved = false;
            for (const ReservedRange& r : reserved) {
                const PhysRange hole = outward(r);
                if (hole.contains(cursor)) {
                    cursor = hole.end;
                    moved = true;
                }
            }
        }
        if (cursor >= end) {
            return true;
        }
        PhysAddr next = end;
        for (const ReservedRange& r : reserved) {
            const PhysRange hole = outward(r);
            if (!hole.empty() && hole.begin > cursor && hole.begin < next) {
                next = hole.begin;
            }
        }
        if (!out.usable.push_back(PhysRange{cursor, next})) {
            out.usable_overflow = true;
            return false;
        }
        out.usable_bytes += next - cursor;
        cursor = next;
    }
    return true;
}

void reset(MemoryLayout& out) {
    out.normalized.clear();
    out.usable.clear();
    out.usable_bytes = 0;
    out.beyond_limit_bytes = 0;
    out.empty_entries = 0;
    out.clamped_entries = 0;
    out.normalized_overflow = false;
    out.usable_overflow = false;
}

}  // namespace

void build_memory_layout(std::span<const MemoryMapEntry> map,
                         std::span<const ReservedRange> reserved, MemoryLayout& out,
                         PhysAddr limit) {
    reset(out);
    normalize(map, out);
    for (const MapRegion& region : out.normalized) {
        if (region.type != raw(MemoryType::available)) {
            continue;
        }
        PhysRange below = region.range;
        if (below.end > limit) {
            below.end = below.begin > limit ? below.begin : limit;
            out.beyond_limit_bytes += region.range.size() - below.size();
        }
        // The allocator deals in whole frames, so partial frames at either end are unusable.
        const PhysAddr begin = align_up(below.begin, kFrameSize);
        const PhysAddr end = align_down(below.end, kFrameSize);
        if (begin < end && !add_usable(begin, end, reserved, out)) {
            return;
        }
    }
}

std::uint64_t bytes_of_type(const MemoryLayout& layout, std::uint32_t type) {
    std::uint64_t total = 0;
    for (const MapRegion& region : layout.normalized) {
        if (region.type == type) {
            total += region.range.size();
        }
    }
    return total;
}

bool MemoryLayout::check_invariants() const {
    for (std::size_t i = 0; i < normalized.size(); ++i) {
        const MapRegion& region = normalized[i];
        if (region.range.empty()) {
            return false;
        }
        if (i > 0) {
            const MapRegion& previous = normalized[i - 1];
            if (previous.range.end > region.range.begin) {
                return false;
            }
            if (previous.range.end == region.range.begin && previous.type == region.type) {
                return false;
            }
        }
    }
    std::uint64_t total = 0;
    std::size_t home = 0;  // Index of the normalized region holding the current usable range.
    for (std::size_t i = 0; i < usable.size(); ++i) {
        const PhysRange range = usable[i];
        if (range.empty() || range.begin % kFrameSize != 0 || range.end % kFrameSize != 0) {
            return false;
        }
        if (i > 0 && usable[i - 1].end >= range.begin) {
            return false;
        }
        while (home < normalized.size() && normalized[home].range.end < range.end) {
            ++home;
        }
        if (home == normalized.size() || normalized[home].type != raw(MemoryType::available) ||
            normalized[home].range.begin > range.begin) {
            return false;
        }
        total += range.size();
    }
    return total == usable_bytes;
}

}  // namespace mm
