// Bit ranges over arrays of 64-bit words: the masks, and the word-by-word walk every bitmap
// operation is built on. A set bit means "free" throughout the allocator.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace mm::bitmap {

using Word = std::uint64_t;
inline constexpr std::size_t kBitsPerWord = 64;

constexpr std::size_t words_for_bits(std::size_t bits) {
    return (bits + kBitsPerWord - 1) / kBitsPerWord;
}

// Bits [first, first + count) of one word; first < 64, 1 <= count <= 64 - first.
constexpr Word bit_mask(std::size_t first, std::size_t count) {
    Word low = count >= kBitsPerWord ? ~Word{0} : (Word{1} << count) - 1;
    return low << first;
}

// Population count without std::popcount: on a CPU baseline without POPCNT, GCC lowers that to
// a call into libgcc (__popcountdi2), which the kernel does not link. This is the classic SWAR
// sum: bit pairs, nibbles, bytes, then one multiply adds the eight byte counts.
constexpr std::size_t count_ones(Word word) {
    word = word - ((word >> 1) & 0x5555555555555555);
    word = (word & 0x3333333333333333) + ((word >> 2) & 0x3333333333333333);
    word = (word + (word >> 4)) & 0x0f0f0f0f0f0f0f0f;
    return static_cast<std::size_t>((word * 0x0101010101010101) >> 56);
}
static_assert(count_ones(0) == 0 && count_ones(~Word{0}) == 64 &&
              count_ones(0x8000000000000001) == 2);

// One word's share of a bit range: which word, which bits in it, and where those bits start.
struct WordSpan {
    std::size_t index;
    Word mask;
    std::size_t first_bit;  // Bit number (in the whole bitmap) of the lowest bit in `mask`.
    std::size_t bits;       // How many bits `mask` holds.
};

// Calls visit(WordSpan) for each word that [start, start + count) touches, lowest first, and
// stops early (returning false) as soon as visit returns false.
template <typename Visit>
constexpr bool for_each_word(std::size_t start, std::size_t count, Visit&& visit) {
    std::size_t offset = start % kBitsPerWord;
    // Most requests are a frame or a few: one word, without the loop's bookkeeping.
    if (offset + count <= kBitsPerWord) {
        return count == 0 ||
               visit(WordSpan{start / kBitsPerWord, bit_mask(offset, count), start, count});
    }
    std::size_t bit = start;
    std::size_t end = start + count;
    while (bit < end) {
        offset = bit % kBitsPerWord;
        std::size_t take = kBitsPerWord - offset;
        if (take > end - bit) {
            take = end - bit;
        }
        if (!visit(WordSpan{bit / kBitsPerWord, bit_mask(offset, take), bit, take})) {
            return false;
        }
        bit += take;
    }
    return true;
}

// Counts the set bits of [start, start + count), a word at a time.
template <typename LoadWord>
constexpr std::size_t count_set(std::size_t start, std::size_t count, LoadWord&& load) {
    std::size_t total = 0;
    for_each_word(start, count, [&](WordSpan span) {
        total += count_ones(load(span.index) & span.mask);
        return true;
    });
    return total;
}

template <typename LoadWord>
constexpr bool all_set(std::size_t start, std::size_t count, LoadWord&& load) {
    return for_each_word(
        start, count, [&](WordSpan span) { return (load(span.index) & span.mask) == span.mask; });
}

template <typename LoadWord>
constexpr bool all_clear(std::size_t start, std::size_t count, LoadWord&& load) {
    return for_each_word(start, count,
                         [&](WordSpan span) { return (load(span.index) & span.mask) == 0; });
}

}  // namespace mm::bitmap
