// A CPU's cursor: which area it allocates from, whether it owns that area, and its statistics.
// One cache line per CPU, written only by that CPU, so the fast path touches no shared line.
//
// Every field is an atomic written with a relaxed load + store (never an RMW): there is one
// writer, so no update is lost, and other CPUs (statistics, the invariant check) can read the
// fields without a data race.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/allocator_types.hpp"

namespace mm {

struct alignas(64) CpuCursor {
    std::atomic<std::uint32_t> area{kNoArea};
    std::atomic<std::uint32_t> owns_area{0};  // 0 or 1: sharing CPUs point at areas they don't own.
    // Where this CPU's last free went: most frees go to the same area as the one before (a run
    // of frees of what was allocated together, or the CPU's own area), so a free looks there
    // before searching.
    std::atomic<std::uint32_t> last_freed_area{kNoArea};
#define MM_CPU_CURSOR_COUNTER(name) std::atomic<std::uint64_t> name{0};
    MM_CPU_COUNTERS(MM_CPU_CURSOR_COUNTER)
#undef MM_CPU_CURSOR_COUNTER

    template <typename T>
    static void set(std::atomic<T>& field, T value) {
        field.store(value, std::memory_order_relaxed);
    }
    template <typename T>
    static T get(const std::atomic<T>& field) {
        return field.load(std::memory_order_relaxed);
    }
    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) {
        counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }

    void reset() {
        set(area, kNoArea);
        set(owns_area, 0u);
        set(last_freed_area, kNoArea);
#define MM_CPU_CURSOR_RESET(name) set(name, std::uint64_t{0});
        MM_CPU_COUNTERS(MM_CPU_CURSOR_RESET)
#undef MM_CPU_CURSOR_RESET
    }

    CpuStats snapshot() const {
        CpuStats stats;
#define MM_CPU_CURSOR_SNAPSHOT(name) stats.name = get(name);
        MM_CPU_COUNTERS(MM_CPU_CURSOR_SNAPSHOT)
#undef MM_CPU_CURSOR_SNAPSHOT
        stats.area = get(area);
        stats.owns_area = get(owns_area) != 0;
        return stats;
    }
};

static_assert(sizeof(CpuCursor) == 128 && alignof(CpuCursor) == 64);
static_assert(offsetof(CpuCursor, area) == 0);

}  // namespace mm
