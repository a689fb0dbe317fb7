// Finding a frame's area through the window table (src/mm/allocator_area_table.hpp): the same
// answer as a walk over every area for frames at area edges, in holes, before the first and past
// the last region, with regions not aligned to areas and several areas in one window; and the
// binary-search fallback when the map is too sparse for a table.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/allocator_area_table.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using mm::AreaTable;
using mm::PhysRange;

constexpr std::uint64_t kWindow = mm::kFramesPerArea;

struct FreeDeleter {
    void operator()(unsigned char* bytes) const { std::free(bytes); }
};

struct Table {
    explicit Table(const std::vector<PhysRange>& regions) {
        std::size_t bytes = AreaTable::metadata_bytes(regions, false);
        std::size_t rounded = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
        buffer.reset(static_cast<unsigned char*>(std::aligned_alloc(64, rounded)));
        REQUIRE(table.init(regions, buffer.get(), bytes, false).ok());
    }
    std::unique_ptr<unsigned char, FreeDeleter> buffer;
    AreaTable table;
};

// The area holding `frame` by looking at every one of them.
std::uint32_t walk(const AreaTable& table, std::uint64_t frame) {
    for (std::uint32_t i = 0; i < table.count(); ++i) {
        if (frame - table[i].base_frame < table[i].frames) {
            return i;
        }
    }
    return mm::kNoArea;
}

// Every area's first and last frame and their neighbours, each region's edges and neighbours,
// window edges across the span, frame 0 and frames far past the end.
std::vector<std::uint64_t> probes(const AreaTable& table, const std::vector<PhysRange>& regions) {
    std::vector<std::uint64_t> frames = {0, 1, ~std::uint64_t{0} >> mm::kFrameShift};
    auto around = [&](std::uint64_t frame) {
        for (std::uint64_t near : {frame - 1, frame, frame + 1}) {
            frames.push_back(near);
        }
    };
    for (std::uint32_t i = 0; i < table.count(); ++i) {
        around(table[i].base_frame);
        around(table[i].base_frame + table[i].frames - 1);
    }
    for (const PhysRange& region : regions) {
        around(region.begin >> mm::kFrameShift);
        around((region.end >> mm::kFrameShift) - 1);
    }
    std::uint64_t last = (regions.back().end >> mm::kFrameShift) / kWindow + 2;
    for (std::uint64_t window = 0; window <= last && window < 4096; ++window) {
        around(window * kWindow);
        frames.push_back(window * kWindow + kWindow / 2);
    }
    frames.push_back(last * kWindow * 1000);
    return frames;
}

void check_against_walk(const std::vector<PhysRange>& regions, bool expect_table) {
    Table built(regions);
    const AreaTable& table = built.table;
    CHECK(table.has_window_table() == expect_table);
    for (std::uint64_t frame : probes(table, regions)) {
        INFO("frame " << frame);
        std::uint32_t expected = walk(table, frame);
        CHECK(table.find(frame) == expected);
        // A hint that misses must not change the answer; one that hits is the answer.
        CHECK(table.find(frame, 0) == expected);
        CHECK(table.find(frame, table.count() - 1) == expected);
        CHECK(table.find(frame, table.count()) == expected);
    }
}

}  // namespace

TEST_CASE("area lookup: window table agrees with a walk over every area") {
    SUBCASE("QEMU-like map, regions not aligned to areas, several areas in the first window") {
        check_against_walk({{0x1000, 0x9f000},
                            {0x100000, 0x7fe0000},
                            {4 * lib::GiB, 4 * lib::GiB + 40 * lib::MiB}},
                           true);
    }
    SUBCASE("a region starting mid-window and a hole of whole windows") {
        check_against_walk({{5 * lib::MiB, 70 * lib::MiB},
                            {70 * lib::MiB + 0x3000, 71 * lib::MiB},
                            {200 * lib::MiB, 260 * lib::MiB}},
                           true);
    }
    SUBCASE("many one-frame regions in one window") {
        std::vector<PhysRange> regions;
        for (std::uint64_t i = 0; i < 40; ++i) {
            regions.push_back(
                {(64 * lib::MiB) + i * 0x3000, (64 * lib::MiB) + i * 0x3000 + 0x1000});
        }
        check_against_walk(regions, true);
    }
    SUBCASE("a single frame") {
        check_against_walk({{0x7000, 0x8000}}, true);
    }
    SUBCASE("too sparse for a table: 128 MiB and 16 MiB near 1 TiB use the binary search") {
        check_against_walk({{0x100000, 0x7fe0000}, {0xfd00000000, 0xfd00000000 + 16 * lib::MiB}},
                           false);
    }
}

TEST_CASE("area lookup: the table's size follows usable memory") {
    // 4 GiB from 0: 128 windows, 129 entries of 4 bytes, padded to 576.
    std::vector<PhysRange> four_gib = {{0, 4 * lib::GiB}};
    CHECK(AreaTable::window_span(four_gib, 128).entries == 129);
    CHECK(AreaTable::window_table_bytes(129) == 576);
    // A span of 1 TiB for 160 MiB of usable memory would need 128 KiB: no table, no bytes.
    std::vector<PhysRange> sparse = {
        {0, 128 * lib::MiB}, {(std::uint64_t{1} << 40) - 32 * lib::MiB, (std::uint64_t{1} << 40)}};
    AreaTable::WindowSpan span = AreaTable::window_span(sparse, AreaTable::area_count(sparse));
    CHECK(span.entries == 0);
    CHECK(AreaTable::metadata_bytes(sparse, false) ==
          5 * (128 + 1024) + AreaTable::bases_bytes(5) + AreaTable::summaries_bytes(5));
    // No regions: nothing.
    CHECK(AreaTable::window_span({}, 0).entries == 0);
}

TEST_CASE("area lookup: frees in holes, before and past the regions are refused exactly") {
    alloc_test::Harness<> harness(
        {{0x1000, 0x9f000}, {0x100000, 70 * lib::MiB}, {96 * lib::MiB + 0x5000, 100 * lib::MiB}});
    REQUIRE(harness.init_ok);
    auto& allocator = *harness.allocator;
    alloc_test::HostPlatform::current_cpu = 0;
    for (mm::PhysAddr address : {mm::PhysAddr{0}, mm::PhysAddr{0x9f000}, mm::PhysAddr{0xff000},
                                 mm::PhysAddr{70 * lib::MiB}, mm::PhysAddr{80 * lib::MiB},
                                 mm::PhysAddr{96 * lib::MiB + 0x4000}, mm::PhysAddr{100 * lib::MiB},
                                 mm::PhysAddr{(std::uint64_t{1} << 40)}}) {
        INFO("address " << address);
        lib::Status<mm::FreeError> status = allocator.free(address, 1);
        REQUIRE_FALSE(status.ok());
        CHECK(status.error() == mm::FreeError::outside_areas);
    }
    // Frames at the edges of each region are inside an area: all free, so the free is a double
    // free, refused as not_allocated rather than outside_areas.
    for (mm::PhysAddr address :
         {mm::PhysAddr{0x1000}, mm::PhysAddr{0x9e000}, mm::PhysAddr{0x100000},
          mm::PhysAddr{70 * lib::MiB - 0x1000}, mm::PhysAddr{96 * lib::MiB + 0x5000},
          mm::PhysAddr{100 * lib::MiB - 0x1000}}) {
        INFO("address " << address);
        lib::Status<mm::FreeError> status = allocator.free(address, 1);
        REQUIRE_FALSE(status.ok());
        CHECK(status.error() == mm::FreeError::not_allocated);
    }
    CHECK(allocator.check_invariants().ok);
}
