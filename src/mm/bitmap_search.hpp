// Searches for runs of set (free) bits: the largest run, which recalculation puts the marker
// at, and the first run of n bits at a given alignment, which the last-resort search claims.
// Whole words that are all 0 or all 1 are crossed in one step and partial words are handled
// with count-trailing-zeros, never bit by bit. The bitmap is read through `load(word_index)`
// so the same code serves atomic words in the allocator and plain arrays in tests.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "mm/bitmap_words.hpp"

namespace mm::bitmap {

struct BitRun {
    std::size_t start = 0;
    std::size_t length = 0;
};

inline constexpr std::size_t kNotFound = ~std::size_t{0};

// The first set bit at or after `from`, or `bits` if there is none before `bits`.
template <typename LoadWord>
constexpr std::size_t find_next_set(std::size_t from, std::size_t bits, LoadWord&& load) {
    if (from >= bits) {
        return bits;
    }
    std::size_t index = from / kBitsPerWord;
    std::size_t last_index = words_for_bits(bits) - 1;
    // Bits below `from` in its word are masked off, then empty words are skipped whole.
    Word word = load(index) & (~Word{0} << (from % kBitsPerWord));
    while (word == 0) {
        if (index == last_index) {
            return bits;
        }
        word = load(++index);
    }
    std::size_t found = index * kBitsPerWord + static_cast<std::size_t>(std::countr_zero(word));
    return found < bits ? found : bits;
}

// The first clear bit at or after `from`, or `bits` if there is none before `bits`.
template <typename LoadWord>
constexpr std::size_t find_next_clear(std::size_t from, std::size_t bits, LoadWord&& load) {
    return find_next_set(from, bits, [&](std::size_t index) { return ~load(index); });
}

// The longest run of set bits in [0, bits); the lowest one if several tie. Length 0 if none.
template <typename LoadWord>
constexpr BitRun largest_set_run(std::size_t bits, LoadWord&& load) {
    BitRun best;
    std::size_t position = 0;
    while (position < bits) {
        std::size_t run_start = find_next_set(position, bits, load);
        if (run_start == bits) {
            break;
        }
        std::size_t run_end = find_next_clear(run_start, bits, load);
        if (run_end - run_start > best.length) {
            best = {run_start, run_end - run_start};
        }
        position = run_end;
    }
    return best;
}

// The lowest start >= from of `count` set bits inside [0, bits) such that (bias + start) is a
// multiple of `alignment` (a power of two), or kNotFound. `bias` is the area's base frame
// number, so the alignment applies to physical addresses, not to bitmap positions.
template <typename LoadWord>
constexpr std::size_t first_fit(std::size_t from, std::size_t bits, std::size_t count,
                                std::uint64_t alignment, std::uint64_t bias, LoadWord&& load) {
    std::size_t position = from;
    while (position < bits) {
        std::size_t run_start = find_next_set(position, bits, load);
        if (run_start == bits) {
            return kNotFound;
        }
        std::size_t run_end = find_next_clear(run_start, bits, load);
        // The first aligned position inside the run; bias + run_start cannot overflow since
        // both are frame numbers (below 2^52).
        std::uint64_t aligned = ((bias + run_start + alignment - 1) & ~(alignment - 1)) - bias;
        if (aligned + count <= run_end) {
            return static_cast<std::size_t>(aligned);
        }
        position = run_end;
    }
    return kNotFound;
}

}  // namespace mm::bitmap
