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
    std::atomic<std::uint64_t> allocations{0};
    std::atomic<std::uint64_t> frees{0};
    std::atomic<std::uint64_t> remote_frees{0};
    std::atomic<std::uint64_t> frames_allocated{0};
    std::atomic<std::uint64_t> frames_freed{0};
    std::atomic<std::uint64_t> area_claims{0};
    std::atomic<std::uint64_t> shares{0};
    std::atomic<std::uint64_t> recalculations{0};
    std::atomic<std::uint64_t> area_rescans{0};
    std::atomic<std::uint64_t> extent_sweeps{0};
    std::atomic<std::uint64_t> last_resort_searches{0};
    std::atomic<std::uint64_t> lock_spins{0};
    std::atomic<std::uint64_t> failed_allocations{0};
    std::atomic<std::uint64_t> rejected_frees{0};

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
        std::atomic<std::uint64_t>* counters[] = {&allocations,
                                                  &frees,
                                                  &remote_frees,
                                                  &frames_allocated,
                                                  &frames_freed,
                                                  &area_claims,
                                                  &shares,
                                                  &recalculations,
                                                  &area_rescans,
                                                  &extent_sweeps,
                                                  &last_resort_searches,
                                                  &lock_spins,
                                                  &failed_allocations,
                                                  &rejected_frees};
        for (std::atomic<std::uint64_t>* counter : counters) {
            set(*counter, std::uint64_t{0});
        }
    }

    CpuStats snapshot() const {
        CpuStats stats;
        stats.allocations = get(allocations);
        stats.frees = get(frees);
        stats.remote_frees = get(remote_frees);
        stats.frames_allocated = get(frames_allocated);
        stats.frames_freed = get(frames_freed);
        stats.area_claims = get(area_claims);
        stats.shares = get(shares);
        stats.recalculations = get(recalculations);
        stats.area_rescans = get(area_rescans);
        stats.extent_sweeps = get(extent_sweeps);
        stats.last_resort_searches = get(last_resort_searches);
        stats.lock_spins = get(lock_spins);
        stats.failed_allocations = get(failed_allocations);
        stats.rejected_frees = get(rejected_frees);
        stats.area = get(area);
        stats.owns_area = get(owns_area) != 0;
        return stats;
    }
};

static_assert(sizeof(CpuCursor) == 128 && alignof(CpuCursor) == 64);
static_assert(offsetof(CpuCursor, area) == 0);

}  // namespace mm
