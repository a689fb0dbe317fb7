// The virtual-range allocator: guard gaps around every range, the marker (freed ranges are not
// handed out again until the marker's gap runs out), exhaustion, fragmentation, and what an
// address is for a fault report.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "lib/units.hpp"
#include "vm/range_allocator.hpp"

namespace {

using vm::Place;
using vm::RangeAllocator;
using vm::RangeError;
using vm::RangeKind;
using vm::VirtAddr;

constexpr VirtAddr kBegin = 0xFFFFC00000000000ull;
constexpr std::uint64_t kGuard = 16 * 1024;
constexpr std::uint64_t kPage = 4096;

std::unique_ptr<RangeAllocator> make(std::uint64_t bytes) {
    auto ranges = std::make_unique<RangeAllocator>();
    ranges->init(kBegin, kBegin + bytes, kGuard);
    return ranges;
}

VirtAddr must_allocate(RangeAllocator& ranges, std::uint64_t bytes,
                       std::uint64_t alignment = kPage) {
    auto result = ranges.allocate(bytes, alignment, RangeKind::vmalloc, 3);
    REQUIRE(result.ok());
    REQUIRE(ranges.check_invariants());
    return result.value();
}

TEST_CASE("every range has a guard gap on both sides") {
    auto ranges = make(lib::MiB);
    VirtAddr a = must_allocate(*ranges, 3 * kPage);
    VirtAddr b = must_allocate(*ranges, kPage);
    CHECK(a == kBegin + kGuard);  // a guard below the first range too
    CHECK(b == a + 3 * kPage + kGuard);
    CHECK(ranges->count() == 2);
    CHECK(ranges->find(a)->end == a + 3 * kPage);
    CHECK(ranges->find(a)->cpu == 3);
}

TEST_CASE("requests are served at the marker; freed ranges wait until the marker wraps") {
    auto ranges = make(8 * kPage + 5 * kGuard);
    VirtAddr a = must_allocate(*ranges, 2 * kPage);
    VirtAddr b = must_allocate(*ranges, 2 * kPage);
    REQUIRE(ranges->release(a, 1).ok());
    REQUIRE(ranges->check_invariants());
    // Not at a's old place, although it is free and first: after b, at the marker.
    VirtAddr c = must_allocate(*ranges, 2 * kPage);
    CHECK(c == b + 2 * kPage + kGuard);
    CHECK(ranges->rescans() == 0);
    VirtAddr d = must_allocate(*ranges, 2 * kPage);
    CHECK(d == c + 2 * kPage + kGuard);
    // The marker's gap is used up: a first-fit rescan finds a's old place.
    VirtAddr e = must_allocate(*ranges, 2 * kPage);
    CHECK(e == a);
    CHECK(ranges->rescans() == 1);
    CHECK(ranges->marker() == a + 2 * kPage);
}

TEST_CASE("alignment is honoured and bad requests are refused without a change") {
    auto ranges = make(64 * lib::MiB);
    VirtAddr a = must_allocate(*ranges, 2 * lib::MiB, 2 * lib::MiB);
    CHECK(a % (2 * lib::MiB) == 0);
    CHECK(a >= kBegin + kGuard);
    for (auto [bytes, alignment] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
             {0, kPage}, {100, kPage}, {kPage, 3 * kPage}, {kPage, 0}, {kPage, 512}}) {
        auto result = ranges->allocate(bytes, alignment, RangeKind::vmalloc, 0);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error() == RangeError::invalid_request);
    }
    CHECK(ranges->count() == 1);
    CHECK(ranges->release(a + kPage, 0).error() == RangeError::not_found);
    CHECK(ranges->count() == 1);
}

TEST_CASE("exhaustion is an answer, and the region is usable again after a release") {
    auto ranges = make(4 * kPage + 2 * kGuard);
    VirtAddr a = must_allocate(*ranges, 4 * kPage);
    auto more = ranges->allocate(kPage, kPage, RangeKind::vmalloc, 0);
    REQUIRE_FALSE(more.ok());
    CHECK(more.error() == RangeError::no_space);
    CHECK(ranges->count() == 1);
    // Too big for the region even when empty.
    REQUIRE(ranges->release(a, 0).ok());
    CHECK(ranges->allocate(5 * kPage, kPage, RangeKind::vmalloc, 0).error() ==
          RangeError::no_space);
    CHECK(must_allocate(*ranges, 4 * kPage) == a);
}

TEST_CASE("fragmented virtual space: free holes too small for a request with its guards") {
    auto ranges = make(lib::MiB);
    std::vector<VirtAddr> all;
    for (;;) {
        auto r = ranges->allocate(kPage, kPage, RangeKind::vmalloc, 0);
        if (!r) {
            CHECK(r.error() == RangeError::no_space);
            break;
        }
        all.push_back(r.value());
    }
    REQUIRE(all.size() > 10);
    // Free every other range: each hole is one page plus the guards beside it.
    for (std::size_t i = 0; i < all.size(); i += 2) {
        REQUIRE(ranges->release(all[i], 0).ok());
    }
    REQUIRE(ranges->check_invariants());
    // Two pages do not fit a hole that kept a guard on each side, although many pages are free.
    CHECK(ranges->allocate(kGuard + 2 * kPage, kPage, RangeKind::vmalloc, 0).error() ==
          RangeError::no_space);
    // One page does, in the first hole.
    CHECK(must_allocate(*ranges, kPage) == all[0]);
}

TEST_CASE("a full table of ranges is refused") {
    auto ranges = make(64 * lib::GiB);
    for (std::size_t i = 0; i < RangeAllocator::kCapacity; ++i) {
        REQUIRE(ranges->allocate(kPage, kPage, RangeKind::vmap, 0).ok());
    }
    CHECK(ranges->allocate(kPage, kPage, RangeKind::vmap, 0).error() == RangeError::table_full);
    CHECK(ranges->check_invariants());
}

TEST_CASE("locate names the range, the guard gap beside it, or who freed it") {
    auto ranges = make(lib::MiB);
    VirtAddr a = must_allocate(*ranges, 2 * kPage);
    VirtAddr b = must_allocate(*ranges, kPage);
    VirtAddr c = must_allocate(*ranges, kPage);
    REQUIRE(ranges->release(b, 5).ok());

    Place p = ranges->locate(a + kPage + 7);
    CHECK(p.kind == Place::Kind::inside);
    CHECK(p.range.begin == a);
    // Just past a's end: the guard gap after a.
    p = ranges->locate(a + 2 * kPage);
    CHECK(p.kind == Place::Kind::guard_after);
    CHECK(p.range.begin == a);
    // Just below a: a stack running off its bottom.
    p = ranges->locate(a - 8);
    CHECK(p.kind == Place::Kind::guard_below);
    CHECK(p.range.begin == a);
    // Inside b, freed by CPU 5.
    p = ranges->locate(b + 16);
    CHECK(p.kind == Place::Kind::freed);
    CHECK(p.freed.cpu == 5);
    CHECK(p.freed.begin == b);
    // Far after c: unused; outside the region: outside.
    CHECK(ranges->locate(c + 4 * kGuard).kind == Place::Kind::unused);
    CHECK(ranges->locate(kBegin - 1).kind == Place::Kind::outside);
    CHECK(ranges->locate(kBegin + lib::MiB).kind == Place::Kind::outside);
    // A fresh start forgets who freed what.
    ranges->init(kBegin, kBegin + lib::MiB, kGuard);
    CHECK(ranges->locate(b + 16).kind == Place::Kind::unused);
}

}  // namespace
