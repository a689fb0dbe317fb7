// Fragmentation and metadata size, single-threaded (recalculation_shapes.hpp times the scans):
//
//   fragmentation   fill all memory with requests of state.range(0) frames, free a random half,
//                   then 100 rounds of freeing a random 10 % of the fill's requests (of all
//                   memory) and allocating as many again. Reports the share of free memory in
//                   entirely free, aligned 2 MiB blocks, before and after the rounds.
//   metadata        metadata bytes per GiB managed, for this memory map and one aligned GiB.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_run.hpp"
#include "lib/units.hpp"
#include "timed_shapes.hpp"

namespace bench {

inline constexpr unsigned kFragmentationRounds = 100;

template <typename Variant>
void fragmentation_shape(benchmark::State& state) {
    Run<Variant>& run = *Run<Variant>::current;
    BenchThread thread(state);
    auto frames = static_cast<std::size_t>(state.range(0));
    std::mt19937_64 random(7);
    std::uint64_t failures = 0;
    double initial_share = 0;
    std::size_t filled = 0;
    for (auto _ : state) {
        std::vector<mm::PhysAddr> held;
        while (auto address = run.allocator.allocate(frames, frames)) {
            held.push_back(*address);
        }
        filled = held.size();
        std::shuffle(held.begin(), held.end(), random);
        failures += free_all(run.allocator, {held.begin() + filled / 2, held.end()}, frames);
        held.resize(filled / 2);
        initial_share = run.allocator.huge_block_share_per_mille() / 10.0;
        std::size_t churn = filled / 10;
        for (unsigned round = 0; round < kFragmentationRounds; ++round) {
            // A partial Fisher-Yates shuffle puts `churn` random requests at the front.
            for (std::size_t i = 0; i < churn; ++i) {
                std::uniform_int_distribution<std::size_t> pick(i, held.size() - 1);
                std::swap(held[i], held[pick(random)]);
                if (!run.allocator.free(held[i], frames)) {
                    ++failures;
                }
            }
            for (std::size_t i = 0; i < churn; ++i) {
                auto address = run.allocator.allocate(frames, frames);
                failures += address ? 0 : 1;
                held[i] = address.value_or(kNoAddress);
            }
        }
    }
    state.counters["requests_at_full"] = static_cast<double>(filled);
    state.counters["huge_share_initial_pct"] = initial_share;
    state.counters["huge_share_pct"] = run.allocator.huge_block_share_per_mille() / 10.0;
    report_slow_paths(state, run.allocator, 0);
    report_failures(state, failures, run.init_ok);
}

inline void metadata_shape(benchmark::State& state) {
    std::vector<mm::PhysRange> one_gib = {{lib::GiB, 2 * lib::GiB}};
    const std::vector<mm::PhysRange>& regions = bench_memory();
    double gib = static_cast<double>(total_bytes(regions)) / lib::GiB;
    for (auto _ : state) {
        benchmark::DoNotOptimize(MarkerAllocator::metadata_bytes(regions));
    }
    auto kib_per_gib = [](std::size_t bytes, double gibs) { return bytes / 1024.0 / gibs; };
    state.counters["marker_KiB_per_GiB"] =
        kib_per_gib(MarkerAllocator::metadata_bytes(regions), gib);
    state.counters["marker_aligned_GiB_KiB"] =
        kib_per_gib(MarkerAllocator::metadata_bytes(one_gib), 1.0);
    state.counters["debug_fill_KiB_per_GiB"] =
        kib_per_gib(mm::FrameAllocator<BenchPlatform, true>::metadata_bytes(regions), gib);
    state.counters["first_fit_KiB_per_GiB"] =
        kib_per_gib(FirstFitAllocator<BenchPlatform::Lock>::metadata_bytes(regions), gib);
}

}  // namespace bench
