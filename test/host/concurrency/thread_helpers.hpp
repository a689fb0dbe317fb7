// What the threaded allocator suites share: starting simulated CPUs together, and giving a
// block back with its stamp checked first (a damaged stamp means a frame was handed out twice).
#pragma once

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "../allocator_test_support.hpp"

namespace alloc_test {

// What threads count as they give blocks back; every count must end at zero.
struct FreeOutcome {
    std::atomic<std::uint64_t> damaged{0};  // stamp overwritten: a double hand-out
    std::atomic<std::uint64_t> refused{0};  // a legal free the allocator refused
};

template <typename Allocator>
void checked_free(Allocator& allocator, const FakeMemory& memory, const Block& block,
                  FreeOutcome& outcome) {
    if (!stamp_intact(memory, block)) {
        outcome.damaged.fetch_add(1, std::memory_order_relaxed);
    }
    if (!allocator.free(block.address, block.frames).ok()) {
        outcome.refused.fetch_add(1, std::memory_order_relaxed);
    }
}

// Runs body(index) on `threads` threads, each as CPU `index`, all released at once so they
// really overlap instead of running one after the other.
template <typename Body>
void run_threads(unsigned threads, Body body) {
    std::latch start(threads);
    std::vector<std::thread> workers;
    for (unsigned index = 0; index < threads; ++index) {
        workers.emplace_back([&, index] {
            HostPlatform::current_cpu = index;
            start.arrive_and_wait();
            body(index);
        });
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    HostPlatform::current_cpu = 0;
}

}  // namespace alloc_test
