// The threads of a benchmark run: the CPU each one plays, the host CPU it is pinned to, and
// the barrier that starts their timed phases together.
#pragma once

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "bench_platform.hpp"

namespace bench {

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
// the parallelism each shape reports shows how much that happened.
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

}  // namespace bench
