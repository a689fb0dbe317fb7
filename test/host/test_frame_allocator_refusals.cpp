// Refused calls: bad frees (misaligned, wrong size, outside the areas, spanning two areas,
// double frees) and invalid requests are answered with their error and change nothing — not
// the free counts, not the markers, not the owners.
#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using alloc_test::Harness;
using alloc_test::HostPlatform;
using alloc_test::must_allocate;
using alloc_test::must_free;
using mm::PhysAddr;

using Allocator = Harness<>::Allocator;

// Everything a refused call must leave untouched.
struct Snapshot {
    mm::Totals totals;
    std::vector<mm::AreaInfo> areas;

    explicit Snapshot(const Allocator& allocator) : totals(allocator.totals()) {
        for (std::size_t i = 0; i < allocator.area_count(); ++i) {
            areas.push_back(allocator.area_info(i));
        }
    }
    bool operator==(const Snapshot& other) const {
        if (totals.free_frames != other.totals.free_frames || areas.size() != other.areas.size()) {
            return false;
        }
        for (std::size_t i = 0; i < areas.size(); ++i) {
            const mm::AreaInfo& a = areas[i];
            const mm::AreaInfo& b = other.areas[i];
            if (a.free != b.free || a.marker != b.marker || a.limit != b.limit ||
                a.owner != b.owner || a.recalculations != b.recalculations) {
                return false;
            }
        }
        return true;
    }
};

void check_free_refused(Allocator& allocator, PhysAddr address, std::size_t frames,
                        mm::FreeError expected) {
    Snapshot before(allocator);
    lib::Status<mm::FreeError> status = allocator.free(address, frames);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error() == expected);
    CHECK(Snapshot(allocator) == before);
    CHECK(allocator.check_invariants().ok);
}

}  // namespace

TEST_CASE("frame allocator: refused frees change nothing") {
    HostPlatform::current_cpu = 0;
    // Two adjacent areas (one region across 32 MiB) and a hole before the third.
    Harness<> harness({{16 * lib::MiB, 48 * lib::MiB}, {60 * lib::MiB, 64 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    REQUIRE(allocator.area_count() == 3);
    PhysAddr block = must_allocate(allocator, 64);
    // A run that straddles the 32 MiB boundary between area 0 and area 1.
    std::vector<PhysAddr> held;
    while (true) {
        PhysAddr frame = must_allocate(allocator, 512);
        held.push_back(frame);
        if (frame >= 32 * lib::MiB) {
            break;
        }
    }
    using mm::FreeError;
    check_free_refused(allocator, block + 1, 1, FreeError::misaligned);
    check_free_refused(allocator, block + 2048, 2, FreeError::misaligned);
    check_free_refused(allocator, block, 0, FreeError::invalid_size);
    check_free_refused(allocator, block, mm::kFramesPerArea + 1, FreeError::invalid_size);
    check_free_refused(allocator, 8 * lib::MiB, 1, FreeError::outside_areas);   // below all areas
    check_free_refused(allocator, 50 * lib::MiB, 1, FreeError::outside_areas);  // in the hole
    check_free_refused(allocator, 64 * lib::MiB, 1, FreeError::outside_areas);  // past the end
    check_free_refused(allocator, 0xfd00000000, 1, FreeError::outside_areas);
    check_free_refused(allocator, 32 * lib::MiB - mm::kFrameSize, 2, FreeError::outside_areas);
    check_free_refused(allocator, 64 * lib::MiB - mm::kFrameSize, 2, FreeError::outside_areas);

    // Double frees: all of it free already, or only one frame of it.
    must_free(allocator, block, 64);
    check_free_refused(allocator, block, 64, FreeError::not_allocated);
    check_free_refused(allocator, block, 1, FreeError::not_allocated);
    PhysAddr again = must_allocate(allocator, 64);
    must_free(allocator, again + 63 * mm::kFrameSize, 1);
    check_free_refused(allocator, again, 64, FreeError::not_allocated);
    // Frames never handed out are free: freeing them is a double free too.
    check_free_refused(allocator, 62 * lib::MiB, 4, FreeError::not_allocated);
    CHECK(allocator.cpu_stats(0).rejected_frees == 14);
}

TEST_CASE("frame allocator: invalid requests are refused and change nothing") {
    HostPlatform::current_cpu = 0;
    Harness<> harness({{0, 64 * lib::MiB}});
    Allocator& allocator = *harness.allocator;
    must_allocate(allocator, 3);
    Snapshot before(allocator);
    const std::pair<std::size_t, std::size_t> bad[] = {
        {0, 1}, {8193, 1}, {1, 0}, {1, 3}, {4, 48}, {1, 16384}, {~std::size_t{0}, 1}};
    for (auto [frames, alignment] : bad) {
        lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(frames, alignment);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error() == mm::AllocError::invalid_request);
    }
    CHECK(Snapshot(allocator) == before);
    CHECK(allocator.check_invariants().ok);
    // The largest valid request: a whole area, aligned to the area size.
    PhysAddr whole = must_allocate(allocator, 8192, 8192);
    CHECK(whole == 32 * lib::MiB);
}
