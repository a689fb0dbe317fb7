// What one benchmark run shares between its threads: the allocator under test, a barrier for
// the phases of a round, each thread's list of held allocations and its last timed phase.
// Google Benchmark calls setup_run before it starts the threads of a run (every repetition is a
// run) and teardown_run after it has joined them, so every repetition starts from a fresh
// allocator.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "allocator_variants.hpp"
#include "bench_clock.hpp"
#include "bench_memory.hpp"
#include "bench_thread.hpp"
#include "mm/frame.hpp"

namespace bench {

// The managed memory of this process, chosen once in main() before any benchmark runs.
inline std::vector<mm::PhysRange>& bench_memory() {
    static std::vector<mm::PhysRange> regions;
    return regions;
}

// Allocate-free pairs per timed batch of the repeat shape: one clock read per batch.
inline std::int64_t& pairs_per_batch() {
    static std::int64_t pairs = 4096;
    return pairs;
}

template <typename Variant>
struct Run {
    explicit Run(int threads)
        : barrier(static_cast<unsigned>(threads)),
          held(static_cast<std::size_t>(threads)),
          slots(static_cast<std::size_t>(threads)) {}

    Variant allocator;
    SpinBarrier barrier;
    std::vector<std::vector<mm::PhysAddr>> held;  // held[thread]: allocations to free later.
    std::vector<PhaseSlot> slots;                 // slots[thread]: its last timed phase.
    bool init_ok = false;

    static inline std::unique_ptr<Run> current;
};

template <typename Variant>
void setup_run(const benchmark::State& state) {
    Run<Variant>::current = std::make_unique<Run<Variant>>(state.threads());
    Run<Variant>::current->init_ok = Run<Variant>::current->allocator.init(bench_memory());
}

template <typename Variant>
void teardown_run(const benchmark::State&) {
    Run<Variant>::current.reset();
}

}  // namespace bench
