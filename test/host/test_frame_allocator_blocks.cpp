// 2 MiB blocks as first-class citizens (allocator_blocks.hpp): a whole aligned block is taken
// and returned with one step on its counter, and every way of freeing it wrongly or in parts
// ends exactly where the bitmap-only allocator ended: double frees refused, partial frees fine,
// counts exact.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "stop_point_gate.hpp"

namespace {

using alloc_test::Harness;
using alloc_test::HostPlatform;
using alloc_test::must_allocate;
using alloc_test::must_free;
using alloc_test::require_consistent;
using mm::PhysAddr;

constexpr std::uint64_t kBlock = mm::kFramesPerHugeFrame;
constexpr PhysAddr kBlockBytes = mm::kHugeFrameSize;

template <typename Allocator>
mm::FreeError refused(Allocator& allocator, PhysAddr address, std::size_t frames) {
    lib::Status<mm::FreeError> status = allocator.free(address, frames);
    REQUIRE_FALSE(status.ok());
    return status.error();
}

}  // namespace

TEST_CASE(
    "2 MiB blocks: an aligned 512-frame request takes a whole block and its free returns it") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    auto& allocator = *harness.allocator;
    CHECK(allocator.area_info(0).free_blocks == 16);
    PhysAddr block = must_allocate(allocator, kBlock, kBlock);
    CHECK(block == 0);
    mm::AreaInfo info = allocator.area_info(0);
    CHECK(info.whole_blocks == 1);
    CHECK(info.free_blocks == 15);
    CHECK(info.free == 15 * kBlock);
    require_consistent(allocator, kBlock);  // Also: a whole block's bits are all still set.
    must_free(allocator, block, kBlock);
    info = allocator.area_info(0);
    CHECK(info.whole_blocks == 0);
    CHECK(info.free_blocks == 16);
    require_consistent(allocator, 0);
}

TEST_CASE("2 MiB blocks: a second free of a whole block is refused and changes nothing") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    auto& allocator = *harness.allocator;
    PhysAddr block = must_allocate(allocator, kBlock, kBlock);
    PhysAddr kept = must_allocate(allocator, kBlock, kBlock);
    must_free(allocator, block, kBlock);
    CHECK(refused(allocator, block, kBlock) == mm::FreeError::not_allocated);
    CHECK(refused(allocator, block + 7 * mm::kFrameSize, 3) == mm::FreeError::not_allocated);
    // Overlapping a free block and a taken one: refused as a whole, the taken one stays taken.
    CHECK(refused(allocator, block + 256 * mm::kFrameSize, kBlock) == mm::FreeError::not_allocated);
    CHECK(allocator.area_info(0).whole_blocks == 1);
    require_consistent(allocator, kBlock);
    must_free(allocator, kept, kBlock);
    require_consistent(allocator, 0);
}

TEST_CASE("2 MiB blocks: a whole block can be freed in parts, and each part only once") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    auto& allocator = *harness.allocator;
    PhysAddr block = must_allocate(allocator, kBlock, kBlock);
    // A part of a whole block: the block turns back into bits, all allocated, then the part
    // is freed like any other.
    must_free(allocator, block + 100 * mm::kFrameSize, 1);
    CHECK(allocator.area_info(0).whole_blocks == 0);
    require_consistent(allocator, kBlock - 1);
    CHECK(refused(allocator, block + 100 * mm::kFrameSize, 1) == mm::FreeError::not_allocated);
    // The whole block again: one of its frames is free, so it is refused and changes nothing.
    CHECK(refused(allocator, block, kBlock) == mm::FreeError::not_allocated);
    require_consistent(allocator, kBlock - 1);
    must_free(allocator, block, 100);
    must_free(allocator, block + 101 * mm::kFrameSize, kBlock - 101);
    CHECK(allocator.area_info(0).free_blocks == 16);
    require_consistent(allocator, 0);
    // Taken whole again and given back in two halves.
    PhysAddr again = must_allocate(allocator, kBlock, kBlock);
    CHECK(allocator.area_info(0).whole_blocks == 1);
    must_free(allocator, again, kBlock / 2);
    must_free(allocator, again + kBlock / 2 * mm::kFrameSize, kBlock / 2);
    CHECK(allocator.area_info(0).free_blocks == 16);
    require_consistent(allocator, 0);
}

TEST_CASE("2 MiB blocks: larger requests take several whole blocks, freed together or apart") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    auto& allocator = *harness.allocator;
    PhysAddr four = must_allocate(allocator, 4 * kBlock, kBlock);
    CHECK(allocator.area_info(0).whole_blocks == 4);
    must_free(allocator, four + kBlockBytes, kBlock);  // The second block alone.
    CHECK(allocator.area_info(0).whole_blocks == 3);
    // Blocks 0 to 2 in one call: block 1 is free, so the call is refused and changes nothing.
    CHECK(refused(allocator, four, 3 * kBlock) == mm::FreeError::not_allocated);
    CHECK(allocator.area_info(0).whole_blocks == 3);
    require_consistent(allocator, 3 * kBlock);
    must_free(allocator, four, kBlock);
    must_free(allocator, four + 2 * kBlockBytes, 2 * kBlock);  // Two whole blocks in one call.
    require_consistent(allocator, 0);
    // An unaligned request that covers a whole block takes that block whole and bits around it.
    PhysAddr first = must_allocate(allocator, 1);
    PhysAddr spanning = must_allocate(allocator, 2 * kBlock);
    CHECK(spanning == first + mm::kFrameSize);
    CHECK(allocator.area_info(0).whole_blocks == 1);
    must_free(allocator, spanning, 2 * kBlock);
    must_free(allocator, first, 1);
    require_consistent(allocator, 0);
}

TEST_CASE(
    "2 MiB blocks: a block with one frame taken is not whole; aligned requests go around it") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 4 * lib::MiB}});  // Two blocks.
    auto& allocator = *harness.allocator;
    PhysAddr one = must_allocate(allocator, 1);
    CHECK(must_allocate(allocator, kBlock, kBlock) == kBlockBytes);
    CHECK_FALSE(allocator.allocate(kBlock, kBlock).ok());
    must_free(allocator, one, 1);
    CHECK(must_allocate(allocator, kBlock, kBlock) == 0);  // Whole again once the frame is back.
    require_consistent(allocator, 2 * kBlock);
}

TEST_CASE("2 MiB blocks: an area that starts inside a block has whole blocks only where full") {
    HostPlatform::current_cpu = 0;
    // 8 MiB starting 100 frames into a block: three full blocks and two partial ones, and bitmap
    // words that straddle block boundaries.
    constexpr PhysAddr kStart = 100 * mm::kFrameSize;
    Harness<> harness({{kStart, kStart + 8 * lib::MiB}});
    auto& allocator = *harness.allocator;
    CHECK(allocator.area_info(0).free_blocks == 3);
    std::vector<PhysAddr> blocks;
    for (auto got = allocator.allocate(kBlock, kBlock); got.ok();
         got = allocator.allocate(kBlock, kBlock)) {
        CHECK(got.value() % kBlockBytes == 0);
        blocks.push_back(got.value());
    }
    CHECK(blocks.size() == 3);
    CHECK(allocator.area_info(0).whole_blocks == 3);
    // The rest is single frames in the partial blocks: all of them can be had.
    std::uint64_t singles = 0;
    while (allocator.allocate(1).ok()) {
        ++singles;
    }
    CHECK(singles == 4 * kBlock - 3 * kBlock);
    require_consistent(allocator, 4 * kBlock);
    must_free(allocator, blocks[1] + 5 * mm::kFrameSize, 60);  // Split a whole block.
    CHECK(must_allocate(allocator, 60) == blocks[1] + 5 * mm::kFrameSize);
    require_consistent(allocator, 4 * kBlock);
}

TEST_CASE("2 MiB blocks: fragmentation counts free blocks from the counters, exactly") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    auto& allocator = *harness.allocator;
    PhysAddr whole = must_allocate(allocator, kBlock, kBlock);
    PhysAddr single = must_allocate(allocator, 1);
    mm::Fragmentation fragmentation = allocator.fragmentation();
    CHECK(fragmentation.free_huge_blocks == 14);
    CHECK(fragmentation.free_frames == 16 * kBlock - kBlock - 1);
    must_free(allocator, single, 1);
    must_free(allocator, whole, kBlock);
    CHECK(allocator.fragmentation().free_huge_blocks == 16);
}

TEST_CASE("take-over summary: a free marks an unowned area's hint dirty, a take-over reads it") {
    // Three areas of 8192 frames. CPU 1 fills area 0 and lets go of it by moving on; frees into
    // area 0 then leave its hint (0 free) behind, marked dirty; CPU 2's take-over reads the
    // descriptor, ranks area 0 first (partly used, 1024 free) and takes it.
    Harness<> harness({{0, 96 * lib::MiB}});
    auto& allocator = *harness.allocator;
    std::vector<PhysAddr> filled;
    {
        alloc_test::AsCpu cpu(1);
        for (int i = 0; i < 16; ++i) {
            filled.push_back(must_allocate(allocator, kBlock, kBlock));
        }
        must_allocate(allocator, 1);  // Area 0 is full: CPU 1 takes over area 1.
        CHECK(allocator.area_info(0).owner == mm::kNoOwner);
        CHECK(allocator.area_info(1).owner == 1);
    }
    {
        alloc_test::AsCpu cpu(0);
        must_free(allocator, filled[3], kBlock);
        must_free(allocator, filled[9], kBlock);
    }
    alloc_test::AsCpu cpu(2);
    CHECK(must_allocate(allocator, kBlock, kBlock) == filled[3]);
    CHECK(allocator.area_info(0).owner == 2);
    require_consistent(allocator, 15 * kBlock + 1);
}
