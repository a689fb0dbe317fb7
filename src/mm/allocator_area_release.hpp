// Giving frames back to one area. No header is written into the freed memory: the bitmap says
// whether each frame is allocated, so frames that user space or a device used can be freed, and
// a double free is caught before anything changes.
#pragma once

#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/bitmap_atomic.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

// The pre-check: true if every frame of the range is allocated right now. A plain double free
// fails here and changes nothing.
inline bool range_allocated(const Area& area, std::uint32_t offset, std::uint32_t frames) {
    return bitmap::all_clear(offset, frames, area.load_free_word());
}

// The commit: frees the range word by word, each word with a CAS that verifies its bits are
// still allocated. If two CPUs race to free the same frames, exactly one wins each word; the
// return value is the number of frames this call freed, so a loser can be told not_allocated.
inline std::uint32_t release_range(Area& area, std::uint32_t offset, std::uint32_t frames) {
    return static_cast<std::uint32_t>(bitmap::release(area.free_bits, offset, frames));
}

// Publishes `freed` more free frames. When the whole range was freed by this call and it ends
// exactly at the marker, the marker moves back to its start (the cheap case of the original
// idea: a free right below the marker makes the memory reusable at once); when it starts exactly
// at the limit, the limit moves up.
//
// Before widening the extent the bits are checked again, after reading the state: a last-resort
// claim may have taken them since they were freed. That claim publishes its own update; if it
// did so before our read, our acquire read makes its claimed bits visible here, and if it does
// so later, our CAS fails or it sees (and shrinks) the extent we published.
[[gnu::always_inline]] inline void publish_free(Area& area, std::uint32_t offset,
                                                std::uint32_t frames, std::uint32_t freed) {
    std::uint32_t end = offset + frames;
    AreaState seen = area.load_state();
    for (;;) {
        AreaState desired = seen.next();
        desired.free_count = static_cast<std::uint16_t>(seen.free_count + freed);
        bool widens = freed == frames && (end == seen.marker || offset == seen.limit);
        if (widens && bitmap::all_set(offset, frames, area.load_free_word())) {
            if (end == seen.marker) {
                desired.marker = static_cast<std::uint16_t>(offset);
            } else {
                desired.limit = static_cast<std::uint16_t>(end);
            }
        }
        if (area.update_state(seen, desired)) {
            return;
        }
    }
}

}  // namespace mm
