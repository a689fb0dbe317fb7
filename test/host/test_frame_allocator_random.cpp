// Long seeded random sequences of allocations and frees (whole and partial), checked after
// every step against a reference model of the allocated frames: nothing handed out twice,
// everything inside usable memory, free counts equal, invariants ok, and no failure while the
// model says a fitting run is free. Simulated CPUs take turns, so areas change hands, are
// shared, and are freed remotely.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"

namespace {

using alloc_test::Harness;
using alloc_test::HostPlatform;
using mm::PhysAddr;
using mm::PhysRange;

using Allocator = Harness<>::Allocator;

// Allocated frame runs, keyed by first frame number: first -> frame count.
class Model {
  public:
    bool overlaps(std::uint64_t first, std::uint64_t count) const {
        auto next = runs_.lower_bound(first);
        if (next != runs_.end() && next->first < first + count) {
            return true;
        }
        if (next != runs_.begin()) {
            auto previous = std::prev(next);
            return previous->first + previous->second > first;
        }
        return false;
    }
    void add(std::uint64_t first, std::uint64_t count) {
        runs_[first] = count;
        frames_ += count;
    }
    // Removes [first, first + count), which must lie inside the run starting at `run`.
    void remove(std::uint64_t run, std::uint64_t first, std::uint64_t count) {
        std::uint64_t run_count = runs_.at(run);
        runs_.erase(run);
        if (first > run) {
            runs_[run] = first - run;
        }
        if (first + count < run + run_count) {
            runs_[first + count] = run + run_count - first - count;
        }
        frames_ -= count;
    }
    std::uint64_t frames() const { return frames_; }
    bool empty() const { return runs_.empty(); }
    const std::map<std::uint64_t, std::uint64_t>& runs() const { return runs_; }

    // Whether [base, base + frames) has `count` free frames at the given physical alignment.
    bool has_fit(std::uint64_t base, std::uint64_t frames, std::uint64_t count,
                 std::uint64_t alignment) const {
        std::uint64_t gap_start = base;
        auto check_gap = [&](std::uint64_t gap_end) {
            std::uint64_t start = (gap_start + alignment - 1) / alignment * alignment;
            return start + count <= gap_end;
        };
        for (auto it = runs_.lower_bound(base); it != runs_.end() && it->first < base + frames;
             ++it) {
            if (check_gap(it->first)) {
                return true;
            }
            gap_start = it->first + it->second;
        }
        return check_gap(base + frames);
    }

  private:
    std::map<std::uint64_t, std::uint64_t> runs_;
    std::uint64_t frames_ = 0;
};

bool inside_one_region(const std::vector<PhysRange>& regions, PhysAddr address,
                       std::uint64_t frames) {
    for (const PhysRange& region : regions) {
        if (address >= region.begin && address + frames * mm::kFrameSize <= region.end) {
            return true;
        }
    }
    return false;
}

bool any_area_fits(const Allocator& allocator, const Model& model, std::uint64_t count,
                   std::uint64_t alignment) {
    for (std::size_t i = 0; i < allocator.area_count(); ++i) {
        mm::AreaInfo info = allocator.area_info(i);
        if (model.has_fit(info.base >> mm::kFrameShift, info.frames, count, alignment)) {
            return true;
        }
    }
    return false;
}

// Mostly small requests, some medium, a few of up to 512 frames; mostly unaligned.
std::uint64_t random_size(std::mt19937_64& rng) {
    std::uint64_t pick = rng() % 10;
    if (pick < 7) {
        return 1 + rng() % 16;
    }
    return pick < 9 ? 17 + rng() % 112 : 129 + rng() % 384;
}

std::uint64_t random_alignment(std::mt19937_64& rng) {
    return rng() % 10 < 6 ? 1 : std::uint64_t{1} << (rng() % 10);
}

void require_consistent(const Allocator& allocator, const Model& model) {
    mm::InvariantReport report = allocator.check_invariants();
    INFO("invariant: " << report.what << " area " << report.area << " expected " << report.expected
                       << " found " << report.found);
    REQUIRE(report.ok);
    mm::Totals totals = allocator.totals();
    REQUIRE(totals.allocated_frames == model.frames());
    REQUIRE(totals.free_frames == totals.total_frames - model.frames());
}

void run_random_sequence(mm::Mode mode, std::uint64_t seed, int steps) {
    // Three areas of different sizes, one of them not 2 MiB aligned at its start.
    std::vector<PhysRange> regions = {{0x100000 + 0x5000, 24 * lib::MiB},
                                      {30 * lib::MiB, 56 * lib::MiB}};
    Harness<> harness(regions);
    REQUIRE(harness.init_ok);
    Allocator& allocator = *harness.allocator;
    allocator.set_mode(mode);
    std::mt19937_64 rng(seed);
    Model model;
    std::uint64_t failures = 0;
    std::uint64_t partial_frees = 0;
    for (int step = 0; step < steps; ++step) {
        HostPlatform::current_cpu = static_cast<unsigned>(rng() % 4);
        // Phases of 2500 steps that mostly fill (reaching exhaustion) and mostly drain.
        unsigned allocate_percent = (step / 2500) % 2 == 0 ? 70 : 35;
        bool allocate = model.empty() || rng() % 100 < allocate_percent;
        INFO("seed " << seed << " step " << step);
        if (allocate) {
            std::uint64_t count = random_size(rng);
            std::uint64_t alignment = random_alignment(rng);
            lib::Result<PhysAddr, mm::AllocError> result = allocator.allocate(count, alignment);
            if (result.ok()) {
                PhysAddr address = result.value();
                std::uint64_t first = address >> mm::kFrameShift;
                REQUIRE(address % (alignment * mm::kFrameSize) == 0);
                REQUIRE(inside_one_region(regions, address, count));
                REQUIRE_FALSE(model.overlaps(first, count));  // never handed out twice
                model.add(first, count);
            } else {
                REQUIRE(result.error() == mm::AllocError::out_of_memory);
                INFO("count " << count << " alignment " << alignment);
                REQUIRE_FALSE(any_area_fits(allocator, model, count, alignment));
                ++failures;
            }
        } else {
            auto run = model.runs().begin();
            std::advance(run, static_cast<long>(rng() % model.runs().size()));
            std::uint64_t run_first = run->first;
            std::uint64_t run_count = run->second;
            // A quarter of the frees give back only part of a run, from either end or the
            // middle: the allocator keeps no record of allocation sizes.
            std::uint64_t first = run_first;
            std::uint64_t count = run_count;
            if (run_count > 1 && rng() % 4 == 0) {
                std::uint64_t skip = rng() % run_count;
                first = run_first + skip;
                count = 1 + rng() % (run_count - skip);
                ++partial_frees;
            }
            REQUIRE(allocator.free(first << mm::kFrameShift, count).ok());
            model.remove(run_first, first, count);
        }
        require_consistent(allocator, model);
    }
    // The sequence must have reached exhaustion and recalculation, or it tested little.
    CHECK(failures > 0);
    CHECK(partial_frees > 0);
    CHECK(allocator.recalculation_count() > 0);

    // Free everything: all frames free again.
    while (!model.empty()) {
        auto run = model.runs().begin();
        std::uint64_t first = run->first;
        std::uint64_t count = run->second;
        REQUIRE(allocator.free(first << mm::kFrameShift, count).ok());
        model.remove(first, first, count);
    }
    require_consistent(allocator, model);
    CHECK(allocator.fragmentation().free_frames == allocator.totals().total_frames);

    // Every free frame is reachable: one allocation per area of exactly its size, largest
    // first, succeeds for every area.
    std::vector<std::uint32_t> sizes;
    for (std::size_t i = 0; i < allocator.area_count(); ++i) {
        sizes.push_back(allocator.area_info(i).frames);
    }
    std::sort(sizes.rbegin(), sizes.rend());
    std::vector<std::pair<PhysAddr, std::uint32_t>> whole;
    for (std::uint32_t size : sizes) {
        lib::Result<PhysAddr, mm::AllocError> area = allocator.allocate(size);
        REQUIRE(area.ok());
        whole.push_back({area.value(), size});
    }
    CHECK(allocator.totals().free_frames == 0);
    CHECK(allocator.check_invariants().ok);
    for (auto [address, size] : whole) {
        REQUIRE(allocator.free(address, size).ok());
    }
    CHECK(allocator.totals().free_frames == allocator.totals().total_frames);
    CHECK(allocator.check_invariants().ok);
    HostPlatform::current_cpu = 0;
}

}  // namespace

TEST_CASE("frame allocator random: per-CPU mode against the reference model") {
    for (std::uint64_t seed : {1, 2, 3}) {
        run_random_sequence(mm::Mode::per_cpu, seed, 20000);
    }
}

TEST_CASE("frame allocator random: global-lock mode against the reference model") {
    for (std::uint64_t seed : {11, 12}) {
        run_random_sequence(mm::Mode::global_lock, seed, 20000);
    }
}
