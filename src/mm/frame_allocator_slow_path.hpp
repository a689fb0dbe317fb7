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
        if (claim.result != ClaimResult::claimed && CpuCursor::get(caller.cursor.owns_area) != 0) {
            // A new area of its own: its extent is whatever frees left, so look behind it too.
            claim = claim_after_marker(caller, area, frames, alignment);
        }
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
        std::uint32_t taken = take_over_area(caller, frames);
        if (taken != kNoArea) {
            return taken;
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

// The ranking both kinds of choice share: the fullest area among those counted partly used,
// else the one with the most free frames; ties go to the first one seen.
struct AreaRanking {
    std::uint32_t most_free = kNoArea;
    std::uint32_t most_free_frames = 0;
    std::uint32_t fullest_partial = kNoArea;
    std::uint32_t fullest_partial_frames = 0;

    void consider(std::uint32_t index, std::uint32_t free, bool partial) {
        if (most_free == kNoArea || free > most_free_frames) {
            most_free = index;
            most_free_frames = free;
        }
        if (partial && (fullest_partial == kNoArea || free < fullest_partial_frames)) {
            fullest_partial = index;
            fullest_partial_frames = free;
        }
    }
    std::uint32_t best() const { return fullest_partial != kNoArea ? fullest_partial : most_free; }
};

// A take-over trusts the summaries for ranking but not for the choice: the hint of the area it
// ranks first is checked against the area's block counters (one descriptor line). A hint more
// than a 2 MiB block off, or too small for the request, is refreshed and the ranking runs again:
// frees into an unowned area make its hint stale low, never high by more than what claims took
// since its owner let go, and the check puts it right before it matters.
template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
std::uint32_t FrameAllocator<P, kDebugFill, kMaxCpus>::take_over_area(Caller& caller,
                                                                      std::uint32_t frames) {
    std::uint32_t current = CpuCursor::get(caller.cursor.area);
    std::uint32_t after =
        current < areas_.count() && current + 1 < areas_.count() ? current + 1 : 0;
    for (unsigned attempt = 0; attempt < kTakeOverChecks; ++attempt) {
        std::uint32_t candidate = ranked_unowned_area(frames, after);
        if (candidate == kNoArea) {
            return kNoArea;
        }
        AreaSummary seen = areas_.summary(candidate);
        if (seen.owned()) {
            continue;  // Taken since the ranking read it.
        }
        AreaSummary fresh = areas_.unowned_summary(candidate);
        std::uint32_t off =
            fresh.free > seen.free ? fresh.free - seen.free : seen.free - fresh.free;
        if (fresh.free < frames || off > kFramesPerHugeFrame) {
            areas_.update_summary(candidate, seen, fresh);
            continue;
        }
        stop_point<P>(StopPoint::owner_cas);
        if (areas_.update_summary(candidate, seen, seen.owned_by(caller.cpu))) {
            move_cursor(caller.cursor, candidate, true);
            CpuCursor::add(caller.stats.area_claims);
            return candidate;
        }
    }
    return kNoArea;
}

// Taking over, partly used areas come first: the fullest of those that still have
// kTakeOverFloorFrames free. Allocations then keep filling memory that is already in use, while
// areas that nobody allocates from gain frames from frees until their 2 MiB blocks are entirely
// free again; ranking by most free instead would hand every freed frame out again at once and
// leave no block whole (docs/BENCHMARKS.md, fragmentation). The floor keeps a take-over worth
// its cost: the new area serves at least a 2 MiB block's worth before the CPU moves again.
// Without such an area, the one with the most free frames. Ties go to the first one seen from
// `first`, so CPUs leaving neighbouring areas at once do not all race for the same one.
template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
std::uint32_t FrameAllocator<P, kDebugFill, kMaxCpus>::ranked_unowned_area(std::uint32_t frames,
                                                                           std::uint32_t first) {
    AreaRanking ranking;
    std::uint32_t count = areas_.count();
    for (std::uint32_t step = 0, index = first; step < count; ++step, ++index) {
        if (index >= count) {
            index = 0;
        }
        AreaSummary summary = areas_.summary(index);
        if (summary.owned()) {
            continue;
        }
        if (summary.dirty) {
            // Frees came since the hint was written: read the area and write the hint again.
            AreaSummary fresh = areas_.unowned_summary(index);
            areas_.update_summary(index, summary, fresh);
            summary = fresh;
        }
        if (summary.free < frames) {
            continue;
        }
        ranking.consider(index, summary.free,
                         !summary.all_free && summary.free >= kTakeOverFloorFrames);
    }
    return ranking.best();
}

// Moving on (global-lock mode) ranks like a take-over, partly used areas first; sharing ranks by
// most free frames only, so that CPUs that cannot own an area spread over the owned ones. Both
// read the descriptors: they are the rare paths, and need the extents.
template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
std::uint32_t FrameAllocator<P, kDebugFill, kMaxCpus>::ranked_first_area(
    std::uint32_t frames, std::uint64_t alignment, AreaChoice choice, std::uint32_t first) const {
    AreaRanking ranking;
    std::uint32_t count = areas_.count();
    for (std::uint32_t step = 0, index = first; step < count; ++step, ++index) {
        if (index >= count) {
            index = 0;
        }
        const Area& area = areas_[index];
        AreaState state = area.load_state(std::memory_order_relaxed);
        if (!extent_fits(area, state, frames, alignment)) {
            continue;
        }
        std::uint32_t free = area.free_frames();
        ranking.consider(
            index, free,
            choice == AreaChoice::next && free < area.frames && free >= kTakeOverFloorFrames);
    }
    return ranking.best();
}

template <AllocatorPlatform P, bool kDebugFill, std::size_t kMaxCpus>
void FrameAllocator<P, kDebugFill, kMaxCpus>::move_cursor(CpuCursor& cursor, std::uint32_t to,
                                                          bool owns) {
    std::uint32_t from = CpuCursor::get(cursor.area);
    MM_ASSERT(P, to < areas_.count());  // The cursor's area is indexed without a check after.
    if (CpuCursor::get(cursor.owns_area) != 0 && from != to) {
        MM_ASSERT(P, from < areas_.count());
        areas_.let_go(from);
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
        // Every descriptor is read anyway: the take-over hints of unowned areas come out exact.
        AreaSummary seen = areas_.summary(index);
        if (!seen.owned()) {
            areas_.update_summary(index, seen, areas_.unowned_summary(index));
        }
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
