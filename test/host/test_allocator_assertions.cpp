// The allocator's assertions reach the platform's hook: the always-on tier where a broken state
// would make a claim or a release write past an area's bitmap, the debug tier (host builds,
// MM_DEBUG_CHECKS) on every published state. A platform that throws stands in for the kernel's
// panic, so the test can see the hook called and nothing written.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "allocator_test_support.hpp"
#include "mm/allocator_area.hpp"
#include "mm/allocator_area_claim.hpp"
#include "mm/allocator_area_release.hpp"

namespace {

struct AssertionFailure {
    std::string expression;
};

struct ThrowingPlatform : alloc_test::HostPlatform {
    [[noreturn]] static void assertion_failed(const char* expression, const char*, int) {
        throw AssertionFailure{expression};
    }
};

static_assert(mm::AllocatorPlatform<ThrowingPlatform>);

// One area of 64 frames, all free, with the given extent.
struct LoneArea {
    mm::bitmap::AtomicWord word{~mm::bitmap::Word{0}};
    mm::Area area;

    LoneArea(std::uint16_t marker, std::uint16_t limit) {
        area.frames = 64;
        area.base_frame = 256;
        area.free_bits = &word;
        area.block_phase = 256;  // Frame 256 is half-way through a 2 MiB block.
        area.block_free[0].store(64);
        area.state.store(mm::AreaState{marker, limit, 0}.pack());
    }
};

}  // namespace

TEST_CASE("assertions: a claim at a marker whose limit is past the area stops before writing") {
    LoneArea lone(60, 100);  // A corrupted limit: 100 > 64 frames.
    CHECK_THROWS_AS(mm::claim_at_marker<ThrowingPlatform>(lone.area, 8, 1), AssertionFailure);
    CHECK(lone.word.load() == ~mm::bitmap::Word{0});
    CHECK(lone.area.free_frames() == 64);
}

TEST_CASE("assertions: a release past the area's frames stops before writing") {
    LoneArea lone(0, 64);
    lone.word.store(0);
    CHECK_THROWS_AS(mm::release_range<ThrowingPlatform>(lone.area, 60, 10), AssertionFailure);
    CHECK(lone.word.load() == 0);
    CHECK(lone.area.free_frames() == 64);
}

TEST_CASE("assertions: a published state always has marker <= limit <= frames (debug tier)") {
    LoneArea lone(0, 64);
    mm::AreaState seen = lone.area.load_state();
    mm::AreaState broken = seen.next();
    broken.marker = 40;
    broken.limit = 20;
#ifdef MM_DEBUG_CHECKS
    CHECK_THROWS_AS(mm::publish_state<ThrowingPlatform>(lone.area, seen, broken), AssertionFailure);
    CHECK(lone.area.load_state().marker == 0);
#else
    FAIL("the host suites build with MM_DEBUG_CHECKS (Makefile, HOST_CXXFLAGS)");
#endif
}

TEST_CASE("assertions: rescan_area refuses an index past the areas") {
    alloc_test::Harness<> harness({{0x100000, 0x200000}});
    REQUIRE(harness.init_ok);
    CHECK_FALSE(harness.allocator->rescan_area(1));
    CHECK_FALSE(harness.allocator->rescan_area(~std::size_t{0}));
}
