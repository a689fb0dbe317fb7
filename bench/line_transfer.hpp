// How long one cache line takes to move between the two benchmark threads' cores: two threads
// bounce a counter, each waiting for the other's increment. Every multi-threaded figure that
// involves sharing is a multiple of this, and on a virtual machine it is not a constant: the
// host places the two vCPUs where it likes (this machine has shown 36 ns and 190 ns within
// minutes). `make bench` measures it first and last, so a run's tables can be read against it.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "bench_run.hpp"

namespace bench {

struct alignas(64) PingPong {
    std::atomic<std::uint64_t> value{0};
};

inline PingPong ping_pong;

// Thread 0 turns even values odd, thread 1 odd values even: two round trips per iteration.
inline void line_transfer_shape(benchmark::State& state) {
    BenchThread thread(state);
    auto parity = static_cast<std::uint64_t>(state.thread_index());
    if (state.thread_index() == 0) {
        ping_pong.value.store(0, std::memory_order_relaxed);
    }
    PhaseTimer timer;
    Stopwatch start;
    for (auto _ : state) {
        for (unsigned turn = 0; turn < 2; ++turn) {
            std::uint64_t seen = ping_pong.value.load(std::memory_order_acquire);
            while (seen % 2 != parity) {
                __builtin_ia32_pause();
                seen = ping_pong.value.load(std::memory_order_acquire);
            }
            ping_pong.value.store(seen + 1, std::memory_order_release);
        }
    }
    Stopwatch done;
    // Two round trips per iteration, two transfers per round trip.
    timer.add(start, done, static_cast<std::uint64_t>(state.iterations()) * 4);
    state.counters["one_way_ns"] =
        benchmark::Counter(timer.wall_nanoseconds / static_cast<double>(timer.operations),
                           benchmark::Counter::kAvgThreads);
}

}  // namespace bench
