// Timing for the benchmarks: both clocks (wall and the thread's CPU time) around each timed
// phase, nanoseconds per operation, and how many threads really ran at once.
#pragma once

#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double nanoseconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::nano>(to - from).count();
}

// CPU time of the calling thread, in nanoseconds. The machine the figures come from is shared
// with other jobs: its load average sits above its two cores, and a descheduled thread's wall
// time measures the scheduler, not the allocator. Time on the CPU does not.
inline double thread_cpu_nanoseconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

// Both clocks at once, read at the start and the end of a timed phase.
struct Stopwatch {
    Clock::time_point wall = Clock::now();
    double cpu = thread_cpu_nanoseconds();
};

// Nanoseconds per operation of one thread, accumulated over the rounds of a run and reported
// as the mean over threads: what one CPU pays per call while the others run beside it. The
// thread's CPU time is the headline figure; wall time is reported beside it.
struct PhaseTimer {
    double cpu_nanoseconds = 0;
    double wall_nanoseconds = 0;
    std::uint64_t operations = 0;

    // Adds a phase (unless it is a warm-up) and returns its CPU time in seconds, for
    // SetIterationTime.
    double add(const Stopwatch& from, const Stopwatch& to, std::uint64_t ops, bool counted = true) {
        if (!counted) {
            return (to.cpu - from.cpu) * 1e-9;
        }
        cpu_nanoseconds += to.cpu - from.cpu;
        wall_nanoseconds += nanoseconds_between(from.wall, to.wall);
        operations += ops;
        return (to.cpu - from.cpu) * 1e-9;
    }
    // Sets `name` (CPU) and `name`_wall counters.
    void report(benchmark::State& state, const std::string& name) const {
        double ops = operations == 0 ? 1.0 : static_cast<double>(operations);
        state.counters[name] =
            benchmark::Counter(cpu_nanoseconds / ops, benchmark::Counter::kAvgThreads);
        state.counters[name + "_wall"] =
            benchmark::Counter(wall_nanoseconds / ops, benchmark::Counter::kAvgThreads);
    }
};

// One thread's timed phase, for measuring how much the threads' phases overlapped.
struct PhaseSlot {
    Stopwatch start;
    Stopwatch end;
};

// How many threads were really running at once during a phase: the threads' CPU time summed,
// over the wall time from the first start to the last end. 2.0 for two threads that ran side by
// side throughout; 1.0 if they took turns (because other jobs kept one off its core, or because
// a short phase ran to completion before the other thread was scheduled). Contention figures
// mean something only where this is close to the thread count (at most 2 on this machine).
class Parallelism {
  public:
    void add(const std::vector<PhaseSlot>& slots) {
        if (slots.empty()) {
            return;
        }
        Clock::time_point first = slots.front().start.wall;
        Clock::time_point last = slots.front().end.wall;
        for (const PhaseSlot& slot : slots) {
            first = std::min(first, slot.start.wall);
            last = std::max(last, slot.end.wall);
            cpu_nanoseconds_ += slot.end.cpu - slot.start.cpu;
        }
        span_nanoseconds_ += nanoseconds_between(first, last);
    }
    // Reported by one thread only (counters are summed over threads).
    void report(benchmark::State& state) const {
        state.counters["parallel"] =
            span_nanoseconds_ > 0 ? cpu_nanoseconds_ / span_nanoseconds_ : 0;
    }

  private:
    double cpu_nanoseconds_ = 0;
    double span_nanoseconds_ = 0;
};

}  // namespace bench
