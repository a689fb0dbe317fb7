// Giving frames back to one area. No header is written into the freed memory: the bitmap says
// whether each frame is allocated, so frames that user space or a device used can be freed, and
// a double free is caught before anything changes.
#pragma once

#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/bitmap_atomic.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

// The pre-check: true if every frame of the range is allocated right now. A plain double free
// fails here and changes nothing.
inline bool range_allocated(const Area& area, std::uint32_t offset, std::uint32_t frames) {
    return bitmap::all_clear(offset, frames, area.load_free_word());
}

// The commit: counts the range as free first, then frees word by word every frame of it that
// is still allocated, then takes back the count of any frame someone else freed first (a racing
// free of overlapping frames). Counting before releasing keeps the free count from ever
// reading below the free bits: a CPU that claims these frames the moment they are released
// subtracts them from a count that already holds them. Returns how many frames this call freed,
// so that a caller that found fewer than it asked for can be told not_allocated; none is lost.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline std::uint32_t release_range(Area& area, std::uint32_t offset,
                                                          std::uint32_t frames) {
    MM_ASSERT(P, offset + frames <= area.frames);  // Else the release would write past the bitmap.
    area.count_freed(frames);
    auto freed = static_cast<std::uint32_t>(bitmap::release(area.free_bits, offset, frames));
    if (freed != frames) {
        area.count_taken(frames - freed);
    }
    return freed;
}

// Widens the extent over a range this call freed whole: when it ends exactly at the marker,
// the marker moves back to its start (the cheap case of the original idea: a free right below
// the marker makes the memory reusable at once); when it starts exactly at the limit, the limit
// moves up. Any other free leaves the state alone: freeing only makes the extent more stale in
// the safe direction, so it needs no new version.
//
// Before widening the extent the bits are checked again, after reading the state: a last-resort
// claim may have taken them since they were freed. That claim publishes its own update; if it
// did so before our read, our acquire read makes its claimed bits visible here, and if it does
// so later, our CAS fails or it sees (and shrinks) the extent we published.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline void publish_free(Area& area, std::uint32_t offset,
                                                std::uint32_t frames) {
    std::uint32_t end = offset + frames;
    AreaState seen = area.load_state();
    for (;;) {
        if (end != seen.marker && offset != seen.limit) {
            return;
        }
        if (!bitmap::all_set(offset, frames, area.load_free_word())) {
            return;
        }
        AreaState desired = seen.next();
        if (end == seen.marker) {
            desired.marker = static_cast<std::uint16_t>(offset);
        } else {
            desired.limit = static_cast<std::uint16_t>(end);
        }
        if (publish_state<P>(area, seen, desired)) {
            return;
        }
    }
}

}  // namespace mm
