// The cost of the allocator's bitmap scans, single-threaded, in three fragmentation patterns:
//
//   recalculation   every area is fragmented, then FrameAllocator::recalculate() (what
//                   allocation runs when no area's extent fits) is timed. Reports its time and
//                   the rate in GiB of managed memory per second.
//   rescan          every area is fragmented, then FrameAllocator::rescan_area() on one whole
//                   area (32 MiB, a 1 KiB bitmap) is timed: what allocation runs when a CPU's
//                   sweep through its own area reaches the end. Reports the median over many
//                   rescans.
//
// Both check the allocator's counters to make sure the timed call did the scan.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_run.hpp"
#include "lib/units.hpp"

namespace bench {

// Which frames are free after fragmenting.
enum class Pattern : std::int64_t {
    alternate = 0,  // Every other frame: 4096 one-frame runs per area, the worst case.
    random = 1,     // Each frame with probability 1/2: about 2048 runs per area.
    words = 2,      // Every other aligned run of 64 frames: 64 runs per area.
};

// Fills all memory, then frees the pattern's frames. The last frame of every area stays
// allocated, since freeing the frame below a full area's marker would move the marker back and
// leave a usable extent. Returns false if that failed.
inline bool fragment(PerCpu& variant, Pattern pattern, std::mt19937_64& random) {
    MarkerAllocator& allocator = variant.allocator();
    for (const mm::PhysRange& region : bench_memory()) {
        std::uint64_t end = region.end >> mm::kFrameShift;
        for (std::uint64_t frame = region.begin >> mm::kFrameShift; frame < end; ++frame) {
            bool last_of_area = (frame + 1) % mm::kFramesPerArea == 0 || frame + 1 == end;
            bool free = pattern == Pattern::alternate ? frame % 2 == 0
                        : pattern == Pattern::words   ? frame / 64 % 2 == 0
                                                      : (random() & 1) == 0;
            if (free && !last_of_area && !variant.free(frame << mm::kFrameShift, 1)) {
                return false;
            }
        }
    }
    for (std::size_t area = 0; area < allocator.area_count(); ++area) {
        mm::AreaInfo info = allocator.area_info(area);
        if (info.marker != info.limit) {
            return false;  // A usable extent: the next allocation would not scan.
        }
    }
    return true;
}

// A fresh allocator with every frame allocated.
inline void fill_everything(PerCpu& variant) {
    variant.init(bench_memory());
    while (variant.allocate(64, 1)) {
    }
    while (variant.allocate(1, 1)) {
    }
}

inline void recalculation_shape(benchmark::State& state) {
    Run<PerCpu>& run = *Run<PerCpu>::current;
    BenchThread thread(state);
    auto pattern = static_cast<Pattern>(state.range(0));
    std::mt19937_64 random(11);
    MarkerAllocator& allocator = run.allocator.allocator();
    fill_everything(run.allocator);
    if (!fragment(run.allocator, pattern, random)) {
        state.SkipWithError("could not fragment the memory");
        return;
    }
    // A recalculation only moves hints, so the state stays fragmented and every call rescans
    // every area: no area's extent can hold all its free frames.
    PhaseTimer timer;
    for (auto _ : state) {
        std::uint64_t before = allocator.recalculation_count();
        Stopwatch start;
        allocator.recalculate();
        Stopwatch done;
        if (allocator.recalculation_count() != before + 1) {
            state.SkipWithError("recalculate() did not recalculate");
            break;
        }
        state.SetIterationTime(timer.add(start, done, 1));
    }
    double seconds = timer.cpu_nanoseconds * 1e-9 / std::max<double>(1, timer.operations);
    double gib = static_cast<double>(total_bytes(bench_memory())) / lib::GiB;
    state.counters["recalc_us"] = seconds * 1e6;
    state.counters["GiB_per_s"] = seconds > 0 ? gib / seconds : 0;
}

inline constexpr unsigned kRescansPerBuild = 32;

inline void rescan_shape(benchmark::State& state) {
    Run<PerCpu>& run = *Run<PerCpu>::current;
    BenchThread thread(state);
    auto pattern = static_cast<Pattern>(state.range(0));
    std::mt19937_64 random(13);
    MarkerAllocator& allocator = run.allocator.allocator();
    // Area 1: the first whole one (area 0 starts at 1 MiB).
    constexpr std::size_t kArea = 1;
    std::vector<double> samples;
    double area_bytes = 0;
    for (auto _ : state) {
        fill_everything(run.allocator);
        if (!fragment(run.allocator, pattern, random)) {
            state.SkipWithError("could not fragment the memory");
            break;
        }
        area_bytes = static_cast<double>(std::uint64_t{allocator.area_info(kArea).frames}
                                         << mm::kFrameShift);
        double round_ns = 0;
        for (unsigned sample = 0; sample < kRescansPerBuild; ++sample) {
            std::uint64_t before = allocator.area_info(kArea).recalculations;
            Clock::time_point start = Clock::now();
            bool scanned = allocator.rescan_area(kArea);
            Clock::time_point done = Clock::now();
            // A rescan only moves the extent, so the area stays fragmented for the next one.
            if (!scanned || allocator.area_info(kArea).recalculations != before + 1) {
                state.SkipWithError("rescan_area() did not rescan");
                break;
            }
            samples.push_back(nanoseconds_between(start, done));
            round_ns += samples.back();
        }
        state.SetIterationTime(round_ns * 1e-9);
    }
    if (samples.empty()) {
        return;
    }
    // The median: single rescans take microseconds, and a preempted one is an outlier.
    std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
    double median_ns = samples[samples.size() / 2];
    state.counters["rescan_us"] = median_ns * 1e-3;
    state.counters["GiB_per_s"] = area_bytes / lib::GiB / (median_ns * 1e-9);
    state.counters["area_MiB"] = area_bytes / lib::MiB;
}

}  // namespace bench
