// The host platform for the kernel virtual-memory tests: fake physical memory managed by the
// real frame allocator (alloc_test::Harness), a frame source that can be told to run dry after
// N allocations, and a flush hook that records every batch and what was still allocated then.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "allocator_test_support.hpp"
#include "lib/units.hpp"
#include "vm/flush_batch.hpp"
#include "vm/types.hpp"

namespace vm_test {

// Frames from the allocator over fake memory; fails every allocation once `budget` runs out.
class TestFrames final : public vm::FrameSource {
  public:
    explicit TestFrames(alloc_test::Harness<>::Allocator& allocator) : allocator_(allocator) {}

    // Called by several threads in the concurrency tests: counters are atomic, and a refused
    // free is counted (doctest's assertions are not for other threads).
    lib::Result<mm::PhysAddr, mm::AllocError> allocate(std::size_t frames,
                                                       std::size_t align_frames) override {
        std::uint64_t budget = budget_.load();
        if (budget == 0) {
            ++refused_;
            return lib::fail(mm::AllocError::out_of_memory);
        }
        auto result = allocator_.allocate(frames, align_frames);
        if (result) {
            if (budget != kUnlimited) {
                --budget_;
            }
            ++allocations_;
        }
        return result;
    }
    void free(mm::PhysAddr address, std::size_t frames) override {
        if (!allocator_.free(address, frames).ok()) {
            ++refused_frees_;
        }
        ++frees_;
    }

    void set_budget(std::uint64_t allocations) { budget_ = allocations; }
    std::uint64_t allocations() const { return allocations_; }
    std::uint64_t frees() const { return frees_; }
    std::uint64_t refused() const { return refused_; }
    std::uint64_t refused_frees() const { return refused_frees_; }

  private:
    static constexpr std::uint64_t kUnlimited = ~std::uint64_t{0};
    alloc_test::Harness<>::Allocator& allocator_;
    std::atomic<std::uint64_t> budget_{kUnlimited};
    std::atomic<std::uint64_t> allocations_{0};
    std::atomic<std::uint64_t> frees_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::uint64_t> refused_frees_{0};
};

// The fake physical memory and its allocator, set up as the platform's memory.
struct Memory {
    static constexpr mm::PhysAddr kBase = 64 * lib::MiB;

    explicit Memory(std::size_t bytes)
        : fake(kBase, bytes), harness({fake.range()}), frames(*harness.allocator) {
        alloc_test::HostPlatform::memory = &fake;
        REQUIRE(harness.init_ok);
    }
    ~Memory() {
        CHECK(frames.refused_frees() == 0);
        alloc_test::HostPlatform::memory = nullptr;
    }

    std::uint64_t free_frames() const { return harness.allocator->totals().free_frames; }

    alloc_test::FakeMemory fake;
    alloc_test::Harness<> harness;
    TestFrames frames;
};

// What vm::Vmalloc needs; flush() records each batch and runs the test's hook, if any.
struct VmPlatform {
    using Lock = alloc_test::HostLock;
    static void* phys_to_virt(mm::PhysAddr address) {
        return alloc_test::HostPlatform::phys_to_virt(address);
    }
    static unsigned cpu_index() { return alloc_test::HostPlatform::cpu_index(); }

    static inline std::mutex batches_mutex;
    static inline std::vector<vm::FlushBatch> batches;
    // Set before threads start; a test's stop point between retire and release.
    static inline std::function<void(const vm::FlushBatch&)> on_flush;
    static void flush(const vm::FlushBatch& batch) {
        {
            std::lock_guard<std::mutex> guard(batches_mutex);
            batches.push_back(batch);
        }
        if (on_flush) {
            on_flush(batch);
        }
    }
    static void reset() {
        batches.clear();
        on_flush = nullptr;
    }
};

}  // namespace vm_test
