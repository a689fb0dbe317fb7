// The atomic bitmap transitions that alone decide who owns a frame: a claim is all or nothing,
// a free frees every bit still allocated and says how many that was, and a give-back says how
// many of its bits someone else had freed meanwhile.
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
    REQUIRE(mm::bitmap::claim(bits.data(), 60, 70).complete);  // bits 60..129: three words
    CHECK(bits[0] == mm::bitmap::bit_mask(0, 60));
    CHECK(bits[1] == 0);
    CHECK(bits[2] == ~mm::bitmap::bit_mask(0, 2));
    CHECK(bits[3] == ~Word{0});
    // Overlapping the claimed bits at the far end: nothing of the new range may stay claimed.
    Word before[4] = {bits[0], bits[1], bits[2], bits[3]};
    mm::bitmap::ClaimedBits refused = mm::bitmap::claim(bits.data(), 10, 51);  // touches bit 60
    CHECK_FALSE(refused.complete);
    CHECK(refused.freed_by_others == 0);
    CHECK_FALSE(mm::bitmap::claim(bits.data(), 129, 10).complete);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(bits[i] == before[i]);
    }
    CHECK(mm::bitmap::give_back(bits.data(), 60, 70) == 0);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(bits[i] == ~Word{0});
    }
}

TEST_CASE("bitmap atomic: a free frees every bit still allocated and counts only those") {
    AtomicBits bits(3, 0);
    CHECK(mm::bitmap::release(bits.data(), 0, 192) == 192);
    CHECK(bits[0] == ~Word{0});
    REQUIRE(mm::bitmap::claim(bits.data(), 0, 192).complete);
    // Someone else already freed bit 70 (in word 1): every other bit of 32..159 is freed here,
    // and the count leaves bit 70 out.
    bits.words[1].store(Word{1} << 6);
    CHECK(mm::bitmap::release(bits.data(), 32, 128) == 127);
    CHECK(bits[0] == ~mm::bitmap::bit_mask(0, 32));
    CHECK(bits[1] == ~Word{0});
    CHECK(bits[2] == mm::bitmap::bit_mask(0, 32));
}

TEST_CASE("bitmap atomic: a give-back counts the bits someone else freed while it held them") {
    AtomicBits bits(2, ~Word{0});
    REQUIRE(mm::bitmap::claim(bits.data(), 60, 8).complete);  // bits 60..67: two words
    bits.words[1].fetch_or(Word{1} << 1);                     // bit 65 freed by someone else
    CHECK(mm::bitmap::give_back(bits.data(), 60, 8) == 1);
    CHECK(bits[0] == ~Word{0});
    CHECK(bits[1] == ~Word{0});
}
