// How the frame allocator cuts usable regions into areas, sizes and lays out its metadata, and
// refuses what it cannot manage.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using alloc_test::Harness;
using mm::PhysRange;

struct ExpectedArea {
    std::uint64_t base;
    std::uint32_t frames;
};

// Every area as expected, all free with marker 0 and limit = frames, invariants ok.
void check_layout(Harness<>& harness, const std::vector<ExpectedArea>& expected) {
    REQUIRE(harness.init_ok);
    auto& allocator = *harness.allocator;
    REQUIRE(allocator.area_count() == expected.size());
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        mm::AreaInfo info = allocator.area_info(i);
        INFO("area " << i);
        CHECK(info.base == expected[i].base);
        CHECK(info.frames == expected[i].frames);
        CHECK(info.free == expected[i].frames);
        CHECK(info.marker == 0);
        CHECK(info.limit == expected[i].frames);
        CHECK(info.owner == mm::kNoOwner);
        // No area crosses a 32 MiB boundary.
        CHECK(info.base / mm::kAreaBytes ==
              (info.base + std::uint64_t{info.frames} * mm::kFrameSize - 1) / mm::kAreaBytes);
        total += expected[i].frames;
    }
    CHECK(allocator.totals().total_frames == total);
    CHECK(allocator.totals().free_frames == total);
    CHECK(allocator.totals().allocated_frames == 0);
    mm::InvariantReport report = allocator.check_invariants();
    INFO(report.what);
    CHECK(report.ok);
}

// Four areas: descriptors, one cache line of base frames, one of window table, bitmaps.
alignas(64) unsigned char init_buffer[4 * (128 + 1024) + 64 + 64 + 64];

std::uint64_t usable_bytes(const std::vector<PhysRange>& regions) {
    std::uint64_t total = 0;
    for (const PhysRange& region : regions) {
        total += region.size();
    }
    return total;
}

}  // namespace

TEST_CASE("frame allocator layout: one aligned region becomes whole areas") {
    Harness<> harness({{0, 128 * lib::MiB}});
    check_layout(harness,
                 {{0, 8192}, {32 * lib::MiB, 8192}, {64 * lib::MiB, 8192}, {96 * lib::MiB, 8192}});
}

TEST_CASE("frame allocator layout: regions are cut at every 32 MiB boundary") {
    Harness<> harness({{30 * lib::MiB, 70 * lib::MiB}});
    check_layout(harness, {{30 * lib::MiB, 512}, {32 * lib::MiB, 8192}, {64 * lib::MiB, 1536}});
}

TEST_CASE("frame allocator layout: tiny regions, holes and touching regions") {
    // Touching regions merge into one area; a hole starts a new one; 1-frame areas work.
    Harness<> harness({{0x1000, 0x2000},
                       {0x5000, 0x7000},
                       {0x7000, 0x9000},
                       {0x100000, 0x9f0000},
                       {33 * lib::MiB, 33 * lib::MiB + 0x1000}});
    check_layout(harness, {{0x1000, 1}, {0x5000, 4}, {0x100000, 0x8f0}, {33 * lib::MiB, 1}});
}

TEST_CASE("frame allocator layout: regions above 4 GiB and near 1 TiB cost only their size") {
    std::vector<PhysRange> regions = {{0x100000, 0x7fe0000},
                                      {4 * lib::GiB, 4 * lib::GiB + 40 * lib::MiB},
                                      {0xfd00000000, 0xfd00000000 + 16 * lib::MiB}};
    Harness<> harness(regions);
    check_layout(harness, {{0x100000, 7936},
                           {32 * lib::MiB, 8192},
                           {64 * lib::MiB, 8192},
                           {96 * lib::MiB, 8160},
                           {4 * lib::GiB, 8192},
                           {4 * lib::GiB + 32 * lib::MiB, 2048},
                           {0xfd00000000, 4096}});
    // Metadata follows the usable memory, not the highest address (1 TiB would need 32 MiB).
    CHECK(Harness<>::Allocator::metadata_bytes(regions) < 16 * 1024);
    // Frames at 1 TiB are handed out and taken back like any other: take everything in
    // 2048-frame blocks, and every block lies inside a region.
    auto& allocator = *harness.allocator;
    alloc_test::HostPlatform::current_cpu = 0;
    std::vector<mm::PhysAddr> blocks;
    for (;;) {
        lib::Result<mm::PhysAddr, mm::AllocError> block = allocator.allocate(2048);
        if (!block.ok()) {
            CHECK(block.error() == mm::AllocError::out_of_memory);
            break;
        }
        bool inside = false;
        for (const PhysRange& region : regions) {
            inside |= block.value() >= region.begin &&
                      block.value() + 2048 * mm::kFrameSize <= region.end;
        }
        CHECK(inside);
        blocks.push_back(block.value());
    }
    CHECK(std::find(blocks.begin(), blocks.end(), mm::PhysAddr{0xfd00000000}) != blocks.end());
    CHECK(std::find(blocks.begin(), blocks.end(), mm::PhysAddr{0xfd00000000 + 8 * lib::MiB}) !=
          blocks.end());
    for (mm::PhysAddr block : blocks) {
        CHECK(allocator.free(block, 2048).ok());
    }
    CHECK(allocator.totals().free_frames == allocator.totals().total_frames);
    CHECK(allocator.check_invariants().ok);
}

TEST_CASE("frame allocator layout: metadata stays within 40 KiB per GiB") {
    const std::vector<std::vector<PhysRange>> layouts = {
        {{0, 1 * lib::GiB}},
        {{0, 16 * lib::GiB}},
        {{0x1000, 0x9f000}, {0x100000, 0x1ffe0000}},                                // QEMU, 512 MiB
        {{0x1000, 0x9f000}, {0x100000, 0xbffe0000}, {4 * lib::GiB, 6 * lib::GiB}},  // QEMU, 5 GiB
    };
    for (const std::vector<PhysRange>& regions : layouts) {
        std::uint64_t bytes = Harness<>::Allocator::metadata_bytes(regions);
        double per_gib = static_cast<double>(bytes) / (static_cast<double>(usable_bytes(regions)) /
                                                       static_cast<double>(lib::GiB));
        INFO("metadata " << bytes << " bytes, " << per_gib << " per GiB");
        CHECK(per_gib <= 40.0 * 1024);
    }
    // Exactly: 32 areas x (128-byte descriptor + 1 KiB bitmap) per GiB, their 32 base frames,
    // their 32 take-over summaries (4 bytes each) and a window table of 33 4-byte entries (132
    // bytes, padded to 192).
    std::vector<PhysRange> one_gib = {{0, lib::GiB}};
    CHECK(Harness<>::Allocator::metadata_bytes(one_gib) == 32 * (128 + 1024) + 32 * 8 + 128 + 192);
    // Debug fill adds a poison bitmap per area.
    CHECK(Harness<true>::Allocator::metadata_bytes(one_gib) ==
          32 * (128 + 2 * 1024) + 32 * 8 + 128 + 192);
}

TEST_CASE("frame allocator layout: init refuses bad regions and bad buffers") {
    using Allocator = Harness<>::Allocator;
    auto allocator = std::make_unique<Allocator>();
    auto init = [&](std::vector<PhysRange> regions, void* at = init_buffer,
                    std::size_t bytes = sizeof(init_buffer)) {
        lib::Status<mm::InitError> status = allocator->init(regions, at, bytes);
        return status.ok() ? -1 : static_cast<int>(status.error());
    };
    const int invalid = static_cast<int>(mm::InitError::invalid_regions);
    CHECK(init({{0x2000, 0x3000}, {0x1000, 0x2000}}) == invalid);  // unsorted
    CHECK(init({{0x1000, 0x3000}, {0x2000, 0x4000}}) == invalid);  // overlapping
    CHECK(init({{0x1800, 0x3000}}) == invalid);                    // misaligned start
    CHECK(init({{0x1000, 0x2800}}) == invalid);                    // misaligned end
    CHECK(init({{0x1000, 0x1000}}) == invalid);                    // empty
    CHECK(init({{0, 64 * lib::MiB}}, init_buffer, 100) ==
          static_cast<int>(mm::InitError::buffer_too_small));
    CHECK(init({{0, 4 * lib::MiB}}, init_buffer + 8) ==
          static_cast<int>(mm::InitError::buffer_misaligned));
    CHECK(init({{0, 128 * lib::MiB}}) == -1);
    CHECK(allocator->area_count() == 4);
    // No regions at all: nothing to hand out, and saying so is not an error.
    CHECK(init({}, nullptr, 0) == -1);
    CHECK(allocator->area_count() == 0);
    lib::Result<mm::PhysAddr, mm::AllocError> none = allocator->allocate(1);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error() == mm::AllocError::out_of_memory);
    CHECK(allocator->check_invariants().ok);
}

TEST_CASE("frame allocator layout: sizing [4 GiB, 2^64) is immediate and init refuses it") {
    // What an unchecked firmware entry reaching 2^64 would hand the allocator: 2^52 frames.
    std::vector<PhysRange> regions = {
        {std::uint64_t{4} << 30, ~std::uint64_t{0} & ~std::uint64_t{4095}}};
    std::uint64_t areas = (regions[0].end - regions[0].begin + mm::kAreaBytes - 1) / mm::kAreaBytes;
    std::size_t bytes = mm::FrameAllocator<alloc_test::HostPlatform>::metadata_bytes(regions);
    CHECK(bytes > areas * (128 + 1024));  // Hundreds of TiB: sized in O(regions), not walked.
    auto allocator = std::make_unique<mm::FrameAllocator<alloc_test::HostPlatform>>();
    auto status = allocator->init(regions, init_buffer, sizeof init_buffer);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error() == mm::InitError::buffer_too_small);
}

TEST_CASE("frame allocator layout: batched whole areas size like one area at a time") {
    // A partial window, whole windows, and a region that touches the last one's window.
    std::vector<PhysRange> regions = {
        {0x1000, std::uint64_t{100} << 20},
        {std::uint64_t{100} << 20, (std::uint64_t{100} << 20) + 0x5000},
        {std::uint64_t{1} << 32, (std::uint64_t{1} << 32) + (std::uint64_t{96} << 20)}};
    std::uint64_t areas = 0;
    std::size_t bytes = 0;
    mm::for_each_area_run(regions, [&](std::uint64_t, std::uint64_t frames) {
        ++areas;
        bytes += 128 + mm::AreaTable::bitmap_bytes(frames);
    });
    CHECK(areas == mm::AreaTable::area_count(regions));
    CHECK(areas == 4 + 3);
    // Windows 0 to 130: 132 table entries, padded to 576 bytes.
    CHECK(mm::AreaTable::window_span(regions, areas).entries == 132);
    CHECK(bytes + mm::AreaTable::bases_bytes(areas) + mm::AreaTable::summaries_bytes(areas) + 576 ==
          mm::AreaTable::metadata_bytes(regions, false));
}
