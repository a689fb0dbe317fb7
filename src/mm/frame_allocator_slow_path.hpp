// FrameAllocator's slow path: what happens when the cursor's area cannot serve a request.
// (a) hand-over to an unowned area, (b) sharing an owned one, (c) a whole-memory recalculation
// under the recalculation lock, (d) the exhaustive last resort. docs/DESIGN.md, section 4.
// Part of frame_allocator.hpp; include that instead.
#pragma once

#include "mm/frame_allocator.hpp"

namespace mm {

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
typename FrameAllocator<P, kDebugFill, kMaxCpus>::Placement
FrameAllocator<P, kDebugFill, kMaxCpus>::allocate_slow(Caller& caller, std::uint32_t frames,
                                                       std::uint64_t alignment) {
    for (unsigned pass = 0; pass < kRecalculationPasses; ++pass) {
        std::uint64_t generation = recalculation_generation_.load(std::memory_order_acquire);
        Placement placement = claim_elsewhere(caller, frames, alignment);
        if (placement.area != kNoArea) {
            return placement;
        }
        if (!recalculate_unless_done(generation, caller.stats)) {
            continue;  // Someone else recalculated meanwhile: their result may fit us.
        }
        placement = claim_elsewhere(caller, frames, alignment);
        if (placement.area != kNoArea) {
            return placement;
        }
        break;
    }
    return last_resort(caller.stats, frames, alignment);
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
typename FrameAllocator<P, kDebugFill, kMaxCpus>::Placement
FrameAllocator<P, kDebugFill, kMaxCpus>::claim_elsewhere(Caller& caller, std::uint32_t frames,
                                                         std::uint64_t alignment) {
    for (unsigned round = 0; round < kSelectionRounds; ++round) {
        std::uint32_t area = select_area(caller, frames, alignment);
        if (area == kNoArea) {
            return {};
        }
        AreaClaim claim = claim_at_marker<P>(areas_[area], frames, alignment);
        if (claim.result == ClaimResult::claimed) {
            return {area, claim.offset};
        }
    }
    return {};
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
std::uint32_t FrameAllocator<P, kDebugFill, kMaxCpus>::select_area(Caller& caller,
                                                                   std::uint32_t frames,
                                                                   std::uint64_t alignment) {
    // Ties go to the area nearest after the current one (from the first area for a cursor that
    // has none), so CPUs leaving neighbouring areas at once do not all race for the same one.
    std::uint32_t current = CpuCursor::get(caller.cursor.area);
    std::uint32_t after =
        current < areas_.count() && current + 1 < areas_.count() ? current + 1 : 0;
    if (caller.per_cpu) {
        for (unsigned attempt = 0; attempt < kSelectionRounds; ++attempt) {
            std::uint32_t candidate =
                ranked_first_area(frames, alignment, AreaChoice::take_over, after);
            if (candidate == kNoArea) {
                break;
            }
            std::uint32_t expected = kNoOwner;
            stop_point<P>(StopPoint::owner_cas);
            if (areas_[candidate].owner.compare_exchange_strong(
                    expected, caller.cpu, std::memory_order_acq_rel, std::memory_order_relaxed)) {
                move_cursor(caller.cursor, candidate, true);
                CpuCursor::add(caller.stats.area_claims);
                return candidate;
            }
        }
    }
    std::uint32_t candidate = ranked_first_area(
        frames, alignment, caller.per_cpu ? AreaChoice::share : AreaChoice::next, after);
    if (candidate != kNoArea && candidate != current) {
        move_cursor(caller.cursor, candidate, false);
        if (caller.per_cpu) {
            CpuCursor::add(caller.stats.shares);
        }
    }
    return candidate;
}

// Taking over or moving on, partly used areas come first: the fullest of those that still have
// kTakeOverFloorFrames free. Allocations then keep filling memory that is already in use, while
// areas that nobody allocates from lose frames to frees until their 2 MiB blocks are entirely
// free again; ranking by most free instead would hand every freed frame out again at once and
// leave no block whole (docs/BENCHMARKS.md, fragmentation). The floor keeps a take-over worth
// its cost: the new area serves at least a 2 MiB block's worth before the CPU moves again. Without
// such an area, the one with the most free frames. Sharing ranks by most free frames only, so
// that CPUs that cannot own an area spread over the owned ones.
template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
std::uint32_t FrameAllocator<P, kDebugFill, kMaxCpus>::ranked_first_area(
    std::uint32_t frames, std::uint64_t alignment, AreaChoice choice, std::uint32_t first) const {
    std::uint32_t most_free = kNoArea;
    std::uint32_t most_free_frames = 0;
    std::uint32_t fullest_partial = kNoArea;
    std::uint32_t fullest_partial_frames = 0;
    std::uint32_t count = areas_.count();
    for (std::uint32_t step = 0, index = first; step < count; ++step, ++index) {
        if (index >= count) {
            index = 0;
        }
        const Area& area = areas_[index];
        if (choice == AreaChoice::take_over &&
            area.owner.load(std::memory_order_relaxed) != kNoOwner) {
            continue;
        }
        AreaState state = area.load_state(std::memory_order_relaxed);
        if (!extent_fits(area, state, frames, alignment)) {
            continue;
        }
        std::uint32_t free = area.free_frames();
        if (most_free == kNoArea || free > most_free_frames) {
            most_free = index;
            most_free_frames = free;
        }
        bool partial = free < area.frames && free >= kTakeOverFloorFrames;
        if (choice != AreaChoice::share && partial &&
            (fullest_partial == kNoArea || free < fullest_partial_frames)) {
            fullest_partial = index;
            fullest_partial_frames = free;
        }
    }
    return fullest_partial != kNoArea ? fullest_partial : most_free;
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
void FrameAllocator<P, kDebugFill, kMaxCpus>::move_cursor(CpuCursor& cursor, std::uint32_t to,
                                                          bool owns) {
    std::uint32_t from = CpuCursor::get(cursor.area);
    MM_ASSERT(P, to < areas_.count());  // The cursor's area is indexed without a check after.
    if (CpuCursor::get(cursor.owns_area) != 0 && from != to) {
        MM_ASSERT(P, from < areas_.count());
        areas_[from].owner.store(kNoOwner, std::memory_order_release);
    }
    CpuCursor::set(cursor.area, to);
    CpuCursor::set(cursor.owns_area, owns ? 1u : 0u);
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
bool FrameAllocator<P, kDebugFill, kMaxCpus>::recalculate_unless_done(std::uint64_t seen,
                                                                      CpuCursor& stats) {
    std::uint64_t spins = 0;
    SpinCountingGuard<P> guard(recalculation_lock_, spins);
    CpuCursor::add(stats.lock_spins, spins);
    if (recalculation_generation_.load(std::memory_order_relaxed) != seen) {
        return false;
    }
    for (std::uint32_t index = 0; index < areas_.count(); ++index) {
        mm::rescan_area<P>(areas_[index]);
    }
    recalculation_generation_.fetch_add(1, std::memory_order_release);
    CpuCursor::add(stats.recalculations);
    return true;
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
typename FrameAllocator<P, kDebugFill, kMaxCpus>::Placement
FrameAllocator<P, kDebugFill, kMaxCpus>::last_resort(CpuCursor& stats, std::uint32_t frames,
                                                     std::uint64_t alignment) {
    std::uint64_t spins = 0;
    SpinCountingGuard<P> guard(recalculation_lock_, spins);
    CpuCursor::add(stats.lock_spins, spins);
    CpuCursor::add(stats.last_resort_searches);
    // Every area is searched, whatever its free count says: the last resort is what makes
    // "nobody fails while memory that would serve them is free" true, so it trusts no hint.
    for (std::uint32_t index = 0; index < areas_.count(); ++index) {
        AreaClaim claim = claim_first_fit<P>(areas_[index], frames, alignment);
        if (claim.result == ClaimResult::claimed) {
            return {index, claim.offset};
        }
    }
    return {};
}

}  // namespace mm
