// The host platform the benchmarks plug into the frame allocator: a thread_local CPU index (each
// benchmark thread sets it to its thread index), a test-and-test-and-set spinlock like the
// kernel's, and no physical memory (the benchmarks never enable the debug fill, so the
// allocator never touches a frame).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "mm/allocator_platform.hpp"
#include "mm/frame.hpp"

namespace bench {

struct BenchPlatform {
    // Spins on a plain load, then tries the exchange: waiting CPUs read a shared line instead of
    // bouncing it with writes.
    class Lock {
      public:
        void lock() {
            while (!try_lock()) {
                relax();
            }
        }
        bool try_lock() {
            return !held_.load(std::memory_order_relaxed) &&
                   !held_.exchange(true, std::memory_order_acquire);
        }
        void unlock() { held_.store(false, std::memory_order_release); }

      private:
        std::atomic<bool> held_{false};
    };

    static inline thread_local unsigned current_cpu = 0;
    static inline thread_local unsigned relax_calls = 0;

    static unsigned cpu_index() { return current_cpu; }

    // `pause`, as in the kernel, but every 64th call yields: a host thread can be descheduled
    // while it holds a lock (a kernel CPU holding a spinlock cannot), and with 4 threads on
    // 2 cores pure spinning would measure the scheduler's time slice instead of the allocator.
    static void relax() {
        if (++relax_calls % 64 == 0) {
            std::this_thread::yield();
        } else {
            __builtin_ia32_pause();
        }
    }

    // Never called without the debug fill; reaching one is a bug in the benchmark.
    static void* phys_to_virt(mm::PhysAddr) { std::abort(); }
    static void report_use_after_free(mm::PhysAddr, std::size_t, std::uint64_t, unsigned) {
        std::abort();
    }
    // A broken allocator assertion makes every figure meaningless. No stop_at: the stop points
    // compile to nothing, as in the kernel.
    [[noreturn]] static void assertion_failed(const char* expression, const char* file, int line) {
        std::fprintf(stderr, "%s:%d: allocator assertion failed: %s\n", file, line, expression);
        std::abort();
    }
};

static_assert(mm::AllocatorPlatform<BenchPlatform>);

}  // namespace bench
