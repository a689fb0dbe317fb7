// The frame allocator's specific behaviours, one at a time: exhaustion, recalculation and
// rescans, the marker moving back on a free below it, alignment and the last resort,
// fragmentation figures, statistics, hand-over and modes.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using alloc_test::Harness;
using alloc_test::HostPlatform;
using mm::PhysAddr;

using alloc_test::must_allocate;
using alloc_test::must_free;

using Allocator = Harness<>::Allocator;

}  // namespace

TEST_CASE("frame allocator: exhaustion hands out every frame once, then fails cleanly") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB},
                       {40 * lib::MiB, 48 * lib::MiB},
                       {70 * lib::MiB, 70 * lib::MiB + 0x3000}});
    Allocator& allocator = *harness.allocator;
    const std::uint64_t total = allocator.totals().total_frames;
    REQUIRE(total == 8192 + 2048 + 3);
    std::set<PhysAddr> seen;
    for (;;) {
        lib::Result<PhysAddr, mm::AllocError> frame = allocator.allocate(1);
        if (!frame.ok()) {
            CHECK(frame.error() == mm::AllocError::out_of_memory);
            break;
        }
        REQUIRE(seen.insert(frame.value()).second);
    }
    CHECK(seen.size() == total);
    CHECK(allocator.totals().free_frames == 0);
    REQUIRE(allocator.check_invariants().ok);

    // Further requests of any size fail cleanly (the loop's last refusal was the first).
    for (std::size_t frames : {1, 2, 512}) {
        lib::Result<PhysAddr, mm::AllocError> more = allocator.allocate(frames, frames);
        REQUIRE_FALSE(more.ok());
        CHECK(more.error() == mm::AllocError::out_of_memory);
    }
    CHECK(allocator.totals().free_frames == 0);
    CHECK(allocator.cpu_stats(0).failed_allocations == 4);
    CHECK(allocator.check_invariants().ok);

    // Freeing one frame makes exactly one allocation succeed, and it is that frame.
    const PhysAddr freed = 40 * lib::MiB + 77 * mm::kFrameSize;
    must_free(allocator, freed, 1);
    CHECK(must_allocate(allocator, 1) == freed);
    CHECK_FALSE(allocator.allocate(1).ok());
    CHECK(allocator.check_invariants().ok);
}

TEST_CASE("frame allocator: a stale marker is recalculated when allocation runs out") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    std::vector<PhysAddr> blocks;
    for (int i = 0; i < 16; ++i) {
        blocks.push_back(must_allocate(allocator, 512));
        CHECK(blocks.back() == static_cast<PhysAddr>(i) * 512 * mm::kFrameSize);
    }
    CHECK(allocator.area_info(0).marker == 8192);
    // Two blocks in the middle come back: the marker does not see them.
    must_free(allocator, blocks[5], 512);
    must_free(allocator, blocks[6], 512);
    CHECK(allocator.area_info(0).marker == 8192);
    CHECK(allocator.area_info(0).free == 1024);
    std::uint64_t recalculations = allocator.recalculation_count();

    // Only a recalculation finds them: the CPU rescans its own area (no lock, no other area)
    // and the marker then sits at their start.
    CHECK(must_allocate(allocator, 1000) == blocks[5]);
    CHECK(allocator.area_info(0).recalculations == 1);
    CHECK(allocator.cpu_stats(0).area_rescans == 1);
    CHECK(allocator.recalculation_count() == recalculations);  // no whole-memory pass needed
    CHECK(allocator.area_info(0).marker == 5 * 512 + 1000);
    CHECK(allocator.area_info(0).limit == 7 * 512);
    // The rest of the extent is served at the marker without another recalculation.
    CHECK(must_allocate(allocator, 24) == blocks[5] + 1000 * mm::kFrameSize);
    CHECK(allocator.area_info(0).recalculations == 1);
    CHECK(allocator.cpu_stats(0).area_rescans == 1);
    CHECK(allocator.check_invariants().ok);
}

TEST_CASE("frame allocator: a whole-memory recalculation finds frames freed in another area") {
    // CPU 1 fills area 1 and frees two runs in its middle: area 1's marker stays at its end.
    // CPU 0's own area is full too, so nothing fits anywhere until a recalculation under the
    // lock finds the freed runs; CPU 0 then shares CPU 1's area.
    Harness<> harness({{0, 64 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    HostPlatform::current_cpu = 0;
    PhysAddr own = must_allocate(allocator, 8192);
    HostPlatform::current_cpu = 1;
    PhysAddr other = must_allocate(allocator, 8192);
    REQUIRE(own / mm::kAreaBytes != other / mm::kAreaBytes);
    const auto other_area = static_cast<std::uint32_t>(other / mm::kAreaBytes);
    must_free(allocator, other + 1000 * mm::kFrameSize, 300);
    must_free(allocator, other + 4000 * mm::kFrameSize, 600);
    CHECK(allocator.area_info(other_area).marker == 8192);
    std::uint64_t before = allocator.recalculation_count();

    HostPlatform::current_cpu = 0;
    CHECK(must_allocate(allocator, 500) == other + 4000 * mm::kFrameSize);
    CHECK(allocator.recalculation_count() == before + 1);
    CHECK(allocator.cpu_stats(0).recalculations == 1);
    CHECK(allocator.cpu_stats(0).shares == 1);
    CHECK(allocator.area_info(other_area).owner == 1);
    CHECK(allocator.area_info(other_area).marker == 4500);
    CHECK(allocator.area_info(other_area).limit == 4600);
    // The smaller run was not the largest, so it stayed outside the extent; once the extent is
    // too small, a rescan of the area the cursor points at finds it, without the lock.
    CHECK(must_allocate(allocator, 300) == other + 1000 * mm::kFrameSize);
    CHECK(allocator.cpu_stats(0).area_rescans == 1);
    CHECK(allocator.recalculation_count() == before + 1);
    CHECK(allocator.cpu_stats(0).last_resort_searches == 0);
    CHECK(allocator.check_invariants().ok);
}

TEST_CASE(
    "frame allocator: a free right below the marker moves it back, one at the limit extends") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    PhysAddr first = must_allocate(allocator, 10);
    CHECK(allocator.area_info(0).marker == 10);
    must_free(allocator, first + 5 * mm::kFrameSize, 5);
    CHECK(allocator.area_info(0).marker == 5);
    CHECK(must_allocate(allocator, 5) == first + 5 * mm::kFrameSize);  // reused at once
    must_free(allocator, first + 5 * mm::kFrameSize, 5);
    must_free(allocator, first, 5);
    CHECK(allocator.area_info(0).marker == 0);
    CHECK(allocator.area_info(0).limit == 8192);

    // The limit case: fill the area, free one block so a rescan puts the extent there, then a
    // free that starts exactly at the extent's limit extends it upwards.
    std::vector<PhysAddr> blocks;
    for (int i = 0; i < 16; ++i) {
        blocks.push_back(must_allocate(allocator, 512));
    }
    must_free(allocator, blocks[2], 512);
    CHECK(must_allocate(allocator, 100) == blocks[2]);  // recalculated: extent [1124, 1536)
    CHECK(allocator.area_info(0).limit == 3 * 512);
    must_free(allocator, blocks[3], 512);
    CHECK(allocator.area_info(0).limit == 4 * 512);
    CHECK(allocator.area_info(0).marker == 2 * 512 + 100);
}

TEST_CASE("frame allocator: alignment applies to physical addresses") {
    HostPlatform::current_cpu = 0;
    // The region starts 20 KiB past 1 MiB: bitmap positions are not physical alignment.
    Harness<> harness({{0x105000, 40 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    std::vector<std::pair<PhysAddr, std::size_t>> held;
    for (std::size_t frames : {1, 7, 512, 100, 512, 3}) {
        PhysAddr huge = must_allocate(allocator, frames, mm::kFramesPerHugeFrame);
        CHECK(huge % mm::kHugeFrameSize == 0);
        held.push_back({huge, frames});
        PhysAddr odd = must_allocate(allocator, 1);  // misalign the marker again
        held.push_back({odd, 1});
        PhysAddr sixteen = must_allocate(allocator, 5, 16);
        CHECK(sixteen % (16 * mm::kFrameSize) == 0);
        held.push_back({sixteen, 5});
    }
    CHECK(allocator.check_invariants().ok);
    for (auto [address, frames] : held) {
        must_free(allocator, address, frames);
    }
    CHECK(allocator.totals().allocated_frames == 0);
}

TEST_CASE("frame allocator: the last resort finds an aligned run that no extent shows") {
    // The largest free run, [1, 1023), holds no 2 MiB-aligned block of 512 frames; the smaller
    // run [2048, 2560) does. Rescans and recalculations keep pointing at the larger one, so
    // only the exhaustive first-fit search can serve the request.
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 32 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    must_allocate(allocator, 8192);
    must_free(allocator, 1 * mm::kFrameSize, 1022);
    must_free(allocator, 2048 * mm::kFrameSize, 512);
    CHECK(must_allocate(allocator, 512, 512) == 2048 * mm::kFrameSize);
    CHECK(allocator.cpu_stats(0).last_resort_searches == 1);
    CHECK(allocator.area_info(0).free == 1022);
    CHECK(allocator.check_invariants().ok);
    // Now nothing aligned is left: refused, and nothing changes.
    lib::Result<PhysAddr, mm::AllocError> none = allocator.allocate(512, 512);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error() == mm::AllocError::out_of_memory);
    CHECK(allocator.area_info(0).free == 1022);
    CHECK(allocator.check_invariants().ok);
}

TEST_CASE("frame allocator: fragmentation counts free frames in whole free 2 MiB blocks") {
    HostPlatform::current_cpu = 0;
    SUBCASE("all free, aligned area") {
        Harness<> harness({{0, 32 * lib::MiB}});
        mm::Fragmentation f = harness.allocator->fragmentation();
        CHECK(f.free_frames == 8192);
        CHECK(f.free_huge_blocks == 16);
        CHECK(f.frames_in_free_huge_blocks == 8192);
        CHECK(f.huge_block_share_per_mille() == 1000);
    }
    SUBCASE("one frame taken in every 2 MiB block") {
        Harness<> harness({{0, 32 * lib::MiB}});
        Allocator& allocator = *harness.allocator;
        for (int block = 0; block < 16; ++block) {
            must_allocate(allocator, 1);
            must_allocate(allocator, 511);
        }
        for (int block = 0; block < 16; ++block) {
            must_free(allocator, (static_cast<PhysAddr>(block) * 512 + 1) * mm::kFrameSize, 511);
        }
        mm::Fragmentation f = allocator.fragmentation();
        CHECK(f.free_frames == 16 * 511);
        CHECK(f.free_huge_blocks == 0);
        CHECK(f.huge_block_share_per_mille() == 0);
    }
    SUBCASE("an unaligned region holds fewer whole blocks than its size suggests") {
        Harness<> harness({{1 * lib::MiB, 9 * lib::MiB}});  // 2048 frames, blocks at 2, 4 and 6 MiB
        mm::Fragmentation f = harness.allocator->fragmentation();
        CHECK(f.free_frames == 2048);
        CHECK(f.free_huge_blocks == 3);
        CHECK(f.huge_block_share_per_mille() == 750);
    }
}

TEST_CASE("frame allocator: per-CPU statistics, hand-over and remote frees") {
    Harness<> harness({{0, 64 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    HostPlatform::current_cpu = 1;
    PhysAddr on_one = must_allocate(allocator, 4);
    HostPlatform::current_cpu = 2;
    PhysAddr on_two = must_allocate(allocator, 8);
    // Each CPU took its own area.
    CHECK(allocator.area_info(on_one / mm::kAreaBytes).owner == 1);
    CHECK(allocator.area_info(on_two / mm::kAreaBytes).owner == 2);
    CHECK(on_one / mm::kAreaBytes != on_two / mm::kAreaBytes);
    // CPU 2 frees CPU 1's frames: a remote free.
    must_free(allocator, on_one, 4);
    mm::CpuStats two = allocator.cpu_stats(2);
    CHECK(two.allocations == 1);
    CHECK(two.frames_allocated == 8);
    CHECK(two.frees == 1);
    CHECK(two.remote_frees == 1);
    CHECK(two.frames_freed == 4);
    CHECK(two.area_claims == 1);
    CHECK(two.owns_area);
    // A third CPU finds no unowned area left and shares one.
    HostPlatform::current_cpu = 3;
    must_allocate(allocator, 1);
    mm::CpuStats three = allocator.cpu_stats(3);
    CHECK(three.shares == 1);
    CHECK(three.area_claims == 0);
    CHECK_FALSE(three.owns_area);
    CHECK(allocator.check_invariants().ok);
    // A CPU index beyond the cursors still works, through the global lock.
    HostPlatform::current_cpu = 100000;
    PhysAddr far = must_allocate(allocator, 2);
    must_free(allocator, far, 2);
    HostPlatform::current_cpu = 0;
}

TEST_CASE("frame allocator: switching modes while quiescent") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 96 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    std::vector<PhysAddr> held;
    for (unsigned cpu = 0; cpu < 3; ++cpu) {
        HostPlatform::current_cpu = cpu;
        held.push_back(must_allocate(allocator, 16));
    }
    allocator.set_mode(mm::Mode::global_lock);
    CHECK(allocator.mode() == mm::Mode::global_lock);
    for (std::size_t i = 0; i < allocator.area_count(); ++i) {
        CHECK(allocator.area_info(i).owner == mm::kNoOwner);
    }
    REQUIRE(allocator.check_invariants().ok);
    held.push_back(must_allocate(allocator, 16));
    CHECK(allocator.area_info(held.back() / mm::kAreaBytes).owner == mm::kNoOwner);
    allocator.set_mode(mm::Mode::per_cpu);
    held.push_back(must_allocate(allocator, 16));
    for (PhysAddr address : held) {
        must_free(allocator, address, 16);
    }
    CHECK(allocator.totals().allocated_frames == 0);
    HostPlatform::current_cpu = 0;
}
