// Debug fill (FrameAllocator<P, true>): every freed frame is filled with a pattern, and a frame
// is checked when it is handed out again. A write after free shows up as a changed word, and
// P::report_use_after_free names the frame, the byte offset, the value found and the CPU.
//
// Only frames that were filled are checked: the poison bitmap marks them (set on free, cleared
// once verified on allocation), so frames never freed since boot, whose contents are whatever
// firmware left, are never reported.
//
// Ordering: the fill and the poison bit are written before the release CAS that frees the
// frame, and read after the acquire CAS that claims it, so the checker always sees them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/allocator_area.hpp"
#include "mm/allocator_platform.hpp"
#include "mm/bitmap_words.hpp"

namespace mm {

inline constexpr std::uint64_t kFreedFramePattern = 0xDEADF4EEDEADF4EE;
inline constexpr std::size_t kWordsPerFrame = kFrameSize / sizeof(std::uint64_t);

// Fills [offset, offset + frames) and marks it poisoned. Called after the double-free
// pre-check and before the frames are released: they still belong to the caller.
template <AllocatorPlatform P>
void fill_freed_frames(const Area& area, std::uint32_t offset, std::uint32_t frames) {
    for (std::uint32_t i = 0; i < frames; ++i) {
        auto* words = static_cast<std::uint64_t*>(P::phys_to_virt(area.address_of(offset + i)));
        for (std::size_t word = 0; word < kWordsPerFrame; ++word) {
            words[word] = kFreedFramePattern;
        }
    }
    bitmap::for_each_word(offset, frames, [&](bitmap::WordSpan span) {
        area.poisoned_bits[span.index].fetch_or(span.mask, std::memory_order_relaxed);
        return true;
    });
}

// Checks every poisoned frame of a just-claimed range (the first changed word of each frame is
// reported), then clears the range's poison bits. The frames belong to this CPU already.
template <AllocatorPlatform P>
void verify_claimed_frames(const Area& area, std::uint32_t offset, std::uint32_t frames,
                           unsigned cpu) {
    for (std::uint32_t i = 0; i < frames; ++i) {
        std::uint32_t bit = offset + i;
        bitmap::Word poison_word =
            area.poisoned_bits[bit / bitmap::kBitsPerWord].load(std::memory_order_relaxed);
        if ((poison_word >> (bit % bitmap::kBitsPerWord) & 1) == 0) {
            continue;
        }
        PhysAddr frame = area.address_of(bit);
        const auto* words = static_cast<const std::uint64_t*>(P::phys_to_virt(frame));
        for (std::size_t word = 0; word < kWordsPerFrame; ++word) {
            if (words[word] != kFreedFramePattern) {
                P::report_use_after_free(frame, word * sizeof(std::uint64_t), words[word], cpu);
                break;
            }
        }
    }
    bitmap::for_each_word(offset, frames, [&](bitmap::WordSpan span) {
        area.poisoned_bits[span.index].fetch_and(~span.mask, std::memory_order_relaxed);
        return true;
    });
}

}  // namespace mm
