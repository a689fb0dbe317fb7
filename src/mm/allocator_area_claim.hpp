// Taking frames out of one area: at the marker (the O(1) fast path of the original idea) or,
// as a last resort, wherever the bitmap has room (first fit). Both claim the frames first
// (claim_range: a block counter's CAS for a whole 2 MiB block, a reservation and the bits'
// verified CAS for anything smaller), which alone decides ownership, and only then publish the
// new hints.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_blocks.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/bitmap_search.hpp"

namespace mm {

enum class ClaimResult : std::uint8_t {
    claimed,
    no_room,    // The extent (or, for first fit, the bitmap) holds no such run.
    contended,  // Other CPUs kept changing the area; the caller should look elsewhere.
};

struct AreaClaim {
    ClaimResult result = ClaimResult::no_room;
    std::uint32_t offset = 0;  // First claimed frame, relative to the area's base.
};

// Attempts before a busy area is given up. Conflicts come from a CPU that is between its claim
// and its publish at the same marker, so a few retries usually see the marker move on.
inline constexpr unsigned kMarkerAttempts = 8;

// Publishes a claim of n frames at `start` made outside the fast path: the state is published
// one version later even if the extent does not change, so that a scan that read the bits
// before this claim cannot publish them as free. If the frames overlap
// the extent, the extent shrinks to the larger piece left beside them, so that [marker, limit)
// again holds free frames only.
template <AllocatorPlatform P>
void publish_claim_anywhere(Area& area, std::uint32_t start, std::uint32_t frames) {
    std::uint32_t end = start + frames;
    AreaState seen = area.load_state();
    for (;;) {
        AreaState desired = seen.next();
        if (start < seen.limit && end > seen.marker) {
            std::uint32_t left = start > seen.marker ? start - seen.marker : 0;
            std::uint32_t right = seen.limit > end ? seen.limit - end : 0;
            if (left > 0 && left >= right) {
                desired.limit = static_cast<std::uint16_t>(start);
            } else if (right > 0) {
                desired.marker = static_cast<std::uint16_t>(end);
            } else {
                desired.limit = desired.marker;
            }
        }
        if (publish_state<P>(area, seen, desired)) {
            return;
        }
    }
}

// The fast path: claim n frames at the marker (aligned up) and move the marker past them.
//
// Frames skipped to reach the alignment stay free and outside the extent; the next
// recalculation finds them. If the publish fails because only the limit changed (a free at the
// limit), the publish is retried; if the marker moved, the claimed frames are given back and the
// whole attempt starts again from the new state, except a whole 2 MiB block, which is kept and
// published where it lies (a racing split could not be undone by a give-back).
template <AllocatorPlatform P>
[[gnu::always_inline]] inline AreaClaim claim_at_marker(Area& area, std::uint32_t frames,
                                                        std::uint64_t alignment) {
    for (unsigned attempt = 0; attempt < kMarkerAttempts; ++attempt) {
        AreaState seen = area.load_state();
        std::uint64_t start = aligned_offset(area.base_frame, seen.marker, alignment);
        if (start + frames > seen.limit) {
            return {ClaimResult::no_room, 0};
        }
        MM_ASSERT(P, seen.limit <= area.frames);  // Else the claim would write past the bitmap.
        MM_DEBUG_ASSERT(P, (area.base_frame + start) % alignment == 0);
        auto first = static_cast<std::uint32_t>(start);
        if (!claim_range<P>(area, first, frames)) {
            continue;  // Someone holds a frame of the extent: re-read the state and try again.
        }
        stop_point<P>(StopPoint::claimed_not_published);
        auto end = static_cast<std::uint16_t>(start + frames);
        std::uint16_t marker_claimed_at = seen.marker;
        for (;;) {
            AreaState desired = seen.next();
            desired.marker = end;
            if (publish_state<P>(area, seen, desired)) {
                return {ClaimResult::claimed, first};
            }
            if (seen.marker != marker_claimed_at || end > seen.limit) {
                break;
            }
        }
        if (holds_whole_block(area, first, frames)) {
            publish_claim_anywhere<P>(area, first, frames);
            return {ClaimResult::claimed, first};
        }
        give_back_range<P>(area, first, frames);
    }
    return {ClaimResult::contended, 0};
}

// The last resort: the first n free frames at the requested alignment anywhere in the area,
// claimed directly. A run that another CPU takes between the search and the claim is skipped,
// so this terminates; it fails only if no such run was free while it looked.
template <AllocatorPlatform P>
AreaClaim claim_first_fit(Area& area, std::uint32_t frames, std::uint64_t alignment) {
    std::size_t from = 0;
    for (;;) {
        std::size_t start = bitmap::first_fit(from, area.frames, frames, alignment, area.base_frame,
                                              area.load_free_word());
        if (start == bitmap::kNotFound) {
            return {ClaimResult::no_room, 0};
        }
        MM_ASSERT(P, start + frames <= area.frames);
        MM_DEBUG_ASSERT(P, (area.base_frame + start) % alignment == 0);
        stop_point<P>(StopPoint::last_resort_found);
        if (claim_range<P>(area, static_cast<std::uint32_t>(start), frames)) {
            stop_point<P>(StopPoint::claimed_not_published);
            publish_claim_anywhere<P>(area, static_cast<std::uint32_t>(start), frames);
            return {ClaimResult::claimed, static_cast<std::uint32_t>(start)};
        }
        from = start + 1;
    }
}

}  // namespace mm
