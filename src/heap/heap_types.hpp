// The vocabulary of the object heap: its limits, error codes, reports and statistics.
// docs/HEAP.md explains the design.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heap {

// kmalloc serves 1..kLargestClass bytes from size-class caches; larger requests, up to
// kLargestRequest, go to the frame allocator rounded up to whole frames.
inline constexpr std::size_t kLargestClass = 4096;
inline constexpr std::size_t kLargestRequest = std::size_t{8192} * 4096;
// Every kmalloc object starts on a 16-byte boundary, as malloc's do.
inline constexpr std::size_t kMinAlignment = 16;

enum class AllocError : std::uint8_t {
    invalid_size,   // 0 bytes, or more than kLargestRequest.
    out_of_memory,  // No frames for a new slab (after the frame allocator asked for a reclaim).
};

// Why a free was refused. A refused free changes nothing.
enum class FreeError : std::uint8_t {
    not_heap,          // The pointer lies in no frame the heap holds (or in a slab given back).
    not_object_start,  // Inside a slab or a large allocation, but not where an object starts.
    not_allocated,     // An object that is free in its slab: never handed out, or freed twice.
    double_free,       // An object already freed and waiting in a magazine: freed twice.
    wrong_cache,       // An object of another cache than the one asked to free it.
};

const char* to_string(FreeError error);

// A refused free, as the platform reports it: which cache (nullptr when the pointer belongs to
// none), what was passed, who called, on which CPU.
struct BadFree {
    FreeError error;
    const char* cache;
    const void* pointer;
    const void* caller;
    unsigned cpu;
};

enum class CorruptionKind : std::uint8_t {
    red_zone,  // The bytes after an object were overwritten: a write past its end.
    poison,    // A freed object was written to: a write after free.
};

// Debug build: the first byte found changed, at `offset` from the object's start.
struct Corruption {
    CorruptionKind kind;
    const char* cache;
    const void* object;
    std::size_t offset;
    std::uint8_t found;
    std::uint8_t expected;
};

// Named windows in the heap's code where a host test can park a thread (P::stop_point).
enum class StopPoint : std::uint8_t {
    depot_locked,          // Inside a magazine exchange, holding the cache's lock.
    slab_frames_unlocked,  // Between dropping the cache's lock and taking frames for a slab.
    reclaim_locked,        // Inside reclaim, holding a cache's lock.
};

// per_cpu: magazines on every CPU, the depot and slabs behind the cache's lock.
// global_lock: every allocation and free takes the cache's lock and works on the slabs: the
// baseline the benchmarks compare against.
enum class Mode : std::uint8_t { per_cpu, global_lock };

// One cache's figures; exact only when no CPU is inside the cache.
struct CacheStats {
    const char* name = "";
    std::size_t object_size = 0;
    std::size_t stride = 0;  // Object plus padding (and red zone in a debug build).
    std::uint32_t slab_frames = 0;
    std::uint32_t objects_per_slab = 0;
    std::uint64_t slabs = 0;
    std::uint64_t empty_slabs = 0;
    std::uint64_t in_use = 0;         // Handed to callers and not freed.
    std::uint64_t free_in_slabs = 0;  // In slabs, not in any magazine.
    std::uint64_t in_magazines = 0;   // In CPUs' magazines and the depot.
    std::uint64_t depot_full = 0;     // Full magazines in the depot.
    std::uint64_t depot_empty = 0;    // Empty magazines in the depot.
    std::uint64_t cpu_magazines = 0;  // Magazines loaded on CPUs.
    std::uint64_t allocations = 0;
    std::uint64_t frees = 0;
    std::uint64_t fast_allocations = 0;  // Served from the CPU's own magazines.
    std::uint64_t fast_frees = 0;
    std::uint64_t refused_frees = 0;
    std::uint64_t failed_allocations = 0;
    std::uint64_t slabs_created = 0;
    std::uint64_t slabs_released = 0;

    std::uint64_t frames_held() const { return slabs * slab_frames; }
    // Share of allocations and frees served by the CPU's magazines, in per mille.
    std::uint64_t hit_rate_per_mille() const {
        std::uint64_t all = allocations + frees;
        return all == 0 ? 0 : (fast_allocations + fast_frees) * 1000 / all;
    }
};

// The first broken invariant found, or ok.
struct InvariantReport {
    bool ok = true;
    const char* what = "ok";
    const char* cache = "";
    std::uint64_t expected = 0;
    std::uint64_t found = 0;

    static constexpr InvariantReport failure(const char* what, const char* cache,
                                             std::uint64_t expected, std::uint64_t found) {
        return {false, what, cache, expected, found};
    }
};

}  // namespace heap
