// Deterministic interleavings around 2 MiB blocks taken whole (allocator_blocks.hpp): one CPU
// parked at a named window (mm::StopPoint) while others act. The windows are a split in progress
// (a partial free of a whole block), a free waiting for another CPU's split, a whole-block claim
// not yet published, and a free's pre-check over a whole block. docs/DESIGN.md, section 15.
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

constexpr std::uint64_t kBlock = mm::kFramesPerHugeFrame;
constexpr PhysAddr kNone = ~PhysAddr{0};

constexpr PhysAddr frame(std::uint64_t index) {
    return index * mm::kFrameSize;
}

// `blocks` 2 MiB blocks from address 0: one area.
Harness<> blocks_of_memory(std::uint64_t blocks) {
    Harness<> harness({{0, frame(blocks * kBlock)}});
    REQUIRE(harness.init_ok);
    return harness;
}

}  // namespace

TEST_CASE("interleaving: a block being split is out of every claim's reach until the split ends") {
    Harness<> harness = blocks_of_memory(2);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, kBlock, kBlock) == frame(0));
    }
    lib::Status<mm::FreeError> freed;
    ParkedOperation cpu0(0, StopPoint::block_splitting,
                         [&] { freed = allocator.free(frame(5), 1); });
    REQUIRE(cpu0.parked());  // Block 0 is marked splitting; its bits are all still set.
    {
        AsCpu cpu(1);
        CHECK(must_allocate(allocator, kBlock, kBlock) == frame(kBlock));  // Not block 0.
        // Every frame is allocated until the split ends: refusing is right, and no bit of
        // block 0, though set, is handed out.
        lib::Result<PhysAddr, mm::AllocError> none = allocator.allocate(1);
        REQUIRE_FALSE(none.ok());
        CHECK(none.error() == mm::AllocError::out_of_memory);
    }
    cpu0.finish();
    CHECK(freed.ok());
    AsCpu cpu(1);
    CHECK(must_allocate(allocator, 1) == frame(5));
    require_consistent(allocator, 2 * kBlock);
}

TEST_CASE("interleaving: a free into a block being split waits for the split, then counts") {
    Harness<> harness = blocks_of_memory(1);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, kBlock, kBlock) == frame(0));
    }
    lib::Status<mm::FreeError> first;
    lib::Status<mm::FreeError> second;
    ParkedOperation cpu0(0, StopPoint::block_splitting,
                         [&] { first = allocator.free(frame(5), 1); });
    REQUIRE(cpu0.parked());
    ParkedOperation cpu1(1, StopPoint::split_awaited,
                         [&] { second = allocator.free(frame(9), 1); });
    REQUIRE(cpu1.parked());  // CPU 1 found the split under way and waits for it.
    cpu0.finish();
    cpu1.finish();
    CHECK(first.ok());
    CHECK(second.ok());
    require_consistent(allocator, kBlock - 2);
}

TEST_CASE("interleaving: a whole-block free racing a split of the block frees each frame once") {
    Harness<> harness = blocks_of_memory(1);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, kBlock, kBlock) == frame(0));
    }
    lib::Status<mm::FreeError> part;
    lib::Status<mm::FreeError> whole;
    ParkedOperation cpu0(0, StopPoint::block_splitting,
                         [&] { part = allocator.free(frame(5), 1); });
    REQUIRE(cpu0.parked());
    // The block cannot go back in one step while it is being split: CPU 1 waits, then frees
    // its bits.
    ParkedOperation cpu1(1, StopPoint::split_awaited,
                         [&] { whole = allocator.free(frame(0), kBlock); });
    REQUIRE(cpu1.parked());
    cpu0.finish();
    cpu1.finish();
    // Frame 5 went back first, so the whole-block free is told so; every frame is free once.
    CHECK(part.ok());
    REQUIRE_FALSE(whole.ok());
    CHECK(whole.error() == mm::FreeError::not_allocated);
    require_consistent(allocator, 0);
    CHECK(allocator.area_info(0).free_blocks == 1);
}

TEST_CASE("interleaving: a partial free pre-checked on a whole block, then the block comes back") {
    Harness<> harness = blocks_of_memory(1);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(0);
        REQUIRE(must_allocate(allocator, kBlock, kBlock) == frame(0));
    }
    lib::Status<mm::FreeError> part;
    ParkedOperation cpu0(0, StopPoint::free_prechecked,
                         [&] { part = allocator.free(frame(5), 1); });
    REQUIRE(cpu0.parked());  // Frame 5 is allocated: its block is whole.
    {
        AsCpu cpu(1);
        CHECK(allocator.free(frame(0), kBlock).ok());  // One step: the block is free again.
    }
    cpu0.finish();
    // No split of a free block: frame 5's bit was set already, so CPU 0 is told, and nothing
    // is counted twice.
    REQUIRE_FALSE(part.ok());
    CHECK(part.error() == mm::FreeError::not_allocated);
    require_consistent(allocator, 0);
}

TEST_CASE("interleaving: a whole block claimed at the marker is kept when the marker moves") {
    Harness<> harness = blocks_of_memory(4);
    auto& allocator = *harness.allocator;
    {
        AsCpu cpu(1);
        for (std::uint64_t i = 0; i < 10; ++i) {
            REQUIRE(must_allocate(allocator, 1) == frame(i));
        }
    }
    PhysAddr got = kNone;
    ParkedOperation cpu0(0, StopPoint::claimed_not_published,
                         [&] { got = allocator.allocate(kBlock, kBlock).value_or(kNone); });
    REQUIRE(cpu0.parked());  // Block 1 taken whole (the first aligned one after the marker).
    {
        AsCpu cpu(1);
        CHECK(allocator.free(frame(9), 1).ok());  // Ends at the marker: it moves back to 9.
    }
    cpu0.finish();
    // CPU 0's publish failed; it keeps the block and publishes it where it lies.
    CHECK(got == frame(kBlock));
    CHECK(allocator.area_info(0).whole_blocks == 1);
    require_consistent(allocator, 9 + kBlock);
    // The extent shrank to the larger side of the block: [1024, 2048).
    CHECK(allocator.area_info(0).marker == 2 * kBlock);
    CHECK(allocator.area_info(0).limit == 4 * kBlock);
}

TEST_CASE("interleaving: a double free of a whole block still in flight keeps every count exact") {
    Harness<> harness = blocks_of_memory(2);
    auto& allocator = *harness.allocator;
    PhysAddr got = kNone;
    ParkedOperation cpu0(0, StopPoint::claimed_not_published,
                         [&] { got = allocator.allocate(kBlock, kBlock).value_or(kNone); });
    REQUIRE(cpu0.parked());
    {
        AsCpu cpu(1);
        // The block is allocated (to CPU 0's claim): the counter cannot tell this free from a
        // legal one, so it is accepted.
        CHECK(allocator.free(frame(0), kBlock).ok());
    }
    cpu0.finish();
    // As if CPU 0's allocation came first and CPU 1 then freed it: the block is free again.
    CHECK(got == frame(0));
    require_consistent(allocator, 0);
    CHECK(allocator.area_info(0).free_blocks == 2);
}
