// The physical frame allocator: memory cut into areas of at most 32 MiB, each with a marker at
// the start of its (believed) largest free extent; allocation takes frames at the marker and
// moves it up in O(1); a recalculation puts stale markers right only when allocation runs out.
// docs/DESIGN.md explains the design and answers the doubts about the original idea.
//
// THE SAFETY INVARIANT. The bitmap is the only truth. A frame is handed out only by an atomic
// free->allocated transition of its bit (a compare-exchange that verifies the bits were free),
// which exactly one CPU can win; a frame is freed only by an atomic allocated->free transition
// that verifies the bits were allocated. Markers, limits, free counts, cursors and area
// ownership are hints that affect speed, never safety.
//
// Usage: FrameAllocator<Platform> allocator; allocator.init(regions, buffer, bytes) with a
// 64-byte aligned buffer of metadata_bytes(regions) bytes; then allocate()/free() from any CPU.
// The allocator must not be re-entered on one CPU (see allocator_platform.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/result.hpp"
#include "mm/allocator_area.hpp"
#include "mm/allocator_area_claim.hpp"
#include "mm/allocator_area_release.hpp"
#include "mm/allocator_area_scan.hpp"
#include "mm/allocator_area_table.hpp"
#include "mm/allocator_blocks.hpp"
#include "mm/allocator_cursor.hpp"
#include "mm/allocator_debug_fill.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/allocator_types.hpp"
#include "mm/frame.hpp"

namespace mm {

template <AllocatorPlatform P, bool kDebugFill = false, std::size_t kMaxCpus = kDefaultMaxCpus>
class FrameAllocator {
    static_assert(kMaxCpus > 0 && kMaxCpus < AreaSummary::kNone,
                  "CPU indices must fit the owner half of an area's summary");

  public:
    FrameAllocator() = default;
    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    // Bytes of metadata init() needs for these regions: per area a 128-byte descriptor (with the
    // block counters), its base frame in the lookup array (8 bytes), its take-over summary (4
    // bytes) and a 1 KiB bitmap (twice that with debug fill), and the window table: about
    // 36.6 KiB per GiB.
    static std::size_t metadata_bytes(std::span<const PhysRange> regions) {
        return AreaTable::metadata_bytes(regions, kDebugFill);
    }

    // Takes sorted, disjoint, 4 KiB aligned regions and a 64-byte aligned buffer of at least
    // metadata_bytes(regions) bytes, which the allocator uses until it is re-initialised. All
    // frames start free and every cursor starts without an area. Not thread-safe.
    lib::Status<InitError> init(std::span<const PhysRange> regions, void* buffer,
                                std::size_t bytes) {
        for (CpuCursor& cursor : cursors_) {
            cursor.reset();
        }
        shared_cursor_.reset();
        recalculation_generation_.store(0, std::memory_order_relaxed);
        lib::Status<InitError> status = areas_.init(regions, buffer, bytes, kDebugFill);
        // O(memory): every bitmap recounted against its area.
        MM_DEBUG_ASSERT(P, !status.ok() || check_invariants().ok);
        return status;
    }

    // `frames` contiguous frames whose physical address is a multiple of align_frames frames.
    // Errors: invalid_request (frames not in 1..8192, alignment not a power of two <= 8192),
    // out_of_memory (no such run is free, after a recalculation and an exhaustive search).
    // Per-CPU mode: the CPU's own cursor, no lock. Otherwise (or for a CPU index beyond the
    // cursors) the global lock and the shared cursor.
    // When the reclaim hook is set and memory runs out, the hook runs (holding none of the
    // allocator's locks) and, if it gave any frames back, the request is tried once more.
    lib::Result<PhysAddr, AllocError> allocate(std::size_t frames, std::size_t align_frames = 1) {
        auto result = allocate_once(frames, align_frames);
        if (!result && result.error() == AllocError::out_of_memory && reclaim_hook_ != nullptr &&
            reclaim_hook_(reclaim_context_) != 0) {
            return allocate_once(frames, align_frames);
        }
        return result;
    }

    // Called when a request would fail for lack of memory, before it fails: it may give frames
    // back (the object heap's reclaim) and returns how many; if any, the search runs once more.
    // The allocator holds none of its locks while the hook runs, so the hook may free frames.
    using ReclaimHook = std::size_t (*)(void* context);
    // Only before other CPUs use the allocator.
    void set_reclaim_hook(ReclaimHook hook, void* context) {
        reclaim_hook_ = hook;
        reclaim_context_ = context;
    }

  private:
    // One attempt: the global lock of global-lock mode is held inside it only, so the reclaim
    // hook runs between attempts holding nothing.
    lib::Result<PhysAddr, AllocError> allocate_once(std::size_t frames, std::size_t align_frames) {
        unsigned cpu = P::cpu_index();
        if (cpu < kMaxCpus && mode() == Mode::per_cpu) {
            Caller caller{cursors_[cpu], cursors_[cpu], cpu, true};
            return allocate_with(caller, frames, align_frames);
        }
        std::uint64_t spins = 0;
        SpinCountingGuard<P> guard(global_lock_, spins);
        Caller caller = locked_caller(cpu, spins);
        return allocate_with(caller, frames, align_frames);
    }

  public:
    // Frees `frames` frames starting at `address`. Errors: misaligned, invalid_size (0 or more
    // than an area), outside_areas (not inside one area), not_allocated (a frame is already
    // free; nothing changed — or, when two CPUs race to free the same frames, the other CPU
    // freed some of them first and this call freed exactly the rest).
    lib::Status<FreeError> free(PhysAddr address, std::size_t frames) {
        unsigned cpu = P::cpu_index();
        if (cpu < kMaxCpus && mode() == Mode::per_cpu) {
            Caller caller{cursors_[cpu], cursors_[cpu], cpu, true};
            return free_with(caller, address, frames);
        }
        std::uint64_t spins = 0;
        SpinCountingGuard<P> guard(global_lock_, spins);
        Caller caller = locked_caller(cpu, spins);
        return free_with(caller, address, frames);
    }

    // Only while no CPU is inside the allocator. Leaving per_cpu mode gives up every area:
    // ownership only exists in per-CPU mode, and global-lock mode starts from a clean slate.
    void set_mode(Mode mode) {
        for (CpuCursor& cursor : cursors_) {
            if (CpuCursor::get(cursor.owns_area) != 0) {
                MM_ASSERT(P, CpuCursor::get(cursor.area) < areas_.count());
                areas_.let_go(CpuCursor::get(cursor.area));
            }
            CpuCursor::set(cursor.area, kNoArea);
            CpuCursor::set(cursor.owns_area, 0u);
        }
        CpuCursor::set(shared_cursor_.area, kNoArea);
        mode_.store(mode, std::memory_order_relaxed);
    }
    Mode mode() const { return mode_.load(std::memory_order_relaxed); }

    // Statistics: cheap reads of hints, exact at quiescent points.
    Totals totals() const;
    std::size_t area_count() const { return areas_.count(); }
    AreaInfo area_info(std::size_t index) const;
    CpuStats cpu_stats(unsigned cpu) const;
    std::uint64_t recalculation_count() const {
        return recalculation_generation_.load(std::memory_order_relaxed);
    }
    // A whole-memory recalculation now, as allocation runs one when nothing fits anywhere: for
    // measuring its cost. Safe at any time (it only moves hints); skips areas whose extent is
    // already their largest free run.
    void recalculate() {
        unsigned cpu = P::cpu_index();
        CpuCursor& stats = cpu < kMaxCpus ? cursors_[cpu] : shared_cursor_;
        recalculate_unless_done(recalculation_generation_.load(std::memory_order_acquire), stats);
    }

    // One area's rescan for its largest free run now, as allocation runs one when a CPU's sweep
    // reaches the end of its area: for measuring its cost. Returns whether the extent was set
    // (false if it already held every free frame of the area, the area kept changing, or there
    // is no area `index`).
    bool rescan_area(std::size_t index) {
        return index < areas_.count() &&
               mm::rescan_area<P>(areas_[static_cast<std::uint32_t>(index)]);
    }

    // Scans every bitmap: O(memory).
    Fragmentation fragmentation() const;
    // Recounts every bitmap and cross-checks areas and cursors. Valid only at quiescent points.
    InvariantReport check_invariants() const;

  private:
    // Who is calling, and through which cursor: what every step of allocate and free needs.
    struct Caller {
        CpuCursor& cursor;  // The one this mode allocates through: the CPU's, or the shared one.
        CpuCursor& stats;   // Where this CPU's counters go.
        unsigned cpu;
        bool per_cpu;  // Per-CPU mode: cursors own areas. Else the global lock is held.
    };

    // Under the global lock: the shared cursor; an out-of-range CPU also keeps its counters in
    // it, which the lock protects.
    Caller locked_caller(unsigned cpu, std::uint64_t spins) {
        CpuCursor& stats = cpu < kMaxCpus ? cursors_[cpu] : shared_cursor_;
        CpuCursor::add(stats.lock_spins, spins);
        return {shared_cursor_, stats, cpu, false};
    }

    // Frames claimed somewhere: which area, at which offset. area == kNoArea: nothing.
    struct Placement {
        std::uint32_t area = kNoArea;
        std::uint32_t offset = 0;
    };

    // Selecting and claiming in another area is retried this often before recalculating.
    static constexpr unsigned kSelectionRounds = 4;
    // Take-over candidates whose hint is checked (and refreshed) before a take-over gives up.
    static constexpr unsigned kTakeOverChecks = 8;
    // Recalculations started by others are waited out this often before the last resort.
    static constexpr unsigned kRecalculationPasses = 3;

    // Power of two tested by hand: std::has_single_bit becomes a libgcc popcount call.
    static constexpr bool request_valid(std::size_t frames, std::size_t alignment) {
        bool power_of_two = alignment != 0 && (alignment & (alignment - 1)) == 0;
        return frames >= 1 && frames <= kMaxAllocationFrames && power_of_two &&
               alignment <= kMaxAlignmentFrames;
    }

    lib::Result<PhysAddr, AllocError> allocate_with(Caller& caller, std::size_t frames,
                                                    std::size_t alignment) {
        if (!request_valid(frames, alignment)) {
            CpuCursor::add(caller.stats.failed_allocations);
            return lib::fail(AllocError::invalid_request);
        }
        auto count = static_cast<std::uint32_t>(frames);
        std::uint32_t area = CpuCursor::get(caller.cursor.area);
        if (area < areas_.count()) {
            AreaClaim claim = claim_at_marker<P>(areas_[area], count, alignment);
            if (claim.result == ClaimResult::claimed) {
                return finish_allocation(caller, {area, claim.offset}, count);
            }
            claim = claim_after_marker(caller, area, count, alignment);
            if (claim.result == ClaimResult::claimed) {
                return finish_allocation(caller, {area, claim.offset}, count);
            }
        }
        Placement placement = allocate_slow(caller, count, alignment);
        if (placement.area == kNoArea) {
            CpuCursor::add(caller.stats.failed_allocations);
            return lib::fail(AllocError::out_of_memory);
        }
        return finish_allocation(caller, placement, count);
    }

    // The original idea, area by area: the marker ran out, so look again in this area (one KiB
    // of bitmap, mostly in this CPU's cache) before leaving it. First onward from the extent for
    // the next free run that fits; at the end of the area, a rescan for its real largest free
    // extent. Frames freed behind the marker, by this CPU or by remote frees, are found again
    // without the lock or the other areas.
    AreaClaim claim_after_marker(Caller& caller, std::uint32_t index, std::uint32_t frames,
                                 std::uint64_t alignment) {
        Area& area = areas_[index];
        if (area.free_frames() < frames) {
            return {ClaimResult::no_room, 0};
        }
        bool swept = sweep_area<P>(area, frames, alignment);
        if (!swept && !mm::rescan_area<P>(area)) {
            return {ClaimResult::no_room, 0};
        }
        CpuCursor::add(swept ? caller.stats.extent_sweeps : caller.stats.area_rescans);
        return claim_at_marker<P>(area, frames, alignment);
    }

    // The cursor's area cannot serve: (a) claim an unowned area, (b) share an owned one,
    // (c) recalculate, then (a)/(b) again, (d) exhaustive first fit. See docs/DESIGN.md.
    Placement allocate_slow(Caller& caller, std::uint32_t frames, std::uint64_t alignment);

    Placement claim_elsewhere(Caller& caller, std::uint32_t frames, std::uint64_t alignment);

    // Points the cursor at an area that should serve the request and returns it, or kNoArea.
    // Per-CPU: prefer taking an unowned area (hand-over); else share the best owned one, which
    // is how more CPUs than areas work. Global-lock mode never owns.
    std::uint32_t select_area(Caller& caller, std::uint32_t frames, std::uint64_t alignment);

    // Hand-over: takes the unowned area the summaries rank first (see ranked_unowned_area), after
    // checking its hint against its descriptor. Returns it, or kNoArea.
    std::uint32_t take_over_area(Caller& caller, std::uint32_t frames);

    // The unowned area whose summary ranks first for a take-over of n frames, or kNoArea:
    // partly used ones first, the fullest of those with kTakeOverFloorFrames free, else the one
    // with the most free frames. Reads the summaries, and the descriptors of areas whose summary
    // frees made dirty (writing their hints again).
    std::uint32_t ranked_unowned_area(std::uint32_t frames, std::uint32_t first);

    // How select_area ranks the areas whose extent fits a request.
    enum class AreaChoice : std::uint8_t {
        next,   // Any area, partly used ones first: the one cursor of global-lock mode.
        share,  // Any area, the most free first: spreads CPUs that cannot own one.
    };

    // The area the choice ranks first among those whose extent fits, or kNoArea. Areas are
    // looked at from index `first` on, wrapping round, and ties go to the first one seen.
    std::uint32_t ranked_first_area(std::uint32_t frames, std::uint64_t alignment,
                                    AreaChoice choice, std::uint32_t first) const;

    // Letting go of the old area is a release store: no CPU but its owner ever writes "no owner".
    void move_cursor(CpuCursor& cursor, std::uint32_t to, bool owns);

    // Recalculates every area unless the generation moved since `seen` (someone else just did:
    // returns false). One lock serialises recalculations; allocations and frees never wait.
    bool recalculate_unless_done(std::uint64_t seen, CpuCursor& stats);

    // The last resort, under the recalculation lock: first fit over every bitmap. Catches
    // requests that no single extent serves, such as aligned ones beside badly aligned extents.
    Placement last_resort(CpuCursor& stats, std::uint32_t frames, std::uint64_t alignment);

    PhysAddr finish_allocation(Caller& caller, Placement placement, std::uint32_t frames) {
        const Area& area = areas_[placement.area];
        if constexpr (kDebugFill) {
            verify_claimed_frames<P>(area, placement.offset, frames, caller.cpu);
        }
        CpuCursor::add(caller.stats.allocations);
        CpuCursor::add(caller.stats.frames_allocated, frames);
        return area.address_of(placement.offset);
    }

    // The area of the caller's cursor's last free is the likeliest home of the frames, and is
    // looked at first (frame_allocator_free.hpp).
    lib::Status<FreeError> free_with(Caller& caller, PhysAddr address, std::size_t frames);

    // Read on every call, written only by init and set_mode.
    alignas(64) AreaTable areas_;
    std::atomic<Mode> mode_{Mode::per_cpu};
    // Written once per recalculation; kept off the lines every allocation reads.
    alignas(64) std::atomic<std::uint64_t> recalculation_generation_{0};
    alignas(64) typename P::Lock recalculation_lock_;
    alignas(64) typename P::Lock global_lock_;
    // The one cursor of global-lock mode, also used (under the global lock) by a CPU whose
    // index is out of range, so that a bad index costs speed instead of memory safety.
    CpuCursor shared_cursor_;
    CpuCursor cursors_[kMaxCpus];
    ReclaimHook reclaim_hook_ = nullptr;
    void* reclaim_context_ = nullptr;
};

}  // namespace mm

#include "mm/frame_allocator_free.hpp"
#include "mm/frame_allocator_slow_path.hpp"
#include "mm/frame_allocator_stats.hpp"
