// Debug fill: freed frames are filled with a pattern and checked when handed out again; a write
// into a freed frame is reported with the frame, offset, value and CPU. The allocator manages
// fake physical memory here, so the fill really lands somewhere.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/allocator_debug_fill.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using alloc_test::FakeMemory;
using alloc_test::Harness;
using alloc_test::HostPlatform;
using mm::PhysAddr;

using FillAllocator = Harness<true>::Allocator;

constexpr PhysAddr kBase = 64 * lib::MiB;  // physical addresses the fake memory stands for

// Fake memory for [kBase, kBase + 8 MiB) and an allocator with debug fill over it.
struct FillFixture {
    FakeMemory memory{kBase, 8 * lib::MiB};
    Harness<true> harness{{memory.range()}};
    FillAllocator& allocator = *harness.allocator;

    FillFixture() {
        HostPlatform::memory = &memory;
        HostPlatform::current_cpu = 0;
        HostPlatform::take_reports();
    }
    ~FillFixture() { HostPlatform::memory = nullptr; }

    std::uint64_t* words(PhysAddr frame) { return static_cast<std::uint64_t*>(memory.at(frame)); }
    PhysAddr allocate(std::size_t frames) {
        lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(frames);
        REQUIRE(result.ok());
        return result.value();
    }
    void free(PhysAddr address, std::size_t frames) {
        REQUIRE(allocator.free(address, frames).ok());
        REQUIRE(allocator.check_invariants().ok);
    }
};

}  // namespace

TEST_CASE("debug fill: freed frames carry the pattern") {
    FillFixture fixture;
    PhysAddr frames = fixture.allocate(3);
    fixture.words(frames)[0] = 42;  // in use: anything goes
    fixture.free(frames, 3);
    for (std::size_t frame = 0; frame < 3; ++frame) {
        const std::uint64_t* words = fixture.words(frames + frame * mm::kFrameSize);
        for (std::size_t word = 0; word < mm::kWordsPerFrame; ++word) {
            REQUIRE(words[word] == mm::kFreedFramePattern);
        }
    }
}

TEST_CASE("debug fill: a write into a freed frame is reported on its next allocation") {
    FillFixture fixture;
    PhysAddr frames = fixture.allocate(4);
    fixture.free(frames, 4);
    // Use after free: one word in the third frame.
    const PhysAddr victim = frames + 2 * mm::kFrameSize;
    fixture.words(victim)[0x123] = 0x1234'5678;
    HostPlatform::current_cpu = 3;
    CHECK(fixture.allocate(4) == frames);  // the marker moved back: same frames again
    std::vector<alloc_test::UseAfterFree> reports = HostPlatform::take_reports();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].frame == victim);
    CHECK(reports[0].offset == 0x123 * sizeof(std::uint64_t));
    CHECK(reports[0].found == 0x1234'5678);
    CHECK(reports[0].cpu == 3);
    CHECK(fixture.allocator.check_invariants().ok);
}

TEST_CASE("debug fill: untouched and never-freed frames are not reported") {
    FillFixture fixture;
    // Fresh frames hold zeros (not the pattern) but were never freed: not checked.
    PhysAddr fresh = fixture.allocate(16);
    CHECK(HostPlatform::take_reports().empty());
    // Freed and untouched: the check passes.
    fixture.free(fresh, 16);
    CHECK(fixture.allocate(16) == fresh);
    CHECK(HostPlatform::take_reports().empty());
    // Once verified, a frame is in use: writing to it is fine, and freeing refills it.
    fixture.words(fresh)[7] = 7;
    fixture.free(fresh, 16);
    CHECK(fixture.allocate(16) == fresh);
    CHECK(HostPlatform::take_reports().empty());
    fixture.free(fresh, 16);
}

TEST_CASE("debug fill: the last word of a frame is checked, and a refused free fills nothing") {
    FillFixture fixture;
    PhysAddr frame = fixture.allocate(1);
    fixture.free(frame, 1);
    // A double free is refused before anything is written.
    fixture.words(frame)[0] = 5;
    lib::Status<mm::FreeError> twice = fixture.allocator.free(frame, 1);
    REQUIRE_FALSE(twice.ok());
    CHECK(fixture.words(frame)[0] == 5);
    fixture.words(frame)[0] = mm::kFreedFramePattern;
    fixture.words(frame)[mm::kWordsPerFrame - 1] = 0;
    CHECK(fixture.allocate(1) == frame);
    std::vector<alloc_test::UseAfterFree> reports = HostPlatform::take_reports();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].frame == frame);
    CHECK(reports[0].offset == mm::kFrameSize - sizeof(std::uint64_t));
    CHECK(reports[0].found == 0);
}
