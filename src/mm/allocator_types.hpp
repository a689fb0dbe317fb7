// The vocabulary of the physical frame allocator: its limits, its error codes and the plain
// structs its statistics and invariant checks return. See docs/DESIGN.md for the design.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mm/frame.hpp"

namespace mm {

// An area is at most 8192 frames = 32 MiB. Its bitmap is then 1 KiB (16 cache lines) and a
// recalculation of one area reads 128 words; a 16 GiB machine has about 512 areas and a
// 128 MiB one about 4. 32 MiB is a multiple of 2 MiB, so a 2 MiB-aligned run never crosses an
// area boundary.
// The exercises of docs/LEARNING.md rebuild the kernel with another size (make AREA_FRAMES=N).
#ifndef MARKEROS_AREA_FRAMES
#define MARKEROS_AREA_FRAMES 8192
#endif
inline constexpr std::uint32_t kFramesPerArea = MARKEROS_AREA_FRAMES;
inline constexpr std::uint64_t kAreaBytes = std::uint64_t{kFramesPerArea} * kFrameSize;
static_assert(kFramesPerArea >= kFramesPerHugeFrame && kFramesPerArea <= 8192,
              "an area holds 1 to 16 blocks of 2 MiB: its markers are 14-bit fields and its block "
              "counters share the state word's cache line");
static_assert(kFramesPerArea % kFramesPerHugeFrame == 0);

// A partly used area is taken over in preference to emptier ones only while it still has this
// many frames free: a take-over must pay for itself by serving at least a 2 MiB block's worth.
// (make TAKE_OVER_FLOOR=N tries another value.)
#ifndef MARKEROS_TAKE_OVER_FLOOR
#define MARKEROS_TAKE_OVER_FLOOR kFramesPerHugeFrame
#endif
inline constexpr std::uint32_t kTakeOverFloorFrames = MARKEROS_TAKE_OVER_FLOOR;

// The largest single request and the largest alignment, in frames: one whole area.
inline constexpr std::size_t kMaxAllocationFrames = kFramesPerArea;
inline constexpr std::size_t kMaxAlignmentFrames = kFramesPerArea;

// No area, no CPU: both marked with all ones so a zeroed field never means "none".
inline constexpr std::uint32_t kNoArea = ~std::uint32_t{0};
inline constexpr std::uint32_t kNoOwner = ~std::uint32_t{0};

// The default number of per-CPU cursors; the kernel supports 256 CPUs.
inline constexpr std::size_t kDefaultMaxCpus = 256;

enum class AllocError : std::uint8_t {
    invalid_request,  // frames == 0, frames > kMaxAllocationFrames, or a bad alignment.
    out_of_memory,    // No n free frames at that alignment, even after a full search.
};

enum class FreeError : std::uint8_t {
    misaligned,     // The address is not at the start of a frame.
    invalid_size,   // frames == 0 or more than an area can hold.
    outside_areas,  // Some frame is in no area, or the range spans two areas.
    not_allocated,  // Some frame is already free: a double free (or a lost free race).
};

enum class InitError : std::uint8_t {
    invalid_regions,    // Unsorted, overlapping, empty or not 4 KiB aligned.
    buffer_misaligned,  // The metadata buffer must be 64-byte aligned.
    buffer_too_small,   // Smaller than metadata_bytes(regions).
    too_many_areas,     // More than 2^32 - 1 areas: an index would not fit.
};

// per_cpu: every CPU allocates from the area its cursor points at, without a lock.
// global_lock: every call takes one lock and uses one shared cursor: the baseline.
enum class Mode : std::uint8_t { per_cpu, global_lock };

struct Totals {
    std::uint64_t total_frames = 0;
    std::uint64_t free_frames = 0;  // Sum of the per-area free counts.
    std::uint64_t allocated_frames = 0;
};

struct AreaInfo {
    PhysAddr base = 0;
    std::uint32_t frames = 0;
    std::uint32_t free = 0;
    std::uint32_t marker = 0;  // [marker, limit) is the extent believed free.
    std::uint32_t limit = 0;
    std::uint32_t owner = kNoOwner;
    std::uint64_t recalculations = 0;  // Times a rescan moved this area's extent.
    std::uint64_t version = 0;         // Updates published to the extent (wraps at 2^36).
    std::uint32_t free_blocks = 0;     // 2 MiB blocks entirely free.
    std::uint32_t whole_blocks = 0;    // 2 MiB blocks handed out whole (one counter step).
};

// Every per-CPU counter, declared once: CpuStats, the cursor's atomics, their reset and their
// snapshot are all made from this list, so adding a counter is one line here.
#define MM_CPU_COUNTERS(X)                                                         \
    X(allocations)                                                                 \
    X(frees)                                                                       \
    X(remote_frees) /* frees of frames in an area this CPU does not own */         \
    X(frames_allocated)                                                            \
    X(frames_freed)                                                                \
    X(area_claims)    /* hand-overs: this CPU took ownership of an unowned area */ \
    X(shares)         /* moves to an area another CPU owns, without owning it */   \
    X(recalculations) /* whole-memory recalculation passes this CPU ran */         \
    X(area_rescans)   /* rescans of its own area for its largest free run */       \
    X(extent_sweeps)  /* moves of its area's extent to the next run that fits */   \
    X(last_resort_searches)                                                        \
    X(lock_spins) /* failed try_lock attempts on the allocator's locks */          \
    X(failed_allocations)                                                          \
    X(rejected_frees)

// Written only by the CPU it describes; anyone may read it (relaxed atomics underneath).
struct CpuStats {
#define MM_CPU_STATS_FIELD(name) std::uint64_t name = 0;
    MM_CPU_COUNTERS(MM_CPU_STATS_FIELD)
#undef MM_CPU_STATS_FIELD
    std::uint32_t area = kNoArea;  // Where this CPU's cursor points.
    bool owns_area = false;
};

// Free memory in whole 2 MiB pages: free frames that lie in entirely free, 2 MiB-aligned blocks
// of 512 frames, as a share of all free frames. Integers only: the kernel has no FPU state.
struct Fragmentation {
    std::uint64_t free_frames = 0;
    std::uint64_t free_huge_blocks = 0;
    std::uint64_t frames_in_free_huge_blocks = 0;

    // 1000 when every free frame could back a 2 MiB page, 0 when none could.
    constexpr std::uint64_t huge_block_share_per_mille() const {
        return free_frames == 0 ? 1000 : frames_in_free_huge_blocks * 1000 / free_frames;
    }
};

// The first broken invariant found, or ok. `what` is a static string naming the check.
struct InvariantReport {
    bool ok = true;
    const char* what = "ok";
    std::uint32_t area = kNoArea;
    std::uint32_t cpu = kNoOwner;
    std::uint64_t expected = 0;
    std::uint64_t found = 0;

    static constexpr InvariantReport failure(const char* what, std::uint32_t area,
                                             std::uint64_t expected, std::uint64_t found,
                                             std::uint32_t cpu = kNoOwner) {
        return {false, what, area, cpu, expected, found};
    }
};

}  // namespace mm
