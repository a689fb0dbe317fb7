// The atomic bitmap transitions that alone decide who owns a frame: a claim is all or nothing,
// a free commits word by word and says how many bits it really freed.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mm/bitmap_atomic.hpp"

namespace {

using mm::bitmap::AtomicWord;
using mm::bitmap::Word;

struct AtomicBits {
    std::vector<AtomicWord> words;

    AtomicBits(std::size_t count, Word value) : words(count) {
        for (AtomicWord& word : words) {
            word.store(value);
        }
    }
    Word operator[](std::size_t index) const { return words[index].load(); }
    AtomicWord* data() { return words.data(); }
};

}  // namespace

TEST_CASE("bitmap atomic: a claim across words takes every bit or none") {
    AtomicBits bits(4, ~Word{0});
    REQUIRE(mm::bitmap::claim(bits.data(), 60, 70));  // bits 60..129: three words
    CHECK(bits[0] == mm::bitmap::bit_mask(0, 60));
    CHECK(bits[1] == 0);
    CHECK(bits[2] == ~mm::bitmap::bit_mask(0, 2));
    CHECK(bits[3] == ~Word{0});
    // Overlapping the claimed bits at the far end: nothing of the new range may stay claimed.
    Word before[4] = {bits[0], bits[1], bits[2], bits[3]};
    CHECK_FALSE(mm::bitmap::claim(bits.data(), 10, 51));  // 10..60 touches bit 60
    CHECK_FALSE(mm::bitmap::claim(bits.data(), 129, 10));
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(bits[i] == before[i]);
    }
    mm::bitmap::unclaim(bits.data(), 60, 70);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(bits[i] == ~Word{0});
    }
}

TEST_CASE("bitmap atomic: a free commits only words whose bits are all still allocated") {
    AtomicBits bits(3, 0);
    CHECK(mm::bitmap::release(bits.data(), 0, 192) == 192);
    CHECK(bits[0] == ~Word{0});
    REQUIRE(mm::bitmap::claim(bits.data(), 0, 192));
    // Someone else already freed bit 70 (in word 1): word 1 is left alone, words 0 and 2 go.
    bits.words[1].store(Word{1} << 6);
    CHECK(mm::bitmap::release(bits.data(), 32, 128) == 32 + 32);
    CHECK(bits[0] == ~mm::bitmap::bit_mask(0, 32));
    CHECK(bits[1] == Word{1} << 6);
    CHECK(bits[2] == mm::bitmap::bit_mask(0, 32));
}
