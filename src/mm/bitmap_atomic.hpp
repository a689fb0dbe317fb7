// The only operations that change who owns a frame. The bitmap is the only truth: a frame is
// handed out only by an atomic free->allocated transition of its bit that verified the bit was
// free, and freed only by an atomic allocated->free transition that verified it was allocated.
// Exactly one CPU can win each transition, whatever the markers and other hints said.
//
// Ordering: a claim is an acquire RMW, a free is a release RMW. The CPU that gets a frame thus
// sees every write the previous owner made to it before freeing it, including the debug fill
// pattern. Claims and frees of other bits of the same word are RMWs too, so they continue the
// release sequence and never break that chain.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mm/bitmap_words.hpp"

namespace mm::bitmap {

using AtomicWord = std::atomic<Word>;
static_assert(AtomicWord::is_always_lock_free, "the allocator relies on lock-free 64-bit CAS");
static_assert(sizeof(AtomicWord) == sizeof(Word));

// Relaxed loads are enough for searching: every result is re-verified by the CAS that claims.
inline auto relaxed_loader(const AtomicWord* words) {
    return [words](std::size_t index) { return words[index].load(std::memory_order_relaxed); };
}

// Gives back [start, start + count) after a claim that could not be completed: sets the bits
// again, word by word, and returns how many of them were already set. Those were freed by
// someone else while this CPU held them (a free of frames it had claimed but not yet handed
// out: a double free, or a free of the wrong frames, by the caller's view), and that free
// counts them itself once it has set them, so the caller gives back the count only of the bits
// it set (allocator_blocks.hpp). acq_rel: it continues the release sequence of the free that
// set them.
inline std::size_t give_back(AtomicWord* words, std::size_t start, std::size_t count) {
    std::size_t already_set = 0;
    for_each_word(start, count, [&](WordSpan span) {
        Word seen = words[span.index].fetch_or(span.mask, std::memory_order_acq_rel);
        already_set += count_ones(seen & span.mask);
        return true;
    });
    return already_set;
}

struct ClaimedBits {
    bool complete = false;
    // Only when not complete: bits of the words given back that others had freed meanwhile
    // (see give_back); the caller counts them as taken.
    std::size_t freed_by_others = 0;
};

// Clears (allocates) every bit of [start, start + count), word by word, each word with a CAS
// that verifies all its bits in the range are still set. On the first word where one is not,
// the words already taken are given back: all or nothing.
[[gnu::always_inline]] inline ClaimedBits claim(AtomicWord* words, std::size_t start,
                                                std::size_t count) {
    if (start % kBitsPerWord + count <= kBitsPerWord) {
        // One word, the common case, without the walk: nothing to give back on failure.
        AtomicWord& word = words[start / kBitsPerWord];
        Word mask = bit_mask(start % kBitsPerWord, count);
        Word seen = word.load(std::memory_order_relaxed);
        do {
            if ((seen & mask) != mask) {
                return {false, 0};
            }
        } while (!word.compare_exchange_weak(seen, seen & ~mask, std::memory_order_acquire,
                                             std::memory_order_relaxed));
        return {true, 0};
    }
    std::size_t claimed_end = start;
    bool complete = for_each_word(start, count, [&](WordSpan span) {
        AtomicWord& word = words[span.index];
        Word seen = word.load(std::memory_order_relaxed);
        do {
            if ((seen & span.mask) != span.mask) {
                return false;
            }
        } while (!word.compare_exchange_weak(seen, seen & ~span.mask, std::memory_order_acquire,
                                             std::memory_order_relaxed));
        claimed_end = span.first_bit + span.bits;
        return true;
    });
    if (complete) {
        return {true, 0};
    }
    return {false, give_back(words, start, claimed_end - start)};
}

// Sets (frees) the bits of [start, start + count) that are still clear, word by word, and
// returns how many it set. Bits already set were freed by someone else (a racing free of
// overlapping frames) and are left alone; every other frame of the range is freed, so a race
// loses no frame, and the caller learns exactly how many frames this call freed.
[[gnu::always_inline]] inline std::size_t release(AtomicWord* words, std::size_t start,
                                                  std::size_t count) {
    if (start % kBitsPerWord + count <= kBitsPerWord) {
        Word mask = bit_mask(start % kBitsPerWord, count);
        Word already_free =
            words[start / kBitsPerWord].fetch_or(mask, std::memory_order_release) & mask;
        return already_free == 0 ? count : count - count_ones(already_free);
    }
    std::size_t freed = 0;
    for_each_word(start, count, [&](WordSpan span) {
        Word already_free =
            words[span.index].fetch_or(span.mask, std::memory_order_release) & span.mask;
        // Counting bits only when the race happened keeps the common free cheap.
        freed += already_free == 0 ? span.bits : span.bits - count_ones(already_free);
        return true;
    });
    return freed;
}

}  // namespace mm::bitmap
