// Giving frames back to one area: the pre-check and the publish (the commit between them is
// release_range, allocator_blocks.hpp). No header is written into the freed memory: the bitmap
// and the block counters say whether each frame is allocated, so frames that user space or a
// device used can be freed, and a double free is caught before anything changes.
#pragma once

#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_blocks.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

// The pre-check: true if every frame of the range is allocated right now (every frame of a
// whole block is). A plain double free fails here and changes nothing. Within one block the
// counter is read once and the bits as they are, without the whole-block mask of each word.
inline bool piece_allocated(const Area& area, BlockPiece piece) {
    return area.block_taken(piece.block) ||
           bitmap::all_clear(piece.start, piece.count, bitmap::relaxed_loader(area.free_bits));
}
inline bool range_allocated(const Area& area, std::uint32_t offset, std::uint32_t frames) {
    if (in_one_block(area, offset, frames)) {
        return piece_allocated(area, BlockPiece{area.block_of(offset), offset, frames});
    }
    return bitmap::all_clear(offset, frames, area.load_free_word());
}

// Whether every frame of the range is free right now: for a whole block, its counter says so in
// one load (512 only when every bit is set and none is reserved).
inline bool range_free(const Area& area, std::uint32_t offset, std::uint32_t frames) {
    if (in_one_block(area, offset, frames)) {
        std::uint16_t counter =
            area.block_free[area.block_of(offset)].load(std::memory_order_relaxed);
        if (frames == kFramesPerHugeFrame) {
            return counter == kFramesPerHugeFrame;
        }
        return counter <= kFramesPerHugeFrame &&
               bitmap::all_set(offset, frames, bitmap::relaxed_loader(area.free_bits));
    }
    return bitmap::all_set(offset, frames, area.load_free_word());
}

// Widens the extent over a range this call freed whole: when it ends exactly at the marker,
// the marker moves back to its start (the cheap case of the original idea: a free right below
// the marker makes the memory reusable at once); when it starts exactly at the limit, the limit
// moves up. Any other
// free leaves the state alone: freeing only makes the extent more stale in the safe direction,
// so it needs no new version.
//
// Before widening the extent the frames are checked again, after reading the state: a
// last-resort claim may have taken them since they were freed. That claim publishes its own
// update; if it did so before our read, our acquire read makes its claim visible here, and if it
// does so later, our CAS fails or it sees (and shrinks) the extent we published.
template <AllocatorPlatform P>
[[gnu::always_inline]] inline void publish_free(Area& area, std::uint32_t offset,
                                                std::uint32_t frames) {
    std::uint32_t end = offset + frames;
    AreaState seen = area.load_state();
    for (;;) {
        if (end != seen.marker && offset != seen.limit) {
            return;
        }
        if (!range_free(area, offset, frames)) {
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
