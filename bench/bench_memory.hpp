// The fake physical memory every benchmark manages: three usable regions shaped like a PC's map
// (a low region that starts at 1 MiB, one below the 4 GiB PCI hole, one above 4 GiB), adding up
// to the requested size less the first MiB. The allocators never touch this memory: addresses
// are numbers. Every area is a whole 32 MiB but the first (31 MiB), so the area a CPU ends up
// in after filling memory is a full-sized one.
//
// The size is 4 GiB unless BENCH_MEMORY_MIB says otherwise (a multiple of 64, at least 64);
// the smoke run uses a small one so that `make test` only checks that everything runs.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/units.hpp"
#include "mm/frame.hpp"

namespace bench {

inline constexpr std::uint64_t kDefaultMemoryMiB = 4096;

// The managed size in MiB: BENCH_MEMORY_MIB, or 4096. 0 if the variable is malformed.
inline std::uint64_t memory_mib_from_environment() {
    const char* text = std::getenv("BENCH_MEMORY_MIB");
    if (text == nullptr || *text == '\0') {
        return kDefaultMemoryMiB;
    }
    char* end = nullptr;
    unsigned long long mib = std::strtoull(text, &end, 10);
    if (*end != '\0' || mib < 64 || mib % 64 != 0 || mib > 64 * 1024) {
        return 0;
    }
    return mib;
}

// Half of the memory at [1 MiB, total/2), a quarter at [2.25 GiB, ...) and a quarter at
// [4 GiB, ...): for 4 GiB that is 2047 + 1024 + 1024 = 4095 MiB.
inline std::vector<mm::PhysRange> bench_regions(std::uint64_t total_mib) {
    std::uint64_t total = total_mib * lib::MiB;
    std::uint64_t low_begin = 1 * lib::MiB;
    std::uint64_t middle_begin = 2 * lib::GiB + 256 * lib::MiB;
    std::uint64_t high_begin = 4 * lib::GiB;
    return {
        {low_begin, total / 2},
        {middle_begin, middle_begin + total / 4},
        {high_begin, high_begin + total / 4},
    };
}

inline std::uint64_t total_bytes(const std::vector<mm::PhysRange>& regions) {
    std::uint64_t bytes = 0;
    for (const mm::PhysRange& region : regions) {
        bytes += region.size();
    }
    return bytes;
}

inline std::string describe_regions(const std::vector<mm::PhysRange>& regions) {
    std::string text;
    for (const mm::PhysRange& region : regions) {
        text += text.empty() ? "" : ", ";
        text += "[" + std::to_string(region.begin / lib::MiB) + " MiB, " +
                std::to_string(region.end / lib::MiB) + " MiB)";
    }
    return text;
}

}  // namespace bench
