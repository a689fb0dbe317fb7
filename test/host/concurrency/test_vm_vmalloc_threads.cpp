// vmalloc and vfree from several threads at once (ThreadSanitizer checks the locking), and the
// window between a vfree's retire and release forced open: a thread parked in the vfree's
// flush while another thread frees the same mapping again and maps new ranges.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../vm_test_support.hpp"
#include "lib/units.hpp"
#include "vm/vmalloc.hpp"

namespace {

using mm::PhysAddr;
using vm::VirtAddr;
using vm_test::Memory;
using vm_test::VmPlatform;

using Area = vm::Vmalloc<VmPlatform>;

constexpr VirtAddr kBegin = 0xFFFFC00000000000ull;

struct Fixture {
    explicit Fixture(std::size_t bytes) : memory(bytes) {
        VmPlatform::reset();
        root = alloc_test::must_allocate(*memory.harness.allocator, 1);
        std::memset(VmPlatform::phys_to_virt(root), 0, 4096);
        area = std::make_unique<Area>(root, memory.frames, vm::PageTable<VmPlatform>::kNoExecute);
        area->init(kBegin, kBegin + 64 * lib::GiB, 16 * 1024);
        free_at_start = memory.free_frames();
    }
    ~Fixture() { VmPlatform::reset(); }

    Memory memory;
    PhysAddr root = 0;
    std::unique_ptr<Area> area;
    std::uint64_t free_at_start = 0;
};

TEST_CASE("threads vmalloc, write, and vfree at once; everything comes back") {
    Fixture f(64 * lib::MiB);
    constexpr unsigned kThreads = 4;
    constexpr unsigned kRounds = 150;
    std::atomic<unsigned> failures{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            alloc_test::HostPlatform::current_cpu = t;
            std::uint64_t seed = t + 1;
            for (unsigned round = 0; round < kRounds; ++round) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                std::uint64_t pages = 1 + (seed >> 33) % 24;
                auto mapping = f.area->allocate(pages * 4096);
                if (!mapping) {
                    ++failures;
                    continue;
                }
                // Write a tag into every page through its translation, read them back.
                for (std::uint64_t i = 0; i < pages; ++i) {
                    vm::Leaf leaf;
                    if (!f.area->translate(mapping.value() + i * 4096, leaf)) {
                        ++failures;
                        continue;
                    }
                    *static_cast<std::uint64_t*>(VmPlatform::phys_to_virt(leaf.physical)) =
                        mapping.value() + i;
                }
                for (std::uint64_t i = 0; i < pages; ++i) {
                    vm::Leaf leaf;
                    if (!f.area->translate(mapping.value() + i * 4096, leaf) ||
                        *static_cast<std::uint64_t*>(VmPlatform::phys_to_virt(leaf.physical)) !=
                            mapping.value() + i) {
                        ++failures;
                    }
                }
                if (!f.area->free(mapping.value())) {
                    ++failures;
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    alloc_test::HostPlatform::current_cpu = 0;
    CHECK(failures.load() == 0);
    vm::VmStats stats = f.area->stats();
    CHECK(stats.live_ranges == 0);
    CHECK(stats.small_pages == 0);
    CHECK(stats.vfrees == kThreads * kRounds);
    CHECK(f.free_at_start - f.memory.free_frames() == stats.tables_waiting);
    CHECK(f.area->check_invariants());
}

TEST_CASE("during a vfree's flush the range is reserved: freed again it is busy, mapped never") {
    Fixture f(16 * lib::MiB);
    auto mapping = f.area->allocate(4 * 4096);
    REQUIRE(mapping.ok());
    VirtAddr address = mapping.value();

    // The flush is the stop point: thread A parks in it, between retire and release.
    std::mutex mutex;
    std::condition_variable changed;
    bool parked = false, go_on = false;
    VmPlatform::on_flush = [&](const vm::FlushBatch&) {
        if (alloc_test::HostPlatform::current_cpu != 1) {
            return;
        }
        std::unique_lock<std::mutex> guard(mutex);
        parked = true;
        changed.notify_all();
        changed.wait(guard, [&] { return go_on; });
    };
    std::uint64_t free_before = f.memory.free_frames();
    std::thread a([&] {
        alloc_test::HostPlatform::current_cpu = 1;
        CHECK(f.area->free(address).ok());
    });
    {
        std::unique_lock<std::mutex> guard(mutex);
        changed.wait(guard, [&] { return parked; });
    }
    // A is inside its flush: the pages no longer translate, the frames are not back yet.
    vm::Leaf leaf;
    CHECK_FALSE(f.area->translate(address, leaf));
    CHECK(f.memory.free_frames() == free_before);
    // Freeing it again is refused as busy, and changes nothing.
    auto again = f.area->free(address);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error() == vm::VmError::busy);
    CHECK(f.area->stats().live_ranges == 1);
    // New mappings (the marker has moved on anyway) never overlap the reserved range.
    std::vector<VirtAddr> others;
    for (int i = 0; i < 8; ++i) {
        auto other = f.area->allocate(4096);
        REQUIRE(other.ok());
        CHECK((other.value() + 4096 <= address || other.value() >= address + 4 * 4096));
        others.push_back(other.value());
    }
    // A fault report inside the range names the mapping, still being freed.
    vm::Place place;
    REQUIRE(f.area->try_locate(address + 8, place));
    CHECK(place.kind == vm::Place::Kind::inside);
    CHECK(place.range.freeing);
    {
        std::lock_guard<std::mutex> guard(mutex);
        go_on = true;
        changed.notify_all();
    }
    a.join();
    CHECK(f.area->stats().live_ranges == others.size());
    REQUIRE(f.area->try_locate(address + 8, place));
    CHECK(place.kind == vm::Place::Kind::freed);
    CHECK(place.freed.cpu == 1);
    for (VirtAddr other : others) {
        CHECK(f.area->free(other).ok());
    }
    CHECK(f.area->check_invariants());
}

}  // namespace
