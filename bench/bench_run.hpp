// What one benchmark run shares between its threads: the allocator under test, a barrier for
// the phases of a round, and each thread's list of held allocations. Google Benchmark calls
// setup_run before it starts the threads of a run (every repetition is a run) and
// teardown_run after it has joined them, so every repetition starts from a fresh allocator.
#pragma once

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "allocator_variants.hpp"
#include "bench_memory.hpp"
#include "mm/frame.hpp"

namespace bench {

// The managed memory of this process, chosen once in main() before any benchmark runs.
inline std::vector<mm::PhysRange>& bench_memory() {
    static std::vector<mm::PhysRange> regions;
    return regions;
}

// A barrier whose waiters spin (yielding) instead of sleeping in the kernel: when the last
// thread arrives, all of them leave within about a microsecond, so the phases they then time
// overlap. std::barrier wakes sleepers one by one, tens of microseconds apart.
class SpinBarrier {
  public:
    explicit SpinBarrier(unsigned threads) : threads_(threads) {}

    void arrive_and_wait() {
        unsigned phase = phase_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
            // Reset before the release: a thread can only arrive again after seeing the bump.
            arrived_.store(0, std::memory_order_relaxed);
            phase_.store(phase + 1, std::memory_order_release);
            return;
        }
        while (phase_.load(std::memory_order_acquire) == phase) {
            std::this_thread::yield();
        }
    }

  private:
    const unsigned threads_;
    std::atomic<unsigned> arrived_{0};
    std::atomic<unsigned> phase_{0};
};

// Allocate-free pairs per timed batch of the repeat shape: one clock read per batch.
inline std::int64_t& pairs_per_batch() {
    static std::int64_t pairs = 4096;
    return pairs;
}

template <typename Variant>
struct Run {
    explicit Run(int threads)
        : barrier(static_cast<unsigned>(threads)), held(static_cast<std::size_t>(threads)) {}

    Variant allocator;
    SpinBarrier barrier;
    std::vector<std::vector<mm::PhysAddr>> held;  // held[thread]: allocations to free later.
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

// Pins the calling thread to one host CPU for its lifetime and restores its affinity
// afterwards; if the CPU is not allowed, the thread stays where it was.
class PinnedToCpu {
  public:
    explicit PinnedToCpu(int cpu) {
        pinned_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
        cpu_set_t only;
        CPU_ZERO(&only);
        CPU_SET(cpu, &only);
        pinned_ = pinned_ && pthread_setaffinity_np(pthread_self(), sizeof(only), &only) == 0;
    }
    ~PinnedToCpu() {
        if (pinned_) {
            pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
        }
    }
    PinnedToCpu(const PinnedToCpu&) = delete;
    PinnedToCpu& operator=(const PinnedToCpu&) = delete;

  private:
    cpu_set_t saved_{};
    bool pinned_ = false;
};

// A benchmark thread for the length of a shape: it plays the allocator's CPU whose index is
// its thread index, and runs pinned to host CPU (index mod host CPUs). Left to the scheduler,
// two threads of a 2-thread run sometimes share one core for a while and take turns, which
// hides all contention; pinned, they can only be kept apart by other jobs preempting them, and
// the on-CPU share each shape reports shows how much that happened.
class BenchThread {
  public:
    explicit BenchThread(const benchmark::State& state)
        : cpu_(static_cast<unsigned>(state.thread_index())),
          pin_(static_cast<int>(cpu_ % std::max(1u, std::thread::hardware_concurrency()))) {
        BenchPlatform::current_cpu = cpu_;
    }
    unsigned cpu() const { return cpu_; }

  private:
    unsigned cpu_;
    PinnedToCpu pin_;
};

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
    // Sets on_cpu_pct: the share of the timed wall time the threads were on a CPU. Near 100,
    // the threads of a run really ran at the same time; well below, other jobs kept them apart
    // and the run shows less contention than there is.
    void report_on_cpu(benchmark::State& state) const {
        double share = wall_nanoseconds > 0 ? 100.0 * cpu_nanoseconds / wall_nanoseconds : 0.0;
        state.counters["on_cpu_pct"] = benchmark::Counter(share, benchmark::Counter::kAvgThreads);
    }
};

}  // namespace bench
