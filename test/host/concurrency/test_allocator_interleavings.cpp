// Deterministic interleavings: one CPU parked at a named window of the allocator's protocol
// (mm::StopPoint) while another CPU acts, one scenario per window, each written as who does what
// while whom is parked. The first four are the races that broke the design's promises before
// the give-back, the commit, the version and the free count were fixed (docs/DESIGN.md,
// section 8); the others pin down what happens in the remaining windows.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "../allocator_test_support.hpp"
#include "../stop_point_gate.hpp"

namespace {

using alloc_test::AsCpu;
using alloc_test::Harness;
using alloc_test::must_allocate;
using alloc_test::ParkedOperation;
using alloc_test::require_consistent;
using mm::PhysAddr;
using mm::StopPoint;

constexpr PhysAddr kBase = PhysAddr{1} << 20;  // Frame 256: bitmap words start at frame 0.
constexpr PhysAddr kNone = ~PhysAddr{0};

constexpr PhysAddr frame(std::uint64_t index) {
    return kBase + index * mm::kFrameSize;
}

// One area of `frames` frames.
Harness<> one_area(std::uint64_t frames) {
    Harness<> harness({{kBase, frame(frames)}});
    REQUIRE(harness.init_ok);
    return harness;
}

}  // namespace

TEST_CASE("interleaving: a double free racing an in-flight claim, then the marker moves") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(1);
        for (std::uint64_t i = 0; i < 10; ++i) {
            REQUIRE(must_allocate(allocator, 1) == frame(i));
        }
    }
    PhysAddr got = kNone;
    ParkedOperation cpu1(1, StopPoint::claimed_not_published,
                         [&] { got = allocator.allocate(1).value_or(kNone); });
    REQUIRE(cpu1.parked());  // CPU 1 holds frame 10's bit; the marker still says 10.
    {
        AsCpu cpu(0);
        // Frame 10 is allocated (to CPU 1's claim): the bitmap cannot tell this second free of
        // it from a legal one, so it is accepted. Freeing frame 9 moves the marker back.
        CHECK(allocator.free(frame(10), 1).ok());
        CHECK(allocator.free(frame(9), 1).ok());
    }
    cpu1.finish();
    // CPU 1's publish failed, it gave frame 10 back (finding it freed already) and took frame 9.
    CHECK(got == frame(9));
    require_consistent(allocator, 10);
    // Every frame is still there: the area can be filled exactly.
    AsCpu cpu(1);
    CHECK(must_allocate(allocator, 54) == frame(10));
    CHECK_FALSE(allocator.allocate(1).ok());
}

TEST_CASE("interleaving: a double free racing an in-flight claim whose publish then lands") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    PhysAddr got = kNone;
    ParkedOperation cpu1(1, StopPoint::claimed_not_published,
                         [&] { got = allocator.allocate(1).value_or(kNone); });
    REQUIRE(cpu1.parked());
    {
        AsCpu cpu(0);
        CHECK(allocator.free(frame(0), 1).ok());
    }
    cpu1.finish();
    // As if CPU 1's allocation came first and CPU 0 then freed CPU 1's frame: the frame CPU 1
    // got is free again, and every count says so.
    CHECK(got == frame(0));
    require_consistent(allocator, 0);
}

TEST_CASE("interleaving: a stray free inside a legal free's range loses no frame") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, 64) == frame(0));  // One whole bitmap word.
    }
    lib::Status<mm::FreeError> legal;
    ParkedOperation cpu0(0, StopPoint::free_prechecked,
                         [&] { legal = allocator.free(frame(0), 64); });
    REQUIRE(cpu0.parked());  // Pre-check passed: all 64 frames allocated.
    {
        AsCpu cpu(1);
        CHECK(allocator.free(frame(5), 1).ok());
    }
    cpu0.finish();
    // Frame 5 was free when CPU 0's commit came: it is told so, and every other frame is freed.
    REQUIRE_FALSE(legal.ok());
    CHECK(legal.error() == mm::FreeError::not_allocated);
    require_consistent(allocator, 0);
    AsCpu cpu(0);
    CHECK(must_allocate(allocator, 64) == frame(0));
}

TEST_CASE("interleaving: a stalled rescan outlives 65536 updates that restore its state") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(1);
        REQUIRE(must_allocate(allocator, 64) == frame(0));
        REQUIRE(allocator.free(frame(10), 10).ok());  // Extent [64, 64), 10 frames free.
    }
    bool rescanned = false;
    ParkedOperation cpu0(0, StopPoint::scan_done_not_published,
                         [&] { rescanned = allocator.rescan_area(0); });
    REQUIRE(cpu0.parked());  // It read the state and found [10, 20) free.
    AsCpu cpu(1);
    mm::AreaInfo before = allocator.area_info(0);
    // Take [10, 20), walk the empty extent up to 64 again, free [30, 40): the same marker,
    // limit and free count as the parked rescan read, with [10, 20) allocated.
    for (std::uint64_t i = 10; i < 20; ++i) {
        REQUIRE(must_allocate(allocator, 1) == frame(i));
    }
    for (std::uint64_t i = 20; i < 64; ++i) {
        REQUIRE(allocator.free(frame(i), 1).ok());  // Starts at the limit: the limit moves up.
        REQUIRE(must_allocate(allocator, 1) == frame(i));
    }
    REQUIRE(allocator.free(frame(30), 10).ok());
    // Pairs that each publish two updates and restore the state: until a 16-bit version would
    // be back where the rescan read it, or 2^16 updates are past.
    for (unsigned pair = 0; pair < 32769; ++pair) {
        auto low_bits = static_cast<std::uint16_t>(allocator.area_info(0).version - before.version);
        if (pair > 0 && low_bits == 0) {
            break;
        }
        REQUIRE(allocator.free(frame(63), 1).ok());  // Ends at the marker: it moves back.
        REQUIRE(must_allocate(allocator, 1) == frame(63));
    }
    mm::AreaInfo after = allocator.area_info(0);
    REQUIRE(after.marker == before.marker);
    REQUIRE(after.limit == before.limit);
    REQUIRE(after.free == before.free);
    cpu0.finish();
    // The stale scan must not land; the rescan tries again and finds [30, 40).
    CHECK(rescanned);
    CHECK(allocator.area_info(0).marker == 30);
    CHECK(allocator.area_info(0).limit == 40);
    require_consistent(allocator, 54);
}

TEST_CASE(
    "interleaving: frames a stalled free released are taken, and the last free frame is found") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(1);
        REQUIRE(must_allocate(allocator, 64) == frame(0));
        REQUIRE(allocator.free(frame(20), 1).ok());
    }
    lib::Status<mm::FreeError> freed;
    ParkedOperation cpu0(0, StopPoint::free_released,
                         [&] { freed = allocator.free(frame(10), 1); });
    REQUIRE(cpu0.parked());  // Frame 10's bit is released; CPU 0 has not finished its free.
    {
        AsCpu cpu(1);
        CHECK(must_allocate(allocator, 1) == frame(10));
        // Frame 20 is free, and has been all along: this must not fail.
        lib::Result<PhysAddr, mm::AllocError> last = allocator.allocate(1);
        REQUIRE(last.ok());
        CHECK(last.value() == frame(20));
    }
    cpu0.finish();
    CHECK(freed.ok());
    require_consistent(allocator, 64);
}

TEST_CASE("interleaving: two CPUs take over the same unowned area") {
    // Two areas of 64 frames: the last 64 frames below 32 MiB and the first 64 above.
    constexpr PhysAddr kSplit = PhysAddr{32} << 20;
    Harness<> harness({{kSplit - 64 * mm::kFrameSize, kSplit + 64 * mm::kFrameSize}});
    REQUIRE(harness.init_ok);
    auto& allocator = *harness.allocator;
    PhysAddr got = kNone;
    ParkedOperation cpu0(0, StopPoint::owner_cas,
                         [&] { got = allocator.allocate(1).value_or(kNone); });
    REQUIRE(cpu0.parked());  // CPU 0 chose area 0 and is about to CAS its owner.
    PhysAddr other = kNone;
    {
        AsCpu cpu(1);
        other = must_allocate(allocator, 1);
    }
    CHECK(allocator.area_info(0).owner == 1);
    cpu0.finish();
    // CPU 0's CAS failed; it took the other area instead.
    REQUIRE(got != kNone);
    CHECK(got != other);
    CHECK(allocator.area_info(1).owner == 0);
    require_consistent(allocator, 2);
}

TEST_CASE("interleaving: a last-resort search's run is taken before it claims it") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(2);
        REQUIRE(must_allocate(allocator, 64) == frame(0));
        REQUIRE(allocator.free(frame(1), 6).ok());  // [1, 7): the largest run, no aligned 4.
        REQUIRE(allocator.free(frame(8), 4).ok());  // [8, 12): the only 4-aligned run of 4.
    }
    lib::Result<PhysAddr, mm::AllocError> aligned = lib::fail(mm::AllocError::invalid_request);
    ParkedOperation cpu0(0, StopPoint::last_resort_found,
                         [&] { aligned = allocator.allocate(4, 4); });
    REQUIRE(cpu0.parked());  // It found [8, 12) and holds the recalculation lock.
    {
        AsCpu cpu(1);
        CHECK(must_allocate(allocator, 6) == frame(1));  // Shares area 0 at its extent.
        CHECK(must_allocate(allocator, 1) == frame(8));  // The sweep finds [8, 12).
    }
    cpu0.finish();
    // No 4-aligned run of 4 was left once it looked again: a correct refusal.
    REQUIRE_FALSE(aligned.ok());
    CHECK(aligned.error() == mm::AllocError::out_of_memory);
    require_consistent(allocator, 61);
}

TEST_CASE("interleaving: a sweep's run is taken before it publishes it") {
    Harness<> harness = one_area(64);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, 64) == frame(0));
        REQUIRE(allocator.free(frame(10), 2).ok());
        REQUIRE(allocator.free(frame(30), 4).ok());
        REQUIRE(must_allocate(allocator, 4) == frame(30));  // Rescan: extent [30, 34), used up.
        REQUIRE(allocator.free(frame(40), 2).ok());
    }
    PhysAddr got = kNone;
    ParkedOperation cpu0(0, StopPoint::scan_done_not_published,
                         [&] { got = allocator.allocate(2).value_or(kNone); });
    REQUIRE(cpu0.parked());  // Its sweep from the limit (34) found [40, 42).
    {
        AsCpu cpu(1);
        CHECK(must_allocate(allocator, 2) == frame(10));  // Recalculation: [10, 12).
        CHECK(must_allocate(allocator, 2) == frame(40));  // Its own sweep: [40, 42).
    }
    cpu0.finish();
    // The sweep's CAS failed (the claims published new versions) and nothing else is free.
    CHECK(got == kNone);
    require_consistent(allocator, 64);
}
