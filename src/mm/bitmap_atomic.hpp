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

// Marks [start, start + count) free again after a claim that could not be completed. Only the
// claimer holds these bits, so no verification is needed; release keeps it a free.
inline void unclaim(AtomicWord* words, std::size_t start, std::size_t count) {
    for_each_word(start, count, [&](WordSpan span) {
        words[span.index].fetch_or(span.mask, std::memory_order_release);
        return true;
    });
}

// Clears (allocates) every bit of [start, start + count), word by word, each word with a CAS
// that verifies all its bits in the range are still set. On the first word where one is not,
// the words already taken are given back and false is returned: all or nothing.
[[gnu::always_inline]] inline bool claim(AtomicWord* words, std::size_t start, std::size_t count) {
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
    if (!complete) {
        unclaim(words, start, claimed_end - start);
    }
    return complete;
}

// Sets (frees) the bits of [start, start + count), word by word. A word is freed only if all its
// bits in the range are still clear; a word where some bit is already set is left untouched,
// since another CPU freed it first. Returns how many bits this call freed, so the caller can
// account for exactly those and tell a lost race (fewer than count) apart.
[[gnu::always_inline]] inline std::size_t release(AtomicWord* words, std::size_t start,
                                                  std::size_t count) {
    std::size_t freed = 0;
    for_each_word(start, count, [&](WordSpan span) {
        AtomicWord& word = words[span.index];
        Word seen = word.load(std::memory_order_relaxed);
        do {
            if ((seen & span.mask) != 0) {
                return true;  // Lost this word: count nothing, try the next one.
            }
        } while (!word.compare_exchange_weak(seen, seen | span.mask, std::memory_order_release,
                                             std::memory_order_relaxed));
        freed += span.bits;
        return true;
    });
    return freed;
}

}  // namespace mm::bitmap
