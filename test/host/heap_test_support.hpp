// The host platform for the object heap's tests: the frame allocator's host platform underneath
// (its thread_local CPU index and fake physical memory), recorded bad-free and corruption
// reports, and stop points a test can park a thread at.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "allocator_test_support.hpp"
#include "heap/heap.hpp"
#include "heap/heap_platform.hpp"

namespace heap_test {

// Parks the first thread that reaches an armed stop point until the test releases it.
class Parking {
  public:
    void arm(heap::StopPoint where) {
        std::lock_guard<std::mutex> guard(mutex_);
        armed_ = true;
        where_ = where;
        parked_ = false;
        released_ = false;
    }
    void reached(heap::StopPoint where) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!armed_ || where != where_ || !thread_may_park) {
            return;
        }
        armed_ = false;
        parked_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
    }
    void wait_until_parked() {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return parked_; });
    }
    void release() {
        std::lock_guard<std::mutex> guard(mutex_);
        released_ = true;
        changed_.notify_all();
    }
    // Only threads that set this may park (so helper threads pass the point freely).
    static inline thread_local bool thread_may_park = false;

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool armed_ = false;
    bool parked_ = false;
    bool released_ = false;
    heap::StopPoint where_{};
};

// std::mutex that counts, per thread, how often it was taken: a test can show that a path
// took no lock at all.
class CountingLock {
  public:
    void lock() {
        ++taken_by_this_thread;
        mutex_.lock();
    }
    void unlock() { mutex_.unlock(); }
    bool try_lock() {
        ++taken_by_this_thread;
        return mutex_.try_lock();
    }
    static inline thread_local std::uint64_t taken_by_this_thread = 0;

  private:
    std::mutex mutex_;
};

struct HeapPlatform {
    using Lock = CountingLock;

    static inline std::mutex reports_mutex;
    static inline std::vector<heap::BadFree> bad_frees;
    static inline std::vector<heap::Corruption> corruptions;
    static inline Parking parking;

    static unsigned cpu_index() { return alloc_test::HostPlatform::current_cpu; }
    static void* phys_to_virt(mm::PhysAddr address) {
        return alloc_test::HostPlatform::phys_to_virt(address);
    }
    static mm::PhysAddr virt_to_phys(const void* pointer) {
        return alloc_test::HostPlatform::memory->address_of(pointer);
    }
    static void stop_point(heap::StopPoint where) { parking.reached(where); }
    static void report_bad_free(const heap::BadFree& report) {
        std::lock_guard<std::mutex> guard(reports_mutex);
        bad_frees.push_back(report);
    }
    static void report_corruption(const heap::Corruption& report) {
        std::lock_guard<std::mutex> guard(reports_mutex);
        corruptions.push_back(report);
    }
    static std::vector<heap::BadFree> take_bad_frees() {
        std::lock_guard<std::mutex> guard(reports_mutex);
        std::vector<heap::BadFree> taken;
        taken.swap(bad_frees);
        return taken;
    }
    static std::vector<heap::Corruption> take_corruptions() {
        std::lock_guard<std::mutex> guard(reports_mutex);
        std::vector<heap::Corruption> taken;
        taken.swap(corruptions);
        return taken;
    }
};
static_assert(heap::HeapPlatform<HeapPlatform>);

inline constexpr std::size_t kTestCpus = 8;

// A heap on a real frame allocator over fake memory: what the kernel does, on the host.
template <bool kDebug = false>
struct HeapHarness {
    using Heap = heap::Heap<HeapPlatform, kDebug, kTestCpus>;
    using Cache = typename Heap::Cache;
    using Frames = alloc_test::Harness<>::Allocator;

    explicit HeapHarness(std::size_t bytes, mm::PhysAddr base = 0x100000)
        : memory(base, bytes), frames({memory.range()}), source(*frames.allocator) {
        alloc_test::HostPlatform::memory = &memory;
        HeapPlatform::take_bad_frees();
        HeapPlatform::take_corruptions();
        map.resize(Heap::map_bytes(memory.range()) / sizeof(std::uint64_t) + 1);
        heap = std::make_unique<Heap>();
        heap->init(memory.range(), map.data(), source);
        frames.allocator->set_reclaim_hook(&Heap::reclaim_hook, heap.get());
    }
    ~HeapHarness() { alloc_test::HostPlatform::current_cpu = 0; }

    std::uint64_t free_frames() const { return frames.allocator->totals().free_frames; }
    void check() {
        heap::InvariantReport report = heap->check_invariants();
        INFO(report.what << " in " << report.cache << " expected " << report.expected << " found "
                         << report.found);
        REQUIRE(report.ok);
    }

    alloc_test::FakeMemory memory;
    alloc_test::Harness<> frames;
    heap::FrameAllocatorSource<Frames> source;
    std::vector<std::uint64_t> map;
    std::unique_ptr<Heap> heap;
};

inline void* must_allocate(auto& heap, std::size_t bytes) {
    auto result = heap.allocate(bytes);
    REQUIRE(result.ok());
    return result.value();
}

}  // namespace heap_test
