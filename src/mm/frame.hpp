// The vocabulary of physical memory shared by the memory map, the region builder and the
// allocator. Plain integers: physical addresses are never dereferenced in src/mm/.
#pragma once

#include <cstdint>

namespace mm {

using PhysAddr = std::uint64_t;

inline constexpr std::uint64_t kFrameShift = 12;
inline constexpr std::uint64_t kFrameSize = std::uint64_t{1} << kFrameShift;
inline constexpr std::uint64_t kHugeFrameSize = std::uint64_t{2} << 20;  // one 2 MiB page
inline constexpr std::uint64_t kFramesPerHugeFrame = kHugeFrameSize / kFrameSize;

constexpr std::uint64_t align_down(std::uint64_t value, std::uint64_t alignment) {
    return value & ~(alignment - 1);
}

// Saturates instead of wrapping, so a range ending near 2^64 cannot become a tiny one.
constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
    std::uint64_t rounded = value + (alignment - 1);
    return rounded < value ? align_down(~std::uint64_t{0}, alignment)
                           : align_down(rounded, alignment);
}

// A half-open physical range [begin, end).
struct PhysRange {
    PhysAddr begin = 0;
    PhysAddr end = 0;

    constexpr std::uint64_t size() const { return end > begin ? end - begin : 0; }
    constexpr bool empty() const { return end <= begin; }
    constexpr bool contains(PhysAddr address) const { return address >= begin && address < end; }
    constexpr bool overlaps(PhysRange other) const {
        return begin < other.end && other.begin < end;
    }
};

}  // namespace mm
