// kmalloc's size classes: 16 B to 4 KiB, two per doubling from 32 B (2^n and 1.5 * 2^n), so a
// request above 32 B loses less than a third of its class to rounding and there are only 16
// caches. A request goes to the smallest class that holds it, found with one table load.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "heap/heap_types.hpp"

namespace heap {

inline constexpr std::array<std::uint32_t, 16> kSizeClasses = {
    16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096};
static_assert(kSizeClasses.back() == kLargestClass);

// Index of the class for every size rounded up to 16 bytes: entry (size + 15) / 16.
struct SizeClassTable {
    std::array<std::uint8_t, kLargestClass / 16 + 1> entries{};

    constexpr SizeClassTable() {
        std::size_t cls = 0;
        for (std::size_t slot = 0; slot < entries.size(); ++slot) {
            while (kSizeClasses[cls] < slot * 16) {
                ++cls;
            }
            entries[slot] = std::uint8_t(cls);
        }
    }
};
inline constexpr SizeClassTable kSizeClassTable{};

// The class index for 1..kLargestClass bytes.
constexpr std::size_t size_class_of(std::size_t bytes) {
    return kSizeClassTable.entries[(bytes + 15) / 16];
}

}  // namespace heap
