// The bitmap searches against bit-by-bit references, on random bitmaps and on the edges where
// word-at-a-time code goes wrong: runs crossing words, single bits at word edges, runs at the
// very end, and garbage in the bits past the end.
#include <doctest/doctest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "mm/bitmap_search.hpp"
#include "mm/bitmap_words.hpp"

namespace {

using mm::bitmap::BitRun;
using mm::bitmap::kNotFound;
using mm::bitmap::Word;

struct Bits {
    std::size_t size = 0;
    std::vector<Word> words;

    explicit Bits(std::size_t bits, bool value = false)
        : size(bits), words(mm::bitmap::words_for_bits(bits) + 1, 0) {
        for (std::size_t i = 0; i < bits; ++i) {
            set(i, value);
        }
    }
    bool get(std::size_t i) const { return (words[i / 64] >> (i % 64)) & 1; }
    void set(std::size_t i, bool value) {
        Word bit = Word{1} << (i % 64);
        words[i / 64] = value ? words[i / 64] | bit : words[i / 64] & ~bit;
    }
    auto loader() const {
        return [this](std::size_t index) { return words[index]; };
    }
};

BitRun reference_largest(const Bits& bits) {
    BitRun best;
    std::size_t run = 0;
    for (std::size_t i = 0; i < bits.size; ++i) {
        run = bits.get(i) ? run + 1 : 0;
        if (run > best.length) {
            best = {i + 1 - run, run};
        }
    }
    return best;
}

std::size_t reference_first_fit(const Bits& bits, std::size_t from, std::size_t count,
                                std::uint64_t alignment, std::uint64_t bias) {
    for (std::size_t start = from; start + count <= bits.size; ++start) {
        if ((bias + start) % alignment != 0) {
            continue;
        }
        bool all = true;
        for (std::size_t i = start; i < start + count && all; ++i) {
            all = bits.get(i);
        }
        if (all) {
            return start;
        }
    }
    return kNotFound;
}

// Random runs of free and used bits with lengths spread over 1..200, so runs cross words.
Bits random_runs(std::mt19937_64& rng, std::size_t size) {
    Bits bits(size);
    std::size_t i = 0;
    bool value = rng() % 2 == 0;
    while (i < size) {
        std::size_t length = 1 + rng() % (rng() % 4 == 0 ? 200 : 12);
        for (std::size_t j = 0; j < length && i < size; ++j, ++i) {
            bits.set(i, value);
        }
        value = !value;
    }
    return bits;
}

void check_against_reference(const Bits& bits, std::mt19937_64& rng) {
    BitRun expected = reference_largest(bits);
    BitRun found = mm::bitmap::largest_set_run(bits.size, bits.loader());
    REQUIRE(found.length == expected.length);
    REQUIRE(found.start == expected.start);
    CHECK(mm::bitmap::count_set(0, bits.size, bits.loader()) == static_cast<std::size_t>([&] {
              std::size_t n = 0;
              for (std::size_t i = 0; i < bits.size; ++i) {
                  n += bits.get(i);
              }
              return n;
          }()));
    for (int query = 0; query < 8; ++query) {
        std::size_t count = 1 + rng() % (query < 4 ? 8 : 130);
        std::uint64_t alignment = std::uint64_t{1} << (rng() % 8);
        std::uint64_t bias = rng() % 1024;
        std::size_t from = rng() % 3 == 0 ? rng() % (bits.size + 1) : 0;
        INFO("size=" << bits.size << " count=" << count << " align=" << alignment
                     << " bias=" << bias << " from=" << from);
        CHECK(mm::bitmap::first_fit(from, bits.size, count, alignment, bias, bits.loader()) ==
              reference_first_fit(bits, from, count, alignment, bias));
    }
}

}  // namespace

TEST_CASE("bitmap search: largest run and first fit match the bit-by-bit reference") {
    std::mt19937_64 rng(0x5eed'b175);
    const std::size_t sizes[] = {1, 2, 63, 64, 65, 127, 128, 129, 200, 500, 1000, 8191, 8192};
    for (std::size_t size : sizes) {
        for (int round = 0; round < 25; ++round) {
            check_against_reference(random_runs(rng, size), rng);
        }
    }
}

TEST_CASE("bitmap search: edge bitmaps") {
    std::mt19937_64 rng(7);
    SUBCASE("all free and all used") {
        for (std::size_t size : {1, 64, 100, 8192}) {
            Bits free(size, true);
            CHECK(mm::bitmap::largest_set_run(size, free.loader()).length == size);
            CHECK(mm::bitmap::first_fit(0, size, size, 1, 0, free.loader()) == 0);
            check_against_reference(free, rng);
            Bits used(size, false);
            CHECK(mm::bitmap::largest_set_run(size, used.loader()).length == 0);
            CHECK(mm::bitmap::first_fit(0, size, 1, 1, 0, used.loader()) == kNotFound);
            check_against_reference(used, rng);
        }
    }
    SUBCASE("single free bits at word edges") {
        for (std::size_t bit : {0, 1, 62, 63, 64, 65, 127, 128, 191, 255}) {
            Bits bits(256);
            bits.set(bit, true);
            BitRun run = mm::bitmap::largest_set_run(256, bits.loader());
            CHECK(run.start == bit);
            CHECK(run.length == 1);
            CHECK(mm::bitmap::find_next_set(0, 256, bits.loader()) == bit);
            CHECK(mm::bitmap::first_fit(0, 256, 1, 1, 0, bits.loader()) == bit);
            CHECK(mm::bitmap::first_fit(0, 256, 2, 1, 0, bits.loader()) == kNotFound);
            check_against_reference(bits, rng);
        }
    }
    SUBCASE("runs crossing words and at the very end") {
        Bits bits(300);
        for (std::size_t i = 60; i < 200; ++i) {
            bits.set(i, true);  // crosses words 0..3
        }
        for (std::size_t i = 250; i < 300; ++i) {
            bits.set(i, true);  // ends at the last bit
        }
        BitRun run = mm::bitmap::largest_set_run(300, bits.loader());
        CHECK(run.start == 60);
        CHECK(run.length == 140);
        CHECK(mm::bitmap::first_fit(0, 300, 141, 1, 0, bits.loader()) == kNotFound);
        CHECK(mm::bitmap::first_fit(200, 300, 50, 1, 0, bits.loader()) == 250);
        CHECK(mm::bitmap::first_fit(0, 300, 64, 64, 0, bits.loader()) == 64);
        CHECK(mm::bitmap::first_fit(0, 300, 64, 64, 4, bits.loader()) == 60);
        check_against_reference(bits, rng);
    }
    SUBCASE("bits past the end are ignored even when set") {
        Bits bits(70);
        bits.words[1] = ~Word{0};  // bits 64..127 set, but only 64..69 exist
        bits.words[2] = ~Word{0};
        BitRun run = mm::bitmap::largest_set_run(70, bits.loader());
        CHECK(run.start == 64);
        CHECK(run.length == 6);
        CHECK(mm::bitmap::first_fit(0, 70, 7, 1, 0, bits.loader()) == kNotFound);
        CHECK(mm::bitmap::find_next_clear(64, 70, bits.loader()) == 70);
    }
}

TEST_CASE("bitmap words: masks, counts and range predicates") {
    CHECK(mm::bitmap::bit_mask(0, 64) == ~Word{0});
    CHECK(mm::bitmap::bit_mask(63, 1) == Word{1} << 63);
    CHECK(mm::bitmap::bit_mask(4, 4) == 0xf0);
    std::vector<std::size_t> visited;
    std::vector<std::size_t> widths;
    mm::bitmap::for_each_word(60, 70, [&](mm::bitmap::WordSpan span) {
        visited.push_back(span.index);
        widths.push_back(span.bits);
        CHECK(span.first_bit == (span.index == 0 ? 60 : span.index * 64));
        CHECK(std::popcount(span.mask) == static_cast<int>(span.bits));
        return true;
    });
    CHECK(visited == std::vector<std::size_t>{0, 1, 2});
    CHECK(widths == std::vector<std::size_t>{4, 64, 2});
    // A range inside one word is one span; an empty range visits nothing.
    std::vector<mm::bitmap::WordSpan> spans;
    auto collect = [&](mm::bitmap::WordSpan span) {
        spans.push_back(span);
        return true;
    };
    CHECK(mm::bitmap::for_each_word(130, 62, collect));
    REQUIRE(spans.size() == 1);
    CHECK(spans[0].index == 2);
    CHECK(spans[0].mask == mm::bitmap::bit_mask(2, 62));
    CHECK(spans[0].bits == 62);
    CHECK(mm::bitmap::for_each_word(64, 0, collect));
    CHECK(spans.size() == 1);
    Bits bits(200, true);
    bits.set(130, false);
    CHECK(mm::bitmap::count_set(0, 200, bits.loader()) == 199);
    CHECK(mm::bitmap::all_set(0, 130, bits.loader()));
    CHECK_FALSE(mm::bitmap::all_set(0, 131, bits.loader()));
    CHECK(mm::bitmap::all_clear(130, 1, bits.loader()));
    CHECK_FALSE(mm::bitmap::all_clear(129, 2, bits.loader()));
}
