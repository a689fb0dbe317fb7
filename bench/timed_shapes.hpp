// The timed shapes of the LLFree study (Wrenger et al., USENIX ATC 2023), run by every thread of
// a Google Benchmark run. Each takes the request size in frames as state.range(0) (requests are
// aligned to their size: 1 or 512 frames) and, where it pre-fills, the fill level in percent as
// state.range(1). Memory shares are split evenly between the threads.
//
//   bulk    a round: every thread allocates its share of half of memory, then frees it in the
//           same order. alloc_ns and free_ns are the two phases, per request.
//   repeat  pre-fill to the level, then allocate and free one request in a loop. An iteration
//           is a batch of pairs_per_batch() pairs; pair_ns is per pair.
//   rand    a round: every thread allocates its share of half of memory, all allocations are
//           shuffled across the threads, and every thread frees the ones it was dealt (mostly
//           allocated by others: remote frees). free_ns is per request.
//
// Rounds follow each other on the same allocator, as a kernel's would: a round starts from the
// state the previous one left (all free, hints wherever the frees put them). The first round of
// a run is a warm-up and is not counted when there are more: it starts from init(), done by
// thread 0, so the other threads would first pull every metadata line out of thread 0's cache
// (each a cross-core transfer, which machine/line_transfer measures), a cost no later round
// pays.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_run.hpp"

namespace bench {

// Allocates `count` requests of `frames` frames into `into`; failures are kept as kNoAddress.
template <typename Variant>
std::uint64_t allocate_into(Variant& allocator, std::vector<mm::PhysAddr>& into, std::size_t count,
                            std::size_t frames) {
    std::uint64_t failures = 0;
    into.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto address = allocator.allocate(frames, frames);
        if (!address) {
            ++failures;
        }
        into[i] = address.value_or(kNoAddress);
    }
    return failures;
}

// Frees every held request; refusals count as failures.
template <typename Variant>
std::uint64_t free_all(Variant& allocator, const std::vector<mm::PhysAddr>& held,
                       std::size_t frames) {
    std::uint64_t failures = 0;
    for (mm::PhysAddr address : held) {
        if (address != kNoAddress && !allocator.free(address, frames)) {
            ++failures;
        }
    }
    return failures;
}

// The number of requests one thread makes to take its share of `percent` of memory. At most
// all but two requests per thread of what could fit, so that a nearly full memory (99 % of a
// small smoke-test memory) still leaves every thread room for its pairs.
template <typename Variant>
std::size_t share_of(const benchmark::State& state, Variant& allocator, std::uint64_t percent) {
    auto frames = static_cast<std::uint64_t>(state.range(0));
    auto threads = static_cast<std::uint64_t>(state.threads());
    std::uint64_t capacity = allocator.total_frames() / frames;
    std::uint64_t wanted = allocator.total_frames() * percent / 100 / frames;
    std::uint64_t room = capacity > 2 * threads ? capacity - 2 * threads : 0;
    return static_cast<std::size_t>(std::min(wanted, room) / threads);
}

// Whether a round counts: all but the first, unless there is only one.
inline bool counted_round(const benchmark::State& state, std::int64_t& round) {
    return round++ > 0 || state.max_iterations == 1;
}

inline void report_failures(benchmark::State& state, std::uint64_t failures, bool init_ok) {
    state.counters["failed"] = static_cast<double>(failures);
    if (!init_ok) {
        state.SkipWithError("allocator init failed");
    } else if (failures != 0) {
        state.SkipWithError("an allocation or free failed below full memory");
    }
}

// Recalculations, area rescans and sweeps, claims, shares and last-resort searches since the
// allocator was initialised (for the whole run, warm-up and pre-fill included); reported by thread
// 0 only, after every thread has left the loop.
template <typename Variant>
void report_slow_paths(benchmark::State& state, const Variant& allocator, unsigned cpu) {
    if (cpu == 0) {
        state.counters["recalcs"] = static_cast<double>(allocator.recalculations());
        state.counters["rescans"] = static_cast<double>(allocator.area_rescans());
        state.counters["sweeps"] = static_cast<double>(allocator.extent_sweeps());
        state.counters["claims"] = static_cast<double>(allocator.area_claims());
        state.counters["shares"] = static_cast<double>(allocator.shares());
        state.counters["last_resorts"] = static_cast<double>(allocator.last_resort_searches());
    }
}

template <typename Variant>
void bulk_shape(benchmark::State& state) {
    Run<Variant>& run = *Run<Variant>::current;
    BenchThread thread(state);
    unsigned cpu = thread.cpu();
    auto frames = static_cast<std::size_t>(state.range(0));
    std::size_t count = share_of(state, run.allocator, 50);
    std::vector<mm::PhysAddr>& mine = run.held[cpu];
    PhaseTimer allocation;
    PhaseTimer release;
    Parallelism parallelism;  // Of the allocation phases.
    std::uint64_t failures = 0;
    std::int64_t round = 0;
    for (auto _ : state) {
        bool counted = counted_round(state, round);
        run.barrier.arrive_and_wait();
        Stopwatch start;
        failures += allocate_into(run.allocator, mine, count, frames);
        Stopwatch allocated;
        run.slots[cpu] = {start, allocated};
        run.barrier.arrive_and_wait();
        if (cpu == 0 && counted) {
            parallelism.add(run.slots);  // Nobody writes a slot before the next barrier.
        }
        Stopwatch free_start;
        failures += free_all(run.allocator, mine, frames);
        Stopwatch freed;
        state.SetIterationTime(allocation.add(start, allocated, count, counted) +
                               release.add(free_start, freed, count, counted));
    }
    allocation.report(state, "alloc_ns");
    release.report(state, "free_ns");
    if (cpu == 0) {
        parallelism.report(state);
    }
    report_slow_paths(state, run.allocator, cpu);
    report_failures(state, failures, run.init_ok);
}

template <typename Variant>
void repeat_shape(benchmark::State& state) {
    Run<Variant>& run = *Run<Variant>::current;
    BenchThread thread(state);
    unsigned cpu = thread.cpu();
    auto frames = static_cast<std::size_t>(state.range(0));
    auto fill = static_cast<std::uint64_t>(state.range(1));
    // Pre-filled by all threads at once, before the loop's start barrier.
    std::uint64_t failures =
        allocate_into(run.allocator, run.held[cpu], share_of(state, run.allocator, fill), frames);
    PhaseTimer pairs;
    std::int64_t batch = pairs_per_batch();
    bool first_batch = true;
    for (auto _ : state) {
        Stopwatch start;
        if (first_batch) {
            run.slots[cpu].start = start;
            first_batch = false;
        }
        for (std::int64_t pair = 0; pair < batch; ++pair) {
            auto address = run.allocator.allocate(frames, frames);
            if (!address || !run.allocator.free(*address, frames)) {
                ++failures;
            }
        }
        Stopwatch done;
        run.slots[cpu].end = done;
        state.SetIterationTime(pairs.add(start, done, static_cast<std::uint64_t>(batch)));
    }
    pairs.report(state, "pair_ns");
    if (cpu == 0) {
        // After the loop's closing barrier, every thread's slot is final.
        Parallelism parallelism;
        parallelism.add(run.slots);
        parallelism.report(state);
    }
    report_slow_paths(state, run.allocator, cpu);
    report_failures(state, failures, run.init_ok);
}

template <typename Variant>
void rand_shape(benchmark::State& state) {
    Run<Variant>& run = *Run<Variant>::current;
    BenchThread thread(state);
    unsigned cpu = thread.cpu();
    auto frames = static_cast<std::size_t>(state.range(0));
    std::size_t count = share_of(state, run.allocator, 50);
    std::mt19937_64 random(42);
    PhaseTimer release;
    Parallelism parallelism;  // Of the free phases.
    std::uint64_t failures = 0;
    std::int64_t round = 0;
    for (auto _ : state) {
        bool counted = counted_round(state, round);
        run.barrier.arrive_and_wait();
        failures += allocate_into(run.allocator, run.held[cpu], count, frames);
        run.barrier.arrive_and_wait();
        if (cpu == 0) {
            // Deal every allocation to a random thread: with T threads, (T-1)/T of each
            // thread's frees are of frames another thread allocated.
            std::vector<mm::PhysAddr> all;
            for (const std::vector<mm::PhysAddr>& held : run.held) {
                all.insert(all.end(), held.begin(), held.end());
            }
            std::shuffle(all.begin(), all.end(), random);
            for (std::size_t thread = 0; thread < run.held.size(); ++thread) {
                run.held[thread].assign(all.begin() + thread * count,
                                        all.begin() + (thread + 1) * count);
            }
        }
        run.barrier.arrive_and_wait();
        Stopwatch start;
        failures += free_all(run.allocator, run.held[cpu], frames);
        Stopwatch freed;
        run.slots[cpu] = {start, freed};
        run.barrier.arrive_and_wait();
        if (cpu == 0 && counted) {
            parallelism.add(run.slots);
        }
        state.SetIterationTime(release.add(start, freed, count, counted));
    }
    release.report(state, "free_ns");
    if (cpu == 0) {
        parallelism.report(state);
    }
    report_slow_paths(state, run.allocator, cpu);
    report_failures(state, failures, run.init_ok);
}

}  // namespace bench
